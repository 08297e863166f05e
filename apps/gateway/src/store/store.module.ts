import { Module, type OnApplicationShutdown, Inject } from '@nestjs/common';
import { GatewayConfig } from '@libs/config';
import {
  MemorySessionStore,
  RedisSessionStore,
  SessionCipher,
  SessionStore,
  createRedisConnection,
} from '@libs/session-store';

/**
 * Makes the configured session store: Redis (shared by every instance) or, for the one-process
 * demo, memory. The in-flight lease outlives the longest proxied call, so a mark is only ever
 * dropped by its lease when its instance died.
 */
export function createSessionStore(config: GatewayConfig): SessionStore {
  const options = {
    idleTimeoutMs: config.session.idleTimeoutSeconds * 1000,
    absoluteTimeoutMs: config.session.absoluteTimeoutSeconds * 1000,
    inFlightLeaseMs: config.ers.timeoutMs + 5_000,
  };
  if (config.store.kind === 'memory') return new MemorySessionStore(options);
  const redis = createRedisConnection({
    url: config.store.redis.url,
    sentinels: config.store.redis.sentinels === null ? undefined : [...config.store.redis.sentinels],
    sentinelName: config.store.redis.sentinelName ?? undefined,
    clusterNodes: config.store.redis.clusterNodes === null ? undefined : [...config.store.redis.clusterNodes],
  });
  return new RedisSessionStore(redis, new SessionCipher([...config.store.sessionKeys]), {
    ...options,
    ownsConnection: true,
  });
}

class StoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(SessionStore) private readonly store: SessionStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

@Module({
  providers: [
    { provide: SessionStore, useFactory: createSessionStore, inject: [GatewayConfig] },
    StoreLifecycle,
  ],
  exports: [SessionStore],
})
export class StoreModule {}
