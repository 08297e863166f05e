import { describe, expect, it } from 'vitest';
import { PROFESSIONAL_SESSION_TYPE_INFO } from '@libs/ers-contract';
import {
  expectBare403,
  expectSessionNotValid,
  forbiddenDiagnostics,
  SESSION_NOT_VALID,
  SYSTEM_AUTHORISATION,
  USER_AUTHORISATION,
} from './support/forbidden';
import { useTestSandbox } from './support/sandbox-harness';

/**
 * The 403s of business endpoints as e-RS sends them since release APIM-R-1.38 (5 November 2024):
 * an STU3 OperationOutcome (`forbidden` / `FORBIDDEN`, modelled on e-RS's STU3-Forbidden.json) whose
 * diagnostics tell a user-authorisation failure from a system-authorisation one; A001-A003 unchanged.
 */
describe('sandbox 403s', () => {
  const sandbox = useTestSandbox();

  const SPECIALTY = '/STU3/v1/CodeSystem/SPECIALTY';
  const A008 = '/STU3/v1/ReferralRequest/$ers.fetchworklist';
  const sessionCount = async (key: string): Promise<{ state: string; forbiddenCount: number }> =>
    sandbox.control('GET', `/sessions/${encodeURIComponent(key)}`);

  describe('one OperationOutcome per cause', () => {
    it('role not held for this endpoint: user authorisation, naming the business functions; the session lives on', async () => {
      const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_ADMIN');
      const diagnostics = forbiddenDiagnostics(await sandbox.ers('POST', '/STU3/v1/Appointment', { sessionKey: key, json: {} }));
      expect(diagnostics).toMatch(USER_AUTHORISATION);
      // Worded after e-RS's A016 page: "… not logged in with a Business Function of Referring Clinician or Referring Clinician Admin".
      expect(diagnostics).toContain('Business Function of Referring Admin, not Referring Clinician or Referring Clinician Admin');
      expect(await sessionCount(key)).toMatchObject({ state: 'active', forbiddenCount: 1 });
    });

    it('no role selected yet: user authorisation', async () => {
      const card = await sandbox.card('provider-three-roles');
      const key = (await sandbox.a001(card.token)).json<{ id: string }>().id;
      const diagnostics = forbiddenDiagnostics(await sandbox.ers('GET', SPECIALTY, { sessionKey: key }));
      expect(diagnostics).toMatch(USER_AUTHORISATION);
      expect(diagnostics).toContain('no role profile has been selected');
      expect(await sessionCount(key)).toMatchObject({ state: 'awaiting-role', forbiddenCount: 1 });
    });

    it('ASID missing or unknown: system authorisation, the unknown value never echoed', async () => {
      const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      const missing = await sandbox.call('GET', `/ers-api${SPECIALTY}`, { headers: [['HTTP_X_SESSION_KEY', key]] });
      expect(forbiddenDiagnostics(missing)).toMatch(SYSTEM_AUTHORISATION);
      const unknown = await sandbox.call('GET', `/ers-api${SPECIALTY}`, {
        headers: [['XAPI_ASID', '999999999999'], ['HTTP_X_SESSION_KEY', key]],
      });
      const diagnostics = forbiddenDiagnostics(unknown);
      expect(diagnostics).toMatch(SYSTEM_AUTHORISATION);
      expect(diagnostics).not.toContain('999999999999');
      expect(diagnostics).not.toBe(forbiddenDiagnostics(missing));
      // A wrong ASID says nothing about the session, which still works with the right one.
      expect(await sessionCount(key)).toMatchObject({ state: 'active', forbiddenCount: 2 });
      expect((await sandbox.ers('GET', SPECIALTY, { sessionKey: key })).status).toBe(200);
    });

    it('session not valid: an unknown key, no key, a deleted session, an expired one', async () => {
      expectSessionNotValid(await sandbox.ers('GET', SPECIALTY, { sessionKey: 'pro-xapi-session_nope' }));
      expectSessionNotValid(await sandbox.ers('GET', SPECIALTY));
      const deleted = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      expect((await sandbox.a003(deleted.key)).status).toBe(204);
      expectSessionNotValid(await sandbox.ers('GET', SPECIALTY, { sessionKey: deleted.key }));
      const expired = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      await sandbox.control('POST', `/sessions/${encodeURIComponent(expired.key)}/expire`);
      expectSessionNotValid(await sandbox.ers('GET', SPECIALTY, { sessionKey: expired.key }));
      expect(await sessionCount(expired.key)).toMatchObject({ state: 'expired', forbiddenCount: 1 });
    });

    it('tells user from system authorisation, and each cause from the others', async () => {
      const referrer = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      const fresh = (await sandbox.a001(referrer.card.token)).json<{ id: string }>().id;
      const texts = [
        forbiddenDiagnostics(await sandbox.ers('POST', A008, { sessionKey: referrer.key, json: {} })),
        forbiddenDiagnostics(await sandbox.ers('GET', SPECIALTY, { sessionKey: fresh })),
        forbiddenDiagnostics(await sandbox.call('GET', `/ers-api${SPECIALTY}`, { headers: [['HTTP_X_SESSION_KEY', referrer.key]] })),
        forbiddenDiagnostics(await sandbox.ers('GET', SPECIALTY, { sessionKey: 'pro-xapi-session_nope' })),
      ];
      expect(texts.map((text) => [USER_AUTHORISATION, SYSTEM_AUTHORISATION, SESSION_NOT_VALID].findIndex((re) => re.test(text)))).toEqual([0, 0, 1, 2]);
      expect(new Set(texts).size).toBe(texts.length);
    });
  });

  describe('interactionsNotAllowed: endpoints the ASID is not accredited for', () => {
    it('answers those endpoints a system-authorisation 403 naming the interaction, keeps the session, and lets the others through', async () => {
      expect(await sandbox.control('PUT', '/switches', { interactionsNotAllowed: ['A004', 'A010'] })).toMatchObject({
        interactionsNotAllowed: ['A004', 'A010'],
      });
      const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      const refused = forbiddenDiagnostics(await sandbox.ers('GET', SPECIALTY, { sessionKey: key }));
      expect(refused).toMatch(SYSTEM_AUTHORISATION);
      expect(refused).toContain('A004');
      expect(refused).not.toBe(forbiddenDiagnostics(await sandbox.call('GET', `/ers-api${SPECIALTY}`, { headers: [['HTTP_X_SESSION_KEY', key]] })));
      const search = await sandbox.ers('POST', '/STU3/v1/HealthcareService/$ers.searchHealthcareServicesForPatient', { sessionKey: key, json: {} });
      expect(forbiddenDiagnostics(search)).toContain('A010');
      expect((await sandbox.ers('GET', '/STU3/v1/ReferralRequest/000000070000', { sessionKey: key })).status).toBe(200);
      // Checked before the session: a dead key on a refused interaction still gets the system answer.
      expect(forbiddenDiagnostics(await sandbox.ers('GET', SPECIALTY, { sessionKey: 'pro-xapi-session_nope' }))).toMatch(SYSTEM_AUTHORISATION);
      expect(await sessionCount(key)).toMatchObject({ state: 'active', forbiddenCount: 3 });

      await sandbox.control('PUT', '/switches', { interactionsNotAllowed: [] });
      expect((await sandbox.ers('GET', SPECIALTY, { sessionKey: key })).status).toBe(200);
    });

    it('with legacy403 the answer is bare', async () => {
      await sandbox.control('PUT', '/switches', { interactionsNotAllowed: ['A004'], legacy403: true });
      const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      expectBare403(await sandbox.ers('GET', SPECIALTY, { sessionKey: key }));
    });

    it('accepts business operation ids only, each once', async () => {
      for (const interactionsNotAllowed of [['A001'], ['A999'], ['A004', 'A004'], 'A004', null]) {
        const answer = await sandbox.call('PUT', '/_sandbox/switches', {
          headers: [['Content-Type', 'application/json']],
          body: JSON.stringify({ interactionsNotAllowed }),
        });
        expect(answer.status, JSON.stringify(interactionsNotAllowed)).toBe(400);
      }
      expect(await sandbox.control('GET', '/switches')).toMatchObject({ interactionsNotAllowed: [] });
    });

    it('is cleared by reset', async () => {
      await sandbox.control('PUT', '/switches', { interactionsNotAllowed: ['A004'] });
      await sandbox.control('POST', '/reset');
      const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      expect((await sandbox.ers('GET', SPECIALTY, { sessionKey: key })).status).toBe(200);
    });
  });

  describe('A001-A003 keep their bare 403', () => {
    it('A001 with an invalid token or no ASID, A002 on an unknown key, A003 on a dead key', async () => {
      const card = await sandbox.card('referrer-two-roles');
      const session = { business: false };
      expectBare403(await sandbox.a001('not-a-token'), session);
      expectBare403(
        await sandbox.call('POST', '/ers-api/v1/ProfessionalSession', {
          headers: [['Content-Type', 'application/json']],
          body: JSON.stringify({ typeInfo: PROFESSIONAL_SESSION_TYPE_INFO, token: card.token }),
        }),
        session,
      );
      expectBare403(await sandbox.a002('pro-xapi-session_nope', card.token, { businessFunction: 'REFERRING_CLINICIAN', orgIdentifier: 'A81001' }), session);
      const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      expect((await sandbox.a003(key)).status).toBe(204);
      expectBare403(await sandbox.a003(key), session);
      expectBare403(await sandbox.a002(key, card.token, { businessFunction: 'REFERRING_CLINICIAN', orgIdentifier: 'A81001' }), session);
    });

    it('counts no A001-A003 403 as a forbidden business answer', async () => {
      const { key, card } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      // A second A002 on a live session is a 400; with another card's token a 403: neither counts.
      expect((await sandbox.a002(key, card.token, { businessFunction: 'REFERRING_ADMIN', orgIdentifier: 'A81001' })).status).toBe(400);
      expect((await sandbox.a002(key, 'not-the-token', { businessFunction: 'REFERRING_ADMIN', orgIdentifier: 'A81001' })).status).toBe(403);
      expect(await sessionCount(key)).toMatchObject({ forbiddenCount: 0 });
    });
  });
});
