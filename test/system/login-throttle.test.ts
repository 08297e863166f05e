import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Browser, signedInBrowser } from '../support/browser';
import { type Card } from '../support/sandbox-control';
import { waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

/**
 * Found in review: anyone could make the gateway send A001 under the trust's ASID as fast as it
 * accepted requests, and A001-A003 shared one pool, so a flood starved real logins and the
 * closes. Two gateways share one Redis here: the limits hold across instances.
 */
describe('login throttling', () => {
  let env: Deployment;
  let a: string;
  let b: string;
  let invalid: Card;
  let referrer: Card;
  let provider: Card;

  beforeAll(async () => {
    env = await deploy({
      gateways: 2,
      env: {
        TRUST_PROXY: '1',
        LOGIN_TOKEN_FAILURES: '3',
        LOGIN_TOKEN_WINDOW_S: '600',
        LOGIN_ADDRESS_LIMIT: '6',
        LOGIN_ADDRESS_WINDOW_S: '600',
        ERS_LOGIN_CONCURRENCY: '1',
        ERS_SESSION_TIMEOUT_MS: '4000',
      },
    });
    a = env.gateways[0]!.url;
    b = env.gateways[1]!.url;
    invalid = await env.control.card((card) => !card.valid);
    referrer = await env.control.card((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'REFERRING_CLINICIAN'));
    provider = await env.control.card((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'SERVICE_PROVIDER_CLINICIAN'));
  });

  afterAll(async () => {
    await env?.stop();
  });

  beforeEach(async () => {
    await env.control.switches({ hang: null, latencyMs: 0 });
    await env.control.clearRequests();
  });

  let lastAddress = 0;
  /** A client behind the trusted load balancer, with an address of its own. */
  const from = (gateway: string, address = `198.51.100.${++lastAddress}`): Browser => {
    const user = new Browser(gateway);
    const call = user.call.bind(user);
    user.call = (method, path, options = {}) => call(method, path, { ...options, headers: { 'x-forwarded-for': address, ...options.headers } });
    return user;
  };
  const a001s = async (): Promise<number> => (await env.control.requests()).filter((r) => r.operation === 'A001').length;

  it('refuses a token after LOGIN_TOKEN_FAILURES failed A001s, across instances and addresses: 429 with Retry-After, no A001', async () => {
    for (const gateway of [a, b, a]) {
      const answer = await from(gateway).login(invalid.token);
      expect({ status: answer.status, code: answer.json.code }).toEqual({ status: 401, code: 'invalid-token' });
    }
    expect(await a001s()).toBe(3);
    for (const gateway of [b, a]) {
      const refused = await from(gateway).login(invalid.token);
      expect({ status: refused.status, code: refused.json.code }).toEqual({ status: 429, code: 'too-many-logins' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(590);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(600);
      expect(refused.headers['set-cookie']).toBeUndefined();
    }
    expect(await a001s()).toBe(3);
    // Other tokens are not affected.
    expect((await from(b).login(referrer.token)).status).toBe(201);
  });

  it('successful logins do not count against their token', async () => {
    for (let i = 0; i < 5; i++) expect((await from(i % 2 === 0 ? a : b).login(provider.token)).status).toBe(201);
  });

  it('refuses an address after LOGIN_ADDRESS_LIMIT logins, across instances, and leaves its session alone', async () => {
    const address = '203.0.113.77';
    const user = from(a, address);
    expect((await user.login(referrer.token)).status).toBe(201);
    for (let i = 0; i < 5; i++) expect((await from(i % 2 === 0 ? b : a, address).login(provider.token)).status).toBe(201);
    const before = await a001s();
    const refused = await user.login(referrer.token);
    expect({ status: refused.status, code: refused.json.code }).toEqual({ status: 429, code: 'too-many-logins' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await a001s()).toBe(before);
    // A refused login changes nothing: the session it carried is still there.
    expect((await user.session()).status).toBe(200);
    // Another address is not affected.
    expect((await from(a).login(referrer.token)).status).toBe(201);
  });

  it('a role switch sends an A001 too, and is throttled like a sign-in', async () => {
    const address = '203.0.113.88';
    const user = from(a, address);
    const two = referrer.permissions.length > 1 ? referrer : provider;
    expect((await user.login(two.token)).status).toBe(201);
    const [first, second] = two.permissions;
    expect((await user.chooseRole(first!.businessFunction, first!.orgIdentifier)).status).toBe(200);
    for (let i = 0; i < 5; i++) await from(b, address).login(provider.token);
    const refused = await user.chooseRole(second!.businessFunction, second!.orgIdentifier);
    expect({ status: refused.status, code: refused.json.code }).toEqual({ status: 429, code: 'too-many-logins' });
    expect((await user.session()).json.role).toMatchObject({ businessFunction: first!.businessFunction });
  });

  it('with Redis down: 503 store-unavailable, never an unthrottled A001', async () => {
    env.redis!.pause();
    try {
      const answer = await from(a).login(referrer.token);
      expect({ status: answer.status, code: answer.json.code }).toEqual({ status: 503, code: 'store-unavailable' });
    } finally {
      env.redis!.resume();
    }
    expect(await a001s()).toBe(0);
  });

  it('A001/A002 have their own lane: a login flood waits or gets 429, while proxied calls and A003s go through', async () => {
    const user = await signedInBrowser(a, referrer);
    const leaving = await signedInBrowser(a, referrer);
    await env.control.clearRequests();
    // Every A001 hangs at e-RS; ERS_LOGIN_CONCURRENCY=1 lets one through and four wait. The flood
    // uses every valid card in turn: one token's attempts in flight count against its failure limit.
    await env.control.switches({ hang: { count: 50, path: '/v1/ProfessionalSession', method: 'POST' } });
    const tokens = (await env.control.cards()).filter((card) => card.valid).map((card) => card.token);
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    const flood = Array.from({ length: 8 }, (_, i) => from(a).login(tokens[i % tokens.length]!));
    await waitFor('the first A001 at e-RS', async () => (await a001s()) === 1, 5_000);
    const proxied = await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY');
    expect(proxied.status).toBe(200);
    expect((await leaving.logout()).status).toBe(204);
    await waitFor(
      'the A003 of the logout, sent while the A001s hang',
      async () => (await env.control.requests()).some((r) => r.operation === 'A003'),
      5_000,
    );
    const answers = await Promise.all(flood);
    const statuses = answers.map((answer) => answer.json?.code ?? answer.status);
    // One in the lane and four waiting (then timing out at e-RS's hang); the rest refused at once.
    expect(statuses.filter((code) => code === 'too-many-logins')).toHaveLength(3);
    expect(statuses.filter((code) => code === 'upstream-timeout')).toHaveLength(5);
    expect(answers.find((answer) => answer.json?.code === 'too-many-logins')?.headers['retry-after']).toBe('1');
    expect(await a001s()).toBeLessThanOrEqual(5);
  });
});
