import { randomBytes } from 'node:crypto';
import type { SessionStoreOptions } from '../session-store.options';
import { SessionCipher } from '../cipher/session-cipher';
import { RedisSessionStore, type RedisSessionStoreOptions } from '../redis/redis-session-store';
import { createRedisConnection, waitForRedisReady, type RedisConnectionOptions } from '../redis/redis-connection';
import type { Redis } from 'ioredis';

/** Shared by the Redis system tests (not part of the library's exports). */
export const testKey = (): Buffer => randomBytes(32);

export async function connect(url: string, extra: Partial<RedisConnectionOptions> = {}): Promise<Redis> {
  const redis = createRedisConnection({ url, ...extra }) as Redis;
  await waitForRedisReady(redis, 5_000);
  return redis;
}

export async function openStore(
  url: string,
  options: SessionStoreOptions & Partial<RedisSessionStoreOptions>,
  keys: Buffer[] = [testKey()],
): Promise<{ store: RedisSessionStore; redis: Redis }> {
  const redis = await connect(url);
  const store = new RedisSessionStore(redis, new SessionCipher(keys), {
    keyPrefix: `t${randomBytes(4).toString('hex')}:`,
    ownsConnection: true,
    ...options,
  });
  return { store, redis };
}
