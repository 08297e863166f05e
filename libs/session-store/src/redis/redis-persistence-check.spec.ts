import { afterEach, describe, expect, it } from 'vitest';
import {
  type LostSessionCounts,
  type PersistenceProblem,
  type PersistenceSetting,
  type PersistenceSettings,
  type PersistenceSource,
  RedisCannotKeepSessionsError,
  RedisPersistenceCheck,
  assessPersistence,
} from './redis-persistence-check';

const SAFE: PersistenceSettings = { appendonly: 'yes', appendfsync: 'everysec', maxmemoryPolicy: 'noeviction', save: '' };
const BARE: PersistenceSettings = { appendonly: 'no', appendfsync: 'everysec', maxmemoryPolicy: 'noeviction', save: '' };

/** A Redis as the check sees it: settings, a marker, counts, and `ready` events on demand. */
class FakeSource implements PersistenceSource {
  ready = true;
  settings: PersistenceSettings = SAFE;
  marker: string | null = null;
  current: LostSessionCounts = { sessions: 0, openErsSessions: 0 };
  private listeners: (() => void)[] = [];

  isReady(): boolean {
    return this.ready;
  }
  onReady(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }
  async readSettings(): Promise<PersistenceSettings> {
    return { ...this.settings };
  }
  async claimIncarnation(candidate: string): Promise<string> {
    this.marker ??= candidate;
    return this.marker;
  }
  async readIncarnation(): Promise<string | null> {
    return this.marker;
  }
  async counts(): Promise<LostSessionCounts> {
    return { ...this.current };
  }

  /** A restart: the connection comes back (`ready`), with or without its data. */
  reconnect(options: { empty: boolean }): void {
    if (options.empty) {
      this.marker = null;
      this.current = { sessions: 0, openErsSessions: 0 };
    }
    this.ready = true;
    for (const listener of this.listeners) listener();
  }
}

interface Recorded {
  unsafe: { problem: PersistenceProblem; allowed: boolean }[];
  unchecked: PersistenceSetting[][];
  lost: LostSessionCounts[];
  refused: RedisCannotKeepSessionsError[];
}

const checks: RedisPersistenceCheck[] = [];
afterEach(() => checks.splice(0).forEach((c) => c.close()));

function makeCheck(source: FakeSource, allowVolatile: boolean, pollIntervalMs = 60_000): { check: RedisPersistenceCheck; seen: Recorded } {
  const seen: Recorded = { unsafe: [], unchecked: [], lost: [], refused: [] };
  const check = new RedisPersistenceCheck(source, {
    allowVolatile,
    pollIntervalMs,
    events: {
      onUnsafe: (problem, allowed) => seen.unsafe.push({ problem, allowed }),
      onUnchecked: (settings) => seen.unchecked.push(settings),
      onDataLost: (lost) => seen.lost.push(lost),
      onRefused: (error) => seen.refused.push(error),
    },
  });
  checks.push(check);
  return { check, seen };
}

describe('assessPersistence', () => {
  it('accepts AOF every second or always, with noeviction', () => {
    expect(assessPersistence(SAFE)).toEqual({ problems: [], unchecked: [] });
    expect(assessPersistence({ ...SAFE, appendfsync: 'always', appendonly: 'YES' })).toEqual({ problems: [], unchecked: [] });
  });

  it('names each setting that cannot keep sessions, and what it loses', () => {
    const { problems } = assessPersistence({ appendonly: 'no', appendfsync: 'everysec', maxmemoryPolicy: 'allkeys-lru', save: '3600 1' });
    expect(problems.map((p) => [p.setting, p.value])).toEqual([
      ['appendonly', 'no'],
      ['maxmemory-policy', 'allkeys-lru'],
    ]);
    expect(problems[0]!.loses).toMatch(/since the last RDB snapshot/);
    expect(assessPersistence(BARE).problems[0]!.loses).toBe('a restart loses every session');
    expect(assessPersistence({ ...SAFE, appendfsync: 'no' }).problems.map((p) => p.setting)).toEqual(['appendfsync']);
    // Even a policy that evicts only keys with a TTL: every session key has one.
    expect(assessPersistence({ ...SAFE, maxmemoryPolicy: 'volatile-lru' }).problems.map((p) => p.setting)).toEqual(['maxmemory-policy']);
  });

  it('says which settings it could not read, and never calls them safe', () => {
    expect(assessPersistence({ appendonly: 'yes', appendfsync: null, maxmemoryPolicy: null, save: null })).toEqual({
      problems: [],
      unchecked: ['appendfsync', 'maxmemory-policy'],
    });
    expect(assessPersistence({ appendonly: null, appendfsync: null, maxmemoryPolicy: 'noeviction', save: null }).unchecked).toEqual(['appendonly']);
  });
});

describe('RedisPersistenceCheck', () => {
  it('refuses the start on settings that cannot keep sessions, naming them and the way out', async () => {
    const source = new FakeSource();
    source.settings = BARE;
    const { check } = makeCheck(source, false);
    const refusal = check.start();
    await expect(refusal).rejects.toBeInstanceOf(RedisCannotKeepSessionsError);
    await expect(refusal).rejects.toThrow(/appendonly "no".*REDIS_ALLOW_VOLATILE=true/);
  });

  it('with allowVolatile starts and warns once per setting, however often Redis reconnects', async () => {
    const source = new FakeSource();
    source.settings = { ...BARE, maxmemoryPolicy: 'allkeys-lru' };
    const { check, seen } = makeCheck(source, true);
    await check.start();
    source.reconnect({ empty: false });
    source.reconnect({ empty: false });
    await check.settled();
    expect(seen.unsafe.map((u) => [u.problem.setting, u.allowed])).toEqual([
      ['appendonly', true],
      ['maxmemory-policy', true],
    ]);
    expect(seen.refused).toEqual([]);
  });

  it('says nothing about a Redis that keeps sessions', async () => {
    const source = new FakeSource();
    const { check, seen } = makeCheck(source, false);
    await check.start();
    source.reconnect({ empty: false });
    await check.settled();
    expect(seen).toEqual({ unsafe: [], unchecked: [], lost: [], refused: [] });
  });

  it('reports settings changed under it on a reconnect, without refusing a running gateway', async () => {
    const source = new FakeSource();
    const { check, seen } = makeCheck(source, false);
    await check.start();
    source.settings = BARE;
    source.reconnect({ empty: false });
    await check.settled();
    expect(seen.unsafe.map((u) => [u.problem.setting, u.allowed])).toEqual([['appendonly', false]]);
    expect(seen.refused).toEqual([]);
  });

  it('refuses on the first ready when Redis was not there at start-up', async () => {
    const source = new FakeSource();
    source.ready = false;
    source.settings = BARE;
    const { check, seen } = makeCheck(source, false);
    await check.start();
    source.reconnect({ empty: false });
    await check.settled();
    expect(seen.refused).toHaveLength(1);
  });

  it('warns once when the settings cannot be read', async () => {
    const source = new FakeSource();
    source.settings = { appendonly: 'yes', appendfsync: null, maxmemoryPolicy: 'noeviction', save: null };
    const { check, seen } = makeCheck(source, false);
    await check.start();
    source.reconnect({ empty: false });
    await check.settled();
    expect(seen.unchecked).toEqual([['appendfsync']]);
  });

  it('notices a Redis that came back empty and reports the last counts it had', async () => {
    const source = new FakeSource();
    const { check, seen } = makeCheck(source, true);
    await check.start();
    source.current = { sessions: 7, openErsSessions: 9 };
    source.reconnect({ empty: false });
    await check.settled();
    expect(seen.lost).toEqual([]);
    source.reconnect({ empty: true });
    await check.settled();
    expect(seen.lost).toEqual([{ sessions: 7, openErsSessions: 9 }]);
    // Counted again from the new, empty Redis: a second restart with nothing in it loses nothing.
    source.reconnect({ empty: true });
    await check.settled();
    expect(seen.lost).toEqual([{ sessions: 7, openErsSessions: 9 }, { sessions: 0, openErsSessions: 0 }]);
  });

  it('reports a loss once when polls and a reconnect both find the marker gone', async () => {
    const source = new FakeSource();
    const { check, seen } = makeCheck(source, true, 1);
    await check.start();
    source.current = { sessions: 2, openErsSessions: 3 };
    await new Promise((resolve) => setTimeout(resolve, 20)); // polls read the counts
    source.marker = null;
    source.reconnect({ empty: false });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await check.settled();
    expect(seen.lost).toEqual([{ sessions: 2, openErsSessions: 3 }]);
  });

  it('takes a marker another instance wrote after the loss as the same loss, and keeps the new one', async () => {
    const source = new FakeSource();
    const { check, seen } = makeCheck(source, true);
    await check.start();
    const before = source.marker;
    source.marker = 'written-by-another-instance';
    source.reconnect({ empty: false });
    await check.settled();
    expect(before).not.toBeNull();
    expect(seen.lost).toHaveLength(1);
    source.reconnect({ empty: false });
    await check.settled();
    expect(seen.lost).toHaveLength(1);
  });
});
