import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Browser, signedInBrowser } from '../support/browser';
import { type Card } from '../support/sandbox-control';
import { type Deployment, deploy } from './cluster';

const SPECIALTY = 'STU3/v1/CodeSystem/SPECIALTY';

/**
 * The gateway against each kind of e-RS 403 the sandbox can produce (OperationOutcome since
 * 5 November 2024, bare with `legacy403`): a dead session ends the gateway session, a live one's
 * refusal passes through and the session stays.
 */
describe('the gateway and e-RS 403s', () => {
  let env: Deployment;
  let gateway: string;
  let referrer: Card;

  beforeAll(async () => {
    env = await deploy({ gateways: 1, store: 'memory' });
    gateway = env.gateways[0]!.url;
    referrer = await env.control.card((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'REFERRING_CLINICIAN'));
  });

  afterAll(async () => {
    await env?.stop();
  });

  beforeEach(async () => {
    await env.control.switches({ legacy403: false, spineIdleMs: null, spineMaxMs: null, interactionsNotAllowed: [] });
  });

  /** A signed-in browser (role selected) and its e-RS session key. */
  async function signedIn(): Promise<{ user: Browser; sessionKey: string }> {
    const user = await signedInBrowser(gateway, referrer);
    const mine = (await env.control.sessions()).filter((s) => s.state === 'active').at(-1)!;
    await env.control.clearRequests();
    return { user, sessionKey: mine.sessionKey };
  }

  /** What e-RS received for this key, in order (`A004 403`, `A002 400`…), its close aside. */
  const trail = async (sessionKey: string): Promise<string[]> =>
    (await env.control.requests()).filter((r) => r.sessionKey === sessionKey && r.operation !== 'A003').map((r) => `${r.operation ?? r.path} ${r.status}`);

  for (const legacy403 of [false, true]) {
    describe(legacy403 ? 'bare 403s (legacy403)' : '403s with an OperationOutcome', () => {
      beforeEach(async () => {
        await env.control.switches({ legacy403 });
      });

      it('a Spine idle timeout: one A002 finds the session dead, 401 session-expired', async () => {
        const { user, sessionKey } = await signedIn();
        await env.control.switches({ spineIdleMs: 300 });
        await new Promise((resolve) => setTimeout(resolve, 500));
        const answer = await user.ers('GET', SPECIALTY);
        expect({ status: answer.status, code: answer.json?.code }).toEqual({ status: 401, code: 'session-expired' });
        expect(await trail(sessionKey)).toEqual(['A004 403', 'A002 403']);
        expect((await user.session()).status).toBe(401);
      });

      it('a withdrawn role: the 403 passes through after one A002 (400: alive), the session stays', async () => {
        const { user, sessionKey } = await signedIn();
        await env.control.revokeRole({ sessionKey });
        const answer = await user.ers('GET', SPECIALTY);
        expect(answer.status).toBe(403);
        expect(answer.json?.resourceType).toBe(legacy403 ? undefined : 'OperationOutcome');
        expect(await trail(sessionKey)).toEqual(['A004 403', 'A002 400']);
        expect((await user.session()).status).toBe(200);
        await env.control.restoreRole({ sessionKey });
        expect((await user.ers('GET', SPECIALTY)).status).toBe(200);
      });

      it('an interaction the ASID is not allowed: the 403 passes through, the session stays', async () => {
        const { user, sessionKey } = await signedIn();
        await env.control.switches({ interactionsNotAllowed: ['A004'] });
        expect((await user.ers('GET', SPECIALTY)).status).toBe(403);
        expect(await trail(sessionKey)).toEqual(['A004 403', 'A002 400']);
        expect((await user.session()).status).toBe(200);
      });
    });
  }
});
