import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { delimiter, dirname } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GATEWAY_LAUNCHER, TEST_ASID, startGateway, type NodeProcess } from '../support/processes';
import { type RedisProcess, startRedis } from '../support/redis-server';

const KEY = randomBytes(32).toString('base64');
const PASSWORD = 'SECRETPW-7f3c9a';

interface Run {
  code: number | null | 'still running';
  ms: number;
  stdout: string;
  stderr: string;
}

/** The gateway, by its launcher, with exactly this environment; killed if still running after `limitMs`. */
function run(env: Record<string, string>, limitMs = 15_000): Promise<Run> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(GATEWAY_LAUNCHER, [], {
      env: { PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 'still running' : code, ms: Date.now() - started, stdout, stderr });
    });
  });
}

/** Runs `jobs` with at most `limit` at once (two cores: a few node processes at a time). */
async function pool<T, R>(items: T[], limit: number, job: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await job(items[index]!);
      }
    }),
  );
  return results;
}

/** A configuration the gateway accepts (memory store: one process, plain-HTTP cookie). */
const VALID: Record<string, string> = {
  HOST: '127.0.0.1',
  PORT: '0',
  ERS_BASE_URL: 'http://127.0.0.1:9/ers-api',
  ERS_ASID: TEST_ASID,
  SESSION_STORE: 'memory',
  COOKIE_SECURE: 'false',
};

interface Case {
  name: string;
  /** Overrides of VALID; `undefined` removes a variable. */
  env: Record<string, string | undefined>;
  /** Variables that must each be named by one line. */
  bad: string[];
  /** Texts that must not appear anywhere in the output. */
  secret?: string[];
}

const CASES: Case[] = [
  { name: 'ERS_ASID not digits', env: { ERS_ASID: 'abc' }, bad: ['ERS_ASID'] },
  { name: 'ERS_BASE_URL missing', env: { ERS_BASE_URL: undefined }, bad: ['ERS_BASE_URL'] },
  { name: 'ERS_BASE_URL with a trailing slash', env: { ERS_BASE_URL: 'https://x/ers-api/' }, bad: ['ERS_BASE_URL'] },
  {
    name: 'SESSION_KEYS too short with the redis store',
    env: { SESSION_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:9', SESSION_KEYS: 'short' },
    bad: ['SESSION_KEYS'],
    secret: ['short'],
  },
  { name: 'SESSION_KEYS missing with the redis store', env: { SESSION_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:9' }, bad: ['SESSION_KEYS'] },
  { name: 'memory store in production', env: { SESSION_STORE: 'memory', NODE_ENV: 'production', COOKIE_SECURE: 'true' }, bad: ['SESSION_STORE'] },
  { name: 'COOKIE_SECURE not a boolean', env: { COOKIE_SECURE: 'maybe' }, bad: ['COOKIE_SECURE'] },
  { name: '__Host- cookie without Secure', env: { COOKIE_SECURE: 'false', COOKIE_NAME: '__Host-x' }, bad: ['COOKIE_NAME'] },
  { name: 'PORT out of range', env: { PORT: '70000' }, bad: ['PORT'] },
  { name: 'MAX_BODY_BYTES negative', env: { MAX_BODY_BYTES: '-1' }, bad: ['MAX_BODY_BYTES'] },
  // Found in review: both were accepted.
  { name: 'COOKIE_SECURE=false in production', env: { COOKIE_SECURE: 'false', NODE_ENV: 'production', SESSION_STORE: 'redis', SESSION_KEYS: KEY }, bad: ['COOKIE_SECURE'], secret: [KEY] },
  { name: 'a Secure cookie without the __Host- prefix', env: { COOKIE_SECURE: 'true', COOKIE_NAME: 'ers-session' }, bad: ['COOKIE_NAME'] },
  { name: 'OPS_PORT not a port', env: { OPS_PORT: 'metrics' }, bad: ['OPS_PORT'] },
  { name: 'MAX_CALLS_PER_SESSION zero', env: { MAX_CALLS_PER_SESSION: '0' }, bad: ['MAX_CALLS_PER_SESSION'] },
  { name: 'HEADERS_TIMEOUT_MS with a unit', env: { HEADERS_TIMEOUT_MS: '10s' }, bad: ['HEADERS_TIMEOUT_MS'] },
  { name: 'SESSION_KEY_CACHE_SIZE not a count', env: { SESSION_KEY_CACHE_SIZE: 'lots' }, bad: ['SESSION_KEY_CACHE_SIZE'] },
  { name: 'REDIS_URL not redis', env: { REDIS_URL: 'http://x' }, bad: ['REDIS_URL'] },
  { name: 'ALLOWED_ORIGINS with a path', env: { ALLOWED_ORIGINS: 'https://x/path' }, bad: ['ALLOWED_ORIGINS'] },
  { name: 'LOG_LEVEL unknown', env: { LOG_LEVEL: 'loud' }, bad: ['LOG_LEVEL'] },
  // A cluster was half-served (some logins, no role choice, e-RS sessions left open): refused until it works.
  { name: 'Redis Cluster', env: { SESSION_STORE: 'redis', SESSION_KEYS: KEY, REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001' }, bad: ['REDIS_CLUSTER_NODES'], secret: [KEY] },
  {
    name: 'several bad variables',
    env: { ERS_ASID: 'abc', PORT: '70000', COOKIE_SECURE: 'maybe', LOG_LEVEL: 'loud', ALLOWED_ORIGINS: 'https://x/path', ERS_BASE_URL: undefined },
    bad: ['PORT', 'ERS_BASE_URL', 'ERS_ASID', 'COOKIE_SECURE', 'ALLOWED_ORIGINS', 'LOG_LEVEL'],
  },
  {
    name: 'a valid SESSION_KEYS and a redis password next to a bad variable',
    env: { SESSION_STORE: 'redis', SESSION_KEYS: KEY, REDIS_URL: `redis://user:${PASSWORD}@127.0.0.1:9`, LOG_LEVEL: 'loud' },
    bad: ['LOG_LEVEL'],
    secret: [KEY, PASSWORD],
  },
  {
    name: 'a malformed SESSION_KEYS that holds a real key',
    env: { SESSION_STORE: 'redis', SESSION_KEYS: `${KEY},${KEY}`, REDIS_URL: 'redis://127.0.0.1:9' },
    bad: ['SESSION_KEYS'],
    secret: [KEY],
  },
  {
    name: 'a malformed REDIS_URL with a password',
    env: { REDIS_URL: `http://user:${PASSWORD}@x` },
    bad: ['REDIS_URL'],
    secret: [PASSWORD],
  },
];

/** CONTRACT §1: a missing or malformed value stops the process with one line per variable; secrets never printed. */
describe('gateway start-up configuration', () => {
  let redis: RedisProcess | undefined;
  let gateway: NodeProcess | undefined;

  afterAll(async () => {
    await gateway?.stop();
    await redis?.stop();
  });

  it('refuses each bad configuration: exit 1 within seconds, one line per bad variable naming it, no secrets', async () => {
    const runs = await pool(CASES, 4, async (testCase) => {
      const env: Record<string, string> = {};
      for (const [name, value] of Object.entries({ ...VALID, ...testCase.env })) if (value !== undefined) env[name] = value;
      return { testCase, result: await run(env) };
    });
    for (const { testCase, result } of runs) {
      const label = `${testCase.name}:\n${result.stderr}${result.stdout}`;
      expect(result.code, label).toBe(1);
      expect(result.ms, label).toBeLessThan(8000);
      const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
      expect(lines.length, label).toBe(testCase.bad.length);
      for (const name of testCase.bad) {
        const naming = lines.filter((line) => new RegExp(`\\b${name}\\b`).test(line));
        expect(naming.length, `${label}\nno line names ${name}`).toBeGreaterThanOrEqual(1);
      }
      // Each line is about a different variable (no duplicates for one variable).
      const subjects = lines.map((line) => testCase.bad.find((name) => line.includes(`${name}:`) || line.includes(`${name} `)));
      expect(new Set(subjects).size, label).toBe(lines.length);
      for (const secret of testCase.secret ?? []) {
        expect(`${result.stdout}${result.stderr}`.includes(secret), `${testCase.name}: a secret was printed`).toBe(false);
      }
    }
  });

  it('starts with a valid configuration and answers /health/live; a Redis password and SESSION_KEYS stay out of its output', async () => {
    // A second ACL user with a password (the default user stays open for the harness's PING).
    redis = await startRedis({ args: ['--appendonly', 'yes', '--user', 'gateway', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'] });
    gateway = await startGateway({
      ersBaseUrl: 'http://127.0.0.1:9/ers-api',
      env: {
        SESSION_STORE: 'redis',
        REDIS_URL: `redis://gateway:${PASSWORD}@127.0.0.1:${redis.port}`,
        SESSION_KEYS: KEY,
      },
    });
    const live = await fetch(`${gateway.url}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    // The password works (the store answers), so readiness is 200.
    const ready = await fetch(`${gateway.url}/health/ready`);
    expect(ready.status).toBe(200);
    await ready.arrayBuffer();
    expect(await gateway.stop()).toBe(0);
    const output = gateway.lines.join('\n');
    expect(output).toContain('listening');
    expect(output.includes(PASSWORD), 'the Redis password was printed').toBe(false);
    expect(output.includes(KEY), 'SESSION_KEYS was printed').toBe(false);
    for (const line of gateway.lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
  });
});
