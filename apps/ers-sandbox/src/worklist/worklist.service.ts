import { Injectable } from '@nestjs/common';
import { ErsOutcomeError } from '../ers-edge/ers-errors';
import { parameterCodes, type FhirParametersDto } from '../ers-edge/fhir-parameters.dto';
import {
  CODE_SYSTEM,
  codeableConcept,
  codeSystemUrl,
  ERS_SERVICE_SYSTEM,
  identifier,
  ifAny,
  NHS_NUMBER_SYSTEM,
  SDS_USER_SYSTEM,
  STRUCTURE_DEFINITION,
  type FhirList,
  type FhirResource,
} from '../fixtures/fhir';
import { healthcareService } from '../fixtures/reference-data';
import {
  priorityConcept,
  REFERRAL_FIXTURES,
  WORKLIST_TYPES,
  type ReferralFixture,
  type ReviewItem,
  type SlotIssueItem,
  type WorklistType,
} from '../fixtures/referrals';

const PROFILE = `${STRUCTURE_DEFINITION}/eRS-FetchWorklist-List-1`;
const ITEM_EXTENSION: Record<WorklistType, string> = {
  REFERRALS_FOR_REVIEW: `${STRUCTURE_DEFINITION}/Extension-eRS-ReferralsforReview-WorkListItem-1`,
  APPOINTMENT_SLOT_ISSUES: `${STRUCTURE_DEFINITION}/Extension-eRS-AppointmentSlotIssues-WorkListItem-1`,
};

type Field = { url: string } & Record<string, unknown>;

@Injectable()
export class WorklistService {
  /**
   * A008: the referrals on one worklist of the organisation the session's role is at, as an
   * eRS-FetchWorklist-List-1 (A008_Response.json, A008_Response_ASI.json): one entry per referral,
   * its worklist fields in an extension, `item` pointing at the ReferralRequest. The Review list
   * refers to patients and clinicians by contained resources; the Slot Issues list by identifier.
   */
  fetch(body: FhirParametersDto, orgIdentifier: string, ersBase: string): FhirList {
    const codes = parameterCodes(body, 'listType');
    // The A008 page's MISSING_VALUE is "a field … not provided", its INVALID_VALUE a value e-RS
    // does not accept; listType is the one mandatory parameter (cardinality 1..1).
    if (codes.length === 0) throw ErsOutcomeError.unprocessable('MISSING_VALUE', 'listType: a value is required');
    const listType = WORKLIST_TYPES.find((type): type is WorklistType => codes.includes(type));
    if (codes.length !== 1 || listType === undefined) {
      throw ErsOutcomeError.unprocessable('INVALID_VALUE', `listType must be one of ${WORKLIST_TYPES.join(', ')}`);
    }
    const referrals = REFERRAL_FIXTURES.filter(
      (referral) => referral.providerOrg === orgIdentifier && referral.worklist.list === listType,
    );
    const contained = new Map<string, FhirResource>();
    const entry = referrals.map((referral) => ({
      extension: [
        {
          extension: referral.worklist.list === 'REFERRALS_FOR_REVIEW'
            ? reviewFields(referral, referral.worklist, ersBase, contained)
            : slotIssueFields(referral, referral.worklist, ersBase),
          url: ITEM_EXTENSION[listType],
        },
      ],
      item: { reference: `ReferralRequest/${referral.ubrn}` },
    }));
    return {
      meta: { profile: [PROFILE] },
      resourceType: 'List',
      ...ifAny('contained', [...contained.values()]),
      status: 'current',
      mode: 'snapshot',
      ...ifAny('entry', entry),
    } as FhirList;
  }
}

const concept = (name: string, code: string, display?: string): { valueCodeableConcept: ReturnType<typeof codeableConcept> } => ({
  valueCodeableConcept: codeableConcept(`${CODE_SYSTEM}/eRS-${name}-1`, code, display),
});

function specialtyField(referral: ReferralFixture, ersBase: string): Field {
  return { url: 'specialty', valueCodeableConcept: codeableConcept(codeSystemUrl(ersBase, 'SPECIALTY'), referral.specialty) };
}

function serviceField(referral: ReferralFixture): Field {
  return {
    url: 'service',
    valueReference: {
      identifier: identifier(ERS_SERVICE_SYSTEM, referral.serviceId),
      display: healthcareService(referral.serviceId)?.name ?? referral.serviceId,
    },
  };
}

/** A contained resource as A008_Response.json has them: `Patient-{nhs}`, `Practitioner-{sds id}`. */
function containedReference(contained: Map<string, FhirResource>, type: 'Patient' | 'Practitioner', system: string, value: string): string {
  const id = `${type}-${value}`;
  if (!contained.has(id)) {
    contained.set(id, { id, meta: { profile: [`${STRUCTURE_DEFINITION}/eRS-${type}-1`] }, resourceType: type, identifier: [identifier(system, value)] });
  }
  return `#${id}`;
}

function reviewFields(referral: ReferralFixture, item: ReviewItem, ersBase: string, contained: Map<string, FhirResource>): Field[] {
  return [
    { url: 'priority', valueCodeableConcept: priorityConcept(referral.priority) },
    specialtyField(referral, ersBase),
    { url: 'patient', valueReference: { reference: containedReference(contained, 'Patient', NHS_NUMBER_SYSTEM, referral.patient.nhsNumber) } },
    ...(item.allocatedClinician === undefined
      ? []
      : [{ url: 'allocatedClinician', valueReference: { reference: containedReference(contained, 'Practitioner', SDS_USER_SYSTEM, item.allocatedClinician) } }]),
    { url: 'eReferralPathwayStart', valueDateTime: referral.pathwayStart },
    { url: 'clinicalInfoPrinted', valueBoolean: item.clinicalInfoPrinted },
    { url: 'requestContextStatus', ...concept('RequestContextStatus', item.requestContextStatus.code, item.requestContextStatus.display) },
    { url: 'clinicalInfoFirstSubmitted', valueDateTime: referral.clinicalInfoFirstSubmitted },
    ...(item.clinicalInfoLastUpdated === undefined ? [] : [{ url: 'clinicalInfoLastUpdated', valueDateTime: item.clinicalInfoLastUpdated }]),
    ...(referral.appointment === undefined ? [] : [{ url: 'appointmentStart', valueDateTime: referral.appointment.start }]),
    { url: 'referralType', ...concept('ReferralType', item.referralType) },
    ...(item.referralType === 'TRIAGE_DEFERRAL' ? [serviceField(referral)] : []),
  ];
}

function slotIssueFields(referral: ReferralFixture, item: SlotIssueItem, ersBase: string): Field[] {
  return [
    { url: 'priority', valueCodeableConcept: priorityConcept(referral.priority) },
    { url: 'eReferralPathwayStart', valueDateTime: referral.pathwayStart },
    { url: 'ubrnReceived', valueDateTime: item.ubrnReceived },
    { url: 'patientContactExpected', valueDate: item.patientContactExpected },
    { url: 'clinicalInformationStatus', ...concept('ClinicalInformationStatus', item.clinicalInformationStatus) },
    { url: 'clinicalInfoPrinted', valueBoolean: item.clinicalInfoPrinted },
    serviceField(referral),
    specialtyField(referral, ersBase),
    ...(item.namedClinician === undefined
      ? []
      : [{ url: 'namedClinician', valueReference: { identifier: identifier(SDS_USER_SYSTEM, item.namedClinician) } }]),
    { url: 'reason', ...concept('ReviewReason', item.reason) },
    { url: 'patient', valueReference: { identifier: identifier(NHS_NUMBER_SYSTEM, referral.patient.nhsNumber) } },
    ...(item.lastContact === undefined ? [] : [{ url: 'lastContact', valueDateTime: item.lastContact }]),
  ];
}
