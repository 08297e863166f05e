import { All, Controller, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ControlError } from './control-errors';

/** Unknown `/_sandbox` paths answer in the control API's own error shape. */
@Controller('_sandbox')
export class UnknownControlController {
  @All('*')
  unknown(@Req() request: FastifyRequest): never {
    throw ControlError.notFound(`No sandbox control at ${request.method} ${request.url.split('?')[0] ?? ''}`);
  }
}
