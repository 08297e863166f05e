import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TestSandbox } from './support/sandbox-harness';

interface RecordedRequest {
  path: string;
  status: number | null;
  outcome: string;
  operation: string | null;
}
interface Switches {
  latencyMs: number;
  a016DelayMs: number;
  error: { status: number; count: number; path: string | null } | null;
  drop: { count: number; path: string | null } | null;
  hang: { count: number; path: string | null } | null;
}

const appointment = { resourceType: 'Appointment', status: 'proposed', description: 'Cardiology first appointment' };

describe('sandbox switches', () => {
  let sandbox: TestSandbox;
  let key: string;
  beforeAll(async () => {
    sandbox = await TestSandbox.start({ a016DelayMs: 400 });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.control('POST', '/reset');
    key = (await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN')).key;
  });

  it('shows the defaults, with the A016 delay from the configuration', async () => {
    expect(await sandbox.control<Switches>('GET', '/switches')).toEqual({
      latencyMs: 0,
      a016DelayMs: 400,
      error: null,
      drop: null,
      hang: null,
    });
  });

  it('refuses unknown or malformed switches with 400', async () => {
    for (const body of [{ latency: 5 }, { latencyMs: -1 }, { error: { status: 418, count: 1 } }, { drop: { count: 0 } }]) {
      const answer = await sandbox.call('PUT', '/_sandbox/switches', {
        headers: [['Content-Type', 'application/json']],
        body: JSON.stringify(body),
      });
      expect(answer.status).toBe(400);
      expect(answer.json<{ error: string }>().error).toBe('invalid-request');
    }
  });

  it('A016: answers 201 only after the configured delay, then faster once the switch changes', async () => {
    let started = Date.now();
    const slow = await sandbox.ers('POST', '/STU3/v1/Appointment', { sessionKey: key, json: appointment });
    expect(slow.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    expect(slow.json<{ resourceType: string; status: string; description: string }>()).toMatchObject({
      resourceType: 'Appointment',
      status: 'proposed',
      description: 'Cardiology first appointment',
    });
    expect(String(slow.headers['location'])).toMatch(/\/ers-api\/STU3\/v1\/Appointment\/[0-9a-f-]{36}\/_history\/1$/);

    await sandbox.control('PUT', '/switches', { a016DelayMs: 0 });
    started = Date.now();
    expect((await sandbox.ers('POST', '/STU3/v1/Appointment', { sessionKey: key, json: appointment })).status).toBe(201);
    expect(Date.now() - started).toBeLessThan(300);
  });

  it('latencyMs delays every e-RS answer', async () => {
    await sandbox.control('PUT', '/switches', { latencyMs: 250 });
    const started = Date.now();
    expect((await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    // Controls are never delayed.
    const controlStarted = Date.now();
    await sandbox.control('GET', '/switches');
    expect(Date.now() - controlStarted).toBeLessThan(200);
  });

  it('error answers the next matching calls with the status and an OperationOutcome, then stops', async () => {
    await sandbox.control('PUT', '/switches', { error: { status: 503, count: 2, path: 'CodeSystem' } });
    // A call that does not match the path is untouched and does not use up the count.
    expect((await sandbox.ers('GET', '/STU3/v1/ReferralRequest/000000070000', { sessionKey: key })).status).toBe(200);
    for (let i = 0; i < 2; i += 1) {
      const failed = await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key });
      expect(failed.status).toBe(503);
      expect(failed.headers['content-type']).toMatch(/^application\/fhir\+json/);
      expect(failed.json<{ resourceType: string; issue: { details: { coding: { code: string }[] } }[] }>()).toMatchObject({
        resourceType: 'OperationOutcome',
        issue: [{ details: { coding: [{ code: 'SYSTEM_UNAVAILABLE' }] } }],
      });
      expect(failed.headers['x_ers_transaction_id']).toBeDefined();
    }
    expect((await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key })).status).toBe(200);
    expect((await sandbox.control<Switches>('GET', '/switches')).error).toBeNull();
  });

  it('error shows its remaining count', async () => {
    await sandbox.control('PUT', '/switches', { error: { status: 500, count: 3 } });
    await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key });
    expect((await sandbox.control<Switches>('GET', '/switches')).error).toEqual({ status: 500, count: 2, path: null, method: null });
    await sandbox.control('PUT', '/switches', { error: null });
    expect((await sandbox.control<Switches>('GET', '/switches')).error).toBeNull();
  });

  it('a switch with a method takes only requests of that method', async () => {
    await sandbox.control('PUT', '/switches', { error: { status: 503, count: 1, method: 'POST' } });
    expect((await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key })).status).toBe(200);
    expect((await sandbox.control<Switches>('GET', '/switches')).error).toEqual({ status: 503, count: 1, path: null, method: 'POST' });
    await sandbox.control('PUT', '/switches', { error: null });
  });

  it('drop resets the connection without an answer, and records it', async () => {
    await sandbox.control('PUT', '/switches', { drop: { count: 1, path: '/ReferralRequest/' } });
    await expect(sandbox.ers('GET', '/STU3/v1/ReferralRequest/000000070000', { sessionKey: key })).rejects.toThrow();
    expect((await sandbox.ers('GET', '/STU3/v1/ReferralRequest/000000070000', { sessionKey: key })).status).toBe(200);
    const requests = await sandbox.control<RecordedRequest[]>('GET', '/requests?limit=2');
    expect(requests.map((r) => [r.operation, r.status, r.outcome])).toEqual([
      ['A005', null, 'dropped'],
      ['A005', 200, 'answered'],
    ]);
  });

  it('hang never answers until the client gives up', async () => {
    await sandbox.control('PUT', '/switches', { hang: { count: 1 } });
    const started = Date.now();
    await expect(
      sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key, signal: AbortSignal.timeout(500) }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(480);
    expect((await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key })).status).toBe(200);
    const [hung] = await sandbox.control<RecordedRequest[]>('GET', '/requests?limit=2');
    expect(hung).toMatchObject({ status: null, outcome: 'hung' });
  });

  it('reset clears the switches', async () => {
    await sandbox.control('PUT', '/switches', { latencyMs: 100, a016DelayMs: 5, drop: { count: 5 } });
    await sandbox.control('POST', '/reset');
    expect(await sandbox.control<Switches>('GET', '/switches')).toMatchObject({ latencyMs: 0, a016DelayMs: 400, drop: null });
  });
});
