import { Module, type OnApplicationShutdown, Inject } from '@nestjs/common';
import { GatewayConfig } from '@libs/config';
import {
  MemorySessionStore,
  RedisSessionStore,
  SessionCipher,
  SessionStore,
  createRedisConnection,
  waitForRedisReady,
} from '@libs/session-store';
import { GatewayLogger } from '../logging/logger';

/**
 * Makes the configured session store: Redis (shared by every instance) or, for the one-process
 * demo, memory. The in-flight lease outlives the longest proxied call, so a mark is only ever
 * dropped by its lease when its instance died.
 */
export async function createSessionStore(config: GatewayConfig, logger: GatewayLogger): Promise<SessionStore> {
  const options = {
    idleTimeoutMs: config.session.idleTimeoutSeconds * 1000,
    absoluteTimeoutMs: config.session.absoluteTimeoutSeconds * 1000,
    inFlightLeaseMs: config.ers.timeoutMs + 5_000,
    maxCallsPerSession: config.session.maxCallsPerSession,
    ...(config.session.maxSessionsPerUser === null ? {} : { maxSessionsPerUser: config.session.maxSessionsPerUser }),
  };
  if (config.store.kind === 'memory') return new MemorySessionStore(options);
  let lastError = '';
  const redis = createRedisConnection({
    // ioredis reports each failed reconnect; log the first of a run, not every second.
    onError: (error: Error) => {
      if (error.message === lastError) return;
      lastError = error.message;
      logger.warn({ event: 'redis-error', err: { name: error.name, message: error.message } }, 'Redis connection error');
    },
    url: config.store.redis.url,
    sentinels: config.store.redis.sentinels === null ? undefined : [...config.store.redis.sentinels],
    sentinelName: config.store.redis.sentinelName ?? undefined,
    clusterNodes: config.store.redis.clusterNodes === null ? undefined : [...config.store.redis.clusterNodes],
  });
  redis.on('ready', () => {
    lastError = '';
    logger.info({ event: 'redis-ready' }, 'Redis connection ready');
  });
  // Start without Redis if need be (readiness says 503 until it answers), but give it a moment
  // so the first requests after a normal start do not fail.
  await waitForRedisReady(redis, STARTUP_WAIT_MS).catch(() =>
    logger.warn({ event: 'redis-not-ready' }, `Redis not ready after ${STARTUP_WAIT_MS} ms; starting anyway`),
  );
  return new RedisSessionStore(redis, new SessionCipher([...config.store.sessionKeys]), {
    ...options,
    ownsConnection: true,
    keyCacheSize: config.store.keyCacheSize,
    // Once per record: the record is dropped, so the cookie that led to it is plain no-session from then on.
    onTampered: (upstreamId: string) =>
      logger.error(
        { event: 'session-record-rejected', upstream: upstreamId },
        'a session record failed authentication (copied, moved or edited in Redis): dropped, answered as no session',
      ),
    // A live session's record is the only copy of its e-RS key: one Redis dropped cannot be closed.
    onLostSessions: (count: number) =>
      logger.error(
        { event: 'sessions-lost', count },
        'Redis no longer had the records of expired sessions: their e-RS sessions cannot be closed (Redis must not evict: maxmemory-policy noeviction)',
      ),
  });
}

const STARTUP_WAIT_MS = 5_000;

class StoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(SessionStore) private readonly store: SessionStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

@Module({
  providers: [
    { provide: SessionStore, useFactory: createSessionStore, inject: [GatewayConfig, GatewayLogger] },
    StoreLifecycle,
  ],
  exports: [SessionStore],
})
export class StoreModule {}
