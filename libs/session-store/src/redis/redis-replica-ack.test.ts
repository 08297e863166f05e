import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisProcess } from '../../../../test/support/redis-server';
import { StoreUnavailableError } from '../errors';
import type { SessionStoreOptions } from '../session-store.options';
import { connect, openStore } from '../testing/redis-test-kit';
import { waitFor } from '../../../../test/support/wait';
import { newSessionId, newUpstream } from '../testing/session-store.behaviour';

const OPTIONS: SessionStoreOptions = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 120_000, inFlightLeaseMs: 60_000 };

/**
 * `minReplicasAck`: the writes that matter are answered only once replicas hold them (`WAIT`);
 * fewer replicas within the timeout is `StoreUnavailableError`, never a silent success.
 */
describe('RedisSessionStore: replica acknowledgement', () => {
  let primary: RedisProcess;
  let replica: RedisProcess;

  beforeAll(async () => {
    primary = await startRedis();
    replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    const redis = await connect(replica.url);
    try {
      await waitFor('the replica to sync', async () => (await redis.info('replication')).includes('master_link_status:up'), 10_000);
    } finally {
      redis.disconnect();
    }
  });

  afterAll(async () => {
    await replica?.stop();
    await primary?.stop();
  });

  it('creates, ends and closes with a replica holding each write', async () => {
    const { store } = await openStore(primary.url, { ...OPTIONS, minReplicasAck: 1, replicaAckTimeoutMs: 500 });
    try {
      const sessionId = newSessionId();
      const session = await store.create(sessionId, newUpstream());
      expect(await store.end(sessionId, 'logout')).toEqual({ upstreamId: session.upstreamId, reason: 'logout' });
      const claimed = await store.claimCloses(10, 10_000);
      expect(claimed.map((c) => c.upstreamId)).toContain(session.upstreamId);
      await store.completeClose(session.upstreamId);
    } finally {
      await store.close();
    }
  });

  it('fails a write that fewer replicas acknowledged, and lets the hot path through meanwhile', async () => {
    const { store } = await openStore(primary.url, { ...OPTIONS, minReplicasAck: 2, replicaAckTimeoutMs: 300 });
    try {
      const started = performance.now();
      const error = await store.create(newSessionId(), newUpstream()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toBe("the session store's write was held by 1 of 2 replicas after 300 ms");
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      // WAIT blocks its own connection only: reads and calls do not queue behind it.
      const waiting = store.queueClose({ sessionKey: 'k', ssoToken: 's' }, 'no-roles').catch((e: unknown) => e);
      const readStarted = performance.now();
      expect(await store.get(newSessionId())).toBeNull();
      expect(performance.now() - readStarted).toBeLessThan(200);
      expect(await waiting).toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });
});
