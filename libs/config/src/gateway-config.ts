import { inspect } from 'node:util';
import type { HostPort } from './env-formats';

/**
 * The gateway's configuration, built once at boot by `loadGatewayConfig()` and frozen. Each
 * namespace is a class so it can be injected on its own (`constructor(private cookie: CookieConfig)`);
 * `GatewayConfig` holds them all. Units are in the names.
 *
 * Secrets (session keys, the TLS private key, a Redis password) are kept because the gateway needs
 * them, but `toJSON()` and `util.inspect` hide them, so logging a config object cannot leak them.
 */

/** Fields of a config class (its data, without methods). */
type Fields<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]: T[K] };

const REDACTED = '[redacted]';

/** Hides the password of a `redis://user:password@host` URL. */
function hidePassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return REDACTED;
  }
}

export class HttpConfig {
  readonly host!: string;
  readonly port!: number;
  /** Hops of load balancers whose `X-Forwarded-*` headers are trusted (0: none). */
  readonly trustProxyHops!: number;
  readonly maxBodyBytes!: number;
  /** The request line and headers must arrive within this (a slow-headers client is cut off). */
  readonly headersTimeoutMs!: number;
  /** A session route's body must arrive whole within this. */
  readonly sessionBodyTimeoutMs!: number;
  /** A proxied upload whose connection is idle this long is cut off (and its e-RS request aborted). */
  readonly uploadStallTimeoutMs!: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs!: number;
  /** At most this many connections on the public listener; null: no limit. */
  readonly maxConnections!: number | null;
  /** After SIGTERM, readiness answers 503 this long while the listener still serves. */
  readonly drainGraceMs!: number;
  /** The most time from SIGTERM to the exit: work still running then is left (its leases run out). */
  readonly shutdownTimeoutMs!: number;
  /** The operators' listener (`/metrics`, health); null: none. */
  readonly opsPort!: number | null;
  /** Its address (an internal interface, typically); `host` unless `OPS_HOST` is set. */
  readonly opsHost!: string;
  /** Exact origins allowed to call `/api`, normalised (`https://host[:port]`); empty: same origin only. */
  readonly allowedOrigins!: readonly string[];
  /** Absolute path of the folder served at `/`, or null when nothing is served. */
  readonly staticDir!: string | null;
  /** Extra origins the served pages may connect to (CSP `connect-src`); empty: their own only. */
  readonly staticConnectSrc!: readonly string[];

  constructor(fields: Fields<HttpConfig>) {
    Object.assign(this, fields);
    Object.freeze(this.allowedOrigins);
    Object.freeze(this.staticConnectSrc);
    Object.freeze(this);
  }
}

/** Mutual TLS material for e-RS: the file paths (for messages) and their contents. */
export class ErsTlsConfig {
  readonly certPath!: string | null;
  readonly cert!: Buffer | null;
  readonly keyPath!: string | null;
  readonly key!: Buffer | null;
  readonly caPath!: string | null;
  readonly ca!: Buffer | null;

  constructor(fields: Fields<ErsTlsConfig>) {
    Object.assign(this, fields);
    Object.freeze(this);
  }

  toJSON(): Record<string, unknown> {
    return {
      certPath: this.certPath,
      keyPath: this.keyPath,
      caPath: this.caPath,
      key: this.key === null ? null : REDACTED,
    };
  }

  [inspect.custom](): Record<string, unknown> {
    return this.toJSON();
  }
}

export class ErsConfig {
  /** e-RS base URL ending in `/ers-api` typically; never a trailing slash. */
  readonly baseUrl!: string;
  /** Accredited System ID, sent as `XAPI_ASID`. */
  readonly asid!: string;
  /** Response timeout of proxied calls (booking can take about two minutes). */
  readonly timeoutMs!: number;
  /** Timeout of A001/A002/A003. */
  readonly sessionTimeoutMs!: number;
  /** Upper bound of the upstream connection pool (`ERS_MAX_CONNECTIONS`). */
  readonly maxConnections!: number;
  /** A001/A002 in flight per instance, on their own connection pool. */
  readonly loginConcurrency!: number;
  /** A003 in flight per instance, on their own connection pool. */
  readonly closeConcurrency!: number;
  /** Null when none of `ERS_TLS_*` is set (plain TLS with the system CAs, or HTTP). */
  readonly tls!: ErsTlsConfig | null;

  constructor(fields: Fields<ErsConfig>) {
    Object.assign(this, fields);
    Object.freeze(this);
  }
}

export class RedisConfig {
  /** Standalone URL; with Sentinel or Cluster its credentials, TLS (`rediss:`) and db still apply. */
  readonly url!: string;
  readonly sentinels!: readonly HostPort[] | null;
  readonly sentinelName!: string | null;
  readonly clusterNodes!: readonly HostPort[] | null;
  /**
   * Start (with a warning) on a Redis whose settings cannot keep sessions (no AOF, `appendfsync
   * no`, an eviction policy); false: refuse to start (`REDIS_ALLOW_VOLATILE`).
   */
  readonly allowVolatile!: boolean;
  /** Replicas that must hold a write that matters before it is answered (`WAIT`); 0: none. */
  readonly minReplicasAck!: number;

  constructor(fields: Omit<Fields<RedisConfig>, 'mode'>) {
    Object.assign(this, fields);
    for (const list of [this.sentinels, this.clusterNodes]) {
      if (list !== null) {
        list.forEach((node) => Object.freeze(node));
        Object.freeze(list);
      }
    }
    Object.freeze(this);
  }

  /** Which Redis topology to connect to. */
  get mode(): 'standalone' | 'sentinel' | 'cluster' {
    if (this.sentinels !== null) return 'sentinel';
    if (this.clusterNodes !== null) return 'cluster';
    return 'standalone';
  }

  toJSON(): Record<string, unknown> {
    return {
      url: hidePassword(this.url),
      sentinels: this.sentinels,
      sentinelName: this.sentinelName,
      clusterNodes: this.clusterNodes,
      allowVolatile: this.allowVolatile,
      minReplicasAck: this.minReplicasAck,
    };
  }

  [inspect.custom](): Record<string, unknown> {
    return this.toJSON();
  }
}

export class StoreConfig {
  readonly kind!: 'redis' | 'memory';
  readonly redis!: RedisConfig;
  /** AES-256-GCM keys for secrets at rest: the first encrypts, all decrypt (rotation). */
  readonly sessionKeys!: readonly Buffer[];
  /** True when no `SESSION_KEYS` was given (memory store only) and a throw-away key was made. */
  readonly sessionKeysGenerated!: boolean;
  /** Decrypted e-RS keys an instance keeps, to skip decrypting them on every call (0: none). */
  readonly keyCacheSize!: number;

  constructor(fields: Fields<StoreConfig>) {
    Object.assign(this, fields);
    // Buffers cannot be frozen (typed arrays with elements refuse it); the list can.
    Object.freeze(this.sessionKeys);
    Object.freeze(this);
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      redis: this.redis,
      sessionKeys: `${REDACTED} (${this.sessionKeys.length})`,
      sessionKeysGenerated: this.sessionKeysGenerated,
      keyCacheSize: this.keyCacheSize,
    };
  }

  [inspect.custom](): Record<string, unknown> {
    return this.toJSON();
  }
}

export class SessionConfig {
  /** Ends a session this long after its last proxied call. */
  readonly idleTimeoutSeconds!: number;
  /** Ends a session this long after it was created, whatever its use (never slides). */
  readonly absoluteTimeoutSeconds!: number;
  /** Proxied calls one session may have in flight (`MAX_CALLS_PER_SESSION`). */
  readonly maxCallsPerSession!: number;
  /** Live sessions one user may hold; a new one ends the oldest past it (`MAX_SESSIONS_PER_USER`). Null: unlimited. */
  readonly maxSessionsPerUser!: number | null;

  constructor(fields: Fields<SessionConfig>) {
    Object.assign(this, fields);
    Object.freeze(this);
  }
}

export class CookieConfig {
  /** `__Host-ers-session` by default; `ers-session` by default when `secure` is false. */
  readonly name!: string;
  readonly secure!: boolean;

  constructor(fields: Fields<CookieConfig>) {
    Object.assign(this, fields);
    Object.freeze(this);
  }
}

/**
 * Login throttling, shared by every instance through the store: failed A001s per smartcard token
 * (by its hash) and logins per client address, each in a fixed window.
 */
export class LoginThrottleConfig {
  readonly tokenFailures!: number;
  readonly tokenWindowSeconds!: number;
  readonly addressLimit!: number;
  readonly addressWindowSeconds!: number;

  constructor(fields: Fields<LoginThrottleConfig>) {
    Object.assign(this, fields);
    Object.freeze(this);
  }
}

/** The admin API on the operators' listener (README, Operations). */
export class AdminConfig {
  /** `ADMIN_TOKEN`, the bearer token; null: the admin API is off (its routes answer 404). */
  readonly token!: string | null;

  constructor(fields: Fields<AdminConfig>) {
    Object.assign(this, fields);
    Object.freeze(this);
  }

  toJSON(): Record<string, unknown> {
    return { token: this.token === null ? null : REDACTED };
  }

  [inspect.custom](): Record<string, unknown> {
    return this.toJSON();
  }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class LogConfig {
  readonly level!: LogLevel;

  constructor(fields: Fields<LogConfig>) {
    Object.assign(this, fields);
    Object.freeze(this);
  }
}

export class GatewayConfig {
  /** `NODE_ENV` as given, or null. */
  readonly nodeEnv!: string | null;
  readonly http!: HttpConfig;
  readonly ers!: ErsConfig;
  readonly store!: StoreConfig;
  readonly session!: SessionConfig;
  readonly cookie!: CookieConfig;
  readonly loginThrottle!: LoginThrottleConfig;
  readonly admin!: AdminConfig;
  readonly log!: LogConfig;

  constructor(fields: Fields<GatewayConfig>) {
    Object.assign(this, fields);
    Object.freeze(this);
  }
}
