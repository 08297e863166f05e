import { describe, expect, it } from 'vitest';
import { jsonPaths, pathDifference, published } from './support/json-shape';
import { useTestSandbox, type HttpAnswer } from './support/sandbox-harness';

/**
 * Every JSON answer of a business endpoint against the example NHS England publishes for it
 * (nhsconnect/digital-referrals, gh-pages `downloads/json/`, copied into `published/`, see
 * SOURCES.md): same resourceType, same meta.profile, and the same structural paths (values
 * ignored). The fixture that shows all of an endpoint's fields must have exactly the example's
 * paths; the others may leave optional fields out but add none. A006, A007 and A020 answer bytes
 * (a file, a PDF, an empty 201), and the docs publish no JSON example for them.
 */

type Resource = { resourceType?: string; meta?: { profile?: string[] } } & Record<string, unknown>;
type Parameters = { resourceType: 'Parameters'; parameter: ({ name: string; resource?: Parameters } & Record<string, unknown>)[] };

const FETCH_WORKLIST = '/STU3/v1/ReferralRequest/$ers.fetchworklist';
const SERVICE_SEARCH = '/STU3/v1/HealthcareService/$ers.searchHealthcareServicesForPatient';

function expectShape(answer: HttpAnswer, file: string, fit: 'all-fields' | 'within'): void {
  expect(answer.status, answer.text).toBeLessThan(300);
  expect(answer.headers['content-type']).toMatch(/^application\/fhir\+json/);
  const live = answer.json<Resource>();
  const example = published<Resource>(file);
  expect(live.resourceType).toBe(example.resourceType);
  expect(live.meta?.profile).toEqual(example.meta?.profile);
  const { extra, missing } = pathDifference(jsonPaths(live), jsonPaths(example));
  expect(extra, `paths that ${file} does not have`).toEqual([]);
  if (fit === 'all-fields') expect(missing, `paths of ${file} the answer lacks`).toEqual([]);
}

/** The published A008 request with another listType (the Slot Issues list takes the same body). */
function worklistRequest(listType: string): Parameters {
  const body = published<Parameters>('A008_Request.json');
  const listTypeParameter = body.parameter.find((parameter) => parameter.name === 'listType');
  (listTypeParameter?.['valueCodeableConcept'] as { coding: { code: string }[] }).coding[0]!.code = listType;
  return body;
}

/** The published A010 request, some search criteria left `without`, and `specialty` changed. */
function serviceSearchRequest(options: { specialty?: string; without?: string[] } = {}): Parameters {
  const body = published<Parameters>('A010_Request.json');
  const criteria = body.parameter.find((parameter) => parameter.name === 'searchCriteria')!.resource!;
  criteria.parameter = criteria.parameter.filter((parameter) => !(options.without ?? []).includes(parameter.name));
  for (const parameter of criteria.parameter) {
    if (parameter.name === 'specialty' && options.specialty !== undefined) (parameter['valueCoding'] as { code: string }).code = options.specialty;
  }
  return body;
}

describe('the sandbox answers in the structure of the published e-RS example JSON', () => {
  const sandbox = useTestSandbox();

  const provider = async (org = 'R01'): Promise<string> =>
    org === 'R01'
      ? (await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN')).key
      : (await sandbox.session('two-organisations', 'SERVICE_PROVIDER_CLINICIAN', org)).key;
  const referrer = async (): Promise<string> => (await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN')).key;

  describe('A004 CodeSystems', () => {
    for (const [id, file] of [
      ['SPECIALTY', 'A004_Response_Specialty.json'],
      ['CLINIC-TYPE', 'A004_Response_Clinic_Type.json'],
      ['APPOINTMENT-CANCELLATION-REASON', 'A004_Response_Canx_Reason.json'],
    ] as const) {
      it(`${id} has the structure of ${file}`, async () => {
        const answer = await sandbox.ers('GET', `/STU3/v1/CodeSystem/${id}`, { sessionKey: await provider() });
        expectShape(answer, file, 'all-fields');
        // The demo shows specialty and clinic type names: every concept has its display.
        const concepts = answer.json<{ concept: { code: string; display: string }[] }>().concept;
        expect(concepts.every((concept) => concept.display.length > 0)).toBe(true);
      });
    }
  });

  describe('A005 ReferralRequest (A005_Response.json)', () => {
    it('000000070000 (attachments, a booked appointment) has exactly the structure of A005_Response.json', async () => {
      expectShape(await sandbox.ers('GET', '/STU3/v1/ReferralRequest/000000070000', { sessionKey: await provider() }), 'A005_Response.json', 'all-fields');
    });

    it('every other fixture referral stays within the structure of A005_Response.json', async () => {
      const key = await provider();
      for (const ubrn of ['000000070001', '000000070002', '000000070003', '000000070004']) {
        expectShape(await sandbox.ers('GET', `/STU3/v1/ReferralRequest/${ubrn}`, { sessionKey: key }), 'A005_Response.json', 'within');
      }
    });
  });

  describe('A008 worklists, for the request of A008_Request.json', () => {
    it('REFERRALS_FOR_REVIEW at R01 is a List with exactly the structure of A008_Response.json', async () => {
      const answer = await sandbox.ers('POST', FETCH_WORKLIST, { sessionKey: await provider(), json: published('A008_Request.json') });
      expectShape(answer, 'A008_Response.json', 'all-fields');
      const list = answer.json<{ entry: { item: { reference: string } }[] }>();
      expect(list.entry.map((entry) => entry.item.reference)).toEqual(['ReferralRequest/000000070000', 'ReferralRequest/000000070001']);
    });

    it('APPOINTMENT_SLOT_ISSUES at R01 is a List with exactly the structure of A008_Response_ASI.json', async () => {
      const answer = await sandbox.ers('POST', FETCH_WORKLIST, { sessionKey: await provider(), json: worklistRequest('APPOINTMENT_SLOT_ISSUES') });
      expectShape(answer, 'A008_Response_ASI.json', 'all-fields');
    });

    it('the R02 worklists stay within those structures', async () => {
      const key = await provider('R02');
      expectShape(await sandbox.ers('POST', FETCH_WORKLIST, { sessionKey: key, json: worklistRequest('REFERRALS_FOR_REVIEW') }), 'A008_Response.json', 'within');
      expectShape(await sandbox.ers('POST', FETCH_WORKLIST, { sessionKey: key, json: worklistRequest('APPOINTMENT_SLOT_ISSUES') }), 'A008_Response_ASI.json', 'within');
    });
  });

  describe('A010 service search, for the request of A010_Request.json', () => {
    it('a search over every service is a List with exactly the structure of A010_Response.json', async () => {
      const answer = await sandbox.ers('POST', SERVICE_SEARCH, { sessionKey: await referrer(), json: serviceSearchRequest({ without: ['specialty', 'clinicType'] }) });
      expectShape(answer, 'A010_Response.json', 'all-fields');
    });

    it('a search by specialty stays within that structure and finds that specialty’s services', async () => {
      const answer = await sandbox.ers('POST', SERVICE_SEARCH, { sessionKey: await referrer(), json: serviceSearchRequest({ specialty: 'CARDIOLOGY' }) });
      expectShape(answer, 'A010_Response.json', 'within');
      const list = answer.json<{ entry: { item: { identifier: { value: string } } }[] }>();
      expect(list.entry.map((entry) => entry.item.identifier.value)).toEqual(['30001']);
    });
  });

  describe('A016 book or defer', () => {
    it('the request of A016_Request_BOOK.json is answered in the structure of A016_Response_BOOK.json', async () => {
      // The example books at service 70000; the sandbox's services are 300xx.
      const request = JSON.parse(JSON.stringify(published('A016_Request_BOOK.json')).replaceAll('"70000"', '"30001"')) as unknown;
      const answer = await sandbox.ers('POST', '/STU3/v1/Appointment', { sessionKey: await referrer(), json: request });
      expect(answer.status).toBe(201);
      expectShape(answer, 'A016_Response_BOOK.json', 'all-fields');
    });

    it('the request of A016_Request_DEFER.json is answered in the structure of A016_Response_DEFER.json', async () => {
      const request = JSON.parse(JSON.stringify(published('A016_Request_DEFER.json')).replaceAll('"70000"', '"30001"')) as unknown;
      const answer = await sandbox.ers('POST', '/STU3/v1/Appointment', { sessionKey: await referrer(), json: request });
      expect(answer.status).toBe(201);
      expectShape(answer, 'A016_Response_DEFER.json', 'all-fields');
    });
  });

  describe('A029 tasks (A029_Response.json)', () => {
    it('the tasks of 000000070000 at its version are a Bundle with exactly the structure of A029_Response.json', async () => {
      const focus = encodeURIComponent('ReferralRequest/000000070000/_history/5');
      const answer = await sandbox.ers('GET', `/STU3/v1/Task?focus=${focus}&intent=proposal&status=ready`, { sessionKey: await provider() });
      expectShape(answer, 'A029_Response.json', 'all-fields');
    });

    it('a referral with no task stays within that structure (no entry)', async () => {
      const focus = encodeURIComponent('ReferralRequest/000000070001/_history/2');
      const answer = await sandbox.ers('GET', `/STU3/v1/Task?focus=${focus}&intent=proposal&status=ready`, { sessionKey: await provider() });
      expectShape(answer, 'A029_Response.json', 'within');
      expect(answer.json<{ entry?: unknown }>().entry).toBeUndefined();
    });
  });
});
