import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Answer, Browser, signedInBrowser, type CallOptions } from '../support/browser';
import { type Card } from '../support/sandbox-control';
import { type Deployment, deploy } from './cluster';

const SPA_ORIGIN = 'https://spa.example.nhs.uk';
/** Headers that differ between any two answers (the clock, e-RS's id for each transaction). */
const VARYING = new Set(['date', 'x_ers_transaction_id']);

/**
 * The proxy's fast path (`ErsFastPath`) answers proxied calls before Fastify and Nest see them;
 * every other request, and a call it cannot take, goes through the Nest route and its guards.
 * Here each call is sent both ways, to two gateways sharing Redis and e-RS: the first with the
 * fast path, the second with `PROXY_FAST_PATH=false`, where every call takes the Nest route. The
 * two answers must be the same, byte for byte but for the date, and
 * `ersgw_proxy_fast_path_total` shows which way each call went.
 */
describe('the proxy fast path answers as the Nest route does', () => {
  let env: Deployment;
  /** With the fast path. */
  let gateway: string;
  /** With `PROXY_FAST_PATH=false`. */
  let nestOnly: string;
  let referrer: Card;
  let correlation = 0;

  beforeAll(async () => {
    env = await deploy({
      gateways: 2,
      env: { ERS_TIMEOUT_MS: '1500', MAX_BODY_BYTES: '1000', ALLOWED_ORIGINS: SPA_ORIGIN },
      gatewayEnv: (index): Record<string, string> => (index === 1 ? { PROXY_FAST_PATH: 'false' } : {}),
    });
    gateway = env.gateways[0]!.url;
    nestOnly = env.gateways[1]!.url;
    referrer = await env.control.card((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'REFERRING_CLINICIAN'));
  });

  afterAll(async () => {
    await env?.stop();
  });

  beforeEach(async () => {
    await env.control.switches({ latencyMs: 0 });
  });

  const signedIn = (withRole = true, at = gateway): Promise<Browser> => signedInBrowser(at, referrer, withRole);

  const withRole = (at: string): Promise<Browser> => signedIn(true, at);

  async function fastCalls(at: string): Promise<number> {
    const text = await (await fetch(`${at}/metrics`)).text();
    const match = /^ersgw_proxy_fast_path_total (\d+)$/m.exec(text);
    if (match === null) throw new Error('ersgw_proxy_fast_path_total is missing from /metrics');
    return Number(match[1]);
  }

  /** One call, and whether the fast path answered it. */
  async function send(user: Browser, method: string, path: string, options: CallOptions): Promise<{ answer: Answer; fast: boolean }> {
    const before = await fastCalls(user.baseUrl);
    const answer = await user.ers(method, path, options);
    return { answer, fast: (await fastCalls(user.baseUrl)) - before === 1 };
  }

  /** What must be the same both ways: status, every header but the varying ones, the body. */
  function comparable(answer: Answer): { status: number; headers: [string, unknown][]; body: string } {
    const headers = Object.entries(answer.headers)
      .filter(([name]) => !VARYING.has(name))
      .sort(([a], [b]) => a.localeCompare(b));
    return { status: answer.status, headers, body: answer.text };
  }

  /**
   * Sends the call on the fast path, then the same call (same correlation id) through the Nest
   * route of the other gateway, each with a fresh setup on its gateway (`at`), and returns both
   * answers after checking that they match.
   */
  async function bothWays(
    setup: (at: string) => Promise<Browser>,
    method: string,
    path: string,
    options: (at: string) => CallOptions = () => ({}),
  ): Promise<Answer> {
    const id = `fast-path-${++correlation}`;
    const fastOptions = options(gateway);
    const fast = await send(await setup(gateway), method, path, { ...fastOptions, headers: { ...fastOptions.headers, 'x-correlation-id': id } });
    const nestOptions = options(nestOnly);
    const nest = await send(await setup(nestOnly), method, path, { ...nestOptions, headers: { ...nestOptions.headers, 'x-correlation-id': id } });
    expect({ fast: fast.fast, nest: nest.fast }).toEqual({ fast: true, nest: false });
    expect(comparable(fast.answer)).toEqual(comparable(nest.answer));
    return fast.answer;
  }

  it('a 200 from e-RS, streamed through with its headers and ours', async () => {
    const answer = await bothWays(withRole, 'GET', 'STU3/v1/CodeSystem/SPECIALTY');
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
      'x-correlation-id': expect.stringMatching(/^fast-path-/),
    });
  });

  it('a HEAD', async () => {
    expect((await bothWays(withRole, 'HEAD', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(200);
  });

  it('a POST whose 403 OperationOutcome is passed through', async () => {
    const answer = await bothWays(withRole, 'POST', 'STU3/v1/ReferralRequest/$ers.fetchworklist', () => ({
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Parameters', parameter: [] }),
    }));
    expect(answer.status).toBe(403);
  });

  it('a long path (Fastify limits route parameters, not wildcards)', async () => {
    const answer = await bothWays(withRole, 'GET', `STU3/v1/ReferralRequest/${'1'.repeat(400)}?x=${'y'.repeat(400)}`);
    expect(answer.status).toBeLessThan(500);
  });

  it('an e-RS error passed through', async () => {
    await env.control.switches({ error: { status: 500, count: 2, path: 'CodeSystem' } });
    expect((await bothWays(withRole, 'GET', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(500);
  });

  it('401 no-session for a cookie of the right shape that names no session', async () => {
    const stranger = async (at: string): Promise<Browser> => {
      const user = new Browser(at);
      user.cookie = 'A'.repeat(43);
      return user;
    };
    const answer = await bothWays(stranger, 'GET', 'STU3/v1/CodeSystem/SPECIALTY');
    expect({ status: answer.status, code: answer.json.code }).toEqual({ status: 401, code: 'no-session' });
  });

  it('403 role-not-selected', async () => {
    const answer = await bothWays((at) => signedIn(false, at), 'GET', 'STU3/v1/CodeSystem/SPECIALTY');
    expect({ status: answer.status, code: answer.json.code }).toEqual({ status: 403, code: 'role-not-selected' });
  });

  it('401 session-expired, cookie cleared, for a bare 403 from e-RS', async () => {
    const expired = async (at: string): Promise<Browser> => {
      const user = await signedIn(true, at);
      const [live] = (await env.control.sessions()).filter((s) => s.state === 'active').slice(-1);
      await env.control.expire(live!.sessionKey);
      return user;
    };
    const answer = await bothWays(expired, 'GET', 'STU3/v1/CodeSystem/SPECIALTY');
    expect({ status: answer.status, code: answer.json.code }).toEqual({ status: 401, code: 'session-expired' });
    expect(String(answer.headers['set-cookie'])).toMatch(/Max-Age=0/);
  });

  it('502 upstream-unavailable', async () => {
    await env.control.switches({ drop: { count: 2, path: 'Appointment' } });
    const answer = await bothWays(withRole, 'POST', 'STU3/v1/Appointment', () => ({
      headers: { 'content-type': 'application/fhir+json' },
      body: '{"resourceType":"Appointment"}',
    }));
    expect(answer.json.code).toBe('upstream-unavailable');
  });

  it('504 upstream-timeout', async () => {
    await env.control.switches({ hang: { count: 2, path: 'CodeSystem' } });
    expect((await bothWays(withRole, 'GET', 'STU3/v1/CodeSystem/SPECIALTY')).json.code).toBe('upstream-timeout');
  });

  it('413 payload-too-large for a chunked body that grows over MAX_BODY_BYTES', async () => {
    const answer = await bothWays(withRole, 'POST', 'STU3/v1/Binary', () => ({
      headers: { 'content-type': 'application/octet-stream' },
      body: Readable.from([Buffer.alloc(600, 1), Buffer.alloc(600, 2)]),
    }));
    expect(answer.json.code).toBe('payload-too-large');
  });

  it('takes a call from the gateway\'s own origin (a same-origin SPA), with no CORS headers', async () => {
    const answer = await bothWays(withRole, 'POST', 'STU3/v1/ReferralRequest/$ers.fetchworklist', (at) => ({
      headers: { origin: at, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Parameters', parameter: [] }),
    }));
    expect(answer.status).toBe(403);
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    const get = await bothWays(withRole, 'GET', 'STU3/v1/CodeSystem/SPECIALTY', (at) => ({ headers: { origin: at } }));
    expect(get.status).toBe(200);
  });

  it('takes a call from a listed origin and adds the CORS headers the framework route would', async () => {
    const user = await signedIn();
    const { answer, fast } = await send(user, 'GET', 'STU3/v1/CodeSystem/SPECIALTY', { headers: { origin: SPA_ORIGIN } });
    expect(fast).toBe(true);
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': SPA_ORIGIN,
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
      'access-control-expose-headers': expect.stringContaining('X-Correlation-ID'),
    });
  });

  it.each([
    ['without X-CSRF', 'STU3/v1/CodeSystem/SPECIALTY', { noCsrf: true }, 403, 'csrf'],
    ['from an origin that is not allowed', 'STU3/v1/CodeSystem/SPECIALTY', { headers: { origin: 'https://evil.example' } }, 403, 'origin'],
    ['without a cookie', 'STU3/v1/CodeSystem/SPECIALTY', { noCookie: true }, 401, 'no-session'],
    ['for a session endpoint', 'v1/ProfessionalSession', {}, 403, 'forbidden-path'],
    ['for a dot segment', 'STU3/v1/../x', {}, 400, 'invalid-path'],
    ['with a declared body over MAX_BODY_BYTES', 'STU3/v1/Binary', { body: Buffer.alloc(1001, 1) }, 413, 'payload-too-large'],
  ] as const)('hands a call %s to the Nest route, which refuses it', async (_why, path, options, status, code) => {
    const user = await signedIn();
    const method = 'body' in options ? 'POST' : 'GET';
    const { answer, fast } = await send(user, method, path, options);
    expect({ fast, status: answer.status, code: answer.json?.code }).toEqual({ fast: false, status, code });
  });
});
