import { type RedisProcess, startRedis } from '../support/redis-server';
import { type NodeProcess, type Sandbox, startGateway, startSandbox } from '../support/processes';
import { SandboxControl } from '../support/sandbox-control';

export interface Deployment {
  redis: RedisProcess | null;
  sandbox: Sandbox;
  control: SandboxControl;
  gateways: NodeProcess[];
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
  sandboxEnv?: Record<string, string>;
  redisArgs?: string[];
} = {}): Promise<Deployment> {
  const store = options.store ?? 'redis';
  const redis = store === 'redis' ? await startRedis({ args: options.redisArgs ?? [] }) : null;
  const sandbox = await startSandbox(options.sandboxEnv);
  const gateways: NodeProcess[] = [];
  for (let i = 0; i < (options.gateways ?? 1); i++) {
    gateways.push(
      await startGateway({
        ersBaseUrl: sandbox.ersBaseUrl,
        ...(redis === null ? {} : { redisUrl: redis.url }),
        env: options.env ?? {},
      }),
    );
  }
  return {
    redis,
    sandbox,
    control: new SandboxControl(sandbox.url),
    gateways,
    async stop() {
      await Promise.all(gateways.map((gateway) => gateway.stop()));
      await sandbox.stop();
      await redis?.stop();
    },
  };
}
