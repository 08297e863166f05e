import { randomBytes } from 'node:crypto';
import { SessionCipher } from '../cipher/session-cipher';
import { StoreUnavailableError } from '../errors';
import { hashSessionId, hashUserId } from '../hashed-ids';
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
  LoginAdmission,
  LoginLimits,
  NewGatewaySession,
  SessionStore,
  StoreStats,
  UpstreamSecrets,
  UserSessionSummary,
} from '../session-store.port';
import { DecryptedKeyMemo } from './decrypted-key-memo';
import { EndCallsBatcher } from './end-calls-batch';
import {
  BLOB_PIECE_BYTES,
  type KeyBinding,
  type Profile,
  type ScriptArg,
  UNBOUND,
  blobOf,
  encryptProfile,
  keyAad,
  openProfile,
  pieces,
  profile,
} from './record-codec';
import type { RedisConnection } from './redis-connection';
import { type ScriptReply, join, rows, strings, text } from './reply';
import { ScriptRunner, guard, quit } from './script-runner';
import { type ScriptName, beginCallScript } from './scripts/session-scripts';

export interface RedisSessionStoreOptions extends SessionStoreOptions {
  /** Prefix of every key (default `ersgw:`). */
  keyPrefix?: string;
  /** `close()` quits the connection only when the store owns it (default false: the caller does). */
  ownsConnection?: boolean;
  /** How long a close held back by an in-flight call waits before it is looked at again (200 ms). */
  closePollDelayMs?: number;
  /**
   * How long a session record outlives its absolute expiry, and a pending close its session's end,
   * so the close can still be sent after an outage of every instance (absolute timeout + 7 days).
   */
  closeRetentionMs?: number;
  /**
   * Told how many expired index entries the sweeper dropped because Redis no longer had their
   * session record (evicted or deleted by hand): their e-RS sessions cannot be closed any more.
   */
  onLostSessions?: (count: number) => void;
  /**
   * How many decrypted e-RS keys to keep, so a proxied call whose record holds the same key blob
   * skips decrypting it again (`DecryptedKeyMemo`); 0 (the default): decrypt on every call.
   */
  keyCacheSize?: number;
  /**
   * Told when a record's blobs fail authentication (copied, moved or edited in Redis): the record
   * has been dropped and was answered as no session. Only the store's own upstream id is given.
   */
  onTampered?: (upstreamId: string) => void;
  /**
   * Replicas that must hold a write that matters (a session created or moved, a logout, a close
   * queued, claimed or completed) before it counts as done: `WAIT` after it, and fewer
   * acknowledgements within `replicaAckTimeoutMs` fail it as `StoreUnavailableError`. A failover
   * then cannot undo what the gateway answered (docs/design.md, Sentinel). 0 (the default): no wait.
   */
  minReplicasAck?: number;
  /** How long such a write waits for its replicas (default 500 ms; below the command timeout). */
  replicaAckTimeoutMs?: number;
}

const DEFAULT_PREFIX = 'ersgw:';
const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;
/** In-flight marks and tombstones outlive the lease a little, so a slow reply still finds them. */
const MARK_MARGIN_MS = 5_000;
/** A claim looks at this many times `limit` due closes, since some are skipped (in flight). */
const CLAIM_SCAN_FACTOR = 4;
/** A close whose key we cannot decrypt waits this long for an instance that holds the right key. */
const UNREADABLE_CLOSE_RETRY_MS = 60_000;
/** What `hashSessionId` makes: 32 bytes, base64url. */
const HASHED_ID = /^[A-Za-z0-9_-]{43}$/;
/** `maxCallsPerSession` when none is given. */
const UNLIMITED_CALLS = 1_000_000_000;


const END_REASONS: ReadonlySet<string> = new Set<EndReason>([
  'logout',
  'idle-timeout',
  'absolute-timeout',
  'role-switch',
  'session-expired',
  'relogin',
  'no-roles',
  'session-limit',
  'admin',
]);

/**
 * The session store on Redis: every multi-key change is one Lua script, every time is Redis
 * `TIME`; the layout is described in `scripts/session-scripts.ts`. Every Redis failure (refused,
 * timed out, any error reply) surfaces as `StoreUnavailableError`; secrets never reach an error.
 */
export class RedisSessionStore implements SessionStore {
  private readonly prefix: string;
  private readonly ownsConnection: boolean;
  private readonly pollDelayMs: number;
  private readonly retentionMs: number;
  /** Tombstones: the in-flight lease + 5 s. */
  private readonly markRetentionMs: number;
  /** The scripts, on the main connection and (for the writes that matter) the acknowledged one. */
  private readonly scripts: ScriptRunner;
  private readonly sessionKeyPrefix: string;
  private readonly endCalls: EndCallsBatcher;
  private readonly keyMemo: DecryptedKeyMemo | null;

  constructor(
    private readonly redis: RedisConnection,
    private readonly cipher: SessionCipher,
    private readonly options: RedisSessionStoreOptions,
  ) {
    this.prefix = options.keyPrefix ?? DEFAULT_PREFIX;
    this.ownsConnection = options.ownsConnection ?? false;
    this.pollDelayMs = options.closePollDelayMs ?? 200;
    this.retentionMs = options.closeRetentionMs ?? options.absoluteTimeoutMs + SEVEN_DAYS_MS;
    this.markRetentionMs = options.inFlightLeaseMs + MARK_MARGIN_MS;
    this.sessionKeyPrefix = `${this.prefix}S:`;
    const beginCall = beginCallScript(
      this.prefix,
      options.idleTimeoutMs,
      options.inFlightLeaseMs,
      MARK_MARGIN_MS,
      options.maxCallsPerSession ?? UNLIMITED_CALLS,
    );
    const memoSize = options.keyCacheSize ?? 0;
    this.keyMemo = memoSize > 0 ? new DecryptedKeyMemo(memoSize, options.idleTimeoutMs) : null;
    this.scripts = new ScriptRunner(redis, {
      beginCall,
      minReplicasAck: options.minReplicasAck ?? 0,
      replicaAckTimeoutMs: options.replicaAckTimeoutMs ?? 500,
    });
    this.endCalls = new EndCallsBatcher(redis, this.prefix);
  }

  async create(sessionId: string, init: NewGatewaySession): Promise<CreatedSession> {
    const upstreamId = newUpstreamId();
    const h = hashSessionId(sessionId);
    const profile: Profile = { user: init.user, roles: init.roles, role: init.role, ssoToken: init.upstream.ssoToken };
    // The blobs' associated data names the absolute expiry, so it is fixed before they are
    // encrypted: from Redis's clock, as every other time of the store.
    const created = init.absoluteExpiresAtMs === undefined ? await this.redisNowMs() : null;
    const ae = String(created === null ? Math.floor(init.absoluteExpiresAtMs as number) : created + this.options.absoluteTimeoutMs);
    const r = init.role ? '1' : '0';
    const uh = hashUserId(init.user.identifier);
    const reply = await this.runAcked('ersgwCreate', [
      this.key('S', h),
      this.key('N', uh),
      this.prefix,
      this.options.idleTimeoutMs,
      created === null ? '' : created,
      ae,
      upstreamId,
      r,
      h,
      this.retentionMs,
      this.markRetentionMs,
      uh,
      this.options.maxSessionsPerUser ?? 0,
      ...pieces(this.cipher.encrypt(init.upstream.sessionKey, keyAad(upstreamId, h, ae, r))),
      ...pieces(this.encryptProfile(upstreamId, h, ae, profile)),
    ]);
    const [c, ie, absolute] = strings(reply, 3);
    const displaced = this.toEnded(rows(reply).slice(3).map(text));
    return {
      ...(displaced.length > 0 ? { displaced } : {}),
      upstreamId,
      upstream: { ...init.upstream },
      user: structuredClone(init.user),
      roles: structuredClone(init.roles),
      role: structuredClone(init.role),
      createdAtMs: Number(c),
      idleExpiresAtMs: Number(ie),
      absoluteExpiresAtMs: Number(absolute),
    };
  }

  async get(sessionId: string): Promise<GatewaySession | null> {
    const h = hashSessionId(sessionId);
    const reply = await this.runBuffer('ersgwGet', [this.key('S', h)]);
    return reply === null ? null : this.toSession(h, reply);
  }

  /** The hot path: one script (see `ScriptRunner.beginCall`), the key decrypted once per blob when the memo is on. */
  async beginCall(sessionId: string, callId: string): Promise<CallGrant> {
    const h = hashSessionId(sessionId);
    const key = this.sessionKeyPrefix + h;
    const reply = await this.scripts.beginCall(key, callId);
    if (reply === 0) return { status: 'no-session' };
    if (reply === 1) return { status: 'no-role' };
    if (reply === 2) return { status: 'too-many-calls' };
    // One bulk string: u's length (one byte), u, ae's length (one byte), ae, the key blob.
    if (!Buffer.isBuffer(reply) || reply.length < 2) throw new StoreUnavailableError('unexpected reply from the session store');
    const idEnd = 1 + (reply[0] as number);
    const aeEnd = idEnd + 1 + ((reply[idEnd]) ?? 0);
    if (reply.length < aeEnd) throw new StoreUnavailableError('unexpected reply from the session store');
    const upstreamId = reply.toString('latin1', 1, idEnd);
    const aad = keyAad(upstreamId, h, reply.toString('latin1', idEnd + 1, aeEnd), '1');
    const blob = reply.subarray(aeEnd);
    const sessionKey = this.keyMemo?.get(upstreamId, aad, blob) ?? (await this.openCallKey(h, upstreamId, aad, blob));
    if (sessionKey === null) {
      // Unreadable (key rotated away, a record from before the binding, or tampered): no session;
      // drop the mark we just set.
      await this.endCall(upstreamId, callId);
      return { status: 'no-session' };
    }
    return { status: 'ok', upstreamId, sessionKey };
  }

  /** How many decrypted keys the key cache holds (0 when it is off). */
  get cachedKeys(): number {
    return this.keyMemo?.size ?? 0;
  }

  /**
   * The key of a call's session, decrypted and authenticated against its record; remembered when
   * the memo is on. A record made before the binding (blob version 1) is no session here (its
   * user signs in again; its close still goes out). A blob that fails authentication belongs to a
   * record copied, moved or edited in Redis: the record is dropped and reported.
   */
  private async openCallKey(h: string, upstreamId: string, aad: string, blob: Buffer): Promise<string | null> {
    if (SessionCipher.versionOf(blob) === 1) return null;
    const opened = this.cipher.open(blob, aad);
    if (opened.ok) {
      this.keyMemo?.set(upstreamId, aad, blob, opened.plaintext);
      return opened.plaintext;
    }
    if (opened.failure === 'rejected') await this.discard(h, upstreamId, blob);
    return null;
  }

  /** Drops a record whose blobs failed authentication (if it is still that record), and reports it. */
  private async discard(h: string, upstreamId: string, keyBlob: Buffer): Promise<void> {
    await this.run('ersgwDiscard', [this.key('S', h), this.prefix, h, upstreamId, keyBlob.subarray(0, BLOB_PIECE_BYTES)]);
    this.keyMemo?.forget(upstreamId);
    this.options.onTampered?.(upstreamId);
  }

  /** Redis's clock, in epoch milliseconds. */
  private async redisNowMs(): Promise<number> {
    const [seconds, micros] = await guard(() => this.redis.time());
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  async beginSessionCall(sessionId: string, callId: string): Promise<GatewaySession | null> {
    const h = hashSessionId(sessionId);
    const reply = await this.runBuffer('ersgwBeginSessionCall', [
      this.key('S', h),
      this.prefix,
      this.options.inFlightLeaseMs,
      callId,
      MARK_MARGIN_MS,
    ]);
    if (reply === null) return null;
    const session = await this.toSession(h, reply);
    if (session === null) await this.endCall(text(rows(reply)[0]), callId);
    return session;
  }

  /** Batched (`EndCallsBatcher`): the promise settles when the command that carried this call's mark has. */
  endCall(upstreamId: string, callId: string): Promise<void> {
    return this.endCalls.endCall(upstreamId, callId);
  }

  async commitRole(
    oldSessionId: string,
    newSessionId: string,
    callId: string,
    role: GatewayRole,
    sessionKey: string,
  ): Promise<GatewaySession | null> {
    const oldH = hashSessionId(oldSessionId);
    // Two steps: the new profile is encrypted here, so we read the old one first; the script then
    // commits only if the session is still the one we read (expired or not: the script decides).
    const record = await guard(() => this.redis.hgetallBuffer(this.key('S', oldH)));
    const upstreamId = record.u?.toString('latin1');
    if (upstreamId === undefined) {
      await this.run('ersgwClearOrphanMark', [this.key('T', oldH), this.prefix, callId]);
      return null;
    }
    const oldP = blobOf(record, 'p');
    const ae = record.ae?.toString('latin1') ?? '';
    const opened = oldP === null ? null : this.openProfile(upstreamId, oldH, ae, oldP);
    if (oldP === null || opened === null || !opened.ok) {
      await this.endCall(upstreamId, callId);
      if (oldP !== null && opened?.ok === false && opened.failure === 'rejected') await this.discard(oldH, upstreamId, blobOf(record, 'k') ?? Buffer.alloc(0));
      return null;
    }
    const next: Profile = { ...profile(opened.plaintext), role };
    const newH = hashSessionId(newSessionId);
    const reply = await this.runAcked('ersgwCommitRole', [
      this.key('S', oldH),
      this.key('S', newH),
      this.key('F', upstreamId),
      this.key('T', oldH),
      this.prefix,
      oldH,
      newH,
      upstreamId,
      // The first piece holds the profile's random IV and tag: it identifies the profile we read.
      oldP.subarray(0, BLOB_PIECE_BYTES),
      callId,
      this.markRetentionMs,
      this.retentionMs,
      ae,
      ...pieces(this.cipher.encrypt(sessionKey, keyAad(upstreamId, newH, ae, '1'))),
      ...pieces(this.encryptProfile(upstreamId, newH, ae, next)),
    ]);
    if (reply === null) return null;
    const [ie, absolute, c] = strings(reply, 3);
    return {
      upstreamId,
      upstream: { sessionKey, ssoToken: next.ssoToken },
      user: next.user,
      roles: next.roles,
      role: structuredClone(role),
      createdAtMs: Number(c),
      idleExpiresAtMs: Number(ie),
      absoluteExpiresAtMs: Number(absolute),
    };
  }

  async end(sessionId: string, reason: EndReason): Promise<EndedSession | null> {
    const h = hashSessionId(sessionId);
    const reply = await this.runAcked('ersgwEnd', [this.key('S', h), this.prefix, h, reason, this.markRetentionMs, this.retentionMs]);
    if (reply === null) return null;
    const [upstreamId, why] = strings(reply, 2);
    this.keyMemo?.forget(upstreamId);
    return { upstreamId, reason: toReason(why) };
  }

  async listUserSessions(userIdentifier: string): Promise<UserSessionSummary[]> {
    const uh = hashUserId(userIdentifier);
    const reply = await this.runBuffer('ersgwListUser', [this.key('N', uh), this.prefix, uh]);
    const listed: UserSessionSummary[] = [];
    for (const row of rows(reply)) {
      // {h, ls, then the record as GET answers it}
      const [h, ls, ...record] = rows(row);
      const hashedId = text(h);
      // Opened like any read, so a record that fails authentication is dropped, not listed.
      const session = await this.toSession(hashedId, record);
      if (session === null) continue;
      listed.push({
        hashedId,
        role: session.role,
        createdAtMs: session.createdAtMs,
        lastSeenAtMs: Number(text(ls)),
        idleExpiresAtMs: session.idleExpiresAtMs,
        absoluteExpiresAtMs: session.absoluteExpiresAtMs,
      });
    }
    return listed;
  }

  async endUserSession(userIdentifier: string, hashedId: string, reason: EndReason): Promise<EndedSession | null> {
    // It becomes a key name: only what hashSessionId makes can name a session.
    if (!HASHED_ID.test(hashedId)) return null;
    const reply = await this.runAcked('ersgwEnd', [
      this.key('S', hashedId),
      this.prefix,
      hashedId,
      reason,
      this.markRetentionMs,
      this.retentionMs,
      hashUserId(userIdentifier),
    ]);
    if (reply === null) return null;
    const [ended] = this.toEnded(strings(reply, 2));
    return ended ?? null;
  }

  async endUserSessions(userIdentifier: string, reason: EndReason): Promise<EndedSession[]> {
    const uh = hashUserId(userIdentifier);
    const reply = await this.runAcked('ersgwEndUser', [
      this.key('N', uh),
      this.prefix,
      uh,
      reason,
      this.markRetentionMs,
      this.retentionMs,
    ]);
    return this.toEnded(rows(reply).map(text));
  }

  /** {u, reason, u, reason, …} from a script that ended sessions; their cached keys are forgotten. */
  private toEnded(flat: string[]): EndedSession[] {
    const ended: EndedSession[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const upstreamId = flat[i] as string;
      this.keyMemo?.forget(upstreamId);
      ended.push({ upstreamId, reason: toReason(flat[i + 1] as string) });
    }
    return ended;
  }

  async queueClose(upstream: UpstreamSecrets, reason: EndReason): Promise<EndedSession> {
    const upstreamId = newUpstreamId();
    await this.runAcked('ersgwQueueClose', [
      this.key('U', upstreamId),
      this.key('D'),
      upstreamId,
      reason,
      this.retentionMs,
      ...pieces(this.cipher.encrypt(upstream.sessionKey, keyAad(upstreamId, UNBOUND.h, UNBOUND.ae, UNBOUND.r))),
    ]);
    return { upstreamId, reason };
  }

  async sweepExpired(limit: number): Promise<EndedSession[]> {
    if (limit <= 0) return [];
    const reply = await this.run('ersgwSweepExpired', [this.key('X'), this.prefix, Math.floor(limit), this.markRetentionMs, this.retentionMs]);
    const [lost, ...ended] = rows(reply);
    if (Number(lost) > 0) this.options.onLostSessions?.(Number(lost));
    return ended.map((row) => {
      const [upstreamId, why] = strings(row, 2);
      this.keyMemo?.forget(upstreamId);
      return { upstreamId, reason: toReason(why) };
    });
  }

  async claimCloses(limit: number, leaseMs: number): Promise<ClaimedClose[]> {
    if (limit <= 0) return [];
    const reply = await this.scripts.runClaim('ersgwClaimCloses', [
      this.key('D'),
      this.prefix,
      Math.floor(limit),
      Math.floor(leaseMs),
      this.pollDelayMs,
      CLAIM_SCAN_FACTOR,
    ]);
    const found = rows(reply);
    // Polled often: only a claim that took something waits for the replicas.
    if (found.length > 0) await this.acknowledgedClaims(found.map((row) => text(rows(row)[0])));
    const claimed: ClaimedClose[] = [];
    for (const row of found) {
      // {u, why, n, h, ae, r, key pieces…}
      const list = rows(row);
      const binding = { h: text(list[3]), ae: text(list[4]), r: text(list[5]) };
      const close = await this.toClaimedClose(text(list[0]), join(list, 6, list.length), text(list[1]), text(list[2]), binding);
      if (typeof close === 'object') claimed.push(close);
    }
    return claimed;
  }

  async claimClose(upstreamId: string, leaseMs: number): Promise<ClaimCloseResult> {
    const reply = await this.scripts.runClaim('ersgwClaimClose', [
      this.key('D'),
      this.key('U', upstreamId),
      this.key('F', upstreamId),
      upstreamId,
      Math.floor(leaseMs),
    ]);
    if (Array.isArray(reply)) await this.acknowledgedClaims([upstreamId]);
    if (reply === 0) return { status: 'done' };
    if (reply === 1) return { status: 'claimed-elsewhere' };
    if (reply === 2) return { status: 'in-flight' };
    // {why, n, h, ae, r, key pieces…}
    const list = rows(reply);
    const binding = { h: text(list[2]), ae: text(list[3]), r: text(list[4]) };
    const close = await this.toClaimedClose(upstreamId, join(list, 5, list.length), text(list[0]), text(list[1]), binding);
    if (close === 'dropped') return { status: 'done' };
    // Unreadable here means another instance with the right key has to send it.
    return close === 'released' ? { status: 'claimed-elsewhere' } : { status: 'claimed', close };
  }

  async completeClose(upstreamId: string): Promise<void> {
    await this.runAcked('ersgwCompleteClose', [this.key('U', upstreamId), this.key('D'), this.key('F', upstreamId), upstreamId]);
  }

  async releaseClose(upstreamId: string, retryInMs: number): Promise<void> {
    await this.run('ersgwReleaseClose', [this.key('D'), this.key('U', upstreamId), upstreamId, Math.max(0, Math.floor(retryInMs))]);
  }

  async admitLogin(address: string, tokenHash: string, limits: LoginLimits): Promise<LoginAdmission> {
    const reply = await this.run('ersgwAdmitLogin', [
      this.key('L', `a:${address}`),
      this.key('L', `t:${tokenHash}`),
      limits.tokenFailures,
      Math.floor(limits.tokenWindowMs),
      limits.addressLimit,
      Math.floor(limits.addressWindowMs),
    ]);
    if (reply === 0) return { status: 'admitted' };
    const [by, wait] = strings(reply, 2);
    return { status: 'limited', by: by === '1' ? 'token' : 'address', retryAfterMs: Math.max(0, Number(wait)) };
  }

  async settleLogin(tokenHash: string, refused: boolean): Promise<void> {
    if (refused) return;
    await this.run('ersgwReleaseLoginFailure', [this.key('L', `t:${tokenHash}`)]);
  }

  async ping(): Promise<void> {
    await guard(() => this.redis.ping());
  }

  /**
   * Live sessions and pending closes, from the two indexes' sizes (O(1)): what a Redis that comes
   * back empty would lose (`RedisPersistenceCheck` reads it every few seconds).
   */
  async counts(): Promise<{ sessions: number; pendingCloses: number }> {
    const [sessions, pendingCloses] = strings(await this.run('ersgwCounts', [this.key('X'), this.key('D')]), 3);
    return { sessions: Number(sessions), pendingCloses: Number(pendingCloses) };
  }

  async stats(): Promise<StoreStats> {
    const [sessions, pendingCloses, now] = strings(await this.run('ersgwCounts', [this.key('X'), this.key('D')]), 3);
    // Not on a request path: a SCAN over the in-flight sets is acceptable here.
    let callsInFlight = 0;
    const pattern = `${escapeGlob(this.prefix)}F:*`;
    let cursor = '0';
    do {
      const [next, keys] = await guard(() => this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500));
      cursor = next;
      for (const key of keys) {
        callsInFlight += await guard(() => this.redis.zcount(key, `(${now}`, '+inf'));
      }
    } while (cursor !== '0');
    return { sessions: Number(sessions), pendingCloses: Number(pendingCloses), callsInFlight };
  }

  async close(): Promise<void> {
    this.keyMemo?.close();
    await this.endCalls.close();
    // The acknowledged connection is the store's own, whoever owns the main one.
    await this.scripts.close();
    if (this.ownsConnection) await quit(this.redis);
  }

  private key(kind: 'S' | 'U' | 'F' | 'T' | 'L' | 'N', id: string): string;
  private key(kind: 'X' | 'D'): string;
  private key(kind: string, id?: string): string {
    return id === undefined ? `${this.prefix}${kind}` : `${this.prefix}${kind}:${id}`;
  }

  private async run(name: ScriptName, args: ScriptArg[]): Promise<ScriptReply> {
    return this.scripts.run(name, args);
  }

  private async runAcked(name: ScriptName, args: ScriptArg[]): Promise<ScriptReply> {
    return this.scripts.runAcked(name, args);
  }

  private async runBuffer(name: ScriptName, args: ScriptArg[]): Promise<ScriptReply> {
    return this.scripts.runBuffer(name, args);
  }

  /** Claims are sent only once replicas hold them; unacknowledged, they are released at once. */
  private async acknowledgedClaims(upstreamIds: string[]): Promise<void> {
    await this.scripts.acknowledgedClaims(upstreamIds, (id) => [this.key('D'), this.key('U', id), id, 0]);
  }

  /**
   * From {u, r, ie, ae, c, kn, key pieces…, profile pieces…} (GET, BEGIN_SESSION_CALL) of the record
   * at h. Null when its blobs do not open: from before the binding, a key not held, or tampered
   * (then the record is dropped and reported).
   */
  private async toSession(h: string, reply: ScriptReply): Promise<GatewaySession | null> {
    const list = rows(reply);
    const u = text(list[0]);
    const r = text(list[1]);
    const ae = text(list[3]);
    const profileFrom = 6 + Number(text(list[5]));
    const keyBlob = join(list, 6, profileFrom);
    const profileBlob = join(list, profileFrom, list.length);
    if (SessionCipher.versionOf(keyBlob) === 1) return null;
    const key = this.cipher.open(keyBlob, keyAad(u, h, ae, r));
    const opened = key.ok ? this.openProfile(u, h, ae, profileBlob) : key;
    if (!key.ok || !opened.ok) {
      if ((!key.ok && key.failure === 'rejected') || (!opened.ok && opened.failure === 'rejected')) await this.discard(h, u, keyBlob);
      return null;
    }
    const sessionKey = key.plaintext;
    const stored = profile(opened.plaintext);
    // r is the index's copy of "a role is selected"; the profile holds which one.
    const role = r === '1' ? stored.role : null;
    return {
      upstreamId: u,
      upstream: { sessionKey, ssoToken: stored.ssoToken },
      user: stored.user,
      roles: stored.roles,
      role,
      createdAtMs: Number(text(list[4])),
      idleExpiresAtMs: Number(text(list[2])),
      absoluteExpiresAtMs: Number(text(list[3])),
    };
  }

  /**
   * A claimed close's key, opened with the binding its U record kept (a key from before the
   * binding, version 1, with the old associated data, so sessions of the previous build are still
   * closed after an upgrade).
   */
  private async toClaimedClose(
    upstreamId: string,
    k: Buffer,
    why: string,
    n: string,
    binding: KeyBinding,
  ): Promise<ClaimedClose | 'dropped' | 'released'> {
    const aad = SessionCipher.versionOf(k) === 1 ? `ersgw/v1/${upstreamId}/k` : keyAad(upstreamId, binding.h, binding.ae, binding.r);
    const opened = this.cipher.open(k, aad);
    if (opened.ok) return { upstreamId, sessionKey: opened.plaintext, reason: toReason(why), attempt: Number(n) };
    if (opened.failure === 'rejected') {
      // Edited in Redis: this key can never be trusted, so the close can never be sent.
      await this.completeClose(upstreamId);
      this.options.onTampered?.(upstreamId);
      return 'dropped';
    }
    // Another instance may hold the key this one lacks (a rotation in progress): give it the
    // close rather than forgetting an e-RS session that is still open.
    await this.releaseClose(upstreamId, UNREADABLE_CLOSE_RETRY_MS);
    return 'released';
  }

  private encryptProfile(upstreamId: string, h: string, ae: string, stored: Profile): Buffer {
    return encryptProfile(this.cipher, upstreamId, h, ae, stored);
  }

  private openProfile(upstreamId: string, h: string, ae: string, blob: Buffer): ReturnType<typeof openProfile> {
    return openProfile(this.cipher, upstreamId, h, ae, blob);
  }
}

export { hashSessionId };

/** The store's own id for an upstream session: 16 random bytes, 22 characters (not the e-RS key). */
function newUpstreamId(): string {
  return randomBytes(16).toString('base64url');
}

function toReason(value: string): EndReason {
  return END_REASONS.has(value) ? (value as EndReason) : 'session-expired';
}

function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\]/g, '\\$&');
}
