import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { HealthService, type Readiness } from './health.service';

/** The health endpoints on the public port, for load balancers (also on `OPS_PORT`). */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @ApiOperation({ summary: '200 while the process runs' })
  live(): { status: 'ok' } {
    return this.health.live();
  }

  @Get('ready')
  @ApiOperation({ summary: '200 when the session store answers and the process is not draining' })
  @ApiResponse({ status: 503, description: 'store down or draining' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Readiness['body']> {
    const readiness = await this.health.readiness();
    void reply.code(readiness.ready ? 200 : 503).header('cache-control', 'no-store');
    return readiness.body;
  }
}
