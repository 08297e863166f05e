import { randomUUID } from 'node:crypto';
import { hashSessionId } from '../hashed-ids';
import type { SessionStoreOptions } from '../session-store.options';
import type {
  CallGrant,
  ClaimCloseResult,
  ClaimedClose,
  CreatedSession,
  EndReason,
  EndedSession,
  GatewayRole,
  GatewaySession,
  GatewayUser,
  LoginAdmission,
  LoginLimits,
  NewGatewaySession,
  SessionStore,
  StoreStats,
  UpstreamSecrets,
  UserSessionSummary,
} from '../session-store.port';

export interface MemorySessionStoreOptions extends SessionStoreOptions {
  /** The store's clock (default `Date.now`). */
  now?: () => number;
  /** How long a close held back by an in-flight call waits before it is looked at again (200 ms). */
  closePollDelayMs?: number;
}

interface SessionRecord {
  upstreamId: string;
  user: GatewayUser;
  roles: GatewayRole[];
  role: GatewayRole | null;
  createdAtMs: number;
  lastSeenAtMs: number;
  idleExpiresAtMs: number;
  absoluteExpiresAtMs: number;
}

interface UpstreamRecord {
  secrets: UpstreamSecrets;
  /** The live session's id, `null` once ended. */
  sessionId: string | null;
  absoluteExpiresAtMs: number;
  reason: EndReason | null;
  attempts: number;
  leaseUntilMs: number | null;
}

const CLAIM_SCAN_FACTOR = 4;

interface WindowCount {
  count: number;
  untilMs: number;
}

/**
 * The session store in one process's memory, with the same rules as the Redis store (see its
 * scripts) and no encryption. For the single-process demo and for unit tests only: sessions are
 * lost on restart and two instances cannot share it.
 */
export class MemorySessionStore implements SessionStore {
  private readonly now: () => number;
  private readonly pollDelayMs: number;
  private readonly sessions = new Map<string, SessionRecord>();
  /** The per-user index: user identifier -> the ids of their sessions (kept with `sessions`). */
  private readonly byUser = new Map<string, Set<string>>();
  private readonly upstreams = new Map<string, UpstreamRecord>();
  /** upstreamId -> callId -> lease expiry. */
  private readonly inFlight = new Map<string, Map<string, number>>();
  /** upstreamId -> when its close is next due (or its claim lease runs out). */
  private readonly due = new Map<string, number>();
  /** A session id that stopped working -> its upstream, so a late commitRole can clear its mark. */
  private readonly tombstones = new Map<string, { upstreamId: string; untilMs: number }>();
  /** Login throttling: fixed windows, as in Redis. */
  private readonly addressLogins = new Map<string, WindowCount>();
  private readonly tokenFailures = new Map<string, WindowCount>();

  constructor(private readonly options: MemorySessionStoreOptions) {
    this.now = options.now ?? Date.now;
    this.pollDelayMs = options.closePollDelayMs ?? 200;
  }

  async create(sessionId: string, init: NewGatewaySession): Promise<CreatedSession> {
    const now = this.now();
    const upstreamId = randomUUID();
    const absoluteExpiresAtMs = init.absoluteExpiresAtMs ?? now + this.options.absoluteTimeoutMs;
    const record: SessionRecord = {
      upstreamId,
      user: structuredClone(init.user),
      roles: structuredClone(init.roles),
      role: structuredClone(init.role),
      createdAtMs: now,
      lastSeenAtMs: now,
      idleExpiresAtMs: Math.min(now + this.options.idleTimeoutMs, absoluteExpiresAtMs),
      absoluteExpiresAtMs,
    };
    const taken = this.sessions.get(sessionId);
    // As in Redis: only if two cookie values collide; the session that held the id is closed.
    if (taken) this.finish(sessionId, taken, this.expiryReason(taken, now) ?? 'relogin', now);
    this.file(sessionId, record);
    this.upstreams.set(upstreamId, {
      secrets: { ...init.upstream },
      sessionId,
      absoluteExpiresAtMs,
      reason: null,
      attempts: 0,
      leaseUntilMs: null,
    });
    const displaced = this.enforceLimit(sessionId, record.user.identifier, now);
    return { ...(displaced.length > 0 ? { displaced } : {}), ...this.view(record) };
  }

  async listUserSessions(userIdentifier: string): Promise<UserSessionSummary[]> {
    const now = this.now();
    return this.userSessions(userIdentifier, now).map(([sessionId, record]) => ({
      hashedId: hashSessionId(sessionId),
      role: structuredClone(record.role),
      createdAtMs: record.createdAtMs,
      lastSeenAtMs: record.lastSeenAtMs,
      idleExpiresAtMs: record.idleExpiresAtMs,
      absoluteExpiresAtMs: record.absoluteExpiresAtMs,
    }));
  }

  async endUserSession(userIdentifier: string, hashedId: string, reason: EndReason): Promise<EndedSession | null> {
    const sessionId = [...(this.byUser.get(userIdentifier) ?? [])].find((id) => hashSessionId(id) === hashedId);
    return sessionId === undefined ? null : this.end(sessionId, reason);
  }

  async endUserSessions(userIdentifier: string, reason: EndReason): Promise<EndedSession[]> {
    const ended: EndedSession[] = [];
    for (const sessionId of [...(this.byUser.get(userIdentifier) ?? [])]) {
      const one = await this.end(sessionId, reason);
      if (one) ended.push(one);
    }
    return ended;
  }

  /** The user's live sessions, oldest first. */
  private userSessions(userIdentifier: string, now: number): [string, SessionRecord][] {
    const live: [string, SessionRecord][] = [];
    for (const sessionId of this.byUser.get(userIdentifier) ?? []) {
      const record = this.live(sessionId, now);
      if (record) live.push([sessionId, record]);
    }
    return live.sort(([, a], [, b]) => a.createdAtMs - b.createdAtMs);
  }

  /** Past `maxSessionsPerUser`, the user's oldest live sessions other than the new one end. */
  private enforceLimit(newSessionId: string, userIdentifier: string, now: number): EndedSession[] {
    const max = this.options.maxSessionsPerUser;
    if (max === undefined) return [];
    const others = this.userSessions(userIdentifier, now).filter(([id]) => id !== newSessionId);
    return others
      .slice(0, Math.max(0, others.length + 1 - max))
      .map(([sessionId, record]) => this.finish(sessionId, record, 'session-limit', now));
  }

  private file(sessionId: string, record: SessionRecord): void {
    this.sessions.set(sessionId, record);
    let ids = this.byUser.get(record.user.identifier);
    if (!ids) this.byUser.set(record.user.identifier, (ids = new Set<string>()));
    ids.add(sessionId);
  }

  private unfile(sessionId: string, record: SessionRecord): void {
    this.sessions.delete(sessionId);
    const ids = this.byUser.get(record.user.identifier);
    ids?.delete(sessionId);
    if (ids?.size === 0) this.byUser.delete(record.user.identifier);
  }

  async get(sessionId: string): Promise<GatewaySession | null> {
    const record = this.live(sessionId, this.now());
    return record ? this.view(record) : null;
  }

  async beginCall(sessionId: string, callId: string): Promise<CallGrant> {
    const now = this.now();
    const record = this.live(sessionId, now);
    if (!record) return { status: 'no-session' };
    if (!record.role) return { status: 'no-role' };
    const cap = this.options.maxCallsPerSession;
    if (cap !== undefined && (this.inFlight.get(record.upstreamId)?.size ?? 0) >= cap && this.liveMarks(record.upstreamId, now) >= cap) {
      return { status: 'too-many-calls' };
    }
    record.idleExpiresAtMs = Math.min(now + this.options.idleTimeoutMs, record.absoluteExpiresAtMs);
    record.lastSeenAtMs = now;
    this.mark(record.upstreamId, callId, now);
    return { status: 'ok', upstreamId: record.upstreamId, sessionKey: this.secrets(record).sessionKey };
  }

  async beginSessionCall(sessionId: string, callId: string): Promise<GatewaySession | null> {
    const now = this.now();
    const record = this.live(sessionId, now);
    if (!record) return null;
    this.mark(record.upstreamId, callId, now);
    return this.view(record);
  }

  async endCall(upstreamId: string, callId: string): Promise<void> {
    const marks = this.inFlight.get(upstreamId);
    marks?.delete(callId);
    if (marks?.size === 0) this.inFlight.delete(upstreamId);
  }

  async commitRole(
    oldSessionId: string,
    newSessionId: string,
    callId: string,
    role: GatewayRole,
    sessionKey: string,
  ): Promise<GatewaySession | null> {
    const now = this.now();
    const record = this.sessions.get(oldSessionId);
    if (!record) {
      const tomb = this.tombstones.get(oldSessionId);
      if (tomb && tomb.untilMs > now) await this.endCall(tomb.upstreamId, callId);
      return null;
    }
    await this.endCall(record.upstreamId, callId);
    if (!this.isLive(record, now)) return null;
    const moved: SessionRecord = { ...record, role: structuredClone(role), lastSeenAtMs: now };
    this.unfile(oldSessionId, record);
    const taken = this.sessions.get(newSessionId);
    if (taken) this.finish(newSessionId, taken, this.expiryReason(taken, now) ?? 'relogin', now);
    this.file(newSessionId, moved);
    this.bury(oldSessionId, record.upstreamId, now);
    const upstream = this.upstreams.get(record.upstreamId);
    if (upstream) {
      upstream.secrets = { ...upstream.secrets, sessionKey };
      upstream.sessionId = newSessionId;
    }
    return this.view(moved);
  }

  async end(sessionId: string, reason: EndReason): Promise<EndedSession | null> {
    const now = this.now();
    const record = this.sessions.get(sessionId);
    if (!record) return null;
    // As in Redis: a session found already expired ends with its timeout as the reason.
    return this.finish(sessionId, record, this.expiryReason(record, now) ?? reason, now);
  }

  async queueClose(upstream: UpstreamSecrets, reason: EndReason): Promise<EndedSession> {
    const now = this.now();
    const upstreamId = randomUUID();
    this.upstreams.set(upstreamId, {
      secrets: { ...upstream },
      sessionId: null,
      absoluteExpiresAtMs: now,
      reason,
      attempts: 0,
      leaseUntilMs: null,
    });
    this.due.set(upstreamId, now);
    return { upstreamId, reason };
  }

  async sweepExpired(limit: number): Promise<EndedSession[]> {
    const now = this.now();
    const expired = [...this.sessions.entries()]
      .filter(([, record]) => !this.isLive(record, now))
      .sort(([, a], [, b]) => expiry(a) - expiry(b))
      .slice(0, Math.max(0, limit));
    return expired.map(([sessionId, record]) =>
      this.finish(sessionId, record, this.expiryReason(record, now) ?? 'idle-timeout', now),
    );
  }

  async claimCloses(limit: number, leaseMs: number): Promise<ClaimedClose[]> {
    const now = this.now();
    if (limit <= 0) return [];
    const candidates = [...this.due.entries()]
      .filter(([, dueAt]) => dueAt <= now + this.pollDelayMs)
      .sort(([, a], [, b]) => a - b)
      .slice(0, limit * CLAIM_SCAN_FACTOR);
    const claimed: ClaimedClose[] = [];
    for (const [upstreamId] of candidates) {
      if (claimed.length >= limit) break;
      const upstream = this.upstreams.get(upstreamId);
      if (!upstream) {
        this.due.delete(upstreamId);
      } else if (upstream.leaseUntilMs !== null && upstream.leaseUntilMs > now) {
        continue;
      } else if (this.hasLiveMarks(upstreamId, now)) {
        this.due.set(upstreamId, now + this.pollDelayMs);
      } else {
        claimed.push(this.claim(upstreamId, upstream, leaseMs, now));
      }
    }
    return claimed;
  }

  async claimClose(upstreamId: string, leaseMs: number): Promise<ClaimCloseResult> {
    const now = this.now();
    const upstream = this.upstreams.get(upstreamId);
    if (!upstream || !this.due.has(upstreamId)) return { status: 'done' };
    if (upstream.leaseUntilMs !== null && upstream.leaseUntilMs > now) return { status: 'claimed-elsewhere' };
    if (this.hasLiveMarks(upstreamId, now)) return { status: 'in-flight' };
    return { status: 'claimed', close: this.claim(upstreamId, upstream, leaseMs, now) };
  }

  async completeClose(upstreamId: string): Promise<void> {
    this.upstreams.delete(upstreamId);
    this.due.delete(upstreamId);
    this.inFlight.delete(upstreamId);
  }

  async releaseClose(upstreamId: string, retryInMs: number): Promise<void> {
    if (!this.due.has(upstreamId)) return;
    this.due.set(upstreamId, this.now() + Math.max(0, retryInMs));
    const upstream = this.upstreams.get(upstreamId);
    if (upstream) upstream.leaseUntilMs = null;
  }

  async admitLogin(address: string, tokenHash: string, limits: LoginLimits): Promise<LoginAdmission> {
    const now = this.now();
    const failures = this.counter(this.tokenFailures, tokenHash, now);
    if (failures !== null && failures.count >= limits.tokenFailures) {
      return { status: 'limited', by: 'token', retryAfterMs: failures.untilMs - now };
    }
    const logins = this.counter(this.addressLogins, address, now);
    if (logins !== null && logins.count >= limits.addressLimit) {
      return { status: 'limited', by: 'address', retryAfterMs: logins.untilMs - now };
    }
    this.count(this.addressLogins, address, limits.addressWindowMs, now);
    this.count(this.tokenFailures, tokenHash, limits.tokenWindowMs, now);
    return { status: 'admitted' };
  }

  async settleLogin(tokenHash: string, refused: boolean): Promise<void> {
    if (refused) return;
    const failures = this.counter(this.tokenFailures, tokenHash, this.now());
    if (failures !== null && failures.count > 0) failures.count -= 1;
  }

  async ping(): Promise<void> {
    // Always answers: it is this process's memory.
  }

  async stats(): Promise<StoreStats> {
    const now = this.now();
    let callsInFlight = 0;
    for (const marks of this.inFlight.values()) {
      for (const until of marks.values()) if (until > now) callsInFlight++;
    }
    // Like Redis's index: sessions not yet swept count, expired or not.
    return { sessions: this.sessions.size, pendingCloses: this.due.size, callsInFlight };
  }

  async close(): Promise<void> {
    this.sessions.clear();
    this.byUser.clear();
    this.upstreams.clear();
    this.inFlight.clear();
    this.due.clear();
    this.tombstones.clear();
    this.addressLogins.clear();
    this.tokenFailures.clear();
  }

  /** A window's count, or null when it has none running. */
  private counter(counts: Map<string, WindowCount>, key: string, now: number): WindowCount | null {
    const entry = counts.get(key);
    if (entry === undefined) return null;
    if (entry.untilMs > now) return entry;
    counts.delete(key);
    return null;
  }

  private count(counts: Map<string, WindowCount>, key: string, windowMs: number, now: number): void {
    const entry = this.counter(counts, key, now);
    if (entry === null) counts.set(key, { count: 1, untilMs: now + windowMs });
    else entry.count += 1;
  }

  /** In-flight marks whose lease still runs (expired ones are dropped). */
  private liveMarks(upstreamId: string, now: number): number {
    return this.hasLiveMarks(upstreamId, now) ? (this.inFlight.get(upstreamId)?.size ?? 0) : 0;
  }

  private live(sessionId: string, now: number): SessionRecord | null {
    const record = this.sessions.get(sessionId);
    return record && this.isLive(record, now) ? record : null;
  }

  private isLive(record: SessionRecord, now: number): boolean {
    return record.idleExpiresAtMs > now && record.absoluteExpiresAtMs > now;
  }

  private expiryReason(record: SessionRecord, now: number): EndReason | null {
    if (record.absoluteExpiresAtMs <= now) return 'absolute-timeout';
    if (record.idleExpiresAtMs <= now) return 'idle-timeout';
    return null;
  }

  private finish(sessionId: string, record: SessionRecord, reason: EndReason, now: number): EndedSession {
    this.unfile(sessionId, record);
    this.bury(sessionId, record.upstreamId, now);
    const upstream = this.upstreams.get(record.upstreamId);
    if (upstream) {
      upstream.sessionId = null;
      upstream.reason = reason;
      upstream.leaseUntilMs = null;
    }
    this.due.set(record.upstreamId, now);
    return { upstreamId: record.upstreamId, reason };
  }

  private bury(sessionId: string, upstreamId: string, now: number): void {
    for (const [id, tomb] of this.tombstones) if (tomb.untilMs <= now) this.tombstones.delete(id);
    this.tombstones.set(sessionId, { upstreamId, untilMs: now + this.options.inFlightLeaseMs });
  }

  private mark(upstreamId: string, callId: string, now: number): void {
    let marks = this.inFlight.get(upstreamId);
    if (!marks) this.inFlight.set(upstreamId, (marks = new Map<string, number>()));
    marks.set(callId, now + this.options.inFlightLeaseMs);
  }

  private hasLiveMarks(upstreamId: string, now: number): boolean {
    const marks = this.inFlight.get(upstreamId);
    if (!marks) return false;
    // Leases that ran out belong to calls whose instance died: they no longer hold the close.
    for (const [callId, until] of marks) if (until <= now) marks.delete(callId);
    if (marks.size === 0) this.inFlight.delete(upstreamId);
    return marks.size > 0;
  }

  private claim(upstreamId: string, upstream: UpstreamRecord, leaseMs: number, now: number): ClaimedClose {
    upstream.attempts += 1;
    upstream.leaseUntilMs = now + leaseMs;
    this.due.set(upstreamId, now + leaseMs);
    return {
      upstreamId,
      sessionKey: upstream.secrets.sessionKey,
      reason: upstream.reason ?? 'session-expired',
      attempt: upstream.attempts,
    };
  }

  private secrets(record: SessionRecord): UpstreamSecrets {
    const upstream = this.upstreams.get(record.upstreamId);
    if (!upstream) throw new Error('session without its upstream record');
    return upstream.secrets;
  }

  private view(record: SessionRecord): GatewaySession {
    return {
      upstreamId: record.upstreamId,
      upstream: { ...this.secrets(record) },
      user: structuredClone(record.user),
      roles: structuredClone(record.roles),
      role: structuredClone(record.role),
      createdAtMs: record.createdAtMs,
      idleExpiresAtMs: record.idleExpiresAtMs,
      absoluteExpiresAtMs: record.absoluteExpiresAtMs,
    };
  }
}

function expiry(record: SessionRecord): number {
  return Math.min(record.idleExpiresAtMs, record.absoluteExpiresAtMs);
}
