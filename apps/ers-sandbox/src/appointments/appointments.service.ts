import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ERS_SERVICE_SYSTEM, STRUCTURE_DEFINITION, type FhirResource } from '../fixtures/fhir';
import { healthcareService } from '../fixtures/reference-data';
import { Delays } from '../state/delays';
import { Switches } from '../state/switches';
import type { AppointmentDto } from './appointment.dto';

type Participant = { actor?: { identifier?: { system?: unknown; value?: unknown } }; status?: unknown };

const HISTORY = /^(ReferralRequest\/\d{12}\/_history\/)(\d+)$/;

@Injectable()
export class AppointmentsService {
  constructor(
    private readonly switches: Switches,
    private readonly delays: Delays,
  ) {}

  /**
   * A016 books (status `booked`) or defers (`proposed`) through the provider's PAS, which can take
   * ~2 minutes: the delay is a switch. The answer has the structure of A016_Response_BOOK.json and
   * A016_Response_DEFER.json: the request's fields, an id, both profiles, `created`, the referral's
   * version moved on, the service named, participants without an identifier value left out, and
   * (A016 page) no slot on a deferral. The sandbox's referral fixtures themselves do not change.
   */
  async book(request: AppointmentDto): Promise<FhirResource> {
    await this.delays.sleep(this.switches.a016DelayMs);
    const field = (name: string): Record<string, unknown> => (request[name] === undefined ? {} : { [name]: request[name] });
    const status = request['status'] === 'proposed' ? 'proposed' : 'booked';
    return {
      id: randomUUID(),
      meta: {
        profile: [
          `${STRUCTURE_DEFINITION}/eRS-Appointment-1`,
          'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Appointment-1',
        ],
      },
      ...field('language'),
      resourceType: 'Appointment',
      status,
      ...field('reason'),
      ...field('description'),
      ...field('start'),
      ...field('end'),
      ...(status === 'booked' ? field('slot') : {}),
      created: new Date().toISOString(),
      ...field('comment'),
      ...(Array.isArray(request['incomingReferral']) ? { incomingReferral: request['incomingReferral'].map(nextVersion) } : {}),
      ...(Array.isArray(request['participant']) ? { participant: participants(request['participant'] as Participant[]) } : {}),
    };
  }
}

function nextVersion(reference: unknown): unknown {
  const value = (reference as { reference?: unknown } | null)?.reference;
  const match = typeof value === 'string' ? HISTORY.exec(value) : null;
  return match === null ? reference : { reference: `${match[1] ?? ''}${Number(match[2]) + 1}` };
}

function participants(list: Participant[]): Participant[] {
  return list
    .filter((participant) => typeof participant.actor?.identifier?.value === 'string' && participant.actor.identifier.value !== '')
    .map((participant) => {
      const identifier = participant.actor?.identifier;
      const service = identifier?.system === ERS_SERVICE_SYSTEM ? healthcareService(String(identifier.value)) : undefined;
      return service === undefined ? participant : { ...participant, actor: { display: service.name, ...participant.actor } };
    });
}
