import { Injectable } from '@nestjs/common';
import { ErsOutcomeError } from '../ers-edge/ers-errors';
import type { FhirParametersDto, ParameterDto } from '../ers-edge/fhir-parameters.dto';
import {
  CODE_SYSTEM,
  codeableConcept,
  codeSystemUrl,
  ERS_SERVICE_SYSTEM,
  identifier,
  ifAny,
  ORGANISATION_SYSTEM,
  STRUCTURE_DEFINITION,
  type FhirList,
} from '../fixtures/fhir';
import { HEALTHCARE_SERVICES, type ServiceFixture } from '../fixtures/reference-data';

const PROFILE = `${STRUCTURE_DEFINITION}/eRS-FetchServices-List-1`;
const NHS_NUMBER = /^\d{10}$/;

/**
 * The A010 page's mandatory parameters (cardinality 1..1). Their errors are the e-RS FHIR API's for
 * the same search (patientServiceSearch): MISSING_VALUE "a field defined as mandatory … has not been
 * provided", INVALID_VALUE "does not conform to the expected data types and format"; the A010 page
 * itself lists only business-rule keys.
 */
const REQUIRED = ['patient', 'requestType', 'searchCriteria', 'sortBy'] as const;

type Field = { url: string } & Record<string, unknown>;

@Injectable()
export class HealthcareServicesService {
  /**
   * A010: the services matching the search, as an eRS-FetchServices-List-1 (A010_Response.json).
   * Of the search criteria the sandbox applies only `specialty`; the rest is checked for shape.
   */
  search(body: FhirParametersDto, ersBase: string): FhirList {
    const [patient, requestType, searchCriteria, sortBy] = REQUIRED.map((name) => required(body, name));
    if (!NHS_NUMBER.test(patient?.valueIdentifier?.value ?? '')) {
      throw ErsOutcomeError.unprocessable('INVALID_VALUE', 'patient: a 10-digit NHS number (valueIdentifier) is required');
    }
    for (const [name, parameter] of [['requestType', requestType], ['sortBy', sortBy]] as const) {
      if ((parameter?.valueCoding?.code ?? parameter?.valueCode) === undefined) {
        throw ErsOutcomeError.unprocessable('INVALID_VALUE', `${name}: a code (valueCoding) is required`);
      }
    }
    const criteria = searchCriteria?.resource;
    if (criteria?.['resourceType'] !== 'Parameters' || !Array.isArray(criteria['parameter'])) {
      throw ErsOutcomeError.unprocessable('INVALID_VALUE', 'searchCriteria: a Parameters resource is required');
    }
    const specialties = (criteria['parameter'] as unknown[])
      .map((parameter) => parameter as { name?: unknown; valueCoding?: { code?: unknown } })
      .filter((parameter) => parameter.name === 'specialty')
      .map((parameter) => parameter.valueCoding?.code);
    const matches = HEALTHCARE_SERVICES.filter((service) => specialties.length === 0 || specialties.includes(service.specialty));
    return {
      meta: { profile: [PROFILE] },
      resourceType: 'List',
      status: 'current',
      mode: 'snapshot',
      ...ifAny('entry', matches.map((service) => serviceEntry(service, ersBase))),
    } as FhirList;
  }
}

function required(body: FhirParametersDto, name: string): ParameterDto | undefined {
  const found = body.parameter.filter((parameter) => parameter.name === name);
  if (found.length === 0) throw ErsOutcomeError.unprocessable('MISSING_VALUE', `${name}: a value is required`);
  if (found.length > 1) throw ErsOutcomeError.unprocessable('INVALID_VALUE', `${name}: only one value is allowed`);
  return found[0];
}

const coded = (url: string, name: string, code: string): Field => ({ url, valueCodeableConcept: codeableConcept(`${CODE_SYSTEM}/eRS-${name}-1`, code) });

function serviceEntry(service: ServiceFixture, ersBase: string): Record<string, unknown> {
  const summary: Field[] = [
    { url: 'serviceName', valueString: service.name },
    { url: 'specialty', valueCodeableConcept: codeableConcept(codeSystemUrl(ersBase, 'SPECIALTY'), service.specialty) },
    coded('genderTreated', 'GenderTreated', 'MALE_AND_FEMALE'),
    coded('bookableType', 'BookableType', service.bookableType),
    ...(service.appointmentType === undefined ? [] : [coded('supportedAppointmentType', 'AppointmentType', service.appointmentType)]),
    { url: 'referralLetterRequired', valueBoolean: service.referralLetterRequired },
    { url: 'location', valueReference: { display: service.location.name, identifier: identifier(ORGANISATION_SYSTEM, service.location.ods) } },
    { url: 'linkToNHSWebsite', valueString: `https://www.nhs.uk/service-search/other-services/chooseandbook?serviceId=${service.id}` },
    ...service.requestFlows.map((flow) => coded('supportedRequestFlowType', 'RequestFlowType', flow)),
    ...(service.notes === undefined
      ? []
      : [
          { url: 'exclusions', valueString: service.notes.exclusions },
          { url: 'conditionsTreated', valueString: service.notes.conditionsTreated },
          { url: 'suggestedInvestigations', valueString: service.notes.suggestedInvestigations },
        ]),
  ];
  return {
    extension: [
      {
        extension: [
          { url: 'displayProminently', valueBoolean: false },
          { url: 'distance', valueUnsignedInt: service.distanceMiles },
          service.waitDays === 'NOT_APPLICABLE'
            ? coded('indicativeAppointmentWaitTime', 'IWT', 'NOT_APPLICABLE')
            : { url: 'indicativeAppointmentWaitTime', valueUnsignedInt: service.waitDays },
        ],
        url: `${STRUCTURE_DEFINITION}/Extension-eRS-ServiceSearch-ListItem-1`,
      },
    ],
    item: {
      extension: [{ extension: summary, url: `${STRUCTURE_DEFINITION}/Extension-eRS-ServiceSummaryView-1` }],
      identifier: identifier(ERS_SERVICE_SYSTEM, service.id),
    },
  };
}
