import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { InjectSessionStore, SessionStore } from '@libs/session-store';
import { DrainState } from './drain-state';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    @InjectSessionStore() private readonly store: SessionStore,
    private readonly drain: DrainState,
  ) {}

  @Get('live')
  @ApiOperation({ summary: '200 while the process runs' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: '200 when the session store answers and the process is not draining' })
  @ApiResponse({ status: 503, description: 'store down or draining' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<{ status: string; store: string; draining: boolean }> {
    const store = await this.store.ping().then(
      () => 'up',
      () => 'down',
    );
    const ok = store === 'up' && !this.drain.draining;
    void reply.code(ok ? 200 : 503).header('cache-control', 'no-store');
    return { status: ok ? 'ok' : 'unavailable', store, draining: this.drain.draining };
  }
}
