import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` (TLS) URL of a standalone Redis. */
  url?: string;
  /** Use Sentinel instead: the sentinels and the master's name. */
  sentinels?: RedisNodeAddress[];
  sentinelName?: string;
  /**
   * Use Redis Cluster instead. Not yet usable by `RedisSessionStore`: its scripts touch keys of
   * several slots and would need hash tags first.
   */
  clusterNodes?: RedisNodeAddress[];
  /** A command not answered within this fails (default 1000 ms). */
  commandTimeoutMs?: number;
  /** A connection not established within this is dropped and retried (default 1000 ms). */
  connectTimeoutMs?: number;
  /** Longest wait between reconnection attempts (default 1000 ms). */
  maxReconnectDelayMs?: number;
  /**
   * Connection errors. ioredis reports them here as well as failing each command; the store
   * turns the per-command failures into `StoreUnavailableError`, so the default ignores them.
   */
  onError?: (error: Error) => void;
}

export type RedisConnection = Redis | Cluster;

/**
 * A connection tuned so a Redis outage becomes a fast failure rather than a hang, and so service
 * resumes by itself: the gateway must answer 503 within 2 s and never need a restart.
 */
export function createRedisConnection(options: RedisConnectionOptions): RedisConnection {
  const commandTimeout = options.commandTimeoutMs ?? 1000;
  const connectTimeout = options.connectTimeoutMs ?? 1000;
  const maxDelay = options.maxReconnectDelayMs ?? 1000;

  const common: RedisOptions = {
    // Commands sent while disconnected fail at once instead of queueing until a reconnect.
    enableOfflineQueue: false,
    // A command whose connection dropped is failed, not resent after the reconnect: the caller
    // already got (or will get) a 503, and our scripts must not run twice behind its back.
    maxRetriesPerRequest: 0,
    // Bounds a hung server (SIGSTOP, a stalled network): the command fails, the connection stays.
    commandTimeout,
    connectTimeout,
    // A connection that answers nothing while commands wait (a silent network partition) is
    // dropped and redialled, rather than waiting minutes for TCP to notice.
    socketTimeout: Math.max(5 * commandTimeout, 5_000),
    keepAlive: 10_000,
    // Never give up: capped backoff so the store comes back on its own when Redis does.
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
    // A primary turned replica under us answers READONLY: reconnect (through the sentinels, to the
    // new primary) and fail this command rather than resend it (1, not 2).
    reconnectOnError: (error: Error) => (/\bREADONLY\b/.test(error.message) ? 1 : false),
  };

  let connection: RedisConnection;
  if (options.clusterNodes && options.clusterNodes.length > 0) {
    const clusterOptions: ClusterOptions = {
      enableOfflineQueue: false,
      clusterRetryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
      redisOptions: withTls(common, options.url),
    };
    connection = new Cluster(options.clusterNodes, clusterOptions);
  } else if (options.sentinels && options.sentinels.length > 0) {
    if (!options.sentinelName) throw new Error('sentinelName is required with sentinels');
    connection = new Redis({
      ...common,
      sentinels: options.sentinels,
      name: options.sentinelName,
      role: 'master',
      // Subscribes to the sentinels' +switch-master and reconnects at once: without it the
      // connection stayed on the demoted primary until Sentinel turned it into a replica (about
      // 10 s of writes lost on its resync; docs/design.md, Sentinel).
      failoverDetector: true,
      sentinelRetryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
    });
  } else if (options.url) {
    // ioredis turns `rediss://` into a TLS connection with Node's default CA checks.
    connection = new Redis(options.url, common);
  } else {
    throw new Error('createRedisConnection needs a url, sentinels or clusterNodes');
  }

  const onError = options.onError ?? ((): void => undefined);
  connection.on('error', onError);
  return connection;
}

/** For Cluster nodes, which take no URL: `rediss://` in `url` means TLS to every node. */
function withTls(options: RedisOptions, url: string | undefined): RedisOptions {
  return url?.startsWith('rediss://') ? { ...options, tls: {} } : options;
}

/**
 * Resolves once the connection is ready, rejects after `timeoutMs`. With the offline queue off,
 * commands sent before `ready` fail, so a process that must not start half-connected awaits this.
 */
export async function waitForRedisReady(connection: RedisConnection, timeoutMs: number): Promise<void> {
  if (connection.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      connection.off('ready', onReady);
      reject(new Error(`Redis was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    connection.once('ready', onReady);
  });
}
