import {
  type BeforeApplicationShutdown,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { GatewayConfig } from '@libs/config';
import { ErsClientError, ErsSessionClient, InjectErsSessionClient } from '@libs/ers-client';
import {
  type ClaimedClose,
  type EndedSession,
  InjectSessionStore,
  SessionStore,
  StoreUnavailableError,
} from '@libs/session-store';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';

const SWEEP_INTERVAL_MS = 1000;
const CLAIM_INTERVAL_MS = 250;
/** Expired sessions ended per sweep step. */
const SWEEP_BATCH = 20;
/** A close retried this often has failed for about an hour: give up loudly. */
const MAX_ATTEMPTS = 60;
const MAX_BACKOFF_MS = 60_000;
const WAIT_STEP_MS = 100;
const COMPLETE_RETRY_MS = 250;

/**
 * Closes e-RS sessions (A003) that the gateway has finished with, exactly once each, never while
 * a call on them is in flight at any instance (an e-RS rule). Redis is the durable record: every
 * ended session's close sits in a due-list that any instance claims with a lease, so a close
 * whose instance died is taken up by another. A sweeper ends idle and absolutely expired
 * sessions even when their user never comes back.
 */
@Injectable()
export class UpstreamCloseService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private sweepTimer: NodeJS.Timeout | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private storeDown = false;
  readonly claimLeaseMs: number;
  /** Closes claimed at a time: as many as the A003 lane sends at once, so none waits out its lease. */
  private readonly claimBatch: number;

  constructor(
    @InjectSessionStore() private readonly store: SessionStore,
    @InjectErsSessionClient() private readonly ers: ErsSessionClient,
    @InjectLogger() private readonly logger: GatewayLogger,
    private readonly metrics: GatewayMetrics,
    config: GatewayConfig,
  ) {
    // Longer than an A003 may take, so a slow close is never claimed (and sent) twice.
    this.claimLeaseMs = config.ers.sessionTimeoutMs + 5_000;
    this.claimBatch = config.ers.closeConcurrency;
  }

  onApplicationBootstrap(): void {
    this.sweepTimer = setInterval(() => this.tick(() => this.sweep()), SWEEP_INTERVAL_MS);
    this.claimTimer = setInterval(() => this.tick(() => this.claimAndClose()), CLAIM_INTERVAL_MS);
    this.sweepTimer.unref();
    this.claimTimer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /**
   * Stops claiming closes and sweeping, and resolves once the closes this instance holds have been
   * sent and answered (each within its A003 timeout): a close cut here would be sent again by
   * another instance when its lease ran out.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.claimTimer);
    await this.running;
  }

  /** A session just ended here: look for due closes now rather than at the next tick. */
  kick(): void {
    setImmediate(() => this.tick(() => this.claimAndClose()));
  }

  /**
   * Waits until the close of `upstreamId` has been answered, sending it from here when this
   * instance gets the claim. A role switch needs this: its A001 must wait for the old A003.
   */
  async closeNow(upstreamId: string, deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const result = await this.store.claimClose(upstreamId, this.claimLeaseMs);
      if (result.status === 'done') return;
      if (result.status === 'claimed') {
        const outcome = await this.send(result.close);
        if (outcome === 'closed') return;
      }
      if (Date.now() > deadline) {
        throw new Error('the previous e-RS session could not be closed in time');
      }
      await sleep(WAIT_STEP_MS);
    }
  }

  /** Counts an ended session and makes its close due. */
  recordEnded(ended: EndedSession): void {
    this.metrics.sessionsEnded.inc({ reason: ended.reason });
    this.logger.info({ event: 'session-ended', reason: ended.reason, upstream: ended.upstreamId }, 'session ended');
    this.kick();
  }

  private tick(work: () => Promise<void>): void {
    if (this.stopped || this.running !== undefined) return;
    this.running = work()
      .then(() => {
        if (this.storeDown) this.logger.info({ event: 'store-recovered' }, 'session store answers again');
        this.storeDown = false;
      })
      .catch((error: unknown) => this.onTickError(error))
      .finally(() => {
        this.running = undefined;
      });
  }

  private onTickError(error: unknown): void {
    if (error instanceof StoreUnavailableError) {
      this.metrics.storeErrors.inc();
      if (!this.storeDown) this.logger.warn({ event: 'store-unavailable' }, 'session store unavailable; closes wait');
      this.storeDown = true;
      return;
    }
    this.logger.error({ err: describe(error) }, 'upstream close pass failed');
  }

  private async sweep(): Promise<void> {
    for (;;) {
      const ended = await this.store.sweepExpired(SWEEP_BATCH);
      for (const session of ended) this.recordEnded(session);
      if (ended.length < SWEEP_BATCH || this.stopped) return;
    }
  }

  private async claimAndClose(): Promise<void> {
    for (;;) {
      const claimed = await this.store.claimCloses(this.claimBatch, this.claimLeaseMs);
      await Promise.all(claimed.map((close) => this.send(close)));
      if (claimed.length < this.claimBatch || this.stopped) return;
    }
  }

  /**
   * The A003 went out: the close is completed, retried through a store outage (a failover) while
   * its claim holds, since a close left claimed is sent a second time once its lease runs out.
   */
  private async recordSent(upstreamId: string): Promise<void> {
    const deadline = Date.now() + this.claimLeaseMs / 2;
    for (;;) {
      try {
        await this.store.completeClose(upstreamId);
        return;
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || Date.now() > deadline) throw error;
        await sleep(COMPLETE_RETRY_MS);
      }
    }
  }

  private async send(close: ClaimedClose): Promise<'closed' | 'retry'> {
    const started = process.hrtime.bigint();
    try {
      const result = await this.ers.deleteSession(close.sessionKey);
      this.metrics.upstreamDuration.observe({ operation: 'A003' }, elapsedSeconds(started));
      await this.recordSent(close.upstreamId);
      this.metrics.upstreamCloses.inc({ result });
      this.logger.info(
        { event: 'upstream-closed', upstream: close.upstreamId, reason: close.reason, result },
        'e-RS session closed (A003)',
      );
      return 'closed';
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      const kind = error instanceof ErsClientError ? error.name : 'Error';
      this.metrics.upstreamErrors.inc({ operation: 'A003', kind });
      if (close.attempt >= MAX_ATTEMPTS) {
        await this.store.completeClose(close.upstreamId);
        this.metrics.upstreamCloses.inc({ result: 'abandoned' });
        this.logger.error(
          { event: 'upstream-close-abandoned', upstream: close.upstreamId, attempts: close.attempt, err: describe(error) },
          'gave up closing an e-RS session',
        );
        return 'retry';
      }
      const retryInMs = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(close.attempt, 10));
      await this.store.releaseClose(close.upstreamId, retryInMs);
      this.metrics.upstreamCloses.inc({ result: 'failed' });
      this.logger.warn(
        { event: 'upstream-close-failed', upstream: close.upstreamId, attempt: close.attempt, retryInMs, err: describe(error) },
        'A003 failed; will retry',
      );
      return 'retry';
    }
  }
}

function elapsedSeconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Error name and message only: errors from our libraries never carry secrets in either. */
export function describe(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'unknown', message: String(error) };
}
