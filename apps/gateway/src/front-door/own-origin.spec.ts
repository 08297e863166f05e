import type { IncomingMessage } from 'node:http';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { ownOrigin } from './own-origin';

/** Header sets a browser, a load balancer or an attacker might send. */
const CASES: Record<string, string>[] = [
  { host: 'gw.example.nhs.uk' },
  { host: 'gw.example.nhs.uk:8443' },
  { host: '[::1]:3000' },
  { host: 'gw.example.nhs.uk', 'x-forwarded-proto': 'https' },
  { host: 'gw.example.nhs.uk', 'x-forwarded-proto': 'http, https' },
  { host: 'internal:3000', 'x-forwarded-host': 'evil.example, gw.example.nhs.uk', 'x-forwarded-proto': 'https' },
];

const fake = (headers: Record<string, string>, encrypted = false): IncomingMessage =>
  ({ socket: { encrypted }, headers }) as unknown as IncomingMessage;

describe('ownOrigin', () => {
  const app = Fastify();
  app.get('/', async (request) => ({ fastify: `${request.protocol}://${request.host}`, ours: ownOrigin(request.raw, 0) }));

  afterAll(async () => {
    await app.close();
  });

  it('with TRUST_PROXY=0 gives what Fastify gives as protocol://host, X-Forwarded-* ignored', async () => {
    for (const headers of CASES) {
      const answer = (await app.inject({ method: 'GET', url: '/', headers })).json<{ fastify: string; ours: string }>();
      expect(answer.ours, JSON.stringify(headers)).toBe(answer.fastify);
    }
    expect(ownOrigin(fake({ host: 'gw.example.nhs.uk' }, true), 0)).toBe('https://gw.example.nhs.uk');
  });

  it.each([
    // [hops, headers, origin]
    [1, { host: 'internal:3000' }, 'http://internal:3000'],
    [1, { host: 'internal:3000', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'gw.example.nhs.uk' }, 'https://gw.example.nhs.uk'],
    [1, { host: 'internal:3000', 'x-forwarded-proto': 'HTTPS' }, 'https://internal:3000'],
    [1, { host: 'internal:3000', 'x-forwarded-proto': ' https ', 'x-forwarded-host': ' gw.example.nhs.uk ' }, 'https://gw.example.nhs.uk'],
    [1, { host: 'internal:3000', 'x-forwarded-proto': '', 'x-forwarded-host': ' ' }, 'http://internal:3000'],
    // A client's own entries come first; the trusted proxy appended the last one.
    [1, { host: 'internal:3000', 'x-forwarded-proto': 'http, https', 'x-forwarded-host': 'evil.example, gw.example.nhs.uk' }, 'https://gw.example.nhs.uk'],
    // Two proxies: the outer one (facing the browser) wrote the second entry from the right.
    [2, { host: 'internal:3000', 'x-forwarded-proto': 'http, https, http', 'x-forwarded-host': 'evil.example, gw.example.nhs.uk, lb.internal' }, 'https://gw.example.nhs.uk'],
    // Fewer entries than hops (proxies that overwrite): the one entry there is.
    [3, { host: 'internal:3000', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'gw.example.nhs.uk' }, 'https://gw.example.nhs.uk'],
  ] as const)('with TRUST_PROXY=%i and %j: %s', (hops, headers, origin) => {
    expect(ownOrigin(fake(headers), hops)).toBe(origin);
  });

  it('is null without a socket (a request whose connection is gone matches no origin)', () => {
    expect(ownOrigin({ socket: null, headers: { host: 'gw' } } as unknown as IncomingMessage, 0)).toBeNull();
  });
});
