import { describe, expect, it } from 'vitest';
import * as fhir from '../../apps/demo-spa/src/fhir';
import { published } from '../sandbox/support/json-shape';

/**
 * The demo SPA's readers and request builders against the examples NHS England publishes
 * (nhsconnect/digital-referrals, gh-pages `downloads/json/`, copied in test/sandbox/published, see
 * SOURCES.md there), not only against the sandbox: a real e-RS answer reads the same.
 */
describe('the demo SPA reads e-RS as published', () => {
  it('reads A008_Response.json: UBRN from item.reference, NHS number from the contained Patient, the rest from the worklist extension', () => {
    expect(fhir.worklist(published('A008_Response.json'))).toEqual([
      {
        ubrn: '000000070002',
        patientName: null,
        nhsNumber: '9462979626',
        priority: { code: 'ROUTINE', display: '' },
        specialty: { code: 'CARDIOLOGY', display: '' },
        pathwayStart: '2021-09-03T14:09:15.297000+00:00',
        service: 'Excellent Cardiology Business Service 12',
      },
      {
        ubrn: '000000070001',
        patientName: null,
        nhsNumber: '1000000001',
        priority: { code: 'ROUTINE', display: '' },
        specialty: { code: 'CARDIOLOGY', display: '' },
        pathwayStart: '2021-09-03T14:09:11.381000+00:00',
        service: '',
      },
    ]);
  });

  it('reads A008_Response_ASI.json, whose patient is an identifier, not a contained Patient', () => {
    expect(fhir.worklist(published('A008_Response_ASI.json'))).toEqual([
      expect.objectContaining({ ubrn: '000000070000', nhsNumber: '1000000001', specialty: { code: 'GENERAL_MEDICINE', display: '' }, service: 'name of service' }),
    ]);
  });

  it('reads A005_Response.json: attachments, priority from its extension, the booked appointment', () => {
    const referral = fhir.referral(published('A005_Response.json'));
    expect(referral).toMatchObject({
      ubrn: '000000098888',
      version: '8',
      nhsNumber: '9190000000',
      priority: { code: 'ROUTINE', display: 'Routine' },
      specialty: { code: 'SLEEP_MEDICINE', display: 'Sleep Medicine' },
      clinicType: { code: '', display: '' },
      clinicalInfoFirstSubmitted: '2020-03-31T11:02:27.685Z',
      appointment: { start: '2020-12-25T14:30:00.000Z', service: 'R68_Sleep_IBS_RL_Assessment' },
    });
    expect(referral.attachments.map((attachment) => [attachment.id, attachment.title, attachment.size])).toEqual([
      ['att-98888-99120', 'A_Referral_Letter.txt', 46],
      ['att-98888-99119', 'AA_Referral_Letter.txt', 46],
    ]);
  });

  it('reads the A004 CodeSystems: displays, a clinic type’s specialty, and which concepts have ended', () => {
    const specialties = fhir.concepts(published('A004_Response_Specialty.json'));
    expect(specialties.map((concept) => [concept.code, concept.display, fhir.inEffect(concept)])).toEqual([
      ['SURGERY_NOT_OTHERWISE_SPECIFIED', 'Surgery - Not Otherwise Specified', true],
      ['UROLOGY', 'Urology', true],
      ['TRANSPLANTATION_SURGERY', 'Transplantation Surgery', false],
    ]);
    expect(fhir.codeSystemUrl(published('A004_Response_Specialty.json'))).toBe('https://api.dev3.ers.ncrs.nhs.uk/ers-api/STU3/v1/CodeSystem/SPECIALTY');
    const clinicTypes = fhir.concepts(published('A004_Response_Clinic_Type.json'));
    expect(clinicTypes[0]).toEqual({ code: '2WW_BONE', display: '2WW Bone', specialty: '2WW', effectiveTo: null });
    expect(clinicTypes.some((concept) => !fhir.inEffect(concept))).toBe(true);
  });

  it('reads A010_Response.json: service, location, specialty, wait (or none) and distance', () => {
    expect(fhir.services(published('A010_Response.json'))).toEqual([
      { id: '90636', name: 'R68_Sleep_DBS_RL_Assessment', specialty: { code: 'SLEEP_MEDICINE', display: '' }, location: 'Pinderfields Hospital', locationId: 'R6007', distanceMiles: 7, waitDays: 17 },
      { id: '90596', name: 'R68_Sleep_TRIAGE+A&G', specialty: { code: 'SLEEP_MEDICINE', display: '' }, location: 'Pinderfields Hospital', locationId: 'R6007', distanceMiles: 7, waitDays: null },
    ]);
  });

  it('sends A010_Request.json: the same parameters, and the same search criteria as far as the demo searches', () => {
    type Parameters = { resourceType: string; meta?: unknown; id?: string; parameter: { name: string; resource?: Parameters }[] };
    const example = published<Parameters>('A010_Request.json');
    const criteria = example.parameter.find((parameter) => parameter.name === 'searchCriteria')!.resource!;
    // The demo searches by priority, specialty and clinic type; the example also shows the optional criteria.
    const expected = {
      ...example,
      parameter: example.parameter.map((parameter) =>
        parameter.name === 'searchCriteria'
          ? { ...parameter, resource: { resourceType: criteria.resourceType, meta: criteria.meta, parameter: criteria.parameter.filter((criterion) => ['priority', 'specialty', 'clinicType'].includes(criterion.name)) } }
          : parameter,
      ),
    };
    const sent = fhir.serviceSearchRequest(
      { nhsNumber: '9190000000', priority: 'ROUTINE', specialty: 'SLEEP_MEDICINE', clinicType: 'INSOMNIA', referringClinician: null },
      fhir.codeSystemUrl(published('A004_Response_Specialty.json')),
    );
    expect(sent).toEqual(expected);
  });

  it('sends A008_Request.json’s listType parameter, with its profile', () => {
    const example = published<{ meta: unknown; parameter: { name: string }[] }>('A008_Request.json');
    expect(fhir.worklistRequest('REFERRALS_FOR_REVIEW')).toEqual({
      resourceType: 'Parameters',
      meta: example.meta,
      parameter: example.parameter.filter((parameter) => parameter.name === 'listType'),
    });
  });
});
