import { Module, type OnApplicationShutdown, Inject } from '@nestjs/common';
import { GatewayConfig } from '@libs/config';
import {
  MemorySessionStore,
  RedisPersistenceCheck,
  RedisSessionStore,
  SessionCipher,
  SessionStore,
  type RedisConnection,
  createRedisConnection,
  redisPersistenceSource,
  waitForRedisReady,
} from '@libs/session-store';
import { GatewayLogger } from '../logging/logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { MetricsModule } from '../metrics/metrics.module';

/**
 * Makes the configured session store: Redis (shared by every instance) or, for the one-process
 * demo, memory. The in-flight lease outlives the longest proxied call, so a mark is only ever
 * dropped by its lease when its instance died.
 */
export async function createSessionStore(
  config: GatewayConfig,
  logger: GatewayLogger,
  metrics: GatewayMetrics,
): Promise<SessionStore> {
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
  const store = new RedisSessionStore(redis, new SessionCipher([...config.store.sessionKeys]), {
    ...options,
    ownsConnection: true,
    keyCacheSize: config.store.keyCacheSize,
    minReplicasAck: config.store.redis.minReplicasAck,
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
  await startPersistenceCheck(redis, store, config, logger, metrics);
  return store;
}

/**
 * Refuses to start on a Redis that cannot keep sessions (unless `REDIS_ALLOW_VOLATILE`), warns
 * once per unsafe setting, and logs a Redis that came back empty with what it lost
 * (docs/design.md, "Redis must persist"). Off the request path: on `ready` and a timer.
 */
async function startPersistenceCheck(
  redis: RedisConnection,
  store: RedisSessionStore,
  config: GatewayConfig,
  logger: GatewayLogger,
  metrics: GatewayMetrics,
): Promise<void> {
  const source = redisPersistenceSource(redis, {
    counts: async () => {
      const { sessions, pendingCloses } = await store.counts();
      return { sessions, openErsSessions: sessions + pendingCloses };
    },
  });
  const allowVolatile = config.store.redis.allowVolatile;
  const check = new RedisPersistenceCheck(source, {
    allowVolatile,
    events: {
      onUnsafe: ({ setting, value, loses }) => {
        const line = { event: 'redis-volatile', setting, value, allowed: allowVolatile };
        const message = `Redis ${setting} is ${JSON.stringify(value)}: ${loses}`;
        if (allowVolatile) logger.warn(line, `${message} (allowed by REDIS_ALLOW_VOLATILE=true)`);
        else logger.error(line, `${message} (changed since start-up: set appendonly yes, appendfsync everysec, maxmemory-policy noeviction)`);
      },
      onUnchecked: (settings) =>
        logger.warn(
          { event: 'redis-persistence-unchecked', settings },
          `could not read Redis ${settings.join(', ')} (CONFIG disabled?): whether it keeps sessions is unknown`,
        ),
      onDataLost: ({ sessions, openErsSessions }) => {
        metrics.redisDataLost.inc();
        logger.error(
          { event: 'redis-data-lost', sessions, openErsSessions },
          `Redis came back empty: ${sessions} sessions and ${openErsSessions} open e-RS sessions lost; those e-RS sessions stay open until e-RS times them out`,
        );
      },
      onRefused: (error) => {
        // Redis was unreachable at start-up and nothing has been stored since: stopping loses nothing.
        logger.fatal({ event: error.code }, error.message);
        logger.flush();
        process.exit(1);
      },
      onCheckFailed: (error) =>
        logger.debug({ event: 'redis-persistence-check-failed', err: String(error) }, 'Redis persistence check failed; retried on reconnect'),
    },
  });
  redis.once('end', () => check.close());
  await check.start();
}

const STARTUP_WAIT_MS = 5_000;

class StoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(SessionStore) private readonly store: SessionStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

@Module({
  imports: [MetricsModule],
  providers: [
    { provide: SessionStore, useFactory: createSessionStore, inject: [GatewayConfig, GatewayLogger, GatewayMetrics] },
    StoreLifecycle,
  ],
  exports: [SessionStore],
})
export class StoreModule {}
