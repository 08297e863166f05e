/**
 * Reads the few FHIR STU3 shapes the demo shows (A004, A005, A008, A010) into flat view models.
 * e-RS bodies are untrusted input: every field is checked, a missing one shows as an empty cell.
 */
type Json = Record<string, unknown>;

const obj = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');
const firstCode = (concept: unknown): string => str(obj(arr(obj(concept).coding)[0]).code);

export interface ReferralSummary {
  ubrn: string;
  patient: string;
  nhsNumber: string;
  priority: string;
  specialty: string;
  authoredOn: string;
}

export interface Attachment {
  id: string;
  title: string;
  description: string;
  contentType: string;
  size: number | null;
}

export interface Referral extends ReferralSummary {
  version: string;
  clinicType: string;
  referrer: string;
  referrerOrg: string;
  providerOrg: string;
  attachments: Attachment[];
}

export interface Specialty {
  code: string;
  display: string;
}

export interface Service {
  id: string;
  name: string;
  providerOrg: string;
  specialty: string;
}

function entries(bundle: unknown, resourceType: string): Json[] {
  return arr(obj(bundle).entry)
    .map((entry) => obj(obj(entry).resource))
    .filter((resource) => resource.resourceType === resourceType);
}

function summary(resource: Json): ReferralSummary {
  const identifier = arr(resource.identifier).map(obj).find((id) => str(id.system).endsWith('/ubrn'));
  const subject = obj(resource.subject);
  return {
    ubrn: str(identifier?.value) || str(resource.id),
    patient: str(subject.display),
    nhsNumber: str(obj(subject.identifier).value),
    priority: str(resource.priority),
    specialty: firstCode(resource.specialty),
    authoredOn: str(resource.authoredOn),
  };
}

export const worklist = (bundle: unknown): ReferralSummary[] => entries(bundle, 'ReferralRequest').map(summary);

export function referral(resource: unknown): Referral {
  const body = obj(resource);
  const requester = obj(body.requester);
  // Attachments are DocumentReferences contained in the referral, pointing at `Binary/<id>` (A006).
  const attachments = arr(body.contained)
    .map(obj)
    .filter((contained) => contained.resourceType === 'DocumentReference')
    .map((document): Attachment => {
      const attachment = obj(obj(arr(document.content)[0]).attachment);
      const url = str(attachment.url);
      return {
        id: url.startsWith('Binary/') ? url.slice('Binary/'.length) : str(document.id),
        title: str(attachment.title) || str(document.id),
        description: str(document.description),
        contentType: str(attachment.contentType),
        size: typeof attachment.size === 'number' ? attachment.size : null,
      };
    })
    .filter((attachment) => attachment.id !== '');
  return {
    ...summary(body),
    version: str(obj(body.meta).versionId),
    clinicType: firstCode(arr(body.serviceRequested)[0]),
    referrer: str(obj(obj(requester.agent).identifier).value),
    referrerOrg: str(obj(obj(requester.onBehalfOf).identifier).value),
    providerOrg: str(obj(obj(arr(body.recipient)[0]).identifier).value),
    attachments,
  };
}

export const specialties = (codeSystem: unknown): Specialty[] =>
  arr(obj(codeSystem).concept)
    .map(obj)
    .map((concept) => ({ code: str(concept.code), display: str(concept.display) || str(concept.code) }))
    .filter((concept) => concept.code !== '');

export const services = (bundle: unknown): Service[] =>
  entries(bundle, 'HealthcareService').map((resource) => ({
    id: str(resource.id),
    name: str(resource.name),
    providerOrg: str(obj(obj(resource.providedBy).identifier).value),
    specialty: firstCode(arr(resource.specialty)[0]),
  }));

/** A008's body: a Parameters resource naming one worklist. */
export const worklistRequest = (listType: string): unknown => ({
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

/** A010's body: an optional specialty filter. */
export const serviceSearchRequest = (specialty: string | null): unknown => ({
  resourceType: 'Parameters',
  parameter:
    specialty === null
      ? []
      : [{ name: 'specialty', valueCodeableConcept: { coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/SPECIALTY-1', code: specialty }] } }],
});
