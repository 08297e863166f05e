import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisProcess } from '../../../../test/support/redis-server';
import { createRedisConnection, waitForRedisReady } from './redis-connection';

describe('createRedisConnection', () => {
  let server: RedisProcess;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('fails fast instead of queueing, times commands out, and retries forever with a capped delay', async () => {
    const redis = createRedisConnection({ url: server.url }) as Redis;
    try {
      expect(redis.options.enableOfflineQueue).toBe(false);
      expect(redis.options.commandTimeout).toBe(1_000);
      expect(redis.options.connectTimeout).toBe(1_000);
      expect(redis.options.maxRetriesPerRequest).toBe(0);
      const retry = redis.options.retryStrategy;
      for (const times of [1, 5, 50, 10_000]) {
        const delay = retry?.(times);
        expect(typeof delay).toBe('number');
        expect(delay).toBeLessThanOrEqual(1_000);
      }
      await waitForRedisReady(redis, 5_000);
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('uses TLS for rediss:// URLs', () => {
    const redis = createRedisConnection({ url: 'rediss://127.0.0.1:1' }) as Redis;
    try {
      expect(redis.options.tls).toBeDefined();
    } finally {
      redis.disconnect();
    }
  });

  it('with Sentinel: asks for the primary, follows a failover at once, and reconnects on READONLY', () => {
    const redis = createRedisConnection({ sentinels: [{ host: '127.0.0.1', port: 1 }], sentinelName: 'm' }) as Redis;
    try {
      expect(redis.options.role).toBe('master');
      expect(redis.options.failoverDetector).toBe(true);
      const reconnect = redis.options.reconnectOnError;
      expect(reconnect?.(new Error("READONLY You can't write against a read only replica."))).toBe(1);
      expect(reconnect?.(new Error('ERR something else'))).toBe(false);
    } finally {
      redis.disconnect();
    }
  });

  it('takes its timeouts from the options', () => {
    const redis = createRedisConnection({ url: server.url, commandTimeoutMs: 300, connectTimeoutMs: 400 }) as Redis;
    try {
      expect(redis.options.commandTimeout).toBe(300);
      expect(redis.options.connectTimeout).toBe(400);
    } finally {
      redis.disconnect();
    }
  });

  it('needs somewhere to connect to', () => {
    expect(() => createRedisConnection({})).toThrow(/url, sentinels or clusterNodes/);
    expect(() => createRedisConnection({ sentinels: [{ host: '127.0.0.1', port: 1 }] })).toThrow(/sentinelName/);
  });

  it('waitForRedisReady rejects when Redis does not come', async () => {
    const redis = createRedisConnection({ url: 'redis://127.0.0.1:1' }) as Redis;
    try {
      await expect(waitForRedisReady(redis, 300)).rejects.toThrow(/not ready within 300 ms/);
    } finally {
      redis.disconnect();
    }
  });
});
