import { randomBytes } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import type { RedisConnection } from './redis-connection';

/**
 * Whether the Redis behind the store can keep sessions, and whether it lost them.
 *
 * A live session's record is the only copy of its e-RS session key: a Redis that forgets it (a
 * restart without AOF, an eviction) loses the session and leaves its e-RS session open until
 * e-RS's own timeout, with nothing left to close it with. So the settings are read at start-up
 * and on every reconnect, and a marker key tells a Redis that came back empty from one that kept
 * its data (docs/design.md, "Redis must persist").
 */

/** The server settings that decide it; null when they could not be read. */
export interface PersistenceSettings {
  /** `yes` or `no`. */
  appendonly: string | null;
  /** `always`, `everysec` or `no` (meaningful with `appendonly yes`). */
  appendfsync: string | null;
  maxmemoryPolicy: string | null;
  /** RDB snapshot rules (`''`: none); shown to the operator, not decisive. */
  save: string | null;
}

export type PersistenceSetting = 'appendonly' | 'appendfsync' | 'maxmemory-policy';

/** A setting whose value cannot keep what Redis acknowledged, and what it loses. */
export interface PersistenceProblem {
  setting: PersistenceSetting;
  value: string;
  loses: string;
}

export interface PersistenceAssessment {
  problems: PersistenceProblem[];
  /** Settings that could not be read (CONFIG renamed or disabled, and INFO does not say). */
  unchecked: PersistenceSetting[];
}

/**
 * What keeps sessions: AOF with `appendfsync everysec` (or `always`), and no eviction. RDB
 * snapshots alone lose every write since the last one, so `save` never makes up for no AOF.
 */
export function assessPersistence(settings: PersistenceSettings): PersistenceAssessment {
  const problems: PersistenceProblem[] = [];
  const unchecked: PersistenceSetting[] = [];
  const aof = settings.appendonly?.toLowerCase() ?? null;
  if (aof === null) unchecked.push('appendonly');
  else if (aof !== 'yes') {
    const snapshots = settings.save !== null && settings.save.trim() !== '';
    problems.push({
      setting: 'appendonly',
      value: settings.appendonly ?? '',
      loses: snapshots
        ? 'a restart loses every session written since the last RDB snapshot'
        : 'a restart loses every session',
    });
  }
  if (aof === 'yes') {
    const fsync = settings.appendfsync?.toLowerCase() ?? null;
    if (fsync === null) unchecked.push('appendfsync');
    else if (fsync !== 'everysec' && fsync !== 'always') {
      problems.push({
        setting: 'appendfsync',
        value: settings.appendfsync ?? '',
        loses: 'a crash of the machine loses the sessions of the last ~30 s',
      });
    }
  }
  const policy = settings.maxmemoryPolicy?.toLowerCase() ?? null;
  if (policy === null) unchecked.push('maxmemory-policy');
  else if (policy !== 'noeviction') {
    problems.push({
      setting: 'maxmemory-policy',
      value: settings.maxmemoryPolicy ?? '',
      loses: 'Redis evicts live sessions when memory is full',
    });
  }
  return { problems, unchecked };
}

/** The store's counts, as last read: what a Redis that came back empty has lost. */
export interface LostSessionCounts {
  /** Live gateway sessions. */
  sessions: number;
  /** e-RS sessions still open: one per live session, plus those whose close (A003) is pending. */
  openErsSessions: number;
}

/** Start-up refused: the settings cannot keep sessions and `allowVolatile` is off. */
export class RedisCannotKeepSessionsError extends Error {
  override readonly name = 'RedisCannotKeepSessionsError';
  readonly code = 'redis-cannot-keep-sessions';

  constructor(readonly problems: readonly PersistenceProblem[]) {
    super(
      `Redis cannot keep sessions: ${problems.map((p) => `${p.setting} ${JSON.stringify(p.value)} (${p.loses})`).join('; ')}. ` +
        'Set appendonly yes, appendfsync everysec and maxmemory-policy noeviction, or set REDIS_ALLOW_VOLATILE=true to accept the loss',
    );
  }
}

/** The narrow view of Redis the check needs; `redisPersistenceSource()` is the real one. */
export interface PersistenceSource {
  isReady(): boolean;
  /** Calls `listener` on every `ready` (the first connection and each reconnect); returns an unsubscribe. */
  onReady(listener: () => void): () => void;
  readSettings(): Promise<PersistenceSettings>;
  /** Sets the marker to `candidate` unless it holds a value, and returns the value it holds. */
  claimIncarnation(candidate: string): Promise<string>;
  /** The marker's value, null when Redis no longer has it. */
  readIncarnation(): Promise<string | null>;
  counts(): Promise<LostSessionCounts>;
}

export interface PersistenceCheckEvents {
  /** Once per setting and value for the life of the process; `allowed`: `allowVolatile` was set. */
  onUnsafe(problem: PersistenceProblem, allowed: boolean): void;
  /** Once: some settings could not be read, so whether Redis keeps sessions is unknown. */
  onUnchecked(settings: PersistenceSetting[]): void;
  /** Redis came back without the marker: what it had when last counted is gone. */
  onDataLost(lost: LostSessionCounts): void;
  /**
   * The first check found settings that cannot keep sessions, without `allowVolatile`, after
   * `start()` had returned (Redis was not reachable then). Nothing can have been stored yet.
   */
  onRefused(error: RedisCannotKeepSessionsError): void;
  /** A check that failed (Redis went away meanwhile): tried again on the next reconnect or poll. */
  onCheckFailed?(error: unknown): void;
}

export interface RedisPersistenceCheckOptions {
  /** Accept settings that cannot keep sessions, with a warning (`REDIS_ALLOW_VOLATILE`). */
  allowVolatile: boolean;
  /** How often the counts and the marker are read (they tell what a loss cost); default 2 s. */
  pollIntervalMs?: number;
  events: PersistenceCheckEvents;
}

const DEFAULT_POLL_MS = 2_000;

/**
 * Checks the settings at start-up and on each reconnect, and keeps the marker and the last-known
 * counts. Never on a request path: it runs on `ready` and on an unref'd timer.
 */
export class RedisPersistenceCheck {
  private readonly warned = new Set<string>();
  private uncheckedWarned = false;
  /** Whether a check has ever completed: the first one may refuse. */
  private checked = false;
  private incarnation: string | null = null;
  private lastCounts: LostSessionCounts = { sessions: 0, openErsSessions: 0 };
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | null = null;
  private running: Promise<void> = Promise.resolve();
  private pollBusy = false;
  private closed = false;

  constructor(
    private readonly source: PersistenceSource,
    private readonly options: RedisPersistenceCheckOptions,
  ) {}

  /**
   * Checks now when Redis is ready (throws `RedisCannotKeepSessionsError` to refuse the start),
   * else on its first `ready`; then on every reconnect and poll.
   */
  async start(): Promise<void> {
    this.unsubscribe = this.source.onReady(() => this.enqueue(() => this.onReady()));
    if (this.source.isReady()) {
      try {
        await this.check(true);
      } catch (error) {
        if (error instanceof RedisCannotKeepSessionsError) {
          this.close();
          throw error;
        }
        // Redis went away mid-check: the next `ready` checks again (and may still refuse).
        this.options.events.onCheckFailed?.(error);
      }
    }
    this.timer = setInterval(() => this.poll(), this.options.pollIntervalMs ?? DEFAULT_POLL_MS);
    this.timer.unref();
  }

  /**
   * One check at a time, in order: a reconnect's check and a poll that both found the marker gone
   * would otherwise report one loss twice.
   */
  private enqueue(job: () => Promise<void>): void {
    this.running = this.running.then(job);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  /** Resolves when the checks started so far have finished (for tests). */
  async settled(): Promise<void> {
    await this.running;
  }

  private async onReady(): Promise<void> {
    if (this.closed) return;
    try {
      await this.check(false);
    } catch (error) {
      if (error instanceof RedisCannotKeepSessionsError) this.options.events.onRefused(error);
      else this.options.events.onCheckFailed?.(error);
    }
  }

  /** `throwOnRefusal`: the start-up check, whose refusal stops the boot. */
  private async check(throwOnRefusal: boolean): Promise<void> {
    const { problems, unchecked } = assessPersistence(await this.source.readSettings());
    const first = !this.checked;
    if (first && problems.length > 0 && !this.options.allowVolatile) {
      const error = new RedisCannotKeepSessionsError(problems);
      if (throwOnRefusal) throw error;
      this.options.events.onRefused(error);
      return;
    }
    this.checked = true;
    for (const problem of problems) {
      const key = `${problem.setting}=${problem.value}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      this.options.events.onUnsafe(problem, this.options.allowVolatile);
    }
    if (unchecked.length > 0 && !this.uncheckedWarned) {
      this.uncheckedWarned = true;
      this.options.events.onUnchecked(unchecked);
    }
    await this.checkIncarnation();
  }

  private poll(): void {
    if (this.pollBusy || this.closed || !this.checked || !this.source.isReady()) return;
    this.pollBusy = true;
    this.enqueue(async () => {
      try {
        if (!this.closed && this.source.isReady()) await this.checkIncarnation();
      } catch (error) {
        this.options.events.onCheckFailed?.(error);
      } finally {
        this.pollBusy = false;
      }
    });
  }

  /**
   * The marker: a random id written once; another value (or none) means Redis lost its data since
   * the last look. Another instance may have written a new one first: a different value says the
   * same thing. Then the counts, for the next loss.
   */
  private async checkIncarnation(): Promise<void> {
    if (this.incarnation === null) {
      this.incarnation = await this.source.claimIncarnation(randomBytes(16).toString('base64url'));
    } else {
      const seen = await this.source.readIncarnation();
      if (seen !== this.incarnation) {
        const lost = this.lastCounts;
        this.lastCounts = { sessions: 0, openErsSessions: 0 };
        this.incarnation = await this.source.claimIncarnation(randomBytes(16).toString('base64url'));
        this.options.events.onDataLost(lost);
      }
    }
    this.lastCounts = await this.source.counts();
  }
}

/** The marker's key (with the store's prefix). */
export const INCARNATION_KEY = 'incarnation';

/**
 * The real source: settings from `CONFIG GET`, or from `INFO` where CONFIG is renamed or disabled
 * (managed Redis); on a Cluster, every primary, and the worst of them counts.
 */
export function redisPersistenceSource(
  redis: RedisConnection,
  options: { keyPrefix?: string; counts: () => Promise<LostSessionCounts> },
): PersistenceSource {
  const marker = `${options.keyPrefix ?? 'ersgw:'}${INCARNATION_KEY}`;
  return {
    isReady: () => redis.status === 'ready',
    onReady(listener) {
      redis.on('ready', listener);
      return () => redis.off('ready', listener);
    },
    async readSettings() {
      const nodes: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis];
      const all = await Promise.all(nodes.map((node) => readNodeSettings(node)));
      return worstOf(all);
    },
    async claimIncarnation(candidate) {
      await redis.set(marker, candidate, 'NX');
      return (await redis.get(marker)) ?? candidate;
    },
    async readIncarnation() {
      return redis.get(marker);
    },
    counts: options.counts,
  };
}

const CONFIG_NAMES = { appendonly: 'appendonly', appendfsync: 'appendfsync', maxmemoryPolicy: 'maxmemory-policy', save: 'save' } as const;

async function readNodeSettings(node: Redis): Promise<PersistenceSettings> {
  // One parameter per CONFIG GET: several in one call need Redis 7.
  const fromConfig = async (name: string): Promise<string | null> => {
    try {
      return configValue(await node.config('GET', name), name);
    } catch {
      return null;
    }
  };
  const settings: PersistenceSettings = {
    appendonly: await fromConfig(CONFIG_NAMES.appendonly),
    appendfsync: await fromConfig(CONFIG_NAMES.appendfsync),
    maxmemoryPolicy: await fromConfig(CONFIG_NAMES.maxmemoryPolicy),
    save: await fromConfig(CONFIG_NAMES.save),
  };
  if (settings.appendonly === null) {
    const aof = infoField(await node.info('persistence').catch(() => ''), 'aof_enabled');
    settings.appendonly = aof === null ? null : aof === '1' ? 'yes' : 'no';
  }
  settings.maxmemoryPolicy ??= infoField(await node.info('memory').catch(() => ''), 'maxmemory_policy');
  return settings;
}

/** CONFIG GET answers `[name, value]` (RESP2) or a map (RESP3, depending on the client's mapping). */
function configValue(reply: unknown, name: string): string | null {
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) if (text(reply[i]) === name) return text(reply[i + 1]);
    return null;
  }
  if (reply instanceof Map) return text(reply.get(name));
  if (typeof reply === 'object' && reply !== null) return text((reply as Record<string, unknown>)[name]);
  return null;
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  return Buffer.isBuffer(value) ? value.toString('utf8') : null;
}

function infoField(info: string, field: string): string | null {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${field}:`));
  return line === undefined ? null : line.slice(field.length + 1).trim();
}

/** For a Cluster: a node that cannot keep sessions makes the whole store unable to. */
function worstOf(all: PersistenceSettings[]): PersistenceSettings {
  if (all.length === 1 && all[0] !== undefined) return all[0];
  const pick = (values: (string | null)[], good: (v: string) => boolean): string | null => {
    const bad = values.find((v) => v !== null && !good(v));
    if (bad !== undefined) return bad;
    return values.includes(null) ? null : (values[0] ?? null);
  };
  return {
    appendonly: pick(
      all.map((s) => s.appendonly),
      (v) => v === 'yes',
    ),
    appendfsync: pick(
      all.map((s) => s.appendfsync),
      (v) => v === 'everysec' || v === 'always',
    ),
    maxmemoryPolicy: pick(
      all.map((s) => s.maxmemoryPolicy),
      (v) => v === 'noeviction',
    ),
    save: all[0]?.save ?? null,
  };
}
