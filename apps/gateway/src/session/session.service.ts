import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { GatewayConfig } from '@libs/config';
import {
  ErsClientError,
  ErsRoleAlreadySelectedError,
  ErsRoleRejectedError,
  ErsSessionClient,
  ErsTokenRejectedError,
  InjectErsSessionClient,
  type OpenedUpstreamSession,
} from '@libs/ers-client';
import {
  type EndReason,
  type EndedSession,
  type GatewayRole,
  type GatewaySession,
  InjectSessionStore,
  SessionStore,
  StoreUnavailableError,
} from '@libs/session-store';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { GatewayError } from '../problem/gateway-error';
import { endingSession } from '../problem/to-problem';
import { UpstreamCloseService, describe } from '../upstream-close/upstream-close.service';
import { LoginThrottle, type ThrottledLogin } from './login-throttle';
import { SessionCookie } from './session-cookie';

/** A session as the request that carries it sees it: the cookie value and what it leads to. */
export interface CurrentSession {
  sessionId: string;
  session: GatewaySession;
}

/**
 * The session lifecycle: login (A001), role choice (A002) and switch (A003, A001, A002), logout.
 * Every e-RS session it opens ends up either behind a stored gateway session or in the close
 * queue: none is left open behind a session the gateway has forgotten.
 */
@Injectable()
export class SessionService {
  private readonly switchDeadlineMs: number;

  constructor(
    @InjectSessionStore() private readonly store: SessionStore,
    @InjectErsSessionClient() private readonly ers: ErsSessionClient,
    @InjectLogger() private readonly logger: GatewayLogger,
    private readonly closes: UpstreamCloseService,
    private readonly cookie: SessionCookie,
    private readonly metrics: GatewayMetrics,
    private readonly throttle: LoginThrottle,
    config: GatewayConfig,
  ) {
    // A switch waits for the old session's calls (at most their lease) and then its A003.
    this.switchDeadlineMs = config.ers.timeoutMs + 2 * config.ers.sessionTimeoutMs + 10_000;
  }

  /**
   * `POST /api/session`: the login throttle first (a refused login changes nothing), then ends any
   * session the request has, then A001, then a new session.
   */
  async login(ssoToken: string, currentSessionId: string | null, clientAddress: string): Promise<CurrentSession> {
    const admitted = await this.throttle.admit(clientAddress, ssoToken);
    let hadSession = false;
    let opened: OpenedUpstreamSession;
    try {
      hadSession = currentSessionId !== null && (await this.end(currentSessionId, 'relogin'));
      opened = await this.createUpstream(ssoToken, admitted);
    } catch (error) {
      throw hadSession ? endingSession(error) : error;
    }
    if (opened.permissions.length === 0) {
      // e-RS opened a session the user cannot use: close it rather than leave it open.
      this.closes.recordEnded(await this.store.queueClose({ sessionKey: opened.sessionKey, ssoToken }, 'no-roles'));
      throw new GatewayError('no-roles', 'This smartcard has no e-RS roles, so there is nothing to sign in to.', { clearCookie: hadSession });
    }
    const sessionId = this.cookie.newSessionId();
    const session = await this.storeNew(sessionId, opened, ssoToken, null);
    this.metrics.sessionsStarted.inc();
    this.logger.info({ event: 'session-started', upstream: session.upstreamId, roles: session.roles.length }, 'session started');
    return { sessionId, session };
  }

  /** `PUT /api/session/role`: the first choice is A002; a later one is a role switch. */
  async chooseRole(
    current: CurrentSession,
    choice: { businessFunction: string; orgIdentifier: string },
    clientAddress: string,
  ): Promise<CurrentSession> {
    const role = current.session.roles.find(
      (held) => held.businessFunction === choice.businessFunction && held.orgIdentifier === choice.orgIdentifier,
    );
    if (role === undefined) {
      throw new GatewayError('unknown-role', 'That business function and organisation is not one of your roles.');
    }
    if (current.session.role === null) return this.selectFirstRole(current.sessionId, role, clientAddress);
    if (sameRole(current.session.role, role)) return this.reissue(current.sessionId, role);
    return this.switchRole(current, role, clientAddress);
  }

  /** `DELETE /api/session` and every other end: local state goes now, the A003 follows. */
  async end(sessionId: string, reason: EndReason): Promise<boolean> {
    const ended = await this.store.end(sessionId, reason);
    if (ended === null) return false;
    this.closes.recordEnded(ended);
    return true;
  }

  private async selectFirstRole(sessionId: string, role: GatewayRole, clientAddress: string): Promise<CurrentSession> {
    const callId = randomUUID();
    const marked = await this.store.beginSessionCall(sessionId, callId);
    if (marked === null) throw new GatewayError('no-session', 'There is no session; sign in again.');
    let sessionKey: string;
    try {
      ({ sessionKey } = await this.timed('A002', () =>
        this.ers.selectRole(marked.upstream.sessionKey, marked.upstream.ssoToken, role),
      ));
    } catch (error) {
      await this.store.endCall(marked.upstreamId, callId);
      if (error instanceof ErsRoleAlreadySelectedError) {
        // An earlier A002 reached e-RS but its answer did not reach us: e-RS allows one role
        // per session, so the only way on is a switch.
        return this.switchRole({ sessionId, session: marked }, role, clientAddress);
      }
      if (error instanceof ErsRoleRejectedError) {
        // We only ask for roles the user holds: a 403 here means the e-RS session is dead.
        await this.end(sessionId, 'session-expired');
        throw new GatewayError('session-expired', 'Your e-RS session has ended; insert your card and sign in again.', { clearCookie: true });
      }
      throw error;
    }
    const newSessionId = this.cookie.newSessionId();
    const committed = await this.store.commitRole(sessionId, newSessionId, callId, role, sessionKey);
    if (committed === null) {
      // Logged out while A002 ran. If e-RS gave the session a new key, the queued close holds the
      // old one: close the new key too so nothing stays open.
      if (sessionKey !== marked.upstream.sessionKey) {
        this.closes.recordEnded(await this.store.queueClose({ sessionKey, ssoToken: marked.upstream.ssoToken }, 'logout'));
      }
      throw new GatewayError('no-session', 'The session ended while the role was being selected.');
    }
    this.logger.info({ event: 'role-selected', upstream: committed.upstreamId, businessFunction: role.businessFunction }, 'role selected');
    return { sessionId: newSessionId, session: committed };
  }

  /** The same role again: nothing to ask e-RS, but the cookie value still changes. */
  private async reissue(sessionId: string, role: GatewayRole): Promise<CurrentSession> {
    const callId = randomUUID();
    const marked = await this.store.beginSessionCall(sessionId, callId);
    if (marked === null) throw new GatewayError('no-session', 'There is no session; sign in again.');
    const newSessionId = this.cookie.newSessionId();
    const committed = await this.store.commitRole(sessionId, newSessionId, callId, role, marked.upstream.sessionKey);
    if (committed === null) throw new GatewayError('no-session', 'There is no session; sign in again.');
    return { sessionId: newSessionId, session: committed };
  }

  /**
   * e-RS allows one A002 per session, so a switch is: A003 on the old e-RS session once its
   * calls have ended, then A001 with the stored token (only after the A003 answer), then A002.
   * The old cookie stops working at once; the absolute lifetime carries over.
   */
  private async switchRole(current: CurrentSession, role: GatewayRole, clientAddress: string): Promise<CurrentSession> {
    const { session } = current;
    const ssoToken = session.upstream.ssoToken;
    // A switch sends an A001 too: throttled like a sign-in, before anything ends.
    const admitted = await this.throttle.admit(clientAddress, ssoToken);
    // Until an A001 is sent, the reserved sign-in goes back on any failure: a switch that lost a
    // race (another tab signed out or switched first) must not count against the card.
    const giveBack = (): Promise<void> => this.throttle.settle(admitted, false);
    let ended: EndedSession | null;
    try {
      ended = await this.store.end(current.sessionId, 'role-switch');
    } catch (error) {
      await giveBack();
      throw error;
    }
    if (ended === null) {
      await giveBack();
      throw new GatewayError('no-session', 'There is no session; sign in again.');
    }
    this.closes.recordEnded(ended);
    try {
      try {
        await this.closes.closeNow(ended.upstreamId, this.switchDeadlineMs);
      } catch (error) {
        await giveBack();
        throw error;
      }
      const opened = await this.createUpstream(ssoToken, admitted);
      const held = opened.permissions.find((permission) => sameRole(permission, role));
      if (held === undefined) {
        this.closes.recordEnded(await this.store.queueClose({ sessionKey: opened.sessionKey, ssoToken }, 'role-switch'));
        throw new GatewayError('unknown-role', 'e-RS no longer lists that role for you; sign in again.');
      }
      let sessionKey: string;
      try {
        ({ sessionKey } = await this.timed('A002', () => this.ers.selectRole(opened.sessionKey, ssoToken, role)));
      } catch (error) {
        this.closes.recordEnded(await this.store.queueClose({ sessionKey: opened.sessionKey, ssoToken }, 'role-switch'));
        throw error;
      }
      const newSessionId = this.cookie.newSessionId();
      const created = await this.storeNew(
        newSessionId,
        { ...opened, sessionKey },
        ssoToken,
        held,
        session.absoluteExpiresAtMs,
      );
      this.logger.info({ event: 'role-switched', upstream: created.upstreamId, businessFunction: role.businessFunction }, 'role switched');
      return { sessionId: newSessionId, session: created };
    } catch (error) {
      if (error instanceof ErsTokenRejectedError || error instanceof ErsRoleRejectedError) {
        throw new GatewayError('session-expired', 'Your smartcard session has ended; insert your card and sign in again.', { clearCookie: true });
      }
      throw endingSession(error);
    }
  }

  private async storeNew(
    sessionId: string,
    opened: OpenedUpstreamSession,
    ssoToken: string,
    role: GatewayRole | null,
    absoluteExpiresAtMs?: number,
  ): Promise<GatewaySession> {
    try {
      const { displaced, ...created } = await this.store.create(sessionId, {
        upstream: { sessionKey: opened.sessionKey, ssoToken },
        user: {
          identifier: opened.user.identifier,
          firstName: opened.user.firstName,
          lastName: opened.user.lastName,
          middleName: opened.user.middleName,
        },
        roles: opened.permissions.map((permission) => ({
          businessFunction: permission.businessFunction,
          orgIdentifier: permission.orgIdentifier,
          orgName: permission.orgName,
        })),
        role,
        ...(absoluteExpiresAtMs === undefined ? {} : { absoluteExpiresAtMs }),
      });
      // MAX_SESSIONS_PER_USER: the store ended the user's oldest sessions with this one; their A003s are queued.
      for (const ended of displaced ?? []) this.closes.recordEnded(ended);
      return created;
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        // Nowhere to record it: close the new e-RS session directly rather than leak it.
        this.ers.deleteSession(opened.sessionKey).then(
          (result) => this.metrics.upstreamCloses.inc({ result }),
          (closeError: unknown) =>
            this.logger.error({ event: 'upstream-close-failed', err: describe(closeError) }, 'could not close an unrecorded e-RS session'),
        );
      }
      throw error;
    }
  }

  /** A001, counted by the login throttle: a token e-RS refused keeps its failure. */
  private async createUpstream(ssoToken: string, admitted: ThrottledLogin): Promise<OpenedUpstreamSession> {
    let refused = false;
    try {
      return await this.timed('A001', () => this.ers.createSession(ssoToken));
    } catch (error) {
      refused = error instanceof ErsTokenRejectedError;
      throw error;
    } finally {
      await this.throttle.settle(admitted, refused);
    }
  }

  private async timed<T>(operation: 'A001' | 'A002', call: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      return await call();
    } catch (error) {
      if (error instanceof ErsClientError) this.metrics.upstreamErrors.inc({ operation, kind: error.name });
      throw error;
    } finally {
      this.metrics.upstreamDuration.observe({ operation }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
}

function sameRole(a: { businessFunction: string; orgIdentifier: string }, b: { businessFunction: string; orgIdentifier: string }): boolean {
  return a.businessFunction === b.businessFunction && a.orgIdentifier === b.orgIdentifier;
}
