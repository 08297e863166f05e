import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { PROFESSIONAL_SESSION_TYPE_INFO } from '@libs/ers-contract';
import { useTestSandbox } from './support/sandbox-harness';
import { expectSessionNotValid } from './support/forbidden';

interface RecordedRequest {
  seq: number;
  method: string;
  path: string;
  rawHeaderNames: string[];
  headers: [string, string][];
  sessionKey: string | null;
  asid: string | null;
  status: number | null;
  operation: string | null;
  bodyBytes: number;
  bodySha256: string | null;
  outcome: string;
}

describe('sandbox header checks and request recording', () => {
  const sandbox = useTestSandbox();

  it.each(['http_x_session_key', 'HTTP-X-SESSION-KEY', 'Http_X_Session_Key', 'X-Session-Key'])(
    'does not accept the session key sent as %s (403 session not valid)',
    async (spelling) => {
      const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
      const answer = await sandbox.call('GET', '/ers-api/STU3/v1/CodeSystem/SPECIALTY', {
        headers: [['XAPI_ASID', '200000000220'], [spelling, key]],
      });
      expectSessionNotValid(answer);

      const [recorded] = await sandbox.control<RecordedRequest[]>('GET', '/requests?limit=1');
      expect(recorded?.rawHeaderNames).toContain(spelling);
      expect(recorded?.sessionKey).toBeNull();
      // The exact spelling works with the same key.
      const exact = await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key });
      expect(exact.status).toBe(200);
    },
  );

  it('records each request with its raw header names in order, values, operation, status and body hash', async () => {
    const card = await sandbox.card('referrer-two-roles');
    const body = JSON.stringify({ typeInfo: PROFESSIONAL_SESSION_TYPE_INFO, token: card.token });
    const answer = await sandbox.call('POST', '/ers-api/v1/ProfessionalSession?x=1', {
      headers: [
        ['XAPI_ASID', '200000000220'],
        ['Content-Type', 'application/json'],
        ['x-Correlation-ID', 'corr-123'],
        ['X-Odd_Header', 'kept'],
      ],
      body,
    });
    expect(answer.status).toBe(201);
    expect(answer.headers['x-correlation-id']).toBe('corr-123');

    const requests = await sandbox.control<RecordedRequest[]>('GET', '/requests');
    expect(requests).toHaveLength(1);
    const [recorded] = requests;
    expect(recorded).toMatchObject({
      method: 'POST',
      path: '/ers-api/v1/ProfessionalSession?x=1',
      asid: '200000000220',
      sessionKey: null,
      status: 201,
      operation: 'A001',
      outcome: 'answered',
      bodyBytes: Buffer.byteLength(body),
      bodySha256: createHash('sha256').update(body).digest('hex'),
    });
    // undici adds its own `host`, `connection` and `content-length`; ours keep their spelling and order.
    const names = (recorded?.rawHeaderNames ?? []).filter((name) => !['host', 'connection', 'content-length'].includes(name));
    expect(names).toEqual(['XAPI_ASID', 'Content-Type', 'x-Correlation-ID', 'X-Odd_Header']);
    expect(recorded?.headers).toContainEqual(['X-Odd_Header', 'kept']);
  });

  it('records the session key from the exact header and the operation of each call', async () => {
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
    await sandbox.ers('GET', '/STU3/v1/ReferralRequest/000000070000', { sessionKey: key });
    await sandbox.a003(key);
    const requests = await sandbox.control<RecordedRequest[]>('GET', '/requests');
    expect(requests.map((r) => [r.operation, r.status])).toEqual([
      ['A001', 201],
      ['A002', 200],
      ['A005', 200],
      ['A003', 204],
    ]);
    expect(requests.slice(1).every((r) => r.sessionKey === key)).toBe(true);
    expect(requests.map((r) => r.seq)).toEqual([...requests.map((r) => r.seq)].sort((a, b) => a - b));

    const onlyA003 = await sandbox.control<RecordedRequest[]>('GET', '/requests?operation=A003');
    expect(onlyA003).toHaveLength(1);
    expect(await sandbox.control<RecordedRequest[]>('GET', '/requests?limit=2')).toEqual(requests.slice(-2));
    await sandbox.control('DELETE', '/requests');
    expect(await sandbox.control<RecordedRequest[]>('GET', '/requests')).toEqual([]);
  });

  it('does not record /_sandbox calls', async () => {
    await sandbox.control('GET', '/cards');
    await sandbox.control('GET', '/sessions');
    expect(await sandbox.control<RecordedRequest[]>('GET', '/requests')).toEqual([]);
  });

  it('answers every e-RS answer with an X_ERS_TRANSACTION_ID of the form <uuid>-1, even a 403, and sets no cookie', async () => {
    const answer = await sandbox.call('GET', '/ers-api/STU3/v1/CodeSystem/SPECIALTY');
    expect(answer.status).toBe(403);
    // The form of the endpoint pages' example headers: "bfa90094-981a-4d2a-ad56-a17429865241-1".
    expect(answer.headers['x_ers_transaction_id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-1$/);
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
    const ids = new Set<unknown>();
    for (let i = 0; i < 3; i += 1) {
      const ok = await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key });
      expect(ok.headers['x_ers_transaction_id']).toMatch(/^[0-9a-f-]{36}-1$/);
      ids.add(ok.headers['x_ers_transaction_id']);
      // No published source has e-RS set a cookie: the sandbox sets none.
      expect(ok.headers['set-cookie']).toBeUndefined();
    }
    expect(ids.size).toBe(3);
  });

  it('spells X_ERS_TRANSACTION_ID exactly so on the wire', async () => {
    const rawNames = await new Promise<string[]>((resolve, reject) => {
      const req = http.get(`${sandbox.origin}/ers-api/STU3/v1/CodeSystem/SPECIALTY`, { headers: { XAPI_ASID: '200000000220' } }, (res) => {
        res.resume();
        resolve(res.rawHeaders.filter((_, index) => index % 2 === 0));
      });
      req.on('error', reject);
    });
    expect(rawNames).toContain('X_ERS_TRANSACTION_ID');
  });

  it('counts the calls made with each session key', async () => {
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_ADMIN');
    await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key });
    await sandbox.ers('GET', '/STU3/v1/CodeSystem/CLINIC-TYPE', { sessionKey: key });
    const view = await sandbox.control<{ callCount: number }>('GET', `/sessions/${encodeURIComponent(key)}`);
    // A002 + two A004s carried the key.
    expect(view.callCount).toBe(3);
  });

  it('answers unknown e-RS paths 404 with an OperationOutcome, after the ASID check', async () => {
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_ADMIN');
    const unknown = await sandbox.ers('GET', '/STU3/v1/Nothing/here', { sessionKey: key });
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(unknown.json<{ resourceType: string; issue: { code: string }[] }>()).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ code: 'not-found' }],
    });
    const withoutAsid = await sandbox.call('GET', '/ers-api/STU3/v1/Nothing/here');
    expect(withoutAsid.status).toBe(403);
    expect(withoutAsid.text).toBe('');
  });
});
