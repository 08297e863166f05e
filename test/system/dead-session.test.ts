import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ERS_ASID_HEADER, ERS_SESSION_KEY_HEADER } from '@libs/ers-contract';
import { type Answer, type Browser, signedInBrowser } from '../support/browser';
import { TEST_ASID } from '../support/processes';
import { type Card } from '../support/sandbox-control';
import { type Deployment, deploy } from './cluster';

const SPECIALTIES = 'STU3/v1/CodeSystem/SPECIALTY';
const WORKLIST = 'STU3/v1/ReferralRequest/$ers.fetchworklist';
const WORKLIST_REQUEST = { resourceType: 'Parameters', parameter: [{ name: 'listType', valueCodeableConcept: { coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralListSelector-1', code: 'REFERRALS_FOR_REVIEW' }] } }] };

/**
 * The dead-session rule against e-RS as it answers since 5 November 2024: every business 403
 * carries an OperationOutcome, whether the session is dead or the role may not make the call. The
 * gateway must end a dead session (`401 session-expired`, the SPA's cue to ask for the card) within
 * one call, and pass a role answer through unchanged without ending anything, without knowing
 * e-RS's diagnostics wording.
 */
describe('a dead e-RS session, against today\'s 403s', () => {
  let env: Deployment;
  let gateway: string;
  let referrer: Card;

  beforeAll(async () => {
    env = await deploy({ gateways: 1, env: { ERS_TIMEOUT_MS: '1500' } });
    gateway = env.gateways[0]!.url;
    referrer = await env.control.card((card) => card.valid && card.permissions[0]?.businessFunction === 'REFERRING_CLINICIAN');
  });

  afterAll(async () => {
    await env?.stop();
  });

  afterEach(async () => {
    await env.control.switches({ legacy403: false, spineIdleMs: 0, spineMaxMs: 0, interactionsNotAllowed: [], error: null });
    const role = referrer.permissions[0]!;
    await env.control.restoreRole({ token: referrer.token, businessFunction: role.businessFunction, orgIdentifier: role.orgIdentifier });
    await env.control.insertCard(referrer.label);
  });

  /** Signs in and returns the browser with its e-RS session key (read from the sandbox, never from the gateway). */
  async function signedIn(): Promise<{ user: Browser; sessionKey: string }> {
    const user = await signedInBrowser(gateway, referrer);
    const [live] = (await env.control.sessions()).filter((s) => s.state === 'active').slice(-1);
    await env.control.clearRequests();
    return { user, sessionKey: live!.sessionKey };
  }

  /** What e-RS received for this session, in order (`A004 403`, `A002 400`…), its close (A003) aside. */
  const trail = async (sessionKey: string): Promise<string[]> =>
    (await env.control.requests())
      .filter((r) => r.sessionKey === sessionKey && r.operation !== 'A003')
      .map((r) => `${r.operation ?? r.path} ${r.status}`);

  /** The same call straight to e-RS (the sandbox), as the gateway would send it. */
  async function direct(sessionKey: string, method: string, path: string, body?: unknown): Promise<{ status: number; contentType: string | null; body: string }> {
    const answer = await fetch(`${env.sandbox.ersBaseUrl}/${path}`, {
      method,
      headers: {
        [ERS_ASID_HEADER]: TEST_ASID,
        [ERS_SESSION_KEY_HEADER]: sessionKey,
        ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: answer.status, contentType: answer.headers.get('content-type'), body: await answer.text() };
  }

  function expectSessionExpired(answer: Answer): void {
    expect({ status: answer.status, code: answer.json?.code }).toEqual({ status: 401, code: 'session-expired' });
    expect(String(answer.headers['set-cookie'])).toMatch(/^ers-session=; .*Max-Age=0/);
  }

  const worklist = (user: Browser): Promise<Answer> =>
    user.ers('POST', WORKLIST, { headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(WORKLIST_REQUEST) });

  for (const legacy403 of [false, true]) {
    describe(legacy403 ? 'e-RS before November 2024 (legacy403: bare 403s)' : 'e-RS today (403s with an OperationOutcome)', () => {
      beforeEach(async () => {
        await env.control.switches({ legacy403 });
      });

      /** The 403 e-RS answers in this mode: an OperationOutcome, or no body at all. */
      const expectErs403 = (answer: { status: number; body: string | Buffer }): void => {
        expect(answer.status).toBe(403);
        if (legacy403) expect(answer.body.length).toBe(0);
        else expect(JSON.parse(String(answer.body))).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] });
      };

      it('card removed: e-RS answers 403, and the next call gets 401 session-expired', async () => {
        const { user, sessionKey } = await signedIn();
        await env.control.removeCard(referrer.token);
        expectErs403(await direct(sessionKey, 'GET', SPECIALTIES));
        await env.control.clearRequests();
        expectSessionExpired(await user.ers('GET', SPECIALTIES));
        expect(await trail(sessionKey)).toEqual(['A004 403', 'A002 403']);
        expect((await user.session()).status).toBe(401);
      });

      it('Spine idle timeout: the first call after it gets 401 session-expired', async () => {
        const { user, sessionKey } = await signedIn();
        expect((await user.ers('GET', SPECIALTIES)).status).toBe(200);
        await env.control.switches({ spineIdleMs: 300 });
        await new Promise((resolve) => setTimeout(resolve, 500));
        expectSessionExpired(await user.ers('GET', SPECIALTIES));
        expect(await trail(sessionKey)).toEqual(['A004 200', 'A004 403', 'A002 403']);
      });

      it('Spine maximum lifetime: a busy session still ends when it is reached', async () => {
        const { user, sessionKey } = await signedIn();
        await env.control.switches({ spineMaxMs: 600 });
        const statuses: number[] = [];
        for (let i = 0; i < 20 && statuses.at(-1) !== 401; i++) {
          statuses.push((await user.ers('GET', SPECIALTIES)).status);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(statuses[0]).toBe(200);
        expect(statuses.at(-1)).toBe(401);
        expect(statuses.filter((status) => status !== 200 && status !== 401)).toEqual([]);
        expect((await trail(sessionKey)).slice(-2)).toEqual(['A004 403', 'A002 403']);
      });

      it('a role answer (the worklist as a referrer) passes through byte for byte, and the session stays', async () => {
        const { user, sessionKey } = await signedIn();
        const expected = await direct(sessionKey, 'POST', WORKLIST, WORKLIST_REQUEST);
        expectErs403(expected);
        await env.control.clearRequests();
        for (let i = 0; i < 2; i++) {
          const answer = await worklist(user);
          expect(answer.status).toBe(403);
          expect(answer.text).toBe(expected.body);
          if (!legacy403) expect(answer.headers['content-type']).toBe(expected.contentType);
        }
        expect(await trail(sessionKey)).toEqual(['A008 403', 'A002 400', 'A008 403', 'A002 400']);
        expect((await user.ers('GET', SPECIALTIES)).status).toBe(200);
        expect((await user.session()).status).toBe(200);
      });

      it('an interaction the system may not use (ASID) passes through, and the session stays', async () => {
        const { user, sessionKey } = await signedIn();
        await env.control.switches({ interactionsNotAllowed: ['A004'] });
        const answer = await user.ers('GET', SPECIALTIES);
        expectErs403(answer);
        expect(await trail(sessionKey)).toEqual(['A004 403', 'A002 400']);
        await env.control.switches({ interactionsNotAllowed: [] });
        expect((await user.ers('GET', SPECIALTIES)).status).toBe(200);
      });

      it('a role withdrawn while the session lives: its 403s pass through (what the README says it cannot tell apart)', async () => {
        const { user, sessionKey } = await signedIn();
        await env.control.revokeRole({ sessionKey });
        expectErs403(await user.ers('GET', SPECIALTIES));
        expect(await trail(sessionKey)).toEqual(['A004 403', 'A002 400']);
        expect((await user.session()).status).toBe(200);
        await env.control.restoreRole({ sessionKey });
        expect((await user.ers('GET', SPECIALTIES)).status).toBe(200);
      });
    });
  }

  it('when the check itself fails, the 403 passes through and the session stays; the next 403 checks again', async () => {
    const { user, sessionKey } = await signedIn();
    await env.control.removeCard(referrer.token);
    await env.control.switches({ error: { status: 500, count: 1, path: 'ProfessionalSession', method: 'PUT' } });
    const passed = await user.ers('GET', SPECIALTIES);
    expect(passed.status).toBe(403);
    expect(passed.json).toMatchObject({ resourceType: 'OperationOutcome' });
    expect(await trail(sessionKey)).toEqual(['A004 403', 'A002 500']);
    expectSessionExpired(await user.ers('GET', SPECIALTIES));
    expect(await trail(sessionKey)).toEqual(['A004 403', 'A002 500', 'A004 403', 'A002 403']);
  });
});
