import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** How the gateway needs Redis to run (README: Redis must persist), as docker-compose.yml runs it. */
export const PERSISTENT_REDIS = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'];

export interface RedisProcess {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops the server (SIGTERM, waits for exit) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Sends a signal and waits for the process to exit when the signal ends it. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP: the server keeps its sockets and data but answers nothing (a hung Redis). */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** Starts the server again on the same port and dir: empty, unless started with `--appendonly yes`. */
  restart(): Promise<void>;
}

export interface StartRedisOptions {
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '10mb']`. */
  args?: string[];
  /** How long to wait for PING after spawning (default 10 s). */
  readyTimeoutMs?: number;
  /** This port instead of a free one (a node started again where it was, e.g. after a kill -9). */
  port?: number;
}

export const REDIS_NOT_FOUND =
  'redis-server not found: install it (Debian/Ubuntu: apt-get install redis-server) or put it on PATH';

/** The machine's own Redis port: tests must never touch it. */
const SYSTEM_REDIS_PORT = 6379;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Starts a throw-away `redis-server` (no persistence, loopback only, own temp dir) on a free
 * port and resolves once it answers PING. It is killed when this process exits.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisProcess> {
  const binary = findOnPath('redis-server');
  if (!binary) throw new Error(REDIS_NOT_FOUND);
  installExitHook();

  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  let port = 0;
  let child: ChildProcess | null = null;

  const spawnOn = async (p: number): Promise<ChildProcess> => {
    const proc = spawn(
      binary,
      [
        '--port', String(p),
        '--bind', '127.0.0.1',
        '--save', '',
        '--appendonly', 'no',
        '--daemonize', 'no',
        '--dir', dir,
        '--loglevel', 'warning',
        ...(options.args ?? []),
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    try {
      await waitForPing(p, proc, readyTimeoutMs);
    } catch (error) {
      proc.kill('SIGKILL');
      throw error;
    }
    return proc;
  };

  // The free port can be taken between probing and binding: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = options.port ?? (await freePort());
    try {
      child = await spawnOn(port);
    } catch (error) {
      lastError = error;
    }
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw lastError instanceof Error ? lastError : new Error('redis-server did not start');
  }

  const current = (): ChildProcess => {
    if (!child) throw new Error('redis-server is not running');
    return child;
  };

  const killAndWait = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    // A stopped process does not act on SIGTERM until it runs again.
    if (signal !== 'SIGKILL' && signal !== 'SIGSTOP') proc.kill('SIGCONT');
    proc.kill(signal);
    await exited;
  };

  const handle: RedisProcess = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await killAndWait('SIGTERM');
      child = null;
      rmSync(dir, { recursive: true, force: true });
    },
    async kill(signal = 'SIGKILL') {
      if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
        current().kill(signal);
        return;
      }
      await killAndWait(signal);
    },
    pause() {
      current().kill('SIGSTOP');
    },
    resume() {
      current().kill('SIGCONT');
    },
    async restart() {
      await killAndWait('SIGTERM');
      child = await spawnOn(port);
    },
  };
  return handle;
}

function findOnPath(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const p = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(p));
      });
    });
    if (port !== SYSTEM_REDIS_PORT && port !== 0) return port;
  }
}

/** PING over a raw socket, so the harness does not depend on the client under test. */
async function waitForPing(port: number, proc: ChildProcess, timeoutMs: number): Promise<void> {
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`redis-server exited on port ${port}: ${stderr.trim().slice(0, 500)}`);
    }
    if (await pingOnce(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server did not answer PING on port ${port} within ${timeoutMs} ms`);
}

function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data: Buffer) => done(data.toString('utf8').startsWith('+PONG')));
  });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL works even on a stopped (SIGSTOP) server.
  process.once('exit', () => {
    for (const proc of running) proc.kill('SIGKILL');
  });
}
