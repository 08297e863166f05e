import { createHash, randomBytes } from 'node:crypto';
import { Command, Redis } from 'ioredis';
import { type OpenResult, SessionCipher } from '../cipher/session-cipher';
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
  GatewayUser,
  LoginAdmission,
  LoginLimits,
  NewGatewaySession,
  SessionStore,
  StoreStats,
  UpstreamSecrets,
  UserSessionSummary,
} from '../session-store.port';
import { DecryptedKeyMemo } from './decrypted-key-memo';
import { type RedisConnection, waitForRedisReady } from './redis-connection';
import { SCRIPTS, type ScriptDefinition, type ScriptName, beginCallScript } from './scripts/session-scripts';

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
/**
 * How long ended calls wait to be cleared together, and how many go in one command at most. Each
 * command costs a write to Redis (loopback TCP: several microseconds of kernel time, charged to the
 * sender) and its reply; 10 ms keeps that at a small fraction of a call's cost on a busy instance,
 * and a mark cleared 10 ms later changes nothing (a close waits for marks in steps of 200 ms).
 */
const END_CALL_BATCH_MS = 10;
const END_CALL_BATCH_MAX = 256;
/** For `commandOf`: a command made with no arguments (they are set after), and Buffer replies. */
const NO_ARGS: never[] = [];
const BUFFER_REPLY = { replyEncoding: null };
/** A close whose key we cannot decrypt waits this long for an instance that holds the right key. */
const UNREADABLE_CLOSE_RETRY_MS = 60_000;
/**
 * Blobs are stored in pieces no longer than Redis' `hash-max-listpack-value` (64 by default), so
 * a session hash stays a listpack (see the layout in `scripts/session-scripts.ts`).
 */
const BLOB_PIECE_BYTES = 64;
/** How long the writes of a fresh start wait for the acknowledged connection to be up. */
const ACKED_FIRST_READY_MS = 1000;
/** What `hashSessionId` makes: 32 bytes, base64url. */
const HASHED_ID = /^[A-Za-z0-9_-]{43}$/;
/** `maxCallsPerSession` when none is given. */
const UNLIMITED_CALLS = 1_000_000_000;

/** Ended calls whose marks are cleared in one command; one promise for all of them. */
class EndCallBatch {
  /** The command's arguments as sent: script SHA, no keys, the prefix, then upstream id, call id, … */
  readonly args: string[];
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;

  constructor(sha: string, prefix: string) {
    this.args = [sha, '0', prefix];
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** What the profile blob holds: everything of a session that is not an index field. */
interface Profile {
  user: GatewayUser;
  roles: GatewayRole[];
  role: GatewayRole | null;
  ssoToken: string;
}

/**
 * The profile as stored: the chosen role as its index in `roles` when it is one of them (always,
 * for a role the gateway let the user choose), which keeps a copy of it out of every session
 * record (about 90 bytes, the difference between one allocator size class and the next).
 */
interface StoredProfile extends Omit<Profile, 'role'> {
  role: number | GatewayRole | null;
}

function packProfile(profile: Profile): StoredProfile {
  const { role, roles } = profile;
  if (role === null) return profile;
  const index = roles.findIndex(
    (r) => r.businessFunction === role.businessFunction && r.orgIdentifier === role.orgIdentifier && r.orgName === role.orgName,
  );
  return index === -1 ? profile : { ...profile, role: index };
}

function unpackProfile(stored: StoredProfile): Profile {
  const { role, roles } = stored;
  if (typeof role !== 'number') return { ...stored, role };
  const chosen = roles[role];
  return { ...stored, role: chosen === undefined ? null : { ...chosen } };
}

type ScriptReply = unknown;
type ScriptArg = string | number | Buffer;
type ScriptCall = (...args: ScriptArg[]) => Promise<ScriptReply>;

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
  /** Replies with bulk strings as strings. */
  private readonly scripts: Record<ScriptName, ScriptCall>;
  /** The same scripts, replies with bulk strings as Buffers: for those that return blob pieces. */
  private readonly bufferScripts: Record<ScriptName, ScriptCall>;
  private readonly evalBuffer: ScriptCall;
  /** The hot path's script, its constants written in (see `beginCallScript`), and its SHA-1. */
  private readonly beginCallLua: ScriptDefinition;
  private readonly beginCallSha: string;
  private readonly endCallsSha: string;
  private readonly sessionKeyPrefix: string;
  private endBatch: EndCallBatch | null = null;
  private readonly keyMemo: DecryptedKeyMemo | null;
  private readonly minReplicasAck: number;
  private readonly replicaAckTimeoutMs: number;
  /**
   * The writes that matter, on a connection of their own when they wait for replicas: `WAIT`
   * blocks its connection, and a replica that does not answer must not stall the hot path too.
   */
  private readonly ackedRedis: RedisConnection;
  private readonly ackedScripts: Record<ScriptName, ScriptCall>;
  private readonly ackedBufferScripts: Record<ScriptName, ScriptCall>;
  /** Settles once the acknowledged connection first is ready (or gave up): the writes of a fresh start wait for it. */
  private readonly ackedFirstReady: Promise<void> = Promise.resolve();

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
    this.beginCallLua = beginCallScript(
      this.prefix,
      options.idleTimeoutMs,
      options.inFlightLeaseMs,
      MARK_MARGIN_MS,
      options.maxCallsPerSession ?? UNLIMITED_CALLS,
    );
    this.beginCallSha = createHash('sha1').update(this.beginCallLua.lua).digest('hex');
    this.endCallsSha = createHash('sha1').update(SCRIPTS.ersgwEndCalls.lua).digest('hex');
    const memoSize = options.keyCacheSize ?? 0;
    this.keyMemo = memoSize > 0 ? new DecryptedKeyMemo(memoSize, options.idleTimeoutMs) : null;
    this.minReplicasAck = options.minReplicasAck ?? 0;
    this.replicaAckTimeoutMs = options.replicaAckTimeoutMs ?? 500;
    [this.scripts, this.bufferScripts] = defineScripts(redis);
    this.evalBuffer = method(redis, 'evalBuffer');
    if (this.minReplicasAck > 0) {
      this.ackedRedis = redis instanceof Redis ? redis.duplicate() : redis.duplicate();
      // The main connection reports the same outages; this one's errors fail its own commands.
      this.ackedRedis.on('error', () => undefined);
      this.ackedFirstReady = waitForRedisReady(this.ackedRedis, ACKED_FIRST_READY_MS).catch(() => undefined);
      [this.ackedScripts, this.ackedBufferScripts] = defineScripts(this.ackedRedis);
    } else {
      this.ackedRedis = redis;
      [this.ackedScripts, this.ackedBufferScripts] = [this.scripts, this.bufferScripts];
    }
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

  /**
   * The hot path: EVALSHA sent directly (no per-call wrapper closures or promise chains), EVAL
   * only when Redis has lost the script (after a restart or SCRIPT FLUSH).
   */
  async beginCall(sessionId: string, callId: string): Promise<CallGrant> {
    const h = hashSessionId(sessionId);
    const key = this.sessionKeyPrefix + h;
    let reply: ScriptReply;
    try {
      try {
        reply = await this.sendBeginCall(key, callId);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        reply = await this.evalBuffer(this.beginCallLua.lua, '1', key, callId);
      }
    } catch (error) {
      throw new StoreUnavailableError(undefined, { cause: error });
    }
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
    const [seconds, micros] = await this.guard(() => this.redis.time());
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /**
   * `EVALSHA` of the hot path's script, replies as Buffers. The same command ioredis's
   * `evalshaBuffer` sends, built here because its generated method copies the arguments twice
   * (rest parameters, then `Array.prototype.flat` in `Command`'s constructor) and checks for
   * auto-pipelining on every call (README, Performance: instructions).
   */
  private sendBeginCall(key: string, callId: string): Promise<ScriptReply> {
    return this.redis.sendCommand(commandOf('evalsha', [this.beginCallSha, '1', key, callId], BUFFER_REPLY)) as Promise<ScriptReply>;
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

  /**
   * Batched: every mark cleared within `END_CALL_BATCH_MS` goes in one command, so a busy
   * instance pays a fraction of a round trip per call. The promise settles when that command has.
   */
  endCall(upstreamId: string, callId: string): Promise<void> {
    let batch = this.endBatch;
    if (batch === null) {
      batch = new EndCallBatch(this.endCallsSha, this.prefix);
      this.endBatch = batch;
      batch.timer = setTimeout(this.flushEnds, END_CALL_BATCH_MS);
    }
    batch.args.push(upstreamId, callId);
    if (batch.args.length >= END_CALL_BATCH_MAX * 2 + 3) this.flushEnds();
    return batch.done;
  }

  /** Sends the pending batch of ended calls now (also on close, so no mark waits for its lease). */
  private readonly flushEnds = (): void => {
    const batch = this.endBatch;
    if (batch === null) return;
    this.endBatch = null;
    clearTimeout(batch.timer);
    this.sendEndCalls(batch.args).then(batch.resolve, batch.reject);
  };

  /**
   * `EVALSHA` of the end-calls script with the batch's own array as its arguments, built here as
   * `sendBeginCall` is (ioredis's script method would copy and flatten them); `EVAL` only when
   * Redis has lost the script.
   */
  private async sendEndCalls(args: string[]): Promise<void> {
    try {
      try {
        await this.redis.sendCommand(commandOf('evalsha', args));
      } catch (error) {
        if (!isNoScript(error)) throw error;
        args[0] = SCRIPTS.ersgwEndCalls.lua;
        await this.redis.sendCommand(commandOf('eval', args));
      }
    } catch (error) {
      throw new StoreUnavailableError(undefined, { cause: error });
    }
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
    const record = await this.guard(() => this.redis.hgetallBuffer(this.key('S', oldH)));
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
    await this.ackedFirstReady;
    const reply = await this.guard(() =>
      this.ackedBufferScripts.ersgwClaimCloses(this.key('D'), this.prefix, Math.floor(limit), Math.floor(leaseMs), this.pollDelayMs, CLAIM_SCAN_FACTOR),
    );
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
    await this.ackedFirstReady;
    const reply = await this.guard(() =>
      this.ackedBufferScripts.ersgwClaimClose(this.key('D'), this.key('U', upstreamId), this.key('F', upstreamId), upstreamId, Math.floor(leaseMs)),
    );
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
    await this.guard(() => this.redis.ping());
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
      const [next, keys] = await this.guard(() => this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500));
      cursor = next;
      for (const key of keys) {
        callsInFlight += await this.guard(() => this.redis.zcount(key, `(${now}`, '+inf'));
      }
    } while (cursor !== '0');
    return { sessions: Number(sessions), pendingCloses: Number(pendingCloses), callsInFlight };
  }

  async close(): Promise<void> {
    this.keyMemo?.close();
    const pending = this.endBatch?.done.catch(() => undefined);
    this.flushEnds();
    await pending;
    // The acknowledged connection is the store's own, whoever owns the main one.
    if (this.ackedRedis !== this.redis) await quit(this.ackedRedis);
    if (this.ownsConnection) await quit(this.redis);
  }

  private key(kind: 'S' | 'U' | 'F' | 'T' | 'L' | 'N', id: string): string;
  private key(kind: 'X' | 'D'): string;
  private key(kind: string, id?: string): string {
    return id === undefined ? `${this.prefix}${kind}` : `${this.prefix}${kind}:${id}`;
  }

  private async run(name: ScriptName, args: ScriptArg[]): Promise<ScriptReply> {
    return this.guard(() => this.scripts[name](...args));
  }

  /**
   * A write that matters: on the acknowledged connection, then `WAIT`, which counts the replicas
   * holding every write of that connection so far (sent after the reply, so a script resent as
   * EVAL after NOSCRIPT is covered too).
   */
  private async runAcked(name: ScriptName, args: ScriptArg[]): Promise<ScriptReply> {
    await this.ackedFirstReady;
    const reply = await this.guard(() => this.ackedScripts[name](...args));
    await this.acknowledged();
    return reply;
  }

  /**
   * Claims are sent only once replicas hold them (or a failover could hand the same close to a
   * second instance). Unacknowledged, they are released at once where they were made, so the
   * closes are not held back for a whole lease; if the release is lost too, the lease ends it.
   */
  private async acknowledgedClaims(upstreamIds: string[]): Promise<void> {
    try {
      await this.acknowledged();
    } catch (error) {
      const release = (id: string): Promise<unknown> => this.ackedScripts.ersgwReleaseClose(this.key('D'), this.key('U', id), id, 0);
      await Promise.all(upstreamIds.map((id) => release(id).catch(() => undefined)));
      throw error;
    }
  }

  /** Every write of the acknowledged connection so far is held by `minReplicasAck` replicas, or this throws. */
  private async acknowledged(): Promise<void> {
    if (this.minReplicasAck === 0) return;
    const replicas = await this.guard(() => this.ackedRedis.wait(this.minReplicasAck, this.replicaAckTimeoutMs));
    if (replicas < this.minReplicasAck) {
      throw new StoreUnavailableError(
        `the session store's write was held by ${replicas} of ${this.minReplicasAck} replicas after ${this.replicaAckTimeoutMs} ms`,
      );
    }
  }

  /** For scripts whose reply carries blob pieces: bulk strings come back as Buffers. */
  private async runBuffer(name: ScriptName, args: ScriptArg[]): Promise<ScriptReply> {
    return this.guard(() => this.bufferScripts[name](...args));
  }

  /** Every failure of Redis itself is "store unavailable": the gateway answers 503 and keeps the session. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new StoreUnavailableError(undefined, { cause: error });
    }
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
    return this.cipher.encrypt(JSON.stringify(packProfile(stored)), profileAad(upstreamId, h, ae));
  }

  private openProfile(upstreamId: string, h: string, ae: string, blob: Buffer): OpenResult {
    if (SessionCipher.versionOf(blob) === 1) return { ok: false, failure: 'unknown-key' };
    return this.cipher.open(blob, profileAad(upstreamId, h, ae));
  }
}

/** An opened profile blob: authenticated, so it is our own JSON (a shape check would only restate encryptProfile). */
function profile(json: string): Profile {
  return unpackProfile(JSON.parse(json) as StoredProfile);
}

export { hashSessionId };

/** The store's own id for an upstream session: 16 random bytes, 22 characters (not the e-RS key). */
function newUpstreamId(): string {
  return randomBytes(16).toString('base64url');
}

/** What a key blob is bound to besides its upstream id. */
interface KeyBinding {
  /** The session's hash (the S key's id); `-` for a close queued without a session. */
  h: string;
  /** The absolute expiry, as stored; `0` without a session. */
  ae: string;
  /** The role flag; `0` without a session. */
  r: string;
}

const UNBOUND: KeyBinding = { h: '-', ae: '0', r: '0' };

/**
 * The associated data of a session's e-RS key: the record it belongs to (upstream id and the
 * cookie's hash) and the fields a copy or an edit would change (absolute expiry, role flag). A
 * blob copied or moved to another record, or left in a record whose expiry or role was edited,
 * fails authentication.
 */
function keyAad(upstreamId: string, h: string, ae: string, r: string): string {
  return `ersgw/v2/k/${upstreamId}/${h}/${ae}/${r}`;
}

/** The associated data of a session's profile (which holds the chosen role): its record and absolute expiry. */
function profileAad(upstreamId: string, h: string, ae: string): string {
  return `ersgw/v2/p/${upstreamId}/${h}/${ae}`;
}

function toReason(value: string): EndReason {
  return END_REASONS.has(value) ? (value as EndReason) : 'session-expired';
}

function rows(reply: ScriptReply): unknown[] {
  if (!Array.isArray(reply)) throw new StoreUnavailableError('unexpected reply from the session store');
  return reply as unknown[];
}

/** The first `n` entries of a script's array reply, as strings. */
function strings(reply: ScriptReply, n: 2): [string, string];
function strings(reply: ScriptReply, n: 3): [string, string, string];
function strings(reply: ScriptReply, n: number): string[] {
  const list = rows(reply);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(text(list[i]));
  return out;
}

/** A reply value as text: ids, reasons and numbers (ASCII) from a Buffer or string reply. */
function text(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new StoreUnavailableError('unexpected reply from the session store');
}

/** A blob's pieces list[from..to) joined (a missing piece counts as empty: the blob then fails to decrypt). */
function join(list: unknown[], from: number, to: number): Buffer {
  if (to - from === 1 && Buffer.isBuffer(list[from])) return list[from];
  const parts: Buffer[] = [];
  for (let i = from; i < to; i++) {
    const piece = list[i];
    if (Buffer.isBuffer(piece)) parts.push(piece);
  }
  return Buffer.concat(parts);
}

/** A blob as script arguments: its piece count, then its pieces (views, not copies). */
function pieces(blob: Buffer): ScriptArg[] {
  const out: ScriptArg[] = [String(Math.ceil(blob.length / BLOB_PIECE_BYTES))];
  for (let at = 0; at < blob.length; at += BLOB_PIECE_BYTES) out.push(blob.subarray(at, at + BLOB_PIECE_BYTES));
  return out;
}

/** The blob `f` of a hash read with HGETALL (`<f>n` pieces `<f>0`, …), or null when it has none. */
function blobOf(record: Record<string, Buffer>, f: 'k' | 'p'): Buffer | null {
  const n = Number(record[`${f}n`]?.toString('latin1'));
  if (!(n > 0)) return null;
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const piece = record[`${f}${i}`];
    if (piece === undefined) return null;
    parts.push(piece);
  }
  return Buffer.concat(parts);
}

/** Defines the store's scripts on a connection: their methods with string and with Buffer replies. */
function defineScripts(redis: RedisConnection): [Record<ScriptName, ScriptCall>, Record<ScriptName, ScriptCall>] {
  const scripts: Partial<Record<ScriptName, ScriptCall>> = {};
  const bufferScripts: Partial<Record<ScriptName, ScriptCall>> = {};
  for (const [name, def] of Object.entries(SCRIPTS) as [ScriptName, (typeof SCRIPTS)[ScriptName]][]) {
    // defineCommand sends EVALSHA and falls back to EVAL when Redis lost its script cache.
    redis.defineCommand(name, def);
    scripts[name] = method(redis, name);
    bufferScripts[name] = method(redis, `${name}Buffer`);
  }
  return [scripts as Record<ScriptName, ScriptCall>, bufferScripts as Record<ScriptName, ScriptCall>];
}

async function quit(redis: RedisConnection): Promise<void> {
  try {
    await redis.quit();
  } catch {
    // QUIT cannot be sent while Redis is unreachable; dropping the socket is all that is left.
    redis.disconnect();
  }
}

/** A method ioredis adds at run time (defined commands, `<command>Buffer`), which its types do not list. */
function method(redis: RedisConnection, name: string): ScriptCall {
  const fn = (redis as unknown as Record<string, ScriptCall | undefined>)[name];
  if (typeof fn !== 'function') throw new Error(`ioredis did not define ${name}`);
  return fn.bind(redis);
}

/** A command with these arguments as they are (ioredis's constructor would copy them). */
function commandOf(name: string, args: string[], options?: typeof BUFFER_REPLY): Command {
  const command = new Command(name, NO_ARGS, options);
  command.args = args;
  return command;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\]/g, '\\$&');
}
