import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
const GATEWAY_MAIN = join(ROOT, 'dist/apps/gateway/src/main.js');
/** The one way the gateway starts (its V8 flags included): the tests run what ships. */
export const GATEWAY_LAUNCHER = join(ROOT, 'bin/ers-gateway');
const SANDBOX_MAIN = join(ROOT, 'dist/apps/ers-sandbox/src/main.js');

/** A 32-byte key for SESSION_KEYS, fixed so tests can also decrypt what they find in Redis. */
export const TEST_SESSION_KEY = Buffer.alloc(32, 7).toString('base64');
export const TEST_ASID = '200000000220';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface NodeProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Every line the process wrote to stdout and stderr, in order. */
  readonly lines: string[];
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Sends a signal; with SIGKILL resolves once the process is gone. */
  kill(signal: NodeJS.Signals): Promise<void>;
  exited: Promise<number | null>;
}

function requireBuilt(file: string): void {
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: run \`npm run build\` before the system tests (npm test does).`);
  }
}

async function startNode(
  file: string,
  env: Record<string, string>,
  port: number,
  readyPath: string,
  command: string[] = [process.execPath, file],
): Promise<NodeProcess> {
  requireBuilt(file);
  const [executable, ...args] = command as [string, ...string[]];
  const child = spawn(executable, args, {
    // This Node first on PATH: the launcher runs `node`. ERS_GATEWAY_DIST runs the system tests
    // against another build (e.g. the previous one, to see a finding's test fail there).
    env: {
      PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
      ...(process.env.ERS_GATEWAY_DIST === undefined ? {} : { ERS_GATEWAY_DIST: process.env.ERS_GATEWAY_DIST }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream | null): void => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      rest += chunk;
      const parts = rest.split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts.filter((line) => line !== ''));
    });
    stream?.on('end', () => {
      if (rest !== '') lines.push(rest);
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  let early: number | null | undefined;
  void exited.then((code) => (early = code));
  for (;;) {
    if (early !== undefined) throw new Error(`${file} exited with ${early} at start:\n${lines.join('\n')}`);
    try {
      const response = await fetch(url + readyPath);
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${file} did not start in time:\n${lines.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    port,
    child,
    lines,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill(signal) {
      child.kill(signal);
      if (signal === 'SIGKILL') await exited;
    },
  };
}

export interface Sandbox extends NodeProcess {
  /** The e-RS base URL: `http://127.0.0.1:PORT/ers-api`. */
  readonly ersBaseUrl: string;
}

export async function startSandbox(env: Record<string, string> = {}): Promise<Sandbox> {
  const port = await freePort();
  const process = await startNode(
    SANDBOX_MAIN,
    { SANDBOX_HOST: '127.0.0.1', SANDBOX_PORT: String(port), SANDBOX_ASID: TEST_ASID, ...env },
    port,
    '/_sandbox/cards',
  );
  return { ...process, ersBaseUrl: `${process.url}/ers-api` };
}

export interface GatewayProcessOptions {
  ersBaseUrl: string;
  redisUrl?: string;
  env?: Record<string, string>;
}

export interface GatewayProcess extends NodeProcess {
  /** The operations listener (`OPS_PORT`): `/metrics` and the health endpoints. */
  readonly opsUrl: string;
}

/** The gateway as users run it: the launcher, configured only through its environment. */
export async function startGateway(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const port = await freePort();
  const opsPort = await freePort();
  const started = await startNode(
    GATEWAY_MAIN,
    {
      HOST: '127.0.0.1',
      PORT: String(port),
      OPS_PORT: String(opsPort),
      ERS_BASE_URL: options.ersBaseUrl,
      ERS_ASID: TEST_ASID,
      SESSION_STORE: options.redisUrl === undefined ? 'memory' : 'redis',
      ...(options.redisUrl === undefined ? {} : { REDIS_URL: options.redisUrl, SESSION_KEYS: TEST_SESSION_KEY }),
      COOKIE_SECURE: 'false',
      LOG_LEVEL: 'info',
      // No load balancer watches readiness here: stop at once (test/system/drain.test.ts sets one).
      DRAIN_GRACE_MS: '0',
      ...options.env,
    },
    port,
    '/health/live',
    [GATEWAY_LAUNCHER],
  );
  return { ...started, opsUrl: `http://127.0.0.1:${options.env?.OPS_PORT ?? opsPort}` };
}
