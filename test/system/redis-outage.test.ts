import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser';
import { type Card } from '../support/sandbox-control';
import { waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

/**
 * Redis down or hung: 503 store-unavailable within 2 s, the session kept and the cookie not
 * cleared, readiness 503; Redis back: the same cookie works with no gateway restart.
 */
describe('when Redis fails', () => {
  let env: Deployment;
  let referrer: Card;
  let gateway: string;

  beforeAll(async () => {
    // Persistence on, so a stopped and restarted Redis comes back with its data (as in production).
    env = await deploy({ gateways: 1, redisArgs: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    gateway = env.gateways[0]!.url;
    referrer = await env.control.card((card) => card.valid && card.permissions.length === 2);
  });

  afterAll(async () => {
    env?.redis?.resume();
    await env?.stop();
  });

  async function signedIn(): Promise<Browser> {
    const user = new Browser(gateway);
    expect((await user.login(referrer.token)).status).toBe(201);
    const role = referrer.permissions[0]!;
    expect((await user.chooseRole(role.businessFunction, role.orgIdentifier)).status).toBe(200);
    return user;
  }

  async function expectUnavailable(user: Browser): Promise<void> {
    for (const call of [() => user.session(), () => user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY')]) {
      const started = Date.now();
      const answer = await call();
      expect(Date.now() - started).toBeLessThan(2000);
      expect({ status: answer.status, code: answer.json?.code }).toEqual({ status: 503, code: 'store-unavailable' });
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    const started = Date.now();
    const ready = await fetch(`${gateway}/health/ready`);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(ready.status).toBe(503);
  }

  async function expectBack(user: Browser): Promise<void> {
    await waitFor('readiness', async () => (await fetch(`${gateway}/health/ready`)).status === 200, 10_000, 100);
    expect((await user.session()).status).toBe(200);
    expect((await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(200);
  }

  it('hung (SIGSTOP): 503 within 2 s, then the same cookie works once it answers again', async () => {
    const user = await signedIn();
    const cookie = user.cookie;
    env.redis!.pause();
    try {
      await expectUnavailable(user);
      expect(user.cookie).toBe(cookie);
    } finally {
      env.redis!.resume();
    }
    await expectBack(user);
  });

  it('stopped: 503 within 2 s, then the same cookie works once it is back', async () => {
    const user = await signedIn();
    await env.redis!.kill('SIGTERM');
    try {
      await expectUnavailable(user);
      // A login while the store is down is refused before A001: the login throttle needs the store
      // (never an unthrottled A001), so no e-RS session is opened that could not be recorded.
      const sessionsBefore = (await env.control.sessions()).length;
      const login = await new Browser(gateway).login(referrer.token);
      expect({ status: login.status, code: login.json?.code }).toEqual({ status: 503, code: 'store-unavailable' });
      expect((await env.control.sessions()).length).toBe(sessionsBefore);
    } finally {
      await env.redis!.restart();
    }
    await expectBack(user);
  });
});
