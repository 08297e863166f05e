/**
 * Reads the FHIR STU3 shapes the demo shows (A004, A005, A008, A010) into flat view models, and
 * builds the A008 and A010 request bodies, all as e-RS publishes them (the example JSON on
 * nhsconnect/digital-referrals, `downloads/json/A00x_*.json`). e-RS bodies are untrusted input:
 * every field is checked, and a missing one shows as an empty cell.
 */
type Json = Record<string, unknown>;

const obj = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');
const firstCoding = (concept: unknown): Json => obj(arr(obj(concept).coding)[0]);
const firstCode = (concept: unknown): string => str(firstCoding(concept).code);

/** e-RS spells one identifier system several ways (`http://fhir.nhs.net/Id/nhs-number`, `https://fhir.nhs.uk/Id/nhs-number`). */
const hasSystem = (identifier: unknown, name: string): boolean => str(obj(identifier).system).endsWith(`/${name}`);

/** A coded value as e-RS sent it: the code, and the display when e-RS gave one. */
export interface Code {
  code: string;
  display: string;
}

const code = (concept: unknown): Code => ({ code: firstCode(concept), display: str(firstCoding(concept).display) });

/** One row of an A008 worklist: everything the List itself says about the referral. */
export interface WorklistRow {
  ubrn: string;
  /** From the contained Patient; null when e-RS named no one (its published example does not). */
  patientName: string | null;
  nhsNumber: string;
  priority: Code;
  specialty: Code;
  /** When the patient's e-Referral pathway started. */
  pathwayStart: string;
  /** The service's name, when the worklist item carries one. */
  service: string;
}

/** What only A005 tells: the rest of a referral, fetched when it is opened. */
export interface ReferralDetails {
  ubrn: string;
  version: string;
  nhsNumber: string;
  priority: Code;
  specialty: Code;
  /** Only where e-RS says it (the published A005 does not; the FHIR API's carries the search criteria). */
  clinicType: Code;
  clinicalInfoFirstSubmitted: string;
  appointment: { start: string; service: string } | null;
  authoredOn: string;
  referrer: string;
  referrerOrg: string;
  attachments: Attachment[];
}

export interface Attachment {
  id: string;
  title: string;
  description: string;
  contentType: string;
  size: number | null;
}

export interface Concept {
  code: string;
  display: string;
  /** CLINIC-TYPE concepts name their specialty in a `specialty` property. */
  specialty: string | null;
  /** When e-RS stopped offering the concept, if it has (still named, never offered for a new search). */
  effectiveTo: string | null;
}

export interface Service {
  id: string;
  name: string;
  specialty: Code;
  location: string;
  locationId: string;
  distanceMiles: number | null;
  /** Days, or null when e-RS gives none (its code NOT_APPLICABLE). */
  waitDays: number | null;
}

/** The nested `extension` values of an item extension, by their short `url`. */
function fields(extensions: unknown, urlSuffix: string): Map<string, Json[]> {
  const item = arr(extensions).map(obj).find((extension) => str(extension.url).endsWith(urlSuffix));
  const byName = new Map<string, Json[]>();
  for (const field of arr(item?.extension).map(obj)) {
    const name = str(field.url);
    byName.set(name, [...(byName.get(name) ?? []), field]);
  }
  return byName;
}

const field = (byName: Map<string, Json[]>, name: string): Json => byName.get(name)?.[0] ?? {};

/** STU3 HumanName as e-RS writes names elsewhere: `FAMILY, Given`. */
function humanName(patient: Json): string | null {
  const name = obj(arr(patient.name)[0]);
  const text = str(name.text);
  if (text !== '') return text;
  const family = str(name.family);
  const given = arr(name.given).map(str).filter((part) => part !== '').join(' ');
  if (family === '' && given === '') return null;
  return family === '' ? given : given === '' ? family : `${family}, ${given}`;
}

const nhsNumberOf = (identifiers: unknown): string => str(arr(identifiers).map(obj).find((id) => hasSystem(id, 'nhs-number'))?.value);

/** A008: a `List` (eRS-FetchWorklist-List-1) whose entries point at `ReferralRequest/{ubrn}`. */
export function worklist(list: unknown): WorklistRow[] {
  const body = obj(list);
  const contained = new Map(arr(body.contained).map(obj).map((resource) => [str(resource.id), resource]));
  return arr(body.entry)
    .map(obj)
    .map((entry): WorklistRow => {
      // Referrals for Review and Appointment Slot Issues items share these fields.
      const item = fields(entry.extension, '-WorkListItem-1');
      const patientRef = obj(field(item, 'patient').valueReference);
      const reference = str(patientRef.reference);
      const patient = reference.startsWith('#') ? (contained.get(reference.slice(1)) ?? {}) : {};
      const date = (name: string): string => str(field(item, name).valueDateTime);
      return {
        ubrn: str(obj(entry.item).reference).replace(/^ReferralRequest\//, ''),
        patientName: humanName(patient),
        // The Appointment Slot Issues example names the patient by identifier instead of a contained Patient.
        nhsNumber: nhsNumberOf(patient.identifier) || (hasSystem(patientRef.identifier, 'nhs-number') ? str(obj(patientRef.identifier).value) : ''),
        priority: code(field(item, 'priority').valueCodeableConcept),
        specialty: code(field(item, 'specialty').valueCodeableConcept),
        pathwayStart: date('eReferralPathwayStart') || date('ubrnReceived') || date('clinicalInfoFirstSubmitted'),
        service: str(obj(field(item, 'service').valueReference).display),
      };
    })
    .filter((row) => /^\d{12}$/.test(row.ubrn));
}

/** A005: the ReferralRequest; attachments are contained DocumentReferences pointing at `Binary/<id>` (A006). */
export function referral(resource: unknown): ReferralDetails {
  const body = obj(resource);
  const requester = obj(body.requester);
  const extension = (suffix: string): Json => arr(body.extension).map(obj).find((candidate) => str(candidate.url).endsWith(suffix)) ?? {};
  const priority = code(extension('-ReferralPriority-1').valueCodeableConcept);
  const attachments = arr(body.contained)
    .map(obj)
    .filter((contained) => contained.resourceType === 'DocumentReference')
    .map((document): Attachment => {
      const attachment = obj(obj(arr(document.content)[0]).attachment);
      const url = str(attachment.url);
      return {
        id: url.startsWith('Binary/') ? url.slice('Binary/'.length) : '',
        title: str(attachment.title) || str(document.id),
        description: str(document.description),
        contentType: str(attachment.contentType),
        size: typeof attachment.size === 'number' ? attachment.size : null,
      };
    })
    .filter((attachment) => attachment.id !== '');
  const ubrnIdentifier = arr(body.identifier).map(obj).find((id) => hasSystem(id, 'ubrn'));
  const contained = (reference: string): Json => arr(body.contained).map(obj).find((resource) => `#${str(resource.id)}` === reference) ?? {};
  // A booked appointment is contained and named by the Appointment extension (A005_Response.json).
  const appointment = contained(str(obj(extension('-Appointment-1').valueReference).reference));
  const bookedService = arr(appointment.participant)
    .map((participant) => obj(obj(participant).actor))
    .find((actor) => hasSystem(actor.identifier, 'ers-service'));
  // The search that found the service, where e-RS includes it (the e-RS FHIR API's A005 examples).
  const criteria = arr(body.contained)
    .map(obj)
    .find((resource) => resource.resourceType === 'Parameters');
  const criteriaClinicType = obj(arr(criteria?.parameter).map(obj).find((parameter) => parameter.name === 'clinicType')?.valueCoding);
  return {
    ubrn: str(body.id) || str(ubrnIdentifier?.value),
    version: str(obj(body.meta).versionId),
    nhsNumber: hasSystem(obj(body.subject).identifier, 'nhs-number') ? str(obj(obj(body.subject).identifier).value) : '',
    // The published A005 carries priority in an extension; ReferralRequest.priority is the fallback.
    priority: priority.code === '' ? { code: str(body.priority), display: '' } : priority,
    specialty: code(body.specialty),
    clinicType: firstCode(arr(body.serviceRequested)[0]) === '' ? { code: str(criteriaClinicType.code), display: str(criteriaClinicType.display) } : code(arr(body.serviceRequested)[0]),
    clinicalInfoFirstSubmitted: str(extension('-ClinicalInfoFirstSubmitted-1').valueDateTime),
    appointment: appointment.resourceType === 'Appointment' ? { start: str(appointment.start), service: str(bookedService?.display) || str(obj(bookedService?.identifier).value) } : null,
    authoredOn: str(body.authoredOn),
    referrer: str(obj(obj(requester.agent).identifier).value),
    referrerOrg: str(obj(obj(requester.onBehalfOf).identifier).value),
    attachments,
  };
}

/** A004: a CodeSystem's concepts (SPECIALTY, CLINIC-TYPE). */
export const concepts = (codeSystem: unknown): Concept[] =>
  arr(obj(codeSystem).concept)
    .map(obj)
    .map((concept) => {
      const property = (name: string): Json | undefined => arr(concept.property).map(obj).find((candidate) => candidate.code === name);
      // SPECIALTY dates its concepts with extensions (A004_Response_Specialty.json), CLINIC-TYPE with properties.
      const endExtension = arr(concept.extension).map(obj).find((extension) => str(extension.url).endsWith('-EffectivetoDate-1'));
      return {
        code: str(concept.code),
        display: str(concept.display) || str(concept.code),
        specialty: str(obj(property('specialty')?.valueCoding).code) || null,
        effectiveTo: str(property('effectiveTo')?.valueDateTime) || str(endExtension?.valueDate) || null,
      };
    })
    .filter((concept) => concept.code !== '');

/** A concept e-RS still offers on `now` (an ended specialty or clinic type only names old referrals). */
export const inEffect = (concept: Concept, now = Date.now()): boolean => concept.effectiveTo === null || !(Date.parse(concept.effectiveTo) <= now);

/** A010: a `List` (eRS-FetchServices-List-1); each item identifies a service and summarises it. */
export function services(list: unknown): Service[] {
  return arr(obj(list).entry)
    .map(obj)
    .map((entry): Service => {
      const item = obj(entry.item);
      const summary = fields(item.extension, '-ServiceSummaryView-1');
      const listItem = fields(entry.extension, '-ServiceSearch-ListItem-1');
      const location = obj(field(summary, 'location').valueReference);
      const wait = field(listItem, 'indicativeAppointmentWaitTime').valueUnsignedInt;
      const distance = field(listItem, 'distance').valueUnsignedInt;
      return {
        id: hasSystem(item.identifier, 'ers-service') ? str(obj(item.identifier).value) : '',
        name: str(field(summary, 'serviceName').valueString),
        specialty: code(field(summary, 'specialty').valueCodeableConcept),
        location: str(location.display),
        locationId: str(obj(location.identifier).value),
        distanceMiles: typeof distance === 'number' ? distance : null,
        waitDays: typeof wait === 'number' ? wait : null,
      };
    })
    .filter((service) => service.id !== '');
}

const PROFILE = 'https://fhir.nhs.uk/STU3/StructureDefinition';
const CODE_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem';

/** A008's body (A008_Request.json): a Parameters resource naming one worklist. */
export const worklistRequest = (listType: string): unknown => ({
  resourceType: 'Parameters',
  meta: { profile: [`${PROFILE}/eRS-FetchWorklist-Parameters-1`] },
  parameter: [{ name: 'listType', valueCodeableConcept: { coding: [{ system: `${CODE_SYSTEM}/eRS-ReferralListSelector-1`, code: listType }] } }],
});

export interface ServiceSearch {
  nhsNumber: string;
  priority: string;
  specialty: string;
  clinicType: string;
  /** A REFERRING_CLINICIAN_ADMIN searches on behalf of a referring clinician (SDS user ID); null otherwise. */
  referringClinician: string | null;
}

/** The e-RS request type the demo searches for, and its sort order (A010_Request.json's values). */
export const REQUEST_TYPE = 'APPOINTMENT_REQUEST';
export const SORT_BY = 'DISTANCE';

/**
 * A010's body (A010_Request.json): patient, requestType, sortBy and a searchCriteria Parameters
 * resource. e-RS needs one of: specialty with clinic type, a clinical term or a named clinician
 * (else 422 VALUE_IS_REQUIRED); the demo searches by specialty and clinic type.
 */
export function serviceSearchRequest(search: ServiceSearch, specialtySystem: string): unknown {
  return {
    resourceType: 'Parameters',
    meta: { profile: [`${PROFILE}/eRS-PatientServiceSearch-Parameters-1`] },
    parameter: [
      { name: 'requestType', valueCoding: { system: `${CODE_SYSTEM}/eRS-RequestType-1`, code: REQUEST_TYPE } },
      { name: 'sortBy', valueCoding: { system: `${CODE_SYSTEM}/eRS-SortBy-1`, code: SORT_BY } },
      { name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: search.nhsNumber } },
      ...(search.referringClinician === null
        ? []
        : [{ name: 'referringClinician', valueIdentifier: { system: 'http://fhir.nhs.net/Id/sds-user-id', value: search.referringClinician } }]),
      {
        name: 'searchCriteria',
        resource: {
          resourceType: 'Parameters',
          meta: { profile: [`${PROFILE}/eRS-ServiceSearchCriteria-Parameters-1`] },
          parameter: [
            { name: 'priority', valueCoding: { system: `${CODE_SYSTEM}/eRS-Priority-1`, code: search.priority } },
            { name: 'specialty', valueCoding: { system: specialtySystem, code: search.specialty } },
            { name: 'clinicType', valueCoding: { system: `${CODE_SYSTEM}/eRS-ClinicType-1`, code: search.clinicType } },
          ],
        },
      },
    ],
  };
}

/** The `url` of an A004 CodeSystem: A010 names specialties in that system (A010_Request.json). */
export const codeSystemUrl = (codeSystem: unknown): string => str(obj(codeSystem).url);
