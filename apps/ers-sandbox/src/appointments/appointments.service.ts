import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FhirResource } from '../fixtures/fhir';
import { Delays } from '../state/delays';
import { Switches } from '../state/switches';
import type { AppointmentDto } from './appointment.dto';

@Injectable()
export class AppointmentsService {
  constructor(
    private readonly switches: Switches,
    private readonly delays: Delays,
  ) {}

  /** A016 books through the provider's PAS, which can take ~2 minutes: the delay is a switch. */
  async book(appointment: AppointmentDto): Promise<FhirResource> {
    await this.delays.sleep(this.switches.a016DelayMs);
    return {
      ...appointment,
      resourceType: 'Appointment',
      id: randomUUID(),
      meta: { versionId: '1', profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-Appointment-1'] },
      status: 'booked',
    };
  }
}
