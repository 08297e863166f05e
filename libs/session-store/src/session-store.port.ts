import { Inject } from '@nestjs/common';

/**
 * The gateway's session store: where a browser session (`sessionId`, the cookie's opaque value)
 * leads to its upstream e-RS session, and the durable record of which upstream sessions must be
 * closed (A003) and which have calls in flight.
 *
 * Words: `sessionId` is the cookie value (the store keeps only its SHA-256, never the value);
 * `upstreamId` is the store's own random id for one e-RS session (never the e-RS session key);
 * `upstream.sessionKey` / `upstream.ssoToken` are the e-RS secrets, kept encrypted at rest.
 *
 * All times are epoch milliseconds taken from the store's clock (Redis `TIME` for Redis), so
 * several gateway instances with skewed clocks agree.
 */
export interface SessionStore {
  /**
   * Stores a new session and its upstream record atomically, filed in its user's index.
   * `absoluteExpiresAtMs` is given on a role switch (the absolute lifetime never slides);
   * otherwise now + the absolute timeout. With `maxSessionsPerUser`, the user's oldest live
   * sessions past the limit end in the same step (reason `session-limit`, closes queued) and are
   * returned in `displaced`.
   */
  create(sessionId: string, init: NewGatewaySession): Promise<CreatedSession>;

  /** Reads a live session without sliding the idle timeout. `null` when absent or expired. */
  get(sessionId: string): Promise<GatewaySession | null>;

  /**
   * The hot path, one round trip: reads the session, and when it is live, has a role and fewer
   * than `maxCallsPerSession` calls in flight, slides the idle timeout (never past the absolute
   * expiry) and marks `callId` in flight on its upstream session with a lease of `inFlightLeaseMs`.
   */
  beginCall(sessionId: string, callId: string): Promise<CallGrant>;

  /**
   * Marks `callId` in flight for a session-management call (A002) without sliding the idle
   * timeout and without requiring a role. Returns the whole session (its secrets included).
   */
  beginSessionCall(sessionId: string, callId: string): Promise<GatewaySession | null>;

  /** Clears an in-flight mark. Idempotent. */
  endCall(upstreamId: string, callId: string): Promise<void>;

  /**
   * After A002: moves the session to `newSessionId` (the old id stops working at once) with the
   * chosen role and the session key A002 answered with, and clears the in-flight mark `callId`.
   * Returns `null` (and only clears the mark) when the old session ended meanwhile.
   */
  commitRole(
    oldSessionId: string,
    newSessionId: string,
    callId: string,
    role: GatewayRole,
    sessionKey: string,
  ): Promise<GatewaySession | null>;

  /**
   * Ends a session: deletes it at once and queues the close (A003) of its upstream session,
   * which will be claimable once no call on it is in flight. `null` when there was no session.
   */
  end(sessionId: string, reason: EndReason): Promise<EndedSession | null>;

  /**
   * The user's live sessions (by `GatewayUser.identifier`), oldest first: what an operator may
   * see of them, never a secret or the cookie value.
   */
  listUserSessions(userIdentifier: string): Promise<UserSessionSummary[]>;

  /**
   * Ends one of the user's sessions, named by its hashed id, as `end` does (its close queued
   * once). `null` when the user has no such session.
   */
  endUserSession(userIdentifier: string, hashedId: string, reason: EndReason): Promise<EndedSession | null>;

  /** Ends every session of the user in one step, as `end` does; returns those it ended. */
  endUserSessions(userIdentifier: string, reason: EndReason): Promise<EndedSession[]>;

  /** Queues the close of an upstream session that has no gateway session (A001 without roles). */
  queueClose(upstream: UpstreamSecrets, reason: EndReason): Promise<EndedSession>;

  /** Ends up to `limit` sessions whose idle or absolute expiry has passed; queues their closes. */
  sweepExpired(limit: number): Promise<EndedSession[]>;

  /**
   * Claims up to `limit` queued closes that are due and have no live in-flight mark, each with a
   * lease of `leaseMs`: until it runs out, nobody else can claim the same close.
   */
  claimCloses(limit: number, leaseMs: number): Promise<ClaimedClose[]>;

  /** Claims one queued close (a role switch waits for its own old session's close). */
  claimClose(upstreamId: string, leaseMs: number): Promise<ClaimCloseResult>;

  /** The close was sent and answered (204, or 403 = already ended): forget the upstream session. */
  completeClose(upstreamId: string): Promise<void>;

  /** The close failed for a passing reason: make it due again after `retryInMs`. */
  releaseClose(upstreamId: string, retryInMs: number): Promise<void>;

  /**
   * Login throttling, shared by every instance: counts a login from `address` and reserves one
   * failure for the token `tokenHash`; refuses (counting nothing) when the address has had
   * `addressLimit` logins in its window, or the token `tokenFailures` failures in its window.
   */
  admitLogin(address: string, tokenHash: string, limits: LoginLimits): Promise<LoginAdmission>;

  /** After the A001: a token e-RS refused keeps its reserved failure; any other outcome gives it back. */
  settleLogin(tokenHash: string, refused: boolean): Promise<void>;

  /** Resolves when the store answers; rejects with `StoreUnavailableError` otherwise. */
  ping(): Promise<void>;

  /** Counts for operations and tests: live sessions, queued closes, calls in flight. */
  stats(): Promise<StoreStats>;

  /** Releases connections and timers. */
  close(): Promise<void>;
}

/** Nest injection token for {@link SessionStore} (same name: type and token). */
export const SessionStore = Symbol('SessionStore');
export const InjectSessionStore = (): PropertyDecorator & ParameterDecorator =>
  Inject(SessionStore);

export interface GatewayRole {
  businessFunction: string;
  orgIdentifier: string;
  orgName: string;
}

export interface GatewayUser {
  identifier: string;
  firstName: string;
  lastName: string;
  middleName: string | null;
}

export interface UpstreamSecrets {
  /** The e-RS session key (`HTTP_X_SESSION_KEY`). */
  sessionKey: string;
  /** The smartcard SSO token (kept for the A001 of a role switch). */
  ssoToken: string;
}

export interface NewGatewaySession {
  upstream: UpstreamSecrets;
  user: GatewayUser;
  roles: GatewayRole[];
  role: GatewayRole | null;
  absoluteExpiresAtMs?: number;
}

export interface GatewaySession {
  upstreamId: string;
  upstream: UpstreamSecrets;
  user: GatewayUser;
  roles: GatewayRole[];
  role: GatewayRole | null;
  createdAtMs: number;
  idleExpiresAtMs: number;
  absoluteExpiresAtMs: number;
}

/** What `create` answers: the session, and the sessions of the same user it ended to stay within the limit. */
export interface CreatedSession extends GatewaySession {
  /** Present only when the per-user limit ended some. */
  displaced?: EndedSession[];
}

/** One live session of a user as operators see it. */
export interface UserSessionSummary {
  /** base64url(SHA-256(cookie value)): names the session without being able to act as it. */
  hashedId: string;
  role: GatewayRole | null;
  createdAtMs: number;
  /** The last proxied call, role choice or sign-in. */
  lastSeenAtMs: number;
  idleExpiresAtMs: number;
  absoluteExpiresAtMs: number;
}

export type CallGrant =
  | { status: 'ok'; upstreamId: string; sessionKey: string }
  | { status: 'no-session' }
  | { status: 'no-role' }
  | { status: 'too-many-calls' };

export interface LoginLimits {
  tokenFailures: number;
  tokenWindowMs: number;
  addressLimit: number;
  addressWindowMs: number;
}

export type LoginAdmission =
  | { status: 'admitted' }
  | { status: 'limited'; by: 'token' | 'address'; retryAfterMs: number };

export type EndReason =
  | 'logout'
  | 'idle-timeout'
  | 'absolute-timeout'
  | 'role-switch'
  | 'session-expired'
  | 'relogin'
  | 'no-roles'
  /** Ended by `maxSessionsPerUser` when the same user signed in again. */
  | 'session-limit'
  /** Ended by an operator through the admin API. */
  | 'admin';

export interface EndedSession {
  upstreamId: string;
  reason: EndReason;
}

export interface ClaimedClose {
  upstreamId: string;
  sessionKey: string;
  reason: EndReason;
  /** 1 on the first claim, counting up on each retry. */
  attempt: number;
}

export type ClaimCloseResult =
  | { status: 'claimed'; close: ClaimedClose }
  | { status: 'in-flight' }
  | { status: 'claimed-elsewhere' }
  | { status: 'done' };

export interface StoreStats {
  sessions: number;
  pendingCloses: number;
  callsInFlight: number;
}
