import { Body, Controller, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErsBodyPipe } from '../ers-edge/ers-body.pipe';
import { ErsBusinessEndpoint, FHIR_JSON, REFERRER_ROLES, STU3_PREFIX } from '../ers-edge/ers-route';
import type { FhirResource } from '../fixtures/fhir';
import { AppointmentDto } from './appointment.dto';
import { AppointmentsService } from './appointments.service';

@Controller(STU3_PREFIX)
export class AppointmentsController {
  constructor(private readonly appointments: AppointmentsService) {}

  /** A016 Book or defer an appointment (referrer roles); slow on purpose. */
  @Post('Appointment')
  @HttpCode(201)
  @Header('Content-Type', FHIR_JSON)
  @ErsBusinessEndpoint('A016', REFERRER_ROLES)
  async book(
    @Body(new ErsBodyPipe(AppointmentDto, { outcomeKey: 'INVALID_VALUE' })) body: AppointmentDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirResource> {
    const appointment = await this.appointments.book(body);
    reply.header('Location', `http://${request.headers.host ?? 'localhost'}/${STU3_PREFIX}/Appointment/${appointment.id ?? ''}/_history/1`);
    return appointment;
  }
}
