import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Answer, Browser, signedInBrowser, type JsonBody } from '../support/browser';
import { rawRequest } from '../support/raw-http';
import { waitFor } from '../support/wait';
import { type Card } from '../support/sandbox-control';
import { type Deployment, deploy } from './cluster';

const SPA_ORIGIN = 'https://spa.example.nhs.uk';
const EVIL = 'https://evil.example';

/**
 * The front door, tried as an attacker would: every `/api` request is admitted on exactly the
 * spelling it is routed by, one set of rules for every route, and what the review found is closed.
 * Each finding is tried over HTTP (raw sockets where a client library would normalise the
 * request) and then checked at the sandbox: nothing reached e-RS, no session was made or lost.
 */
describe('the front door', () => {
  let env: Deployment;
  let gateway: string;
  let port: number;
  let referrer: Card;

  beforeAll(async () => {
    env = await deploy({ gateways: 1, env: { ALLOWED_ORIGINS: SPA_ORIGIN, MAX_BODY_BYTES: '1000', MAX_CALLS_PER_SESSION: '3', ERS_TIMEOUT_MS: '3000' } });
    gateway = env.gateways[0]!.url;
    port = env.gateways[0]!.port;
    referrer = await env.control.card((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'REFERRING_CLINICIAN'));
  });

  afterAll(async () => {
    await env?.stop();
  });

  beforeEach(async () => {
    await env.control.clearRequests();
  });

  const signedIn = (withRole = true): Promise<Browser> => signedInBrowser(gateway, referrer, withRole);

  function expectProblem(answer: { status: number; json?: JsonBody; body?: string | Buffer }, status: number, code: string): void {
    const json = answer.json ?? JSON.parse(String(answer.body ?? '{}'));
    expect({ status: answer.status, code: json?.code }).toEqual({ status, code });
  }

  const upstream = async (): Promise<string[]> => (await env.control.requests()).map((r) => `${r.method} ${r.path}`);

  describe('found in review: the X-CSRF/Origin check was decided on the raw URL, routing on the decoded one', () => {
    it('POST /%61pi/session from a foreign origin without X-CSRF: 400, no cookie, no A001', async () => {
      const attacker = new Browser(gateway);
      const answer = await attacker.call('POST', '/%61pi/session', {
        noCsrf: true,
        headers: { origin: EVIL },
        json: { token: referrer.token },
      });
      expectProblem(answer, 400, 'invalid-request');
      expect(answer.headers['set-cookie']).toBeUndefined();
      expect(await upstream()).toEqual([]);
    });

    it('PUT /%61pi/session/role and GET /%61pi/session with the user\'s cookie: 400, the session unchanged, no A002', async () => {
      const user = await signedIn(false);
      await env.control.clearRequests();
      const before = (await user.session()).json;
      const role = referrer.permissions[0]!;
      const put = await user.call('PUT', '/%61pi/session/role', {
        noCsrf: true,
        headers: { origin: EVIL },
        json: { businessFunction: role.businessFunction, orgIdentifier: role.orgIdentifier },
      });
      expectProblem(put, 400, 'invalid-request');
      expect(put.headers['set-cookie']).toBeUndefined();
      expectProblem(await user.call('GET', '/%61pi/session', { noCsrf: true, headers: { origin: EVIL } }), 400, 'invalid-request');
      expect(await upstream()).toEqual([]);
      const after = await user.session();
      expect(after.status).toBe(200);
      expect(after.json).toEqual(before);
    });

    it.each(['/%41PI/session', '/API/session', '//api/session', '/./api/session', '/x/../api/session', '/api;x/session', '/%2561pi/session'])(
      '%s: 400 (another spelling of /api)',
      async (path) => {
        const answer = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nOrigin: ${EVIL}\r\nConnection: close\r\n\r\n`);
        expectProblem(answer, 400, 'invalid-request');
      },
    );

    it('an absolute-form target with a foreign Origin and no X-CSRF: 400, and nothing is forwarded with the user\'s key', async () => {
      const user = await signedIn();
      await env.control.clearRequests();
      const answer = await rawRequest(
        port,
        `GET http://abv1/api/ers/STU3/v1/CodeSystem/SPECIALTY HTTP/1.1\r\nHost: x\r\nOrigin: ${EVIL}\r\n` +
          `Cookie: ers-session=${user.cookie}\r\nConnection: close\r\n\r\n`,
      );
      expectProblem(answer, 400, 'invalid-request');
      expect(await upstream()).toEqual([]);
      expect((await user.session()).status).toBe(200);
    });

    it('an asterisk-form target: 400', async () => {
      const answer = await rawRequest(port, `OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expectProblem(answer, 400, 'invalid-request');
    });
  });

  describe('found in review: ";" passed the path rules', () => {
    it.each(['STU3/v1/x/..;/..;/v1/ProfessionalSession', 'v1/ProfessionalSession;jsessionid=1', 'STU3/v1/CodeSystem;x=1/SPECIALTY', 'STU3/v1/CodeSystem/SPECIALTY%3B'])(
      '%s: 400 invalid-path, nothing forwarded',
      async (path) => {
        const user = await signedIn();
        await env.control.clearRequests();
        expectProblem(await user.ers('GET', path), 400, 'invalid-path');
        expect(await upstream()).toEqual([]);
      },
    );
  });

  describe('one admission step for every /api route', () => {
    const ROUTES = [
      ['POST', '/api/session'],
      ['GET', '/api/session'],
      ['PUT', '/api/session/role'],
      ['DELETE', '/api/session'],
      ['GET', '/api/ers/STU3/v1/CodeSystem/SPECIALTY'],
      ['POST', '/api/ers/STU3/v1/ReferralRequest/$ers.fetchworklist'],
    ] as const;

    it.each(ROUTES)('%s %s: 403 csrf without X-CSRF, 403 origin from a foreign origin, nothing reaches e-RS', async (method, path) => {
      const user = await signedIn();
      await env.control.clearRequests();
      expectProblem(await user.call(method, path, { noCsrf: true }), 403, 'csrf');
      expectProblem(await user.call(method, path, { headers: { origin: EVIL } }), 403, 'origin');
      expectProblem(await user.call(method, path, { headers: { origin: 'null' } }), 403, 'origin');
      expect(await upstream()).toEqual([]);
      expect((await user.session()).status).toBe(200);
    });

    it('a same-origin call (Origin is the gateway\'s own) passes on every route, with no CORS headers', async () => {
      const user = await signedIn();
      const answer = await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY', { headers: { origin: gateway } });
      expect(answer.status).toBe(200);
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
      expect((await user.call('GET', '/api/session', { headers: { origin: gateway } })).status).toBe(200);
    });

    it('a listed origin gets the CORS headers, on proxied and session answers and on problems alike', async () => {
      const user = await signedIn();
      const cors = {
        'access-control-allow-origin': SPA_ORIGIN,
        'access-control-allow-credentials': 'true',
        vary: 'Origin',
        'access-control-expose-headers': expect.stringContaining('X-Correlation-ID'),
      };
      for (const answer of [
        await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY', { headers: { origin: SPA_ORIGIN } }),
        await user.call('GET', '/api/session', { headers: { origin: SPA_ORIGIN } }),
        await user.ers('GET', 'STU3/v1/../x', { headers: { origin: SPA_ORIGIN } }),
      ]) {
        expect(answer.headers).toMatchObject(cors);
      }
    });

    it('a CORS preflight: answered for a listed origin, refused for any other', async () => {
      const user = new Browser(gateway);
      const preflight = (origin: string): Promise<Answer> =>
        user.call('OPTIONS', '/api/ers/STU3/v1/Binary', {
          noCsrf: true,
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-csrf, content-type' },
        });
      const listed = await preflight(SPA_ORIGIN);
      expect(listed.status).toBe(204);
      expect(listed.headers).toMatchObject({
        'access-control-allow-origin': SPA_ORIGIN,
        'access-control-allow-methods': expect.stringContaining('POST'),
        'access-control-allow-headers': expect.stringContaining('X-CSRF'),
      });
      const other = await preflight(EVIL);
      expectProblem(other, 403, 'origin');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });

    it.each([
      ['PATCH', '/api/session', 'GET, POST, DELETE'],
      ['HEAD', '/api/session', 'GET, POST, DELETE'],
      ['GET', '/api/session/role', 'PUT'],
      ['OPTIONS', '/api/ers/STU3/v1/x', 'GET, HEAD, POST, PUT, PATCH, DELETE'],
      ['TRACE', '/api/ers/STU3/v1/x', 'GET, HEAD, POST, PUT, PATCH, DELETE'],
    ])('%s %s: 405 method-not-allowed with Allow', async (method, path, allow) => {
      const answer = await new Browser(gateway).call(method, path);
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe(allow);
      if (method !== 'HEAD') expectProblem(answer, 405, 'method-not-allowed');
    });

    it.each(['/api', '/api/', '/api/session/', '/api/sess%69on', '/api/%65rs/STU3/v1/x', '/api/ers', '/api/nothing'])(
      '%s: 404 not-found (no second spelling of a route)',
      async (path) => {
        expectProblem(await new Browser(gateway).call('GET', path), 404, 'not-found');
      },
    );

    it('declared bodies over the route\'s limit: 413 before anything is read or sent', async () => {
      const user = await signedIn();
      await env.control.clearRequests();
      expectProblem(await user.ers('POST', 'STU3/v1/Binary', { body: Buffer.alloc(1001, 1) }), 413, 'payload-too-large');
      expectProblem(await user.call('POST', '/api/session', { body: 'x'.repeat(16 * 1024 + 1), headers: { 'content-type': 'application/json' } }), 413, 'payload-too-large');
      expectProblem(await user.call('PUT', '/api/session/role', { body: 'x', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported-media-type');
      expect(await upstream()).toEqual([]);
      expect((await user.session()).status).toBe(200);
    });
  });

  describe('headers', () => {
    it('forwards only the named request headers, the e-RS ones under their documented spellings', async () => {
      const user = await signedIn();
      await env.control.clearRequests();
      const answer = await user.ers('POST', 'STU3/v1/Binary', {
        body: Buffer.from('attachment'),
        headers: {
          'content-type': 'text/plain',
          'x-ers-xapi-meta-file_name': 'a,b.txt',
          'x-ers-xapi-meta-intended_ubrn': '000000070000',
          'x-ers-xapi-comm-rule-org': 'R01',
          'x-ers-xapi-anything': 'smuggled',
          'x-ers-user-id': 'someone-else',
          authorization: 'Bearer x',
          'x-forwarded-for': '10.0.0.1',
        },
      });
      expect(answer.status).toBeLessThan(500);
      const [sent] = await env.control.requests();
      expect(sent!.rawHeaderNames).toEqual(
        expect.arrayContaining(['X-ERS-XAPI-META-FILE_NAME', 'X-ERS-XAPI-META-INTENDED_UBRN', 'X-ERS-XAPI-COMM-RULE-ORG', 'XAPI_ASID', 'HTTP_X_SESSION_KEY']),
      );
      const names = sent!.rawHeaderNames.map((name) => name.toLowerCase());
      for (const dropped of ['x-ers-xapi-anything', 'x-ers-user-id', 'authorization', 'x-forwarded-for', 'cookie', 'x-csrf']) {
        expect(names).not.toContain(dropped);
      }
      expect(sent!.headers).toEqual(expect.arrayContaining([['X-ERS-XAPI-META-FILE_NAME', 'a,b.txt']]));
    });

    it('sets the security headers on every answer (no HSTS over plain HTTP with COOKIE_SECURE=false)', async () => {
      for (const answer of [await new Browser(gateway).call('GET', '/health/live'), await new Browser(gateway).call('GET', '/api/session')]) {
        expect(answer.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' });
        expect(answer.headers['strict-transport-security']).toBeUndefined();
      }
    });
  });

  describe('found in review: one session could hold any number of slow calls (MAX_CALLS_PER_SESSION)', () => {
    it('refuses the call past the cap with 429 too-many-calls and Retry-After, sending nothing; others are not affected', async () => {
      const user = await signedIn();
      const other = await signedIn();
      await env.control.clearRequests();
      await env.control.switches({ hang: { count: 3, path: 'CodeSystem/SPECIALTY' } });
      const slow = Array.from({ length: 3 }, () => user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const refused = await user.ers('GET', 'STU3/v1/CodeSystem/CLINIC-TYPE');
      expectProblem(refused, 429, 'too-many-calls');
      expect(refused.headers['retry-after']).toBe('1');
      expect((await env.control.requests()).map((r) => r.path).filter((path) => path.includes('CLINIC-TYPE'))).toEqual([]);
      // Another session has its own allowance.
      expect((await other.ers('GET', 'STU3/v1/CodeSystem/CLINIC-TYPE')).status).toBe(200);
      // The hung calls end (504 at ERS_TIMEOUT_MS); once their marks are cleared (batched, within
      // milliseconds, off the answers' path) the session may call again.
      expect((await Promise.all(slow)).map((answer) => answer.json?.code)).toEqual(['upstream-timeout', 'upstream-timeout', 'upstream-timeout']);
      await waitFor('a call to be taken again', async () => (await user.ers('GET', 'STU3/v1/CodeSystem/CLINIC-TYPE')).status === 200, 2_000);
    });
  });

  describe('/metrics', () => {
    it('is not on the public port', async () => {
      expectProblem(await new Browser(gateway).call('GET', '/metrics'), 404, 'not-found');
    });
  });
});
