import { PERSISTENT_REDIS, type RedisProcess, startRedis } from '../support/redis-server';
import { type GatewayProcess, type Sandbox, startGateway, startSandbox } from '../support/processes';
import { SandboxControl } from '../support/sandbox-control';

/** The settings `docker-compose.yml` runs Redis with, and the README asks for. */

export interface Deployment {
  redis: RedisProcess | null;
  sandbox: Sandbox;
  control: SandboxControl;
  gateways: GatewayProcess[];
  stop(): Promise<void>;
}

/**
 * What the system tests run against: a real redis-server, the sandbox and N gateway processes
 * sharing that Redis (or one gateway with the in-memory store).
 */
export async function deploy(options: {
  gateways?: number;
  store?: 'redis' | 'memory';
  env?: Record<string, string>;
  /** More environment for gateway i (over `env`), e.g. one gateway with a feature off. */
  gatewayEnv?: (index: number) => Record<string, string>;
  sandboxEnv?: Record<string, string>;
  redisArgs?: string[];
} = {}): Promise<Deployment> {
  const store = options.store ?? 'redis';
  // Redis as the README requires it (AOF, every second; noeviction is redis-server's default):
  // the gateway refuses one that cannot keep sessions. `redisArgs` come after, so they win.
  const redis = store === 'redis' ? await startRedis({ args: [...PERSISTENT_REDIS, ...(options.redisArgs ?? [])] }) : null;
  const sandbox = await startSandbox(options.sandboxEnv);
  const gateways: GatewayProcess[] = [];
  for (let i = 0; i < (options.gateways ?? 1); i++) {
    gateways.push(
      await startGateway({
        ersBaseUrl: sandbox.ersBaseUrl,
        ...(redis === null ? {} : { redisUrl: redis.url }),
        env: { ...options.env, ...options.gatewayEnv?.(i) },
      }),
    );
  }
  const control = new SandboxControl(sandbox.url);
  return {
    redis,
    sandbox,
    control,
    gateways,
    async stop() {
      // Whole-run check, for every deployment: no e-RS session got two A003s, a second A002 other
      // than one liveness check per 403 it answered, or an A003 while a call on it was answered.
      const violations = (await control.sessions().catch(() => []))
        .filter((s) => s.a003Count > 1 || s.a002Count > 1 + s.forbiddenCount || s.a003WhileCallsInFlight > 0)
        .map((s) => `${s.cardLabel}: a002=${s.a002Count} forbidden=${s.forbiddenCount} a003=${s.a003Count} a003WhileCallsInFlight=${s.a003WhileCallsInFlight}`);
      await Promise.all(gateways.map((gateway) => gateway.stop()));
      await sandbox.stop();
      await redis?.stop();
      if (violations.length > 0) throw new Error(`e-RS session rules broken:\n${violations.join('\n')}`);
    },
  };
}
