import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser';
import { type Card } from '../support/sandbox-control';
import { sleep, waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

describe.each(['redis', 'memory'] as const)('idle and absolute expiry (%s store)', (store) => {
  let env: Deployment;
  let referrer: Card;
  let gateway: string;

  beforeAll(async () => {
    env = await deploy({ store, env: { SESSION_IDLE_TIMEOUT_S: '2', SESSION_ABSOLUTE_TIMEOUT_S: '5' } });
    gateway = env.gateways[0]!.url;
    referrer = await env.control.card((card) => card.valid && card.permissions.length === 2);
  });

  afterAll(async () => {
    await env?.stop();
  });

  async function signedIn(): Promise<{ user: Browser; sessionKey: string }> {
    const user = new Browser(gateway);
    expect((await user.login(referrer.token)).status).toBe(201);
    const role = referrer.permissions[0]!;
    expect((await user.chooseRole(role.businessFunction, role.orgIdentifier)).status).toBe(200);
    const mine = (await env.control.sessions()).filter((s) => s.state === 'active').at(-1)!;
    return { user, sessionKey: mine.sessionKey };
  }

  it('an idle session ends and its A003 is sent with no further request from the user', async () => {
    const { user, sessionKey } = await signedIn();
    expect((await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(200);
    const closed = await waitFor(
      'the A003 of the idle session',
      async () => (await env.control.sessions()).find((s) => s.sessionKey === sessionKey && s.state === 'deleted'),
      8000,
      100,
    );
    expect(closed.a003Count).toBe(1);
    const answer = await user.session();
    expect(answer.status).toBe(401);
    expect(answer.json.code).toBe('no-session');
  });

  it('reading the session does not extend the idle timeout', async () => {
    const { user } = await signedIn();
    const first = await user.session();
    for (let i = 0; i < 5; i++) {
      await sleep(500);
      const read = await user.session();
      if (read.status !== 200) break;
      expect(read.json.idleExpiresAt).toBe(first.json.idleExpiresAt);
    }
    await sleep(500);
    expect((await user.session()).status).toBe(401);
  });

  it('proxied calls slide the idle timeout but never past the absolute lifetime', async () => {
    const { user, sessionKey } = await signedIn();
    const started = Date.now();
    const login = await user.session();
    let last = 200;
    while (Date.now() - started < 8000) {
      const answer = await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY');
      last = answer.status;
      if (last !== 200) {
        expect(answer.json.code).toBe('no-session');
        break;
      }
      const view = await user.session();
      if (view.status !== 200) {
        // The absolute lifetime ran out between the proxied call and this read.
        expect(view.status).toBe(401);
        last = 401;
        break;
      }
      expect(Date.parse(view.json.idleExpiresAt)).toBeLessThanOrEqual(Date.parse(login.json.absoluteExpiresAt));
      await sleep(400);
    }
    expect(last).toBe(401);
    // Alive well past the idle timeout (it slid), ended at the absolute lifetime.
    expect(Date.now() - started).toBeGreaterThan(3500);
    const closed = await waitFor(
      'the A003 of the expired session',
      async () => (await env.control.sessions()).find((s) => s.sessionKey === sessionKey && s.a003Count > 0),
      5000,
    );
    expect(closed.a003Count).toBe(1);
  });

  it.runIf(store === 'redis')('a session record Redis lost is reported as lost, not silently forgotten', async () => {
    const { user } = await signedIn();
    const redis = new Redis(env.redis!.url, { maxRetriesPerRequest: 1 });
    try {
      const keys = await redis.keys('ersgw:S:*');
      expect(keys.length).toBeGreaterThan(0);
      // As an evicting Redis would: every live record goes, the expiry index stays.
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
    const lost = await waitFor(
      'the sweeper to report the lost records',
      async () => env.gateways[0]!.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.event === 'sessions-lost'),
      8000,
      100,
    );
    expect(lost.level).toBe('error');
    expect(Number(lost.count)).toBeGreaterThan(0);
    expect((await user.session()).status).toBe(401);
  });
});
