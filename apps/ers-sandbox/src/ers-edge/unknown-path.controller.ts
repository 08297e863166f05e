import { All, Controller, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ErsOutcomeError } from './ers-errors';
import { ERS_PREFIX, ErsUnknownPath } from './ers-route';

/** Anything under `/ers-api` that is no known endpoint: checked like e-RS (ASID first), then 404. */
@Controller(ERS_PREFIX)
export class UnknownPathController {
  @All('*')
  @ErsUnknownPath()
  unknown(@Req() request: FastifyRequest): never {
    throw ErsOutcomeError.notFound(`No e-RS endpoint at ${request.method} ${request.url.split('?')[0] ?? ''}`);
  }
}
