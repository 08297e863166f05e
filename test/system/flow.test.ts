import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser';
import { SecretWatch } from '../support/leaks';
import { type Card } from '../support/sandbox-control';
import { dumpRedis } from '../support/redis-dump';
import { waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

describe.each(['redis', 'memory'] as const)('the whole flow (%s store)', (store) => {
  let env: Deployment;
  let referrer: Card;
  let provider: Card;
  const secrets = new SecretWatch();
  const bodies: string[] = [];
  /** Instance A and B (the same one with the memory store): any instance serves any request. */
  let a: string;
  let b: string;

  const browser = (): Browser => new Browser(a);
  /** Keeps what a browser script could see: the body and every header but Set-Cookie (HttpOnly). */
  const record = (answer: { text: string; headers: Record<string, unknown> }): void => {
    const { 'set-cookie': _cookie, ...visible } = answer.headers;
    bodies.push(answer.text, JSON.stringify(visible));
  };

  beforeAll(async () => {
    env = await deploy({ store, gateways: store === 'redis' ? 2 : 1 });
    a = env.gateways[0]!.url;
    b = env.gateways[store === 'redis' ? 1 : 0]!.url;
    referrer = await env.control.card((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'REFERRING_CLINICIAN'));
    provider = await env.control.card((card) => card.valid && card.permissions.length === 3);
    for (const card of await env.control.cards()) secrets.add('smartcard token', card.token);
  });

  afterAll(async () => {
    await env?.stop();
  });

  it('signs in, chooses a role, proxies calls on either instance, switches role and signs out', async () => {
    const user = browser();
    const login = await user.login(referrer.token);
    record(login);
    expect(login.status).toBe(201);
    expect(login.headers['cache-control']).toBe('no-store');
    expect(login.json).toEqual({
      user: referrer.user,
      permissions: referrer.permissions,
      role: null,
      idleExpiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      absoluteExpiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^ers-session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    const firstCookie = user.cookie!;
    expect(firstCookie).toMatch(COOKIE_VALUE);
    secrets.add('cookie value', firstCookie);

    // The e-RS session exists and has no role yet.
    const [created] = (await env.control.sessions()).filter((s) => s.userIdentifier === referrer.user.identifier);
    expect(created?.state).toBe('awaiting-role');
    secrets.add('e-RS session key', created!.sessionKey);

    // Any instance reads the session; reading does not slide the idle timeout.
    const onB = new Browser(b);
    onB.cookie = firstCookie;
    const read = await onB.session();
    expect(read.status).toBe(200);
    expect(read.json.idleExpiresAt).toBe(login.json.idleExpiresAt);

    // No role yet: no proxied call.
    const early = await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY');
    expect(early.status).toBe(403);
    expect(early.json.code).toBe('role-not-selected');

    const role = referrer.permissions[0]!;
    const chosen = await user.chooseRole(role.businessFunction, role.orgIdentifier);
    record(chosen);
    expect(chosen.status).toBe(200);
    expect(chosen.json.role).toEqual(role);
    expect(user.cookie).toMatch(COOKIE_VALUE);
    expect(user.cookie).not.toBe(firstCookie);
    secrets.add('cookie value', user.cookie);
    // The old cookie value is dead at once, on every instance.
    expect((await onB.session()).json.code).toBe('no-session');

    await env.control.clearRequests();
    const viaA = await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY', { headers: { accept: 'application/fhir+json' } });
    record(viaA);
    expect(viaA.status).toBe(200);
    onB.cookie = user.cookie;
    const viaB = await onB.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY');
    expect(viaB.status).toBe(200);
    expect(viaB.text).toBe(viaA.text);

    const seen = (await env.control.requests()).filter((r) => r.path.includes('CodeSystem'));
    expect(seen).toHaveLength(2);
    const active = (await env.control.sessions()).find((s) => s.state === 'active' && s.userIdentifier === referrer.user.identifier)!;
    secrets.add('e-RS session key', active.sessionKey);
    for (const request of seen) {
      expect(request.rawHeaderNames).toContain('XAPI_ASID');
      expect(request.rawHeaderNames).toContain('HTTP_X_SESSION_KEY');
      expect(request.sessionKey).toBe(active.sessionKey);
      expect(request.rawHeaderNames.map((name) => name.toLowerCase())).not.toContain('cookie');
      expect(request.rawHeaderNames.map((name) => name.toLowerCase())).not.toContain('x-csrf');
    }

    // Proxied calls slide the idle timeout.
    const after = await user.session();
    expect(Date.parse(after.json.idleExpiresAt)).toBeGreaterThanOrEqual(Date.parse(chosen.json.idleExpiresAt));

    // Role switch: A003 of the old e-RS session, then A001, then A002, and a new cookie.
    await env.control.clearRequests();
    const next = referrer.permissions[1]!;
    const beforeSwitch = user.cookie;
    const switched = await user.chooseRole(next.businessFunction, next.orgIdentifier);
    record(switched);
    expect(switched.status).toBe(200);
    expect(switched.json.role).toEqual(next);
    expect(switched.json.absoluteExpiresAt).toBe(login.json.absoluteExpiresAt);
    expect(user.cookie).not.toBe(beforeSwitch);
    secrets.add('cookie value', user.cookie);
    const operations = (await env.control.requests()).map((r) => r.operation);
    expect(operations).toEqual(['A003', 'A001', 'A002']);
    const oldSession = (await env.control.sessions()).find((s) => s.sessionKey === active.sessionKey)!;
    expect(oldSession.state).toBe('deleted');
    expect(oldSession.a003Count).toBe(1);

    const afterSwitch = await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY');
    expect(afterSwitch.status).toBe(200);
    const current = (await env.control.sessions()).find((s) => s.state === 'active' && s.userIdentifier === referrer.user.identifier)!;
    secrets.add('e-RS session key', current.sessionKey);
    expect(current.role).toMatchObject({ businessFunction: next.businessFunction });

    if (env.redis !== null) {
      // In Redis: keys are hashes of the cookie value; the token and session key only encrypted.
      const dump = await dumpRedis(env.redis.url);
      expect(dump.keys.length).toBeGreaterThan(2);
      secrets.expectAbsent('a Redis key', dump.keys.join('\n'));
      secrets.expectAbsent('a Redis value', dump.text);
      expect(dump.text).not.toContain(referrer.user.lastName);
    }

    // Sign out: 204, cookie cleared, the A003 follows once.
    const out = await user.logout();
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^ers-session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/);
    expect(user.cookie).toBeNull();
    const closed = await waitFor('the A003 of the signed-out session', async () => {
      const s = (await env.control.sessions()).find((x) => x.sessionKey === current.sessionKey);
      return s?.state === 'deleted' ? s : undefined;
    });
    expect(closed.a003Count).toBe(1);
    // Signing out again is fine.
    expect((await user.logout()).status).toBe(204);
  });

  it('lets a provider open a worklist and a referral', async () => {
    const user = browser();
    expect((await user.login(provider.token)).status).toBe(201);
    const role = provider.permissions.find((p) => p.businessFunction === 'SERVICE_PROVIDER_CLINICIAN')!;
    expect((await user.chooseRole(role.businessFunction, role.orgIdentifier)).status).toBe(200);
    const worklist = await user.ers('POST', 'STU3/v1/ReferralRequest/$ers.fetchworklist', {
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [{ name: 'listType', valueCodeableConcept: { coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralListSelector-1', code: 'REFERRALS_FOR_REVIEW' }] } }],
      }),
    });
    record(worklist);
    expect(worklist.status).toBe(200);
    // A008 answers a List whose entries point at the referrals (A008_Response.json).
    expect(worklist.json.resourceType).toBe('List');
    const entries = worklist.json.entry as { item: { reference: string } }[];
    expect(entries.map((entry) => entry.item.reference)).toContain('ReferralRequest/000000070000');
    const referral = await user.ers('GET', `STU3/v1/${entries[0]!.item.reference}`);
    record(referral);
    expect({ status: referral.status, type: referral.json?.resourceType }).toEqual({ status: 200, type: 'ReferralRequest' });
    expect((await user.logout()).status).toBe(204);
  });

  it('signing in again ends the session the browser had (its A003 follows)', async () => {
    const user = browser();
    expect((await user.login(referrer.token)).status).toBe(201);
    const first = user.cookie;
    const keysBefore = new Set((await env.control.sessions()).map((s) => s.sessionKey));
    expect((await user.login(referrer.token)).status).toBe(201);
    expect(user.cookie).not.toBe(first);
    const old = new Browser(a);
    old.cookie = first;
    expect((await old.session()).json.code).toBe('no-session');
    const sessions = await env.control.sessions();
    const previous = sessions.filter((s) => keysBefore.has(s.sessionKey) && s.userIdentifier === referrer.user.identifier);
    await waitFor('the A003 of the replaced session', async () =>
      (await env.control.sessions()).filter((s) => previous.some((p) => p.sessionKey === s.sessionKey) && s.a003Count === 1).length === previous.length,
    );
    expect((await user.logout()).status).toBe(204);
  });

  it('never showed a token, session key or cookie value in a response, a log line or /metrics', async () => {
    expect(secrets.size).toBeGreaterThan(5);
    for (const [index, text] of bodies.entries()) secrets.expectAbsent(`response ${index}`, text);
    const metrics = await (await fetch(`${env.gateways[0]!.opsUrl}/metrics`)).text();
    expect(metrics).toContain('ersgw_sessions_started_total');
    secrets.expectAbsent('/metrics', metrics);
    for (const gateway of env.gateways) secrets.expectAbsent('gateway log', gateway.lines.join('\n'));
  });

  it('sent no e-RS session two A003s or a second A002', async () => {
    const sessions = await env.control.sessions();
    expect(sessions.length).toBeGreaterThan(3);
    for (const session of sessions) {
      expect(session.a003Count, session.state).toBeLessThanOrEqual(1);
      expect(session.a002Count).toBeLessThanOrEqual(1);
    }
  });
});
