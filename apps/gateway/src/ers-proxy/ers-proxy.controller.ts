import { All, Controller, Req, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../problem/gateway-error';
import { ErsCallAuthGuard } from './ers-call.strategy';
import { ErsProxyService, FastifyProxyCall } from './ers-proxy.service';

/** The proxy's route template, as Fastify names it (`api/ers` + `*`), for the log and the metrics. */
export const ERS_PROXY_ROUTE = '/api/ers/*';

@Controller('api/ers')
export class ErsProxyController {
  constructor(private readonly proxy: ErsProxyService) {}

  /** Documented by hand in the OpenAPI document (a wildcard route generates nothing useful). */
  @All('*')
  @ApiExcludeEndpoint()
  @UseGuards(ErsCallAuthGuard)
  forward(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // The guard's grant is read off the request rather than through a param decorator: a custom
    // param goes through the global ValidationPipe (a promise per call) for nothing here.
    request.routeTemplate = ERS_PROXY_ROUTE;
    const grant = request.ersGrant;
    if (grant === undefined) throw new GatewayError('no-session', 'There is no session; sign in with your smartcard.');
    return this.proxy.forward(grant, new FastifyProxyCall(this.proxy, request, reply));
  }
}
