import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type RedisProcess, startRedis } from '../../../../test/support/redis-server';
import type { SessionStoreOptions } from '../session-store.options';
import { openStore } from '../testing/redis-test-kit';
import { newSessionId, newUpstream } from '../testing/session-store.behaviour';
import {
  type LostSessionCounts,
  type PersistenceProblem,
  type PersistenceSetting,
  RedisCannotKeepSessionsError,
  RedisPersistenceCheck,
  redisPersistenceSource,
} from './redis-persistence-check';
import type { RedisSessionStore } from './redis-session-store';

const OPTIONS: SessionStoreOptions = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 120_000, inFlightLeaseMs: 60_000 };
const NO_PERSISTENCE = ['--appendonly', 'no', '--save', ''];
const AOF = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'];

interface Seen {
  unsafe: PersistenceProblem[];
  unchecked: PersistenceSetting[][];
  lost: LostSessionCounts[];
  refused: number;
}

/** Against real redis-server processes: the settings as Redis reports them, a real restart. */
describe('RedisPersistenceCheck on a real Redis', () => {
  const opened: { server: RedisProcess; store?: RedisSessionStore; check?: RedisPersistenceCheck }[] = [];
  afterEach(async () => {
    for (const { server, store, check } of opened.splice(0)) {
      check?.close();
      await store?.close();
      await server.stop();
    }
  });

  async function setUp(args: string[], allowVolatile: boolean, pollIntervalMs = 100) {
    const server = await startRedis({ args });
    const keyPrefix = `t${randomBytes(4).toString('hex')}:`;
    const { store, redis } = await openStore(server.url, { ...OPTIONS, keyPrefix });
    const seen: Seen = { unsafe: [], unchecked: [], lost: [], refused: 0 };
    const check = new RedisPersistenceCheck(
      redisPersistenceSource(redis, {
        keyPrefix,
        counts: async () => {
          const { sessions, pendingCloses } = await store.counts();
          return { sessions, openErsSessions: sessions + pendingCloses };
        },
      }),
      {
        allowVolatile,
        pollIntervalMs,
        events: {
          onUnsafe: (problem) => seen.unsafe.push(problem),
          onUnchecked: (settings) => seen.unchecked.push(settings),
          onDataLost: (lost) => seen.lost.push(lost),
          onRefused: () => (seen.refused += 1),
        },
      },
    );
    opened.push({ server, store, check });
    return { server, store, check, seen };
  }

  it('refuses a Redis without persistence at start-up, naming the setting', async () => {
    const { check } = await setUp(NO_PERSISTENCE, false);
    const error = await check.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RedisCannotKeepSessionsError);
    expect((error as Error).message).toMatch(/^Redis cannot keep sessions: appendonly "no" \(a restart loses every session\)/);
    expect((error as Error).message).toContain('REDIS_ALLOW_VOLATILE=true');
  });

  it('refuses an evicting Redis, even with AOF', async () => {
    const { check } = await setUp([...AOF, '--maxmemory-policy', 'allkeys-lru'], false);
    await expect(check.start()).rejects.toThrow(/maxmemory-policy "allkeys-lru" \(Redis evicts live sessions/);
  });

  it('with allowVolatile starts on it and warns once', async () => {
    const { check, seen } = await setUp(NO_PERSISTENCE, true);
    await check.start();
    expect(seen.unsafe.map((p) => [p.setting, p.value])).toEqual([['appendonly', 'no']]);
  });

  it('says nothing about a Redis with AOF every second and noeviction', async () => {
    const { check, seen } = await setUp(AOF, false);
    await check.start();
    expect(seen).toEqual({ unsafe: [], unchecked: [], lost: [], refused: 0 });
  });

  it('reads INFO where CONFIG is disabled (managed Redis), and says what it could not read', async () => {
    const { check, seen } = await setUp([...AOF, '--rename-command', 'CONFIG', ''], false);
    await check.start();
    // INFO tells AOF on or off and the eviction policy, not the fsync policy.
    expect(seen.unsafe).toEqual([]);
    expect(seen.unchecked).toEqual([['appendfsync']]);
    const bare = await setUp([...NO_PERSISTENCE, '--rename-command', 'CONFIG', ''], false);
    await expect(bare.check.start()).rejects.toThrow(/appendonly "no"/);
  });

  it('logs a restart of a Redis without persistence with the sessions and open e-RS sessions it lost', async () => {
    const { server, store, check, seen } = await setUp(NO_PERSISTENCE, true);
    await check.start();
    const ids = Array.from({ length: 5 }, () => newSessionId());
    for (const id of ids) await store.create(id, newUpstream());
    // One ended session whose A003 is still pending: an open e-RS session without a session.
    await store.end(ids[0]!, 'logout');
    await until(async () => (await store.counts()).sessions === 4);
    await new Promise((resolve) => setTimeout(resolve, 300)); // a poll or two reads the counts
    await server.restart();
    await until(async () => seen.lost.length > 0);
    expect(seen.lost).toEqual([{ sessions: 4, openErsSessions: 5 }]);
    // Said once: later polls of the new, empty Redis do not say it again.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen.lost).toHaveLength(1);
  });

  it('does not call a restart of a Redis with AOF a loss', async () => {
    const { server, store, check, seen } = await setUp(AOF, false);
    await check.start();
    await store.create(newSessionId(), newUpstream());
    // AOF every second: give the write its fsync before the restart (SIGTERM also rewrites it).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await server.restart();
    await until(async () => (await store.counts().catch(() => ({ sessions: -1 }))).sessions === 1);
    await check.settled();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen.lost).toEqual([]);
  });
});

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met in time');
}
