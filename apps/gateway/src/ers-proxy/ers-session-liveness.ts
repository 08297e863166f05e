import { Injectable } from '@nestjs/common';
import { ErsClientError, ErsSessionClient, InjectErsSessionClient } from '@libs/ers-client';
import { InjectSessionStore, SessionStore } from '@libs/session-store';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { describe } from '../upstream-close/upstream-close.service';

/** `dead`: e-RS no longer knows the session. `live`: it does. `unknown`: the check could not tell. */
export type LivenessVerdict = 'live' | 'dead' | 'unknown';

/**
 * Tells a dead e-RS session from a 403 that is e-RS's answer to the call. Since 5 November 2024
 * every 403 of a business endpoint carries an OperationOutcome, for a session killed by card
 * removal or a Spine timeout and for a role that may not make the call alike, and the wording of
 * its diagnostics is not published. The session endpoints did not change, so the check asks one:
 * A002 again with the role already selected, which a live session refuses with 400 (a second
 * role, SCAL A002-03) and e-RS answers 403 for a session it does not know.
 *
 * One check per e-RS session at a time per instance: 403s that arrive while one runs share it.
 * Checks have their own small lane in the e-RS client; when it is full, or the check fails, the
 * verdict is `unknown` and the 403 passes through (the next 403 checks again).
 */
@Injectable()
export class ErsSessionLiveness {
  private readonly running = new Map<string, Promise<LivenessVerdict>>();

  constructor(
    @InjectSessionStore() private readonly store: SessionStore,
    @InjectErsSessionClient() private readonly ers: ErsSessionClient,
    @InjectLogger() private readonly logger: GatewayLogger,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** Never rejects: what it cannot find out is `unknown`. */
  check(sessionId: string, upstreamId: string): Promise<LivenessVerdict> {
    let verdict = this.running.get(upstreamId);
    if (verdict === undefined) {
      verdict = this.ask(sessionId, upstreamId).finally(() => this.running.delete(upstreamId));
      this.running.set(upstreamId, verdict);
    }
    return verdict;
  }

  private async ask(sessionId: string, upstreamId: string): Promise<LivenessVerdict> {
    let verdict: LivenessVerdict = 'unknown';
    try {
      const session = await this.store.get(sessionId);
      // Ended, switched or re-keyed meanwhile: this cookie has nothing left to check.
      if (session === null || session.upstreamId !== upstreamId || session.role === null) return verdict;
      const started = process.hrtime.bigint();
      try {
        verdict = await this.ers.checkSession(session.upstream.sessionKey, session.upstream.ssoToken, session.role);
      } finally {
        this.metrics.upstreamDuration.observe({ operation: 'check' }, Number(process.hrtime.bigint() - started) / 1e9);
      }
      return verdict;
    } catch (error) {
      if (error instanceof ErsClientError) this.metrics.upstreamErrors.inc({ operation: 'check', kind: error.name });
      this.logger.warn(
        { event: 'ers-session-check-failed', upstream: upstreamId, err: describe(error) },
        'could not tell whether an e-RS session that answered 403 is alive; the 403 passes through',
      );
      return verdict;
    } finally {
      this.metrics.sessionChecks.inc({ verdict });
    }
  }
}
