export * from './session-store.port';
export * from './session-store.options';
export * from './errors';
export { SessionCipher } from './cipher/session-cipher';
export { MemorySessionStore, type MemorySessionStoreOptions } from './memory/memory-session-store';
export { RedisSessionStore, type RedisSessionStoreOptions } from './redis/redis-session-store';
export {
  createRedisConnection,
  waitForRedisReady,
  type RedisConnection,
  type RedisConnectionOptions,
  type RedisNodeAddress,
} from './redis/redis-connection';
export {
  RedisCannotKeepSessionsError,
  RedisPersistenceCheck,
  assessPersistence,
  redisPersistenceSource,
  type LostSessionCounts,
  type PersistenceAssessment,
  type PersistenceCheckEvents,
  type PersistenceProblem,
  type PersistenceSettings,
  type PersistenceSetting,
  type PersistenceSource,
  type RedisPersistenceCheckOptions,
} from './redis/redis-persistence-check';
export { hashSessionId, hashUserId } from './hashed-ids';
