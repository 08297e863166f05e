import type { Server } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { HttpConfig } from '@libs/config';
import { ERS_SESSION_LANES, type ErsSessionLanes } from '@libs/ers-client';
import { DrainState } from '../health/drain-state';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { UpstreamCloseService } from '../upstream-close/upstream-close.service';

/** How often connections that went idle during the drain are closed. */
const IDLE_SWEEP_MS = 100;

/**
 * What SIGTERM does before Nest closes the modules, in this order, so that no work in flight is
 * cut (docs/design.md, "Draining"):
 *
 * 1. readiness answers 503 for `DRAIN_GRACE_MS` while the listener still accepts and serves, so a
 *    load balancer takes the instance out before it stops answering; every answer from now on
 *    carries `Connection: close` (the front door), so keep-alive connections end with it;
 * 2. the listener stops accepting; idle connections are closed, busy ones after their answer;
 * 3. it waits for every connection to end: proxied calls, sign-ins and role choices (A001/A002,
 *    and a switch's A003) finish, bounded by their own timeouts;
 * 4. the e-RS session calls whose browser went away meanwhile finish too;
 * 5. the close worker stops claiming and finishes the closes it holds.
 *
 * Then `app.close()` closes the modules: the e-RS pools last (`ErsClientModule`).
 * `SHUTDOWN_TIMEOUT_MS` bounds the whole (main.ts).
 */
@Injectable()
export class Drain {
  constructor(
    private readonly state: DrainState,
    private readonly metrics: GatewayMetrics,
    private readonly closes: UpstreamCloseService,
    @Inject(ERS_SESSION_LANES) private readonly lanes: ErsSessionLanes,
    @InjectLogger() private readonly logger: GatewayLogger,
    private readonly http: HttpConfig,
  ) {}

  async run(server: Server, signal: string): Promise<void> {
    const graceMs = this.http.drainGraceMs;
    this.state.draining = true;
    this.metrics.draining.set(1);
    this.logger.info({ event: 'draining', signal, graceMs }, 'draining: readiness 503, still serving');
    await new Promise((resolve) => setTimeout(resolve, graceMs));

    this.logger.info({ event: 'listener-closed' }, 'listener closed; finishing calls in flight');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A keep-alive connection whose answer had started before SIGTERM went out without
    // `Connection: close`: close it as soon as it goes idle.
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    try {
      await closed;
    } finally {
      clearInterval(sweep);
    }
    // A sign-in whose browser went away still runs: its e-RS session must be stored (to be closed).
    await Promise.all([this.lanes.logins.idle(), this.lanes.checks.idle()]);
    await this.closes.stop();
    this.logger.info({ event: 'drained' }, 'calls and closes in flight finished');
  }
}
