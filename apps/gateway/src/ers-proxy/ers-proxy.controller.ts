import { All, Controller, Req, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Current } from '../session/current-session.decorator';
import { ErsCallAuthGuard, type ErsCallGrant } from './ers-call.strategy';
import { ErsProxyService } from './ers-proxy.service';

@Controller('api/ers')
export class ErsProxyController {
  constructor(private readonly proxy: ErsProxyService) {}

  /** Documented by hand in the OpenAPI document (a wildcard route generates nothing useful). */
  @All('*')
  @ApiExcludeEndpoint()
  @UseGuards(ErsCallAuthGuard)
  forward(
    @Current() grant: ErsCallGrant,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.proxy.forward(grant, request, reply);
  }
}
