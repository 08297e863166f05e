import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser';
import { type Card, type SandboxSession } from '../support/sandbox-control';
import { waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

/**
 * Issue 18 point 5, per-user sessions, over HTTP against real gateway processes sharing one Redis
 * and the sandbox counting A003s per e-RS session.
 */
describe('per-user sessions', () => {
  let env: Deployment;
  let gateway: string;

  beforeAll(async () => {
    env = await deploy({ gateways: 1, env: { MAX_SESSIONS_PER_USER: '2' } });
    gateway = env.gateways[0]!.url;
  });

  afterAll(async () => {
    await env?.stop();
  });

  /** Signs in with the card and answers the browser and the e-RS session its login opened. */
  async function signIn(card: Card): Promise<{ browser: Browser; ers: SandboxSession }> {
    const before = new Set((await env.control.sessions()).map((s) => s.sessionKey));
    const browser = new Browser(gateway);
    expect((await browser.login(card.token)).status).toBe(201);
    const opened = (await env.control.sessions()).filter((s) => !before.has(s.sessionKey) && s.cardLabel === card.label);
    expect(opened).toHaveLength(1);
    return { browser, ers: opened[0]! };
  }

  const ersSession = async (sessionKey: string): Promise<SandboxSession | undefined> =>
    (await env.control.sessions()).find((s) => s.sessionKey === sessionKey);

  it('MAX_SESSIONS_PER_USER: the third sign-in of one user ends the oldest, whose cookie answers 401 and whose e-RS session gets one A003', async () => {
    const card = await env.control.card((c) => c.label === 'referrer-two-roles');
    const other = await env.control.card((c) => c.label === 'provider-three-roles');
    const first = await signIn(card);
    const second = await signIn(card);
    const bystander = await signIn(other);
    const third = await signIn(card);

    const answer = await first.browser.session();
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ code: 'no-session' });
    const closed = await waitFor('the A003 of the oldest session', async () => {
      const s = await ersSession(first.ers.sessionKey);
      return s?.state === 'deleted' ? s : undefined;
    }, 5000, 50);
    expect(closed.a003Count).toBe(1);

    for (const kept of [second, third, bystander]) {
      expect((await kept.browser.session()).status).toBe(200);
      expect((await ersSession(kept.ers.sessionKey))?.a003Count).toBe(0);
    }
  });
});
