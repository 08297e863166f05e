import { createHash } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { Browser, signedInBrowser, type JsonBody } from '../support/browser';
import { startGateway } from '../support/processes';
import { type Card } from '../support/sandbox-control';
import { waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

const PROBLEM_TYPE = /^https:\/\/.+\/problems\/[a-z-]+$/;

/** Every error row of the contract, with its status and problem code, and what it left behind. */
describe('errors the gateway answers with', () => {
  let env: Deployment;
  let gateway: string;
  let referrer: Card;
  let noRoles: Card;
  let invalid: Card;

  beforeAll(async () => {
    env = await deploy({
      gateways: 1,
      env: { ERS_TIMEOUT_MS: '1500', MAX_BODY_BYTES: '1000', ALLOWED_ORIGINS: 'https://spa.example.nhs.uk' },
    });
    gateway = env.gateways[0]!.url;
    referrer = await env.control.card((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'REFERRING_CLINICIAN'));
    noRoles = await env.control.card((card) => card.valid && card.permissions.length === 0);
    invalid = await env.control.card((card) => !card.valid);
  });

  afterAll(async () => {
    await env?.stop();
  });

  beforeEach(async () => {
    await env.control.switches({ latencyMs: 0 });
    await env.control.clearRequests();
  });

  const signedIn = (withRole = true): Promise<Browser> => signedInBrowser(gateway, referrer, withRole);

  function expectProblem(answer: { status: number; headers: Record<string, unknown>; json: JsonBody }, status: number, code: string): void {
    expect({ status: answer.status, code: answer.json?.code }).toEqual({ status, code });
    expect(String(answer.headers['content-type'])).toMatch(/^application\/problem\+json/);
    expect(answer.json).toMatchObject({ type: expect.stringMatching(PROBLEM_TYPE), title: expect.any(String), status, detail: expect.any(String) });
    expect(answer.json.correlationId).toBe(answer.headers['x-correlation-id']);
  }

  const upstreamCalls = async (): Promise<number> => (await env.control.requests()).length;

  describe('anti-forgery', () => {
    it('403 csrf without X-CSRF: 1, on every /api route, before anything else', async () => {
      const user = await signedIn();
      await env.control.clearRequests();
      for (const [method, path] of [['POST', '/api/session'], ['GET', '/api/session'], ['PUT', '/api/session/role'], ['DELETE', '/api/session'], ['GET', '/api/ers/STU3/v1/CodeSystem/SPECIALTY']] as const) {
        expectProblem(await user.call(method, path, { noCsrf: true }), 403, 'csrf');
        expectProblem(await user.call(method, path, { headers: { 'x-csrf': '0' } }), 403, 'csrf');
      }
      expect(await upstreamCalls()).toBe(0);
      expect((await user.session()).status).toBe(200);
    });

    it('403 origin for an Origin that is neither listed nor the gateway itself', async () => {
      const user = await signedIn();
      await env.control.clearRequests();
      expectProblem(await user.call('GET', '/api/session', { headers: { origin: 'https://evil.example' } }), 403, 'origin');
      expectProblem(await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY', { headers: { origin: 'null' } }), 403, 'origin');
      expectProblem(await user.call('DELETE', '/api/session', { headers: { origin: 'https://spa.example.nhs.uk.evil.example' } }), 403, 'origin');
      // With TRUST_PROXY=0 (the default) X-Forwarded-* do not make an origin the gateway's own.
      const forwarded = { origin: 'https://gw.example.nhs.uk', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'gw.example.nhs.uk' };
      expectProblem(await user.call('GET', '/api/session', { headers: forwarded }), 403, 'origin');
      expect(await upstreamCalls()).toBe(0);
      // The listed origin and the gateway's own origin are fine; the session survived.
      expect((await user.call('GET', '/api/session', { headers: { origin: 'https://spa.example.nhs.uk' } })).status).toBe(200);
      expect((await user.call('GET', '/api/session', { headers: { origin: gateway } })).status).toBe(200);
    });
  });

  describe('POST /api/session', () => {
    it('415 for a body that is not JSON, with no upstream call', async () => {
      const user = new Browser(gateway);
      const answer = await user.call('POST', '/api/session', { body: `token=${referrer.token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expectProblem(answer, 415, 'unsupported-media-type');
      expectProblem(await user.call('POST', '/api/session', { body: referrer.token, headers: { 'content-type': 'text/plain' } }), 415, 'unsupported-media-type');
      expect(await upstreamCalls()).toBe(0);
    });

    it.each([
      ['missing', {}],
      ['empty', { token: '' }],
      ['not a string', { token: 42 }],
      ['over 4096 characters', { token: 'A'.repeat(4097) }],
      ['with a control character', { token: 'AQIC5wM2\nLY4S' }],
      ['with a NUL', { token: 'AQIC5wM2\u0000LY4S' }],
    ])('400 invalid-request for a token %s, with no upstream call', async (_what, body) => {
      expectProblem(await new Browser(gateway).call('POST', '/api/session', { json: body }), 400, 'invalid-request');
      expect(await upstreamCalls()).toBe(0);
    });

    it('400 invalid-request for malformed JSON and for a JSON array', async () => {
      expectProblem(await new Browser(gateway).call('POST', '/api/session', { body: '{"token":', headers: { 'content-type': 'application/json' } }), 400, 'invalid-request');
      expectProblem(await new Browser(gateway).call('POST', '/api/session', { json: [referrer.token] }), 400, 'invalid-request');
      expect(await upstreamCalls()).toBe(0);
    });

    it('accepts a token of exactly 4096 characters as well-formed (e-RS decides)', async () => {
      const answer = await new Browser(gateway).login('A'.repeat(4096));
      expectProblem(answer, 401, 'invalid-token');
      expect((await env.control.requests()).map((r) => r.operation)).toEqual(['A001']);
    });

    it('401 invalid-token when e-RS refuses the token; no cookie set', async () => {
      const user = new Browser(gateway);
      const answer = await user.login(invalid.token);
      expectProblem(answer, 401, 'invalid-token');
      expect(answer.headers['set-cookie']).toBeUndefined();
      expect(answer.text).not.toContain(invalid.token);
    });

    it('403 no-roles for a card without roles, and that e-RS session is deleted', async () => {
      const answer = await new Browser(gateway).login(noRoles.token);
      expectProblem(answer, 403, 'no-roles');
      expect(answer.headers['set-cookie']).toBeUndefined();
      const deleted = await waitFor('the A003 of the role-less session', async () => {
        const s = (await env.control.sessions()).find((x) => x.userIdentifier === noRoles.user.identifier);
        return s?.state === 'deleted' ? s : undefined;
      });
      expect(deleted.a003Count).toBe(1);
    });
  });

  describe('sessions', () => {
    it('401 no-session without a cookie, with a value the gateway never issued, or of the wrong shape', async () => {
      const user = new Browser(gateway);
      expectProblem(await user.session(), 401, 'no-session');
      user.cookie = 'A'.repeat(43);
      expectProblem(await user.session(), 401, 'no-session');
      expectProblem(await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY'), 401, 'no-session');
      user.cookie = '../../etc/passwd';
      expectProblem(await user.session(), 401, 'no-session');
      user.cookie = 'x'.repeat(5000);
      expectProblem(await user.session(), 401, 'no-session');
      expect(await upstreamCalls()).toBe(0);
    });

    it('a forged cookie is never adopted: signing in issues a fresh value', async () => {
      const user = new Browser(gateway);
      const planted = 'B'.repeat(43);
      user.cookie = planted;
      expect((await user.login(referrer.token)).status).toBe(201);
      expect(user.cookie).not.toBe(planted);
      const attacker = new Browser(gateway);
      attacker.cookie = planted;
      expectProblem(await attacker.session(), 401, 'no-session');
    });

    it('422 unknown-role for a role the user lacks, with no upstream call; the session stays', async () => {
      const user = await signedIn(false);
      await env.control.clearRequests();
      expectProblem(await user.chooseRole('SERVICE_PROVIDER_CLINICIAN', referrer.permissions[0]!.orgIdentifier), 422, 'unknown-role');
      expectProblem(await user.chooseRole(referrer.permissions[0]!.businessFunction, 'XXXXX'), 422, 'unknown-role');
      expect(await upstreamCalls()).toBe(0);
      expect((await user.session()).status).toBe(200);
    });

    it('400 invalid-request for a malformed role choice', async () => {
      const user = await signedIn(false);
      expectProblem(await user.call('PUT', '/api/session/role', { json: { businessFunction: 'X' } }), 400, 'invalid-request');
      expectProblem(await user.call('PUT', '/api/session/role', { json: { businessFunction: 1, orgIdentifier: 2 } }), 400, 'invalid-request');
      expectProblem(await user.call('PUT', '/api/session/role', { body: 'x', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported-media-type');
      expect((await user.session()).status).toBe(200);
    });

    it('DELETE without a session is 204 (idempotent)', async () => {
      const answer = await new Browser(gateway).logout();
      expect(answer.status).toBe(204);
      expect(answer.headers['cache-control']).toBe('no-store');
    });
  });

  describe('proxied calls', () => {
    it.each([
      'v1/ProfessionalSession',
      'v1/ProfessionalSession/abc',
      'v1/professionalsession',
      'v1/Professional%53ession',
      'STU3/v1/ProfessionalSession',
      'admin/x',
      'ers-api/STU3/v1/CodeSystem/SPECIALTY',
    ])('403 forbidden-path for %s, and the session is unaffected', async (path) => {
      const user = await signedIn();
      await env.control.clearRequests();
      expectProblem(await user.ers('GET', path), 403, 'forbidden-path');
      expect(await upstreamCalls()).toBe(0);
      expect((await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(200);
    });

    it.each([
      'STU3/v1/../v1/CodeSystem/SPECIALTY',
      'STU3/v1/./CodeSystem/SPECIALTY',
      'STU3/v1/%2e%2e/x',
      'STU3//v1/CodeSystem',
      'STU3/v1/CodeSystem/',
      'STU3/v1/Binary%2Fatt-1',
      'STU3/v1/Binary%2fatt-1',
      'STU3/v1/Binary%5Catt-1',
      'STU3/v1/Binary\\att-1',
      'STU3/v1/Binary/att%00',
      'STU3/v1/Binary/att%0d%0aX-Injected:%201',
      'STU3/v1/Binary/%E0%A4%A',
    ])('400 invalid-path for %s', async (path) => {
      const user = await signedIn();
      await env.control.clearRequests();
      expectProblem(await user.ers('GET', path), 400, 'invalid-path');
      expect(await upstreamCalls()).toBe(0);
    });

    it('passes the query string through as sent', async () => {
      const user = await signedIn();
      await env.control.clearRequests();
      await user.ers('GET', 'STU3/v1/Task?focus=ReferralRequest%2F000000070000%2F_history%2F1&intent=proposal&status=ready');
      const [seen] = await env.control.requests();
      expect(seen?.path).toBe('/ers-api/STU3/v1/Task?focus=ReferralRequest%2F000000070000%2F_history%2F1&intent=proposal&status=ready');
    });

    it('forwards only the allowed headers and never a client copy of XAPI_ASID or HTTP_X_SESSION_KEY', async () => {
      const user = await signedIn();
      await env.control.clearRequests();
      const forged = {
        XAPI_ASID: '999999999999',
        'xapi-asid': '999999999999',
        'Http-X-Session-Key': 'forged',
        http_x_session_key: 'forged2',
        'X-Session-Key': 'forged3',
        authorization: 'Bearer x',
        'x-forwarded-for': '10.0.0.1',
        'if-none-match': 'W/"1"',
        'x-correlation-id': 'trace-123',
        'x-ers-xapi-comm-rule-org': 'R01',
        'x-custom': 'no',
        accept: 'application/fhir+json',
      };
      const answer = await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY', { headers: forged });
      expect(answer.status).toBe(200);
      expect(answer.headers['x-correlation-id']).toBe('trace-123');
      const [seen] = await env.control.requests();
      const names = seen!.headers.map(([name]) => name);
      expect(names.filter((name) => /^(xapi.asid|http.x.session.key)$/i.test(name))).toEqual(['XAPI_ASID', 'HTTP_X_SESSION_KEY']);
      expect(seen!.asid).not.toBe('999999999999');
      expect(seen!.headers.filter(([, value]) => /forged/.test(value))).toEqual([]);
      const lower = names.map((name) => name.toLowerCase());
      for (const dropped of ['authorization', 'x-forwarded-for', 'x-custom', 'cookie', 'x-csrf', 'x-session-key']) expect(lower).not.toContain(dropped);
      for (const kept of ['if-none-match', 'x-correlation-id', 'x-ers-xapi-comm-rule-org', 'accept']) expect(lower).toContain(kept);
    });

    it('generates an X-Correlation-ID when the browser sends none (or a malformed one) and passes it back', async () => {
      const user = await signedIn();
      await env.control.clearRequests();
      const answer = await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY', { headers: { 'x-correlation-id': 'bad value with spaces' } });
      const id = String(answer.headers['x-correlation-id']);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const [seen] = await env.control.requests();
      expect(seen!.headers.find(([name]) => name.toLowerCase() === 'x-correlation-id')?.[1]).toBe(id);
    });

    it('passes back only the allowed response headers, never Set-Cookie (an upstream that sets a cookie)', async () => {
      // The sandbox sets no cookie (no published source has e-RS do so); an infrastructure in
      // front of e-RS might. A stand-in upstream relays to the sandbox and adds a cookie and a
      // header that is not on the pass-back list, so that this check can fail.
      const sandboxUrl = new URL(env.sandbox.url);
      const standIn = createServer((incoming, outgoing) => {
        const relay = httpRequest(
          // The raw header list keeps e-RS's exact spellings (XAPI_ASID, HTTP_X_SESSION_KEY).
          { host: sandboxUrl.hostname, port: sandboxUrl.port, method: incoming.method, path: incoming.url, headers: incoming.rawHeaders },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, {
              ...answer.headers,
              'set-cookie': 'ERS_LB=node-1; Path=/ers-api; HttpOnly; Secure',
              'x-upstream-node': 'node-1',
            });
            answer.pipe(outgoing);
          },
        );
        relay.on('error', () => outgoing.destroy());
        incoming.pipe(relay);
      });
      await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
      const { port } = standIn.address() as AddressInfo;
      const behindStandIn = await startGateway({ ersBaseUrl: `http://127.0.0.1:${port}/ers-api` });
      try {
        const user = await signedInBrowser(behindStandIn.url, referrer);
        const answer = await user.ers('GET', 'STU3/v1/ReferralRequest/000000070000');
        expect(answer.status).toBe(200);
        expect(answer.headers['etag']).toMatch(/^W\/"\d+"$/);
        expect(answer.headers['x_ers_transaction_id']).toMatch(/^[0-9a-f-]{36}-1$/);
        expect(answer.headers['set-cookie']).toBeUndefined();
        expect(answer.headers['x-upstream-node']).toBeUndefined();
        expect(answer.headers['cache-control']).toBe('no-store');
        // The stand-in did set its cookie on the way in, so the gateway had one to drop.
        const direct = await request(`http://127.0.0.1:${port}/ers-api/STU3/v1/CodeSystem/SPECIALTY`);
        await direct.body.dump();
        expect(String(direct.headers['set-cookie'])).toMatch(/^ERS_LB=/);
        expect((await user.logout()).status).toBe(204);
      } finally {
        await behindStandIn.stop();
        await new Promise<void>((resolve) => standIn.close(() => resolve()));
      }
    });

    it('403 role-not-selected before a role is chosen, with no upstream call', async () => {
      const user = await signedIn(false);
      await env.control.clearRequests();
      expectProblem(await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY'), 403, 'role-not-selected');
      expect(await upstreamCalls()).toBe(0);
    });

    /** What e-RS received for this session key, in order (`A008 403`, `A002 400`…), its close (A003) aside. */
    const upstreamTrail = async (sessionKey: string): Promise<string[]> =>
      (await env.control.requests())
        .filter((r) => r.sessionKey === sessionKey && r.operation !== 'A003')
        .map((r) => `${r.operation ?? r.path} ${r.status}`);

    it('passes a 403 OperationOutcome (wrong role) through byte for byte after one A002 found the session alive; the session stays', async () => {
      const user = await signedIn();
      const [live] = (await env.control.sessions()).filter((s) => s.state === 'active').slice(-1);
      await env.control.clearRequests();
      const answer = await user.ers('POST', 'STU3/v1/ReferralRequest/$ers.fetchworklist', {
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Parameters', parameter: [] }),
      });
      expect(answer.status).toBe(403);
      expect(answer.json.resourceType).toBe('OperationOutcome');
      expect(String(answer.headers['content-type'])).toMatch(/fhir\+json/);
      expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
      expect(await upstreamTrail(live!.sessionKey)).toEqual(['A008 403', 'A002 400']);
      expect((await user.session()).status).toBe(200);
      expect((await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(200);
    });

    it('a 403 on a session e-RS no longer knows: one A002 finds it dead, 401 session-expired, cookie cleared, session ended', async () => {
      const user = await signedIn();
      const cookieBefore = user.cookie;
      const [live] = (await env.control.sessions()).filter((s) => s.state === 'active').slice(-1);
      await env.control.expire(live!.sessionKey);
      await env.control.clearRequests();
      const answer = await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY');
      expectProblem(answer, 401, 'session-expired');
      expect(await upstreamTrail(live!.sessionKey)).toEqual(['A004 403', 'A002 403']);
      expect(String(answer.headers['set-cookie'])).toMatch(/^ers-session=; .*Max-Age=0/);
      expect(user.cookie).toBeNull();
      const stale = new Browser(gateway);
      stale.cookie = cookieBefore;
      expectProblem(await stale.session(), 401, 'no-session');
      // Its A003 is still sent, once (e-RS answers 403: already ended).
      const ended = await waitFor('the A003 of the expired session', async () => {
        const s = (await env.control.sessions()).find((x) => x.sessionKey === live!.sessionKey);
        return s && s.a003Count >= 1 ? s : undefined;
      });
      expect(ended.a003Count).toBe(1);
    });

    it('502 upstream-unavailable when e-RS drops the connection, and a POST is never retried', async () => {
      const user = await signedIn();
      await env.control.clearRequests();
      await env.control.switches({ drop: { count: 1, path: 'Appointment' } });
      const answer = await user.ers('POST', 'STU3/v1/Appointment', { headers: { 'content-type': 'application/fhir+json' }, body: '{"resourceType":"Appointment"}' });
      expectProblem(answer, 502, 'upstream-unavailable');
      const appointments = (await env.control.requests()).filter((r) => r.path.includes('Appointment'));
      expect(appointments).toHaveLength(1);
      expect((await user.session()).status).toBe(200);
    });

    it('504 upstream-timeout when e-RS does not answer within ERS_TIMEOUT_MS; the session stays', async () => {
      const user = await signedIn();
      await env.control.switches({ hang: { count: 1, path: 'CodeSystem' } });
      const started = Date.now();
      const answer = await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY');
      expectProblem(answer, 504, 'upstream-timeout');
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await user.session()).status).toBe(200);
    });

    it('passes e-RS errors through with their status and body', async () => {
      const user = await signedIn();
      await env.control.switches({ error: { status: 500, count: 1, path: 'CodeSystem' } });
      const answer = await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY');
      expect(answer.status).toBe(500);
      expect(answer.json.resourceType).toBe('OperationOutcome');
    });

    it('413 payload-too-large for a declared body over MAX_BODY_BYTES, before e-RS is called', async () => {
      const user = await signedIn();
      await env.control.clearRequests();
      const answer = await user.ers('POST', 'STU3/v1/Binary', { headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(1001, 1) });
      expectProblem(answer, 413, 'payload-too-large');
      expect((await env.control.requests()).filter((r) => r.path.includes('Binary'))).toHaveLength(0);
      expect((await user.session()).status).toBe(200);
    });

    it('413 payload-too-large for a chunked body that grows over MAX_BODY_BYTES', async () => {
      const user = await signedIn();
      const { Readable } = await import('node:stream');
      const body = Readable.from((function* () {
        for (let i = 0; i < 10; i++) yield Buffer.alloc(200, i);
      })());
      const answer = await request(`${gateway}/api/ers/STU3/v1/Binary`, {
        method: 'POST',
        headers: { 'x-csrf': '1', cookie: `ers-session=${user.cookie}`, 'content-type': 'application/octet-stream', 'x-ers-xapi-meta-file_name': 'big.bin' },
        body,
      });
      const json = (await answer.body.json()) as { code: string };
      expect({ status: answer.statusCode, code: json.code }).toEqual({ status: 413, code: 'payload-too-large' });
      expect((await env.control.uploads()).filter((u) => u.complete && u.fileName === 'big.bin')).toHaveLength(0);
      expect((await user.session()).status).toBe(200);
    });

    it('a body at the limit goes through whole', async () => {
      const user = await signedIn();
      const bytes = Buffer.alloc(1000, 9);
      const answer = await user.ers('POST', 'STU3/v1/Binary', {
        headers: { 'content-type': 'application/octet-stream', 'x-ers-xapi-meta-file_name': 'ok.bin' },
        body: bytes,
      });
      expect(answer.status).toBe(201);
      expect(String(answer.headers['location'])).toMatch(/^\/api\/ers\/STU3\/v1\/Binary\//);
      const upload = (await env.control.uploads()).find((u) => u.fileName === 'ok.bin');
      expect(upload?.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    });
  });

  describe('routes that do not exist', () => {
    it('404 not-found as problem+json', async () => {
      expectProblem(await new Browser(gateway).call('GET', '/api/nothing'), 404, 'not-found');
    });
  });
});
