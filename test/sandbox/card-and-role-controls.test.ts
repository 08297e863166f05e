import { describe, expect, it } from 'vitest';
import { expectBare403, expectSessionNotValid, forbiddenDiagnostics, USER_AUTHORISATION } from './support/forbidden';
import { type TestSandbox, useTestSandbox } from './support/sandbox-harness';

const SPECIALTY = '/STU3/v1/CodeSystem/SPECIALTY';

interface SessionView {
  sessionKey: string;
  state: string;
  roleWithdrawn: boolean;
  a002Count: number;
  forbiddenCount: number;
}

/** The controls that make an e-RS session die, or lose its role, under a client: what a gateway must detect. */
describe('card removal and role withdrawal', () => {
  const sandbox = useTestSandbox();

  const view = (key: string): Promise<SessionView> => sandbox.control<SessionView>('GET', `/sessions/${encodeURIComponent(key)}`);
  const post = (path: string, body: unknown): ReturnType<TestSandbox['call']> =>
    sandbox.call('POST', `/_sandbox${path}`, { headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });

  describe('card removal (/_sandbox/identity-agent/remove)', () => {
    it('kills the card’s sessions: business calls 403 session not valid, A002 and A003 a bare 403, A001 refused', async () => {
      const { key, card } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      const awaiting = (await sandbox.a001(card.token)).json<{ id: string }>().id;
      expect(await sandbox.control('POST', '/identity-agent/remove', { token: card.token })).toEqual({
        label: 'referrer-two-roles',
        endedSessions: 2,
      });
      expectSessionNotValid(await sandbox.ers('GET', SPECIALTY, { sessionKey: key }));
      expect(await view(key)).toMatchObject({ state: 'expired', forbiddenCount: 1 });
      // What a gateway's liveness check sees: A002 on the dead session is a 403, not the 400 of a live one.
      expectBare403(await sandbox.a002(key, card.token, { businessFunction: 'REFERRING_ADMIN', orgIdentifier: 'A81001' }), { business: false });
      expectBare403(await sandbox.a002(awaiting, card.token, { businessFunction: 'REFERRING_CLINICIAN', orgIdentifier: 'A81001' }), { business: false });
      expectBare403(await sandbox.a003(key), { business: false });
      expectBare403(await sandbox.a001(card.token), { business: false });
    });
  });

  describe('role withdrawal (/_sandbox/roles/revoke and /restore)', () => {
    it('by session: calls in that role get the user-authorisation 403 while the session lives; a second A002 is still 400; restore undoes it', async () => {
      const { key, card } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      const other = await sandbox.session('two-organisations', 'REFERRING_CLINICIAN');
      expect(await sandbox.control('POST', '/roles/revoke', { sessionKey: key })).toEqual({
        cardLabel: 'referrer-two-roles',
        userIdentifier: card.user.identifier,
        role: { businessFunction: 'REFERRING_CLINICIAN', orgIdentifier: 'A81001', orgName: ' THE DENSHAM SURGERY' },
        withdrawn: true,
        liveSessions: 1,
      });

      const diagnostics = forbiddenDiagnostics(await sandbox.ers('GET', SPECIALTY, { sessionKey: key }));
      expect(diagnostics).toMatch(USER_AUTHORISATION);
      expect(diagnostics).toContain('no longer holds a Business Function of Referring Clinician at organisation A81001');
      // Every endpoint, allowed for the role or not, gives the same answer: the role itself is gone.
      const a008 = await sandbox.ers('POST', '/STU3/v1/ReferralRequest/$ers.fetchworklist', { sessionKey: key, json: {} });
      expect(forbiddenDiagnostics(a008)).toBe(diagnostics);
      expect(await view(key)).toMatchObject({ state: 'active', roleWithdrawn: true, forbiddenCount: 2 });
      // The session is alive: A002 on it answers 400 (a role is already selected), as e-RS does.
      const again = await sandbox.a002(key, card.token, { businessFunction: 'REFERRING_ADMIN', orgIdentifier: 'A81001' });
      expect(again.status).toBe(400);
      // Another user with the same role at the same organisation is not affected.
      expect((await sandbox.ers('GET', SPECIALTY, { sessionKey: other.key })).status).toBe(200);

      expect(await sandbox.control('POST', '/roles/restore', { sessionKey: key })).toMatchObject({ withdrawn: false, liveSessions: 1 });
      expect((await sandbox.ers('GET', SPECIALTY, { sessionKey: key })).status).toBe(200);
      expect(await view(key)).toMatchObject({ state: 'active', roleWithdrawn: false, a002Count: 2, forbiddenCount: 2 });
    });

    it('by token and role: every session of the user in that role, and A002 will not select it (bare 403)', async () => {
      const first = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
      const second = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
      const admin = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_ADMIN');
      const role = { businessFunction: 'SERVICE_PROVIDER_CLINICIAN', orgIdentifier: 'R01' };
      expect(await sandbox.control('POST', '/roles/revoke', { token: first.card.token, ...role })).toMatchObject({
        withdrawn: true,
        liveSessions: 2,
      });
      for (const key of [first.key, second.key]) {
        expect(forbiddenDiagnostics(await sandbox.ers('GET', SPECIALTY, { sessionKey: key }))).toMatch(USER_AUTHORISATION);
      }
      const worklist = await sandbox.ers('POST', '/STU3/v1/ReferralRequest/$ers.fetchworklist', {
        sessionKey: admin.key,
        json: {
          resourceType: 'Parameters',
          parameter: [{ name: 'listType', valueCodeableConcept: { coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralListSelector-1', code: 'REFERRALS_FOR_REVIEW' }] } }],
        },
      });
      expect(worklist.status).toBe(200);
      const fresh = (await sandbox.a001(first.card.token)).json<{ id: string }>().id;
      expectBare403(await sandbox.a002(fresh, first.card.token, role), { business: false });
      await sandbox.control('POST', '/roles/restore', { token: first.card.token, ...role });
      expect((await sandbox.a002(fresh, first.card.token, role)).status).toBe(200);
    });

    it('with legacy403 the withdrawn role gets a bare 403', async () => {
      const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      await sandbox.control('PUT', '/switches', { legacy403: true });
      await sandbox.control('POST', '/roles/revoke', { sessionKey: key });
      expectBare403(await sandbox.ers('GET', SPECIALTY, { sessionKey: key }));
    });

    it('reset gives every role back', async () => {
      const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      await sandbox.control('POST', '/roles/revoke', { sessionKey: key });
      await sandbox.control('POST', '/reset');
      const again = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      expect((await sandbox.ers('GET', SPECIALTY, { sessionKey: again.key })).status).toBe(200);
    });

    it('refuses bodies that do not name exactly one user and one of their roles', async () => {
      const { key, card } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      const awaiting = (await sandbox.a001(card.token)).json<{ id: string }>().id;
      const cases: [body: unknown, status: number, error: string][] = [
        [{}, 400, 'invalid-request'],
        [{ sessionKey: key, token: card.token }, 400, 'invalid-request'],
        [{ token: card.token }, 400, 'invalid-request'],
        [{ sessionKey: key, businessFunction: 'REFERRING_ADMIN' }, 400, 'invalid-request'],
        [{ sessionKey: key, extra: true }, 400, 'invalid-request'],
        [{ sessionKey: 42 }, 400, 'invalid-request'],
        [{ sessionKey: key, businessFunction: null, orgIdentifier: null }, 400, 'invalid-request'],
        [{ sessionKey: 'pro-xapi-session_nope' }, 404, 'not-found'],
        [{ token: 'not-a-card', businessFunction: 'REFERRING_CLINICIAN', orgIdentifier: 'A81001' }, 404, 'not-found'],
        [{ token: card.token, businessFunction: 'SERVICE_PROVIDER_CLINICIAN', orgIdentifier: 'R01' }, 404, 'not-found'],
        [{ sessionKey: awaiting }, 409, 'no-role-selected'],
      ];
      for (const [body, status, error] of cases) {
        for (const path of ['/roles/revoke', '/roles/restore']) {
          const answer = await post(path, body);
          expect({ path, body, status: answer.status, error: answer.json<{ error: string }>().error }).toEqual({ path, body, status, error });
        }
      }
      // Nothing was withdrawn by the refused calls.
      expect((await sandbox.ers('GET', SPECIALTY, { sessionKey: key })).status).toBe(200);
    });
  });
});
