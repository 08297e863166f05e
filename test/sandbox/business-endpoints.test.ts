import { describe, expect, it } from 'vitest';
import { useTestSandbox } from './support/sandbox-harness';
import { serviceSearch } from './support/service-search';

interface Outcome {
  resourceType: string;
  meta: { profile: string[] };
  issue: { code: string; details: { coding: { system: string; code: string }[] }; diagnostics: string }[];
}
interface Bundle {
  resourceType: string;
  type: string;
  entry?: { resource: { resourceType: string; id: string } & Record<string, unknown> }[];
}
interface FhirList {
  resourceType: string;
  meta: { profile: string[] };
  entry?: { item: { reference?: string; identifier?: { value: string } } }[];
}

const references = (answer: { json<T>(): T }): string[] =>
  (answer.json<FhirList>().entry ?? []).map((entry) => entry.item.reference ?? '');

const outcomeKey = (answer: { json<T>(): T }): string | undefined => answer.json<Outcome>().issue[0]?.details.coding[0]?.code;

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
  const sandbox = useTestSandbox();

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
    // The docs give 404 no OutcomeKey, so the sandbox sends none.
    expect(unknown.json<Outcome>().issue[0]?.details).toBeUndefined();
  });

  it('A005: answers the ReferralRequest with a weak ETag and attachments as Binary/att-…; an unknown UBRN is 422 NO_SUCH_REQUEST', async () => {
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
    const answer = await sandbox.ers('GET', '/STU3/v1/ReferralRequest/000000070000', { sessionKey: key });
    expect(answer.status).toBe(200);
    expect(answer.headers['etag']).toBe('W/"5"');
    const referral = answer.json<{ resourceType: string; id: string; contained: { resourceType: string; content?: { attachment: { url: string } }[] }[] }>();
    expect(referral.resourceType).toBe('ReferralRequest');
    expect(referral.id).toBe('000000070000');
    const documents = referral.contained.filter((resource) => resource.resourceType === 'DocumentReference');
    expect(documents.map((d) => d.content?.[0]?.attachment.url)).toEqual(['Binary/att-70000-letter', 'Binary/att-70000-results']);

    for (const ubrn of ['000000079999', 'not-a-ubrn']) {
      const unknown = await sandbox.ers('GET', `/STU3/v1/ReferralRequest/${ubrn}`, { sessionKey: key });
      expect(unknown.status).toBe(422);
      expect(outcomeKey(unknown)).toBe('NO_SUCH_REQUEST');
    }
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

  it('A008: answers a List of the worklist of the role’s organisation, entries pointing at the ReferralRequests', async () => {
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_ADMIN');
    const review = await sandbox.ers('POST', '/STU3/v1/ReferralRequest/$ers.fetchworklist', {
      sessionKey: key,
      json: worklistBody('REFERRALS_FOR_REVIEW'),
    });
    expect(review.status).toBe(200);
    expect(review.json<FhirList>()).toMatchObject({
      resourceType: 'List',
      meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-FetchWorklist-List-1'] },
      status: 'current',
      mode: 'snapshot',
    });
    expect(references(review)).toEqual(['ReferralRequest/000000070000', 'ReferralRequest/000000070001']);

    const slots = await sandbox.ers('POST', '/STU3/v1/ReferralRequest/$ers.fetchworklist', {
      sessionKey: key,
      json: worklistBody('APPOINTMENT_SLOT_ISSUES'),
    });
    expect(references(slots)).toEqual(['ReferralRequest/000000070002']);
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
    expect(references(review)).toEqual(['ReferralRequest/000000070003']);
  });

  it('A008: answers a bad body 422 with the A008 page’s OutcomeKeys (MISSING_VALUE, INVALID_VALUE)', async () => {
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_ADMIN');
    for (const [json, key422] of [
      [{ resourceType: 'Parameters', parameter: [] }, 'MISSING_VALUE'],
      [{ resourceType: 'Bundle' }, 'INVALID_VALUE'],
      [worklistBody('EVERYTHING'), 'INVALID_VALUE'],
    ] as const) {
      const answer = await sandbox.ers('POST', '/STU3/v1/ReferralRequest/$ers.fetchworklist', { sessionKey: key, json });
      expect(answer.status).toBe(422);
      expect(answer.json<Outcome>().meta.profile).toEqual(['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-OperationOutcome-1']);
      expect(outcomeKey(answer)).toBe(key422);
    }
  });

  it('A010: answers a List of services for referrer roles only; `specialty` in the search criteria narrows it', async () => {
    const referrer = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
    const answer = await sandbox.ers('POST', '/STU3/v1/HealthcareService/$ers.searchHealthcareServicesForPatient', {
      sessionKey: referrer.key,
      json: serviceSearch('CARDIOLOGY'),
    });
    expect(answer.status).toBe(200);
    const list = answer.json<FhirList>();
    expect(list).toMatchObject({ resourceType: 'List', meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-FetchServices-List-1'] } });
    expect(list.entry?.map((entry) => entry.item.identifier?.value)).toEqual(['30001']);
    const all = await sandbox.ers('POST', '/STU3/v1/HealthcareService/$ers.searchHealthcareServicesForPatient', {
      sessionKey: referrer.key,
      json: serviceSearch(),
    });
    expect(all.json<FhirList>().entry?.map((entry) => entry.item.identifier?.value)).toEqual(['30001', '30002', '30003']);

    const provider = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_ADMIN');
    const refused = await sandbox.ers('POST', '/STU3/v1/HealthcareService/$ers.searchHealthcareServicesForPatient', {
      sessionKey: provider.key,
      json: serviceSearch(),
    });
    expect(refused.status).toBe(403);
    expect(refused.json<Outcome>().issue[0]?.code).toBe('forbidden');
  });

  describe('A010 requires patient, requestType, searchCriteria and sortBy (A010 page, cardinality 1..1)', () => {
    const search = async (body: unknown): Promise<{ status: number; key: string | undefined }> => {
      const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
      const answer = await sandbox.ers('POST', '/STU3/v1/HealthcareService/$ers.searchHealthcareServicesForPatient', { sessionKey: key, json: body });
      return { status: answer.status, key: answer.status === 422 ? outcomeKey(answer) : undefined };
    };
    const without = (name: string): unknown => {
      const body = serviceSearch();
      return { ...body, parameter: body.parameter.filter((parameter) => parameter['name'] !== name) };
    };
    const replacing = (name: string, parameter: Record<string, unknown>): unknown => {
      const body = serviceSearch();
      return { ...body, parameter: body.parameter.map((p) => (p['name'] === name ? { name, ...parameter } : p)) };
    };

    for (const name of ['patient', 'requestType', 'searchCriteria', 'sortBy']) {
      it(`422 MISSING_VALUE without ${name}`, async () => {
        expect(await search(without(name))).toEqual({ status: 422, key: 'MISSING_VALUE' });
      });
    }

    it('422 INVALID_VALUE for a malformed one', async () => {
      const body = serviceSearch();
      for (const invalid of [
        replacing('patient', { valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: '12345' } }),
        replacing('patient', { valueString: '9000000009' }),
        replacing('requestType', { valueString: 'APPOINTMENT_REQUEST' }),
        replacing('sortBy', { valueBoolean: true }),
        replacing('searchCriteria', { valueString: 'CARDIOLOGY' }),
        replacing('searchCriteria', { resource: { resourceType: 'Bundle' } }),
        { ...body, parameter: [...body.parameter, body.parameter[0]] },
        { resourceType: 'Bundle' },
      ]) {
        expect(await search(invalid)).toEqual({ status: 422, key: 'INVALID_VALUE' });
      }
    });

    it('200 with all four', async () => {
      expect(await search(serviceSearch())).toEqual({ status: 200, key: undefined });
    });
  });

  it('A029: answers the Tasks of a referral at its version, never cached', async () => {
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
    const focus = encodeURIComponent('ReferralRequest/000000070000/_history/5');
    const answer = await sandbox.ers('GET', `/STU3/v1/Task?focus=${focus}&intent=proposal&status=ready`, { sessionKey: key });
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    const bundle = answer.json<Bundle>();
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    expect(bundle.entry).toHaveLength(1);
    expect(bundle.entry?.[0]?.resource).toMatchObject({
      resourceType: 'Task',
      status: 'ready',
      intent: 'proposal',
      focus: { reference: 'ReferralRequest/000000070000/_history/5' },
    });

    // The A029 page's keys; it gives no status, the e-RS FHIR API gives 400.
    const task = (query: string): Promise<{ json<T>(): T; status: number }> => sandbox.ers('GET', `/STU3/v1/Task?${query}`, { sessionKey: key });
    const history = (ubrn: string, version: number): string => `focus=${encodeURIComponent(`ReferralRequest/${ubrn}/_history/${version}`)}`;
    for (const [query, expected] of [
      [`${history('000000070000', 4)}&intent=proposal&status=ready`, 'HISTORY_NOT_SUPPORTED'],
      [`${history('000000079999', 1)}&intent=proposal&status=ready`, 'REFERENCE_NOT_FOUND'],
      ['intent=proposal&status=ready', 'MISSING_PARAMETER'],
      [`${history('000000070000', 5)}&status=ready`, 'MISSING_PARAMETER'],
      [`${history('000000070000', 5)}&intent=order&status=ready`, 'INVALID_VALUE'],
      ['focus=ReferralRequest%2F1&intent=proposal&status=ready', 'INVALID_VALUE'],
    ] as const) {
      const bad = await task(query);
      expect({ status: bad.status, key: outcomeKey(bad) }).toEqual({ status: 400, key: expected });
    }
  });
});
