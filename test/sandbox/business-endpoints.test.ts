import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TestSandbox } from './support/sandbox-harness';

interface Outcome {
  resourceType: string;
  meta: { profile: string[] };
  issue: { code: string; details: { coding: { system: string; code: string }[] }; diagnostics: string }[];
}
interface Bundle {
  resourceType: string;
  type: string;
  total: number;
  entry: { resource: { resourceType: string; id: string } & Record<string, unknown> }[];
}

const worklistBody = (listType: string): unknown => ({
  resourceType: 'Parameters',
  parameter: [
    {
      name: 'listType',
      valueCodeableConcept: {
        coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralListSelector-1', code: listType }],
      },
    },
  ],
});

describe('sandbox business endpoints', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await TestSandbox.start();
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.control('POST', '/reset');
  });

  // Session, role and ASID 403s: forbidden.test.ts.

  it('A004: answers the CodeSystems, and 404 for an unknown one', async () => {
    const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
    for (const id of ['SPECIALTY', 'CLINIC-TYPE', 'APPOINTMENT-CANCELLATION-REASON']) {
      const answer = await sandbox.ers('GET', `/STU3/v1/CodeSystem/${id}`, { sessionKey: key });
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^application\/fhir\+json/);
      const codeSystem = answer.json<{ resourceType: string; id: string; concept: { code: string }[] }>();
      expect(codeSystem).toMatchObject({ resourceType: 'CodeSystem', id });
      expect(codeSystem.concept.length).toBeGreaterThan(0);
    }
    const unknown = await sandbox.ers('GET', '/STU3/v1/CodeSystem/NOPE', { sessionKey: key });
    expect(unknown.status).toBe(404);
    expect(unknown.json<Outcome>().issue[0]?.code).toBe('not-found');
  });

  it('A005: answers the ReferralRequest with a weak ETag, attachments as Binary/att-… and an LB cookie', async () => {
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
    const answer = await sandbox.ers('GET', '/STU3/v1/ReferralRequest/000000070000', { sessionKey: key });
    expect(answer.status).toBe(200);
    expect(answer.headers['etag']).toBe('W/"5"');
    expect(String(answer.headers['set-cookie'])).toMatch(/^ERS_LB=/);
    const referral = answer.json<{ resourceType: string; id: string; contained: { content: { attachment: { url: string } }[] }[] }>();
    expect(referral.resourceType).toBe('ReferralRequest');
    expect(referral.id).toBe('000000070000');
    expect(referral.contained.map((d) => d.content[0]?.attachment.url)).toEqual(['Binary/att-70000-letter', 'Binary/att-70000-results']);

    const unknown = await sandbox.ers('GET', '/STU3/v1/ReferralRequest/000000079999', { sessionKey: key });
    expect(unknown.status).toBe(404);
    expect(unknown.json<Outcome>().resourceType).toBe('OperationOutcome');
  });

  it('A005: referrer roles may read too', async () => {
    const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
    expect((await sandbox.ers('GET', '/STU3/v1/ReferralRequest/000000070001', { sessionKey: key })).status).toBe(200);
  });

  it('A007: answers a PDF for provider roles, 403 OperationOutcome for referrers', async () => {
    const provider = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
    const answer = await sandbox.ers('POST', '/STU3/v1/ReferralRequest/000000070000/$ers.generateCRI', { sessionKey: provider.key });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/pdf');
    expect(answer.body.subarray(0, 8).toString('latin1')).toBe('%PDF-1.4');
    expect(answer.body.subarray(-6).toString('latin1')).toBe('%%EOF\n');
    expect(Number(answer.headers['content-length'])).toBe(answer.body.length);

    const referrer = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
    const refused = await sandbox.ers('POST', '/STU3/v1/ReferralRequest/000000070000/$ers.generateCRI', { sessionKey: referrer.key });
    expect(refused.status).toBe(403);
    expect(refused.json<Outcome>().issue[0]?.details.coding[0]?.code).toBe('FORBIDDEN');
  });

  it('A008: answers the worklist of the role’s organisation', async () => {
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_ADMIN');
    const review = await sandbox.ers('POST', '/STU3/v1/ReferralRequest/$ers.fetchworklist', {
      sessionKey: key,
      json: worklistBody('REFERRALS_FOR_REVIEW'),
    });
    expect(review.status).toBe(200);
    const bundle = review.json<Bundle>();
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 2 });
    expect(bundle.entry.map((e) => e.resource.id)).toEqual(['000000070000', '000000070001']);

    const slots = await sandbox.ers('POST', '/STU3/v1/ReferralRequest/$ers.fetchworklist', {
      sessionKey: key,
      json: worklistBody('APPOINTMENT_SLOT_ISSUES'),
    });
    expect(slots.json<Bundle>().entry.map((e) => e.resource.id)).toEqual(['000000070002']);
  });

  it('A008: accepts the operation name with its `$` percent-encoded, and records the path as sent', async () => {
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_ADMIN');
    const answer = await sandbox.ers('POST', '/STU3/v1/ReferralRequest/%24ers.fetchworklist', {
      sessionKey: key,
      json: worklistBody('APPOINTMENT_SLOT_ISSUES'),
    });
    expect(answer.status).toBe(200);
    const [recorded] = await sandbox.control<{ path: string; operation: string }[]>('GET', '/requests?limit=1');
    expect(recorded).toMatchObject({ path: '/ers-api/STU3/v1/ReferralRequest/%24ers.fetchworklist', operation: 'A008' });
  });

  it('A008: another organisation sees its own worklist', async () => {
    const { key } = await sandbox.session('two-organisations', 'SERVICE_PROVIDER_CLINICIAN', 'R02');
    const review = await sandbox.ers('POST', '/STU3/v1/ReferralRequest/$ers.fetchworklist', {
      sessionKey: key,
      json: worklistBody('REFERRALS_FOR_REVIEW'),
    });
    expect(review.json<Bundle>().entry.map((e) => e.resource.id)).toEqual(['000000070003']);
  });

  it('A008: answers a bad body 422 with an OperationOutcome', async () => {
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_ADMIN');
    for (const json of [{ resourceType: 'Bundle' }, worklistBody('EVERYTHING')]) {
      const answer = await sandbox.ers('POST', '/STU3/v1/ReferralRequest/$ers.fetchworklist', { sessionKey: key, json });
      expect(answer.status).toBe(422);
      expect(answer.json<Outcome>().issue[0]?.code).toBe('invalid');
    }
  });

  it('A010: answers HealthcareServices for referrer roles only', async () => {
    const referrer = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
    const body = { resourceType: 'Parameters', parameter: [{ name: 'specialty', valueCode: 'CARDIOLOGY' }] };
    const answer = await sandbox.ers('POST', '/STU3/v1/HealthcareService/$ers.searchHealthcareServicesForPatient', {
      sessionKey: referrer.key,
      json: body,
    });
    expect(answer.status).toBe(200);
    const bundle = answer.json<Bundle>();
    expect(bundle.entry.map((e) => [e.resource.resourceType, e.resource.id])).toEqual([['HealthcareService', '30001']]);

    const provider = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_ADMIN');
    const refused = await sandbox.ers('POST', '/STU3/v1/HealthcareService/$ers.searchHealthcareServicesForPatient', {
      sessionKey: provider.key,
      json: body,
    });
    expect(refused.status).toBe(403);
    expect(refused.json<Outcome>().issue[0]?.code).toBe('forbidden');
  });

  it('A029: answers the Tasks of a referral at its version, never cached', async () => {
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
    const focus = encodeURIComponent('ReferralRequest/000000070000/_history/5');
    const answer = await sandbox.ers('GET', `/STU3/v1/Task?focus=${focus}&intent=proposal&status=ready`, { sessionKey: key });
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    const bundle = answer.json<Bundle>();
    expect(bundle.total).toBe(1);
    expect(bundle.entry[0]?.resource).toMatchObject({
      resourceType: 'Task',
      status: 'ready',
      intent: 'proposal',
      focus: { reference: 'ReferralRequest/000000070000/_history/5' },
    });

    const stale = await sandbox.ers('GET', `/STU3/v1/Task?focus=${encodeURIComponent('ReferralRequest/000000070000/_history/4')}&intent=proposal&status=ready`, { sessionKey: key });
    expect(stale.json<Bundle>().total).toBe(0);
    const bad = await sandbox.ers('GET', '/STU3/v1/Task?intent=proposal&status=ready', { sessionKey: key });
    expect(bad.status).toBe(422);
  });
});
