import { createHash, hash, randomBytes } from 'node:crypto';
import { Command } from 'ioredis';
import type { SessionCipher } from '../cipher/session-cipher';
import { StoreUnavailableError } from '../errors';
import type { SessionStoreOptions } from '../session-store.options';
import type {
  CallGrant,
  ClaimCloseResult,
  ClaimedClose,
  EndReason,
  EndedSession,
  GatewayRole,
  GatewaySession,
  GatewayUser,
  NewGatewaySession,
  SessionStore,
  StoreStats,
  UpstreamSecrets,
} from '../session-store.port';
import { DecryptedKeyMemo } from './decrypted-key-memo';
import type { RedisConnection } from './redis-connection';
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
    this.beginCallLua = beginCallScript(this.prefix, options.idleTimeoutMs, options.inFlightLeaseMs, MARK_MARGIN_MS);
    this.beginCallSha = createHash('sha1').update(this.beginCallLua.lua).digest('hex');
    this.endCallsSha = createHash('sha1').update(SCRIPTS.ersgwEndCalls.lua).digest('hex');
    const memoSize = options.keyCacheSize ?? 0;
    this.keyMemo = memoSize > 0 ? new DecryptedKeyMemo(memoSize, options.idleTimeoutMs) : null;
    const scripts: Partial<Record<ScriptName, ScriptCall>> = {};
    const bufferScripts: Partial<Record<ScriptName, ScriptCall>> = {};
    for (const [name, def] of Object.entries(SCRIPTS) as [ScriptName, (typeof SCRIPTS)[ScriptName]][]) {
      // defineCommand sends EVALSHA and falls back to EVAL when Redis lost its script cache.
      redis.defineCommand(name, def);
      scripts[name] = method(redis, name);
      bufferScripts[name] = method(redis, `${name}Buffer`);
    }
    this.scripts = scripts as Record<ScriptName, ScriptCall>;
    this.bufferScripts = bufferScripts as Record<ScriptName, ScriptCall>;
    this.evalBuffer = method(redis, 'evalBuffer');
  }

  async create(sessionId: string, init: NewGatewaySession): Promise<GatewaySession> {
    const upstreamId = newUpstreamId();
    const h = hashSessionId(sessionId);
    const profile: Profile = { user: init.user, roles: init.roles, role: init.role, ssoToken: init.upstream.ssoToken };
    const reply = await this.run('ersgwCreate', [
      this.key('S', h),
      this.prefix,
      this.options.idleTimeoutMs,
      this.options.absoluteTimeoutMs,
      init.absoluteExpiresAtMs === undefined ? '' : Math.floor(init.absoluteExpiresAtMs),
      upstreamId,
      init.role ? '1' : '0',
      h,
      this.retentionMs,
      this.markRetentionMs,
      ...pieces(this.encryptKey(upstreamId, init.upstream.sessionKey)),
      ...pieces(this.encryptProfile(upstreamId, profile)),
    ]);
    const [c, ie, ae] = strings(reply, 3);
    return {
      upstreamId,
      upstream: { ...init.upstream },
      user: structuredClone(init.user),
      roles: structuredClone(init.roles),
      role: structuredClone(init.role),
      createdAtMs: Number(c),
      idleExpiresAtMs: Number(ie),
      absoluteExpiresAtMs: Number(ae),
    };
  }

  async get(sessionId: string): Promise<GatewaySession | null> {
    const reply = await this.runBuffer('ersgwGet', [this.key('S', hashSessionId(sessionId))]);
    return reply === null ? null : this.toSession(reply);
  }

  /**
   * The hot path: EVALSHA sent directly (no per-call wrapper closures or promise chains), EVAL
   * only when Redis has lost the script (after a restart or SCRIPT FLUSH).
   */
  async beginCall(sessionId: string, callId: string): Promise<CallGrant> {
    const key = this.sessionKeyPrefix + hashSessionId(sessionId);
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
    // One bulk string: u's length (one byte), u, the key blob.
    if (!Buffer.isBuffer(reply) || reply.length < 1 || reply.length < 1 + (reply[0] as number)) {
      throw new StoreUnavailableError('unexpected reply from the session store');
    }
    const idEnd = 1 + (reply[0] as number);
    const upstreamId = reply.toString('latin1', 1, idEnd);
    const blob = reply.subarray(idEnd);
    const sessionKey = this.keyMemo?.get(upstreamId, blob) ?? this.decryptCallKey(upstreamId, blob);
    if (sessionKey === null) {
      // Unreadable (key rotated away or tampered) means no session; drop the mark we just set.
      await this.endCall(upstreamId, callId);
      return { status: 'no-session' };
    }
    return { status: 'ok', upstreamId, sessionKey };
  }

  /** How many decrypted keys the key cache holds (0 when it is off). */
  get cachedKeys(): number {
    return this.keyMemo?.size ?? 0;
  }

  /** The key of a call's session, decrypted (and authenticated); remembered when the memo is on. */
  private decryptCallKey(upstreamId: string, blob: Buffer): string | null {
    const sessionKey = this.cipher.decrypt(blob, aad(upstreamId, 'k'));
    if (sessionKey !== null) this.keyMemo?.set(upstreamId, blob, sessionKey);
    return sessionKey;
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
    const reply = await this.runBuffer('ersgwBeginSessionCall', [
      this.key('S', hashSessionId(sessionId)),
      this.prefix,
      this.options.inFlightLeaseMs,
      callId,
      MARK_MARGIN_MS,
    ]);
    if (reply === null) return null;
    const session = this.toSession(reply);
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
    const profile = oldP === null ? null : this.decryptProfile(upstreamId, oldP);
    if (oldP === null || profile === null) {
      await this.endCall(upstreamId, callId);
      return null;
    }
    const next: Profile = { ...profile, role };
    const newH = hashSessionId(newSessionId);
    const reply = await this.run('ersgwCommitRole', [
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
      ...pieces(this.encryptKey(upstreamId, sessionKey)),
      ...pieces(this.encryptProfile(upstreamId, next)),
    ]);
    if (reply === null) return null;
    const [ie, ae, c] = strings(reply, 3);
    return {
      upstreamId,
      upstream: { sessionKey, ssoToken: next.ssoToken },
      user: next.user,
      roles: next.roles,
      role: structuredClone(role),
      createdAtMs: Number(c),
      idleExpiresAtMs: Number(ie),
      absoluteExpiresAtMs: Number(ae),
    };
  }

  async end(sessionId: string, reason: EndReason): Promise<EndedSession | null> {
    const h = hashSessionId(sessionId);
    const reply = await this.run('ersgwEnd', [this.key('S', h), this.prefix, h, reason, this.markRetentionMs, this.retentionMs]);
    if (reply === null) return null;
    const [upstreamId, why] = strings(reply, 2);
    this.keyMemo?.forget(upstreamId);
    return { upstreamId, reason: toReason(why) };
  }

  async queueClose(upstream: UpstreamSecrets, reason: EndReason): Promise<EndedSession> {
    const upstreamId = newUpstreamId();
    await this.run('ersgwQueueClose', [
      this.key('U', upstreamId),
      this.key('D'),
      upstreamId,
      reason,
      this.retentionMs,
      ...pieces(this.encryptKey(upstreamId, upstream.sessionKey)),
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
    const reply = await this.runBuffer('ersgwClaimCloses', [
      this.key('D'),
      this.prefix,
      Math.floor(limit),
      Math.floor(leaseMs),
      this.pollDelayMs,
      CLAIM_SCAN_FACTOR,
    ]);
    const claimed: ClaimedClose[] = [];
    for (const row of rows(reply)) {
      // {u, why, n, key pieces…}
      const list = rows(row);
      const close = await this.toClaimedClose(text(list[0]), join(list, 3, list.length), text(list[1]), text(list[2]));
      if (close) claimed.push(close);
    }
    return claimed;
  }

  async claimClose(upstreamId: string, leaseMs: number): Promise<ClaimCloseResult> {
    const reply = await this.runBuffer('ersgwClaimClose', [
      this.key('D'),
      this.key('U', upstreamId),
      this.key('F', upstreamId),
      upstreamId,
      Math.floor(leaseMs),
    ]);
    if (reply === 0) return { status: 'done' };
    if (reply === 1) return { status: 'claimed-elsewhere' };
    if (reply === 2) return { status: 'in-flight' };
    // {why, n, key pieces…}
    const list = rows(reply);
    const close = await this.toClaimedClose(upstreamId, join(list, 2, list.length), text(list[0]), text(list[1]));
    // Unreadable here means another instance with the right key has to send it.
    return close ? { status: 'claimed', close } : { status: 'claimed-elsewhere' };
  }

  async completeClose(upstreamId: string): Promise<void> {
    await this.run('ersgwCompleteClose', [this.key('U', upstreamId), this.key('D'), this.key('F', upstreamId), upstreamId]);
  }

  async releaseClose(upstreamId: string, retryInMs: number): Promise<void> {
    await this.run('ersgwReleaseClose', [this.key('D'), this.key('U', upstreamId), upstreamId, Math.max(0, Math.floor(retryInMs))]);
  }

  async ping(): Promise<void> {
    await this.guard(() => this.redis.ping());
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
    if (!this.ownsConnection) return;
    try {
      await this.redis.quit();
    } catch {
      // QUIT cannot be sent while Redis is unreachable; dropping the socket is all that is left.
      this.redis.disconnect();
    }
  }

  private key(kind: 'S' | 'U' | 'F' | 'T', id: string): string;
  private key(kind: 'X' | 'D'): string;
  private key(kind: string, id?: string): string {
    return id === undefined ? `${this.prefix}${kind}` : `${this.prefix}${kind}:${id}`;
  }

  private async run(name: ScriptName, args: ScriptArg[]): Promise<ScriptReply> {
    return this.guard(() => this.scripts[name](...args));
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

  /** From {u, r, ie, ae, c, kn, key pieces…, profile pieces…} (GET, BEGIN_SESSION_CALL). */
  private toSession(reply: ScriptReply): GatewaySession | null {
    const list = rows(reply);
    const u = text(list[0]);
    const profileFrom = 6 + Number(text(list[5]));
    const sessionKey = this.cipher.decrypt(join(list, 6, profileFrom), aad(u, 'k'));
    const profile = this.decryptProfile(u, join(list, profileFrom, list.length));
    if (sessionKey === null || profile === null) return null;
    // r is the index's copy of "a role is selected"; the profile holds which one.
    const role = text(list[1]) === '1' ? profile.role : null;
    return {
      upstreamId: u,
      upstream: { sessionKey, ssoToken: profile.ssoToken },
      user: profile.user,
      roles: profile.roles,
      role,
      createdAtMs: Number(text(list[4])),
      idleExpiresAtMs: Number(text(list[2])),
      absoluteExpiresAtMs: Number(text(list[3])),
    };
  }

  private async toClaimedClose(upstreamId: string, k: Buffer, why: string, n: string): Promise<ClaimedClose | null> {
    const sessionKey = this.cipher.decrypt(k, aad(upstreamId, 'k'));
    if (sessionKey === null) {
      // Another instance may hold the key this one lacks (a rotation in progress): give it the
      // close rather than forgetting an e-RS session that is still open.
      await this.releaseClose(upstreamId, UNREADABLE_CLOSE_RETRY_MS);
      return null;
    }
    return { upstreamId, sessionKey, reason: toReason(why), attempt: Number(n) };
  }

  private encryptKey(upstreamId: string, sessionKey: string): Buffer {
    return this.cipher.encrypt(sessionKey, aad(upstreamId, 'k'));
  }

  private encryptProfile(upstreamId: string, profile: Profile): Buffer {
    return this.cipher.encrypt(JSON.stringify(packProfile(profile)), aad(upstreamId, 'p'));
  }

  private decryptProfile(upstreamId: string, blob: Buffer): Profile | null {
    const json = this.cipher.decrypt(blob, aad(upstreamId, 'p'));
    // Authenticated, so it is our own JSON: a shape check would only restate encryptProfile.
    return json === null ? null : unpackProfile(JSON.parse(json) as StoredProfile);
  }
}

/** The store keeps only this hash of the cookie value, never the value. */
export function hashSessionId(sessionId: string): string {
  return hash('sha256', sessionId, 'base64url');
}

/** The store's own id for an upstream session: 16 random bytes, 22 characters (not the e-RS key). */
function newUpstreamId(): string {
  return randomBytes(16).toString('base64url');
}

/** Binds a blob to its upstream record and field, so blobs cannot be swapped between records. */
function aad(upstreamId: string, field: 'k' | 'p'): string {
  return `ersgw/v1/${upstreamId}/${field}`;
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
