import { Equals } from 'class-validator';

/** A016 body: an Appointment; the sandbox only checks its type and echoes the rest. */
export class AppointmentDto {
  [field: string]: unknown;
  @Equals('Appointment') resourceType!: 'Appointment';
}
