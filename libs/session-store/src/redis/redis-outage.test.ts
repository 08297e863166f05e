import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisProcess } from '../../../../test/support/redis-server';
import { StoreUnavailableError } from '../errors';
import type { SessionStoreOptions } from '../session-store.options';
import { newSessionId, newUpstream } from '../testing/session-store.behaviour';
import type { RedisSessionStore } from './redis-session-store';
import { openStore } from '../testing/redis-test-kit';

/** CONTRACT §4: Redis unreachable or timing out → 503 within 2 s; service resumes by itself. */
const BUDGET_MS = 2_000;
const OPTIONS: SessionStoreOptions = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 120_000, inFlightLeaseMs: 60_000 };

async function failsFast(label: string, op: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const error = await op().then(
    () => null,
    (e: unknown) => e,
  );
  const elapsed = performance.now() - started;
  expect(error, `${label} should fail`).toBeInstanceOf(StoreUnavailableError);
  expect((error as Error).message).toBe('the session store is unavailable');
  expect(elapsed, `${label} took ${Math.round(elapsed)} ms`).toBeLessThan(BUDGET_MS);
  console.info(`[outage] ${label}: StoreUnavailableError after ${Math.round(elapsed)} ms`);
  return elapsed;
}

async function eventually<T>(op: () => Promise<T>, timeoutMs = 10_000): Promise<{ value: T; afterMs: number }> {
  const started = performance.now();
  let lastError: unknown;
  while (performance.now() - started < timeoutMs) {
    try {
      return { value: await op(), afterMs: performance.now() - started };
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw lastError instanceof Error ? lastError : new Error('did not recover');
}

describe('RedisSessionStore when Redis fails', () => {
  let server: RedisProcess;
  let store: RedisSessionStore;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    server.resume();
    await store?.close();
  });

  it('answers StoreUnavailableError within 2 s while Redis hangs, keeps the session, and resumes', async () => {
    ({ store, redis } = await openStore(server.url, OPTIONS));
    const id = newSessionId();
    const created = await store.create(id, newUpstream());

    server.pause(); // SIGSTOP: the socket stays open, nothing answers
    await failsFast('hung: beginCall', () => store.beginCall(id, 'c1'));
    await failsFast('hung: get', () => store.get(id));
    await failsFast('hung: ping', () => store.ping());
    server.resume();

    const { value, afterMs } = await eventually(() => store.get(id));
    console.info(`[outage] hung: readable again ${Math.round(afterMs)} ms after SIGCONT`);
    // A command that timed out still runs when Redis wakes (Redis had it in its socket buffer):
    // the timed-out beginCall may have slid the idle expiry. Everything else is unchanged.
    expect(value).toEqual({ ...created, idleExpiresAtMs: value?.idleExpiresAtMs });
    const grant = await store.beginCall(id, 'c2');
    expect(grant).toMatchObject({ status: 'ok', upstreamId: created.upstreamId, sessionKey: created.upstream.sessionKey });
    expect(redis.status).toBe('ready');
  });

  it('keeps the session through a hang it only saw as errors (nothing deleted on failure)', async () => {
    ({ store } = await openStore(server.url, OPTIONS));
    const id = newSessionId();
    const created = await store.create(id, newUpstream());
    server.pause();
    await failsFast('hung: get (2)', () => store.get(id));
    await failsFast('hung: get (3)', () => store.get(id));
    server.resume();
    const { value } = await eventually(() => store.get(id));
    expect(value).toEqual(created);
  });

  it('applies an end() that timed out once Redis wakes: a timeout is not a rollback', async () => {
    ({ store } = await openStore(server.url, OPTIONS));
    const id = newSessionId();
    const created = await store.create(id, newUpstream());
    server.pause();
    await failsFast('hung: end', () => store.end(id, 'logout'));
    server.resume();
    await eventually(() => store.ping());
    // The caller answered 503 and kept the cookie; the logout still happened, exactly once.
    expect(await store.get(id)).toBeNull();
    expect(await store.end(id, 'logout')).toBeNull();
    expect((await store.claimCloses(10, 5_000)).map((c) => c.upstreamId)).toEqual([created.upstreamId]);
  });

  it('answers StoreUnavailableError within 2 s while Redis is down, and reconnects by itself', async () => {
    ({ store, redis } = await openStore(server.url, OPTIONS));
    const id = newSessionId();
    await store.create(id, newUpstream());

    await server.kill('SIGKILL');
    await failsFast('down: beginCall', () => store.beginCall(id, 'c1'));
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // let reconnect attempts pile up
    await failsFast('down: beginCall after 1.5 s', () => store.beginCall(id, 'c1'));
    await failsFast('down: create', () => store.create(newSessionId(), newUpstream()));
    await failsFast('down: ping', () => store.ping());

    await server.restart();
    const { afterMs } = await eventually(() => store.ping());
    console.info(`[outage] down: store answering ${Math.round(afterMs)} ms after redis-server restarted`);
    // Redis restarted without persistence: the old session is gone, reported as no session.
    expect(await store.beginCall(id, 'c2')).toEqual({ status: 'no-session' });
    const fresh = newSessionId();
    const created = await store.create(fresh, newUpstream());
    expect(await store.beginCall(fresh, 'c3')).toMatchObject({ status: 'ok', sessionKey: created.upstream.sessionKey });
  });
});
