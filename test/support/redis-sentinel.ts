import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './processes';
import { PERSISTENT_REDIS, type RedisProcess, startRedis } from './redis-server';
import { waitFor } from './wait';

export const SENTINEL_MASTER_NAME = 'ersgw';

export interface SentinelGroup {
  /** `host:port,…` of the three sentinels, as `REDIS_SENTINELS` takes them. */
  readonly sentinels: string;
  readonly name: string;
  /** The port Sentinel names as the primary now. */
  primaryPort(): Promise<number>;
  /** `SENTINEL FAILOVER`: resolves once the replica is primary and the old primary replicates from it. */
  failover(): Promise<void>;
  /**
   * kill -9 of the primary: resolves once Sentinel promoted the replica, then starts the dead
   * node again as its replica (as a supervisor would), and waits for it to be in sync.
   */
  killPrimary(): Promise<void>;
  stop(): Promise<void>;
}

/** One data node: its port stays, the process may be replaced (a kill -9, then a restart). */
interface DataNode {
  port: number;
  server: RedisProcess;
}

const SENTINEL_ARGS = {
  downAfterMs: 1000,
  failoverTimeoutMs: 5000,
};

/**
 * A real Sentinel group on free ports: one primary, one replica (`replicaof`), three
 * `redis-server --sentinel` processes with quorum 2 and a 1 s down-after. Killed when the test
 * process exits, as `startRedis` servers are.
 */
export async function startSentinelGroup(): Promise<SentinelGroup> {
  const primary: DataNode = await startNode([]);
  const replica: DataNode = await startNode(['--replicaof', '127.0.0.1', String(primary.port)]);
  const nodes = [primary, replica];
  await waitForSync(primary.port, replica.port);

  const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
  const sentinels: { port: number; child: ChildProcess }[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const file = join(dir, `sentinel-${i}.conf`);
    // Sentinel rewrites its own configuration file, so each one gets a writable copy.
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'daemonize no',
        `dir ${dir}`,
        'loglevel warning',
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${SENTINEL_ARGS.downAfterMs}`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} ${SENTINEL_ARGS.failoverTimeoutMs}`,
        `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
        '',
      ].join('\n'),
    );
    const child = spawn('redis-server', [file, '--sentinel'], { stdio: 'ignore' });
    running.add(child);
    child.once('exit', () => running.delete(child));
    sentinels.push({ port, child });
  }
  installExitHook();

  const ask = async <T>(port: number, ...args: (string | number)[]): Promise<T> => {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.call(...(args as [string, ...string[]]))) as T;
    } finally {
      client.disconnect();
    }
  };
  const sentinelPort = (): number => sentinels[0]!.port;
  const primaryPort = async (): Promise<number> =>
    Number((await ask<string[]>(sentinelPort(), 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME))[1]);
  const role = async (port: number): Promise<string> => (await ask<unknown[]>(port, 'ROLE'))[0] as string;

  // Every sentinel knows the replica and the two other sentinels (hello messages, every 2 s).
  await waitFor(
    'the sentinels to discover the group',
    async () => {
      for (const { port } of sentinels) {
        const master = await ask<string[]>(port, 'SENTINEL', 'MASTER', SENTINEL_MASTER_NAME);
        const field = (name: string): string | undefined => master[master.indexOf(name) + 1];
        if (field('num-slaves') !== '1' || field('num-other-sentinels') !== '2') return false;
      }
      return true;
    },
    20_000,
    200,
  );

  const nodeAt = (port: number): DataNode => {
    const node = nodes.find((n) => n.port === port);
    if (node === undefined) throw new Error(`no data node on port ${port}`);
    return node;
  };

  /** The group settled: Sentinel names `to` primary, it answers as one, and the other node replicates from it. */
  const settled = async (from: number, to: number): Promise<void> => {
    await waitFor('Sentinel to name the new primary', async () => (await primaryPort()) === to && (await role(to)) === 'master', 30_000, 100);
    await waitFor('the old primary to replicate from the new one', async () => (await role(from)) === 'slave', 30_000, 100);
    await waitForSync(to, from);
  };

  return {
    sentinels: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    name: SENTINEL_MASTER_NAME,
    primaryPort,
    async failover() {
      const from = await primaryPort();
      const to = nodes.find((n) => n.port !== from)!.port;
      await ask(sentinelPort(), 'SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME);
      await settled(from, to);
    },
    async killPrimary() {
      const from = await primaryPort();
      const to = nodes.find((n) => n.port !== from)!.port;
      const dead = nodeAt(from);
      await dead.server.kill('SIGKILL');
      await waitFor('Sentinel to promote the replica', async () => (await primaryPort()) === to && (await role(to)) === 'master', 30_000, 100);
      dead.server = (await startNode(['--replicaof', '127.0.0.1', String(to)], from)).server;
      await settled(from, to);
    },
    async stop() {
      await Promise.all(
        sentinels.map(
          ({ child }) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
      await Promise.all(nodes.map((n) => n.server.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A data node; on `port` when given (a restart), else on a free one. */
async function startNode(args: string[], port?: number): Promise<DataNode> {
  // Persistent, as the gateway requires of Redis (README: Redis must persist).
  const server = await startRedis({ args: [...PERSISTENT_REDIS, ...args], ...(port === undefined ? {} : { port }) });
  return { port: server.port, server };
}

/** Until the replica on `replicaPort` has its link to `primaryPort` up and has caught up. */
async function waitForSync(primaryPort: number, replicaPort: number): Promise<void> {
  const info = async (port: number): Promise<string> => {
    const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      return await client.info('replication');
    } finally {
      client.disconnect();
    }
  };
  await waitFor(
    `the replica on ${replicaPort} to sync from ${primaryPort}`,
    async () => {
      const replica = await info(replicaPort);
      return replica.includes(`master_port:${primaryPort}`) && replica.includes('master_link_status:up');
    },
    30_000,
    100,
  );
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}
