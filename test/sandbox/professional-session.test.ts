import { describe, expect, it } from 'vitest';
import { PROFESSIONAL_SESSION_TYPE_INFO, type ProfessionalSession } from '@libs/ers-contract';
import { useTestSandbox } from './support/sandbox-harness';
import { expectSessionNotValid } from './support/forbidden';

interface SessionView {
  sessionKey: string;
  state: string;
  role: unknown;
  a002Count: number;
  a003Count: number;
}

describe('sandbox A001-A003 (Professional Session)', () => {
  const sandbox = useTestSandbox();

  describe('A001', () => {
    it('answers 201 with the ProfessionalSession: token echoed, permission null, transaction id', async () => {
      const card = await sandbox.card('referrer-two-roles');
      const answer = await sandbox.a001(card.token);

      expect(answer.status).toBe(201);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.headers['x_ers_transaction_id']).toMatch(/^[0-9a-f-]{36}-1$/);
      const session = answer.json<ProfessionalSession>();
      expect(session.typeInfo).toBe(PROFESSIONAL_SESSION_TYPE_INFO);
      expect(session.id).toMatch(/^pro-xapi-session_[0-9a-f-]{36}$/);
      expect(session.token).toBe(card.token);
      expect(session.permission).toBeNull();
      expect(session.user).toEqual({ ...card.user, permissions: card.permissions });
      expect(session.user.permissions[0]?.orgName).toBe(' THE DENSHAM SURGERY');
    });

    it('gives each A001 its own session key', async () => {
      const card = await sandbox.card('referrer-two-roles');
      const first = (await sandbox.a001(card.token)).json<ProfessionalSession>();
      const second = (await sandbox.a001(card.token)).json<ProfessionalSession>();
      expect(first.id).not.toBe(second.id);
    });

    it('answers an invalid card token 403 with an empty body', async () => {
      const invalid = await sandbox.card('invalid-card');
      const answer = await sandbox.a001(invalid.token);
      expect(answer.status).toBe(403);
      expect(answer.body.length).toBe(0);
      expect(answer.headers['content-length']).toBe('0');
    });

    it('answers an unknown token 403 with an empty body', async () => {
      const answer = await sandbox.a001('AQIC5wM2LY4SfcxNOTAREALTOKEN=@AAJTSQACMDk=#');
      expect(answer.status).toBe(403);
      expect(answer.text).toBe('');
    });

    it('gives the card without roles a session with an empty permission list', async () => {
      const card = await sandbox.card('no-roles');
      const answer = await sandbox.a001(card.token);
      expect(answer.status).toBe(201);
      expect(answer.json<ProfessionalSession>().user.permissions).toEqual([]);
    });

    it('answers a malformed body 422 with an OperationOutcome', async () => {
      const answer = await sandbox.ers('POST', '/v1/ProfessionalSession', { json: { typeInfo: 'wrong' } });
      expect(answer.status).toBe(422);
      const outcome = answer.json<{ resourceType: string; issue: { code: string; diagnostics: string }[] }>();
      expect(outcome.resourceType).toBe('OperationOutcome');
      expect(outcome.issue[0]?.code).toBe('invalid');
      expect(outcome.issue[0]?.diagnostics).toMatch(/token/);
    });

    it('answers a body that is not JSON 422 with an OperationOutcome', async () => {
      const answer = await sandbox.ers('POST', '/v1/ProfessionalSession', {
        headers: [['Content-Type', 'application/json']],
        body: '{"typeInfo":',
      });
      expect(answer.status).toBe(422);
      expect(answer.json<{ resourceType: string }>().resourceType).toBe('OperationOutcome');
    });

    it.each([
      ['no ASID header', []],
      ['xapi_asid (lower case)', [['xapi_asid', '200000000220']]],
      ['XAPI-ASID (dash)', [['XAPI-ASID', '200000000220']]],
      ['a different ASID', [['XAPI_ASID', '200000000999']]],
    ] as [string, [string, string][]][])('answers 403 with an empty body with %s', async (_name, headers) => {
      const card = await sandbox.card('referrer-two-roles');
      const answer = await sandbox.call('POST', '/ers-api/v1/ProfessionalSession', {
        headers: [...headers, ['Content-Type', 'application/json']],
        body: JSON.stringify({ typeInfo: PROFESSIONAL_SESSION_TYPE_INFO, token: card.token }),
      });
      expect(answer.status).toBe(403);
      expect(answer.text).toBe('');
      expect(await sandbox.control<SessionView[]>('GET', '/sessions')).toEqual([]);
    });
  });

  describe('A002', () => {
    it('answers 200 with the chosen permission (orgName included) and keeps the id', async () => {
      const card = await sandbox.card('referrer-two-roles');
      const created = (await sandbox.a001(card.token)).json<ProfessionalSession>();
      const answer = await sandbox.a002(created.id, card.token, { businessFunction: 'REFERRING_ADMIN', orgIdentifier: 'A81001' });

      expect(answer.status).toBe(200);
      const session = answer.json<ProfessionalSession>();
      expect(session.permission).toEqual({ businessFunction: 'REFERRING_ADMIN', orgIdentifier: 'A81001', orgName: ' THE DENSHAM SURGERY' });
      expect(session.id).toBe(created.id);
      expect(session.token).toBe(card.token);
      const view = await sandbox.control<SessionView>('GET', `/sessions/${encodeURIComponent(created.id)}`);
      expect(view.state).toBe('active');
      expect(view.a002Count).toBe(1);
    });

    it('answers 403 with an empty body for a role the user does not hold', async () => {
      const card = await sandbox.card('referrer-two-roles');
      const created = (await sandbox.a001(card.token)).json<ProfessionalSession>();
      const answer = await sandbox.a002(created.id, card.token, { businessFunction: 'SERVICE_PROVIDER_CLINICIAN', orgIdentifier: 'R01' });
      expect(answer.status).toBe(403);
      expect(answer.text).toBe('');
      // A role the user holds, but at another organisation, is refused too.
      const elsewhere = await sandbox.a002(created.id, card.token, { businessFunction: 'REFERRING_ADMIN', orgIdentifier: 'R01' });
      expect(elsewhere.status).toBe(403);
    });

    it('answers a second A002 on the same session 400', async () => {
      const card = await sandbox.card('referrer-two-roles');
      const created = (await sandbox.a001(card.token)).json<ProfessionalSession>();
      const first = await sandbox.a002(created.id, card.token, { businessFunction: 'REFERRING_CLINICIAN', orgIdentifier: 'A81001' });
      expect(first.status).toBe(200);
      const second = await sandbox.a002(created.id, card.token, { businessFunction: 'REFERRING_ADMIN', orgIdentifier: 'A81001' });
      expect(second.status).toBe(400);
      expect((await sandbox.control<SessionView>('GET', `/sessions/${encodeURIComponent(created.id)}`)).role).toMatchObject({
        businessFunction: 'REFERRING_CLINICIAN',
      });
    });

    it('answers 403 when HTTP_X_SESSION_KEY is missing or differs from the path id', async () => {
      const card = await sandbox.card('referrer-two-roles');
      const created = (await sandbox.a001(card.token)).json<ProfessionalSession>();
      const body = JSON.stringify({
        typeInfo: PROFESSIONAL_SESSION_TYPE_INFO,
        token: card.token,
        permission: { businessFunction: 'REFERRING_CLINICIAN', orgIdentifier: 'A81001' },
      });
      const path = `/ers-api/v1/ProfessionalSession/${encodeURIComponent(created.id)}`;
      const missing = await sandbox.call('PUT', path, {
        headers: [['XAPI_ASID', '200000000220'], ['Content-Type', 'application/json']],
        body,
      });
      expect(missing.status).toBe(403);
      const other = await sandbox.call('PUT', path, {
        headers: [['XAPI_ASID', '200000000220'], ['HTTP_X_SESSION_KEY', 'pro-xapi-session_other'], ['Content-Type', 'application/json']],
        body,
      });
      expect(other.status).toBe(403);
    });

    it('answers 403 for a token that is not the session’s own', async () => {
      const card = await sandbox.card('referrer-two-roles');
      const other = await sandbox.card('provider-three-roles');
      const created = (await sandbox.a001(card.token)).json<ProfessionalSession>();
      const answer = await sandbox.a002(created.id, other.token, { businessFunction: 'REFERRING_CLINICIAN', orgIdentifier: 'A81001' });
      expect(answer.status).toBe(403);
    });

    it('answers with the same id A001 gave (no published source has A002 change it)', async () => {
      const card = await sandbox.card('provider-three-roles');
      const created = (await sandbox.a001(card.token)).json<ProfessionalSession>();
      const selected = await sandbox.a002(created.id, card.token, { businessFunction: 'SERVICE_PROVIDER_CLINICIAN', orgIdentifier: 'R01' });
      expect(selected.status).toBe(200);
      expect(selected.json<ProfessionalSession>().id).toBe(created.id);
      expect((await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: created.id })).status).toBe(200);
    });
  });

  describe('A003', () => {
    it('answers 204, then 403 for the same key; the session counts both A003s', async () => {
      const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      const first = await sandbox.a003(key);
      expect(first.status).toBe(204);
      expect(first.text).toBe('');
      const second = await sandbox.a003(key);
      expect(second.status).toBe(403);
      expect(second.text).toBe('');

      const view = await sandbox.control<SessionView>('GET', `/sessions/${encodeURIComponent(key)}`);
      expect(view.state).toBe('deleted');
      expect(view.a003Count).toBe(2);
      expect(await sandbox.control<SessionView[]>('GET', '/sessions?state=live')).toEqual([]);
    });

    it('flags an A003 that arrives while a call on the same session is still being answered', async () => {
      const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      await sandbox.control('PUT', '/switches', { a016DelayMs: 600 });
      const slow = sandbox.ers('POST', '/STU3/v1/Appointment', { sessionKey: key, json: { resourceType: 'Appointment' } });
      await new Promise((resolve) => setTimeout(resolve, 150));
      const during = await sandbox.control<SessionView & { callsInFlight: number }>('GET', `/sessions/${encodeURIComponent(key)}`);
      expect(during.callsInFlight).toBe(1);
      expect((await sandbox.a003(key)).status).toBe(204);
      await slow;
      const view = await sandbox.control<SessionView & { a003WhileCallsInFlight: number; callsInFlight: number }>(
        'GET',
        `/sessions/${encodeURIComponent(key)}`,
      );
      expect(view.a003WhileCallsInFlight).toBe(1);
      expect(view.callsInFlight).toBe(0);
    });

    it('does not flag an A003 sent after the calls have been answered', async () => {
      const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      expect((await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key })).status).toBe(200);
      expect((await sandbox.a003(key)).status).toBe(204);
      const view = await sandbox.control<SessionView & { a003WhileCallsInFlight: number }>('GET', `/sessions/${encodeURIComponent(key)}`);
      expect(view.a003WhileCallsInFlight).toBe(0);
    });

    it('deletes a session that has no role yet', async () => {
      const card = await sandbox.card('no-roles');
      const created = (await sandbox.a001(card.token)).json<ProfessionalSession>();
      expect((await sandbox.a003(created.id)).status).toBe(204);
    });

    it('answers an unknown key 403 with an empty body', async () => {
      const answer = await sandbox.a003('pro-xapi-session_00000000-0000-0000-0000-000000000000');
      expect(answer.status).toBe(403);
      expect(answer.text).toBe('');
    });

    it('makes the key dead for business calls', async () => {
      const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
      expect((await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key })).status).toBe(200);
      await sandbox.a003(key);
      expectSessionNotValid(await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key }));
    });
  });
});
