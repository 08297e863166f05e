// `npm start`: the demo. Starts the e-RS sandbox and the gateway (in-memory store unless
// REDIS_URL is set, throw-away SESSION_KEYS), serves the demo SPA when it is built, prints the
// address and the test smartcards. Ctrl-C stops both.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const gatewayMain = join(root, 'dist/apps/gateway/src/main.js');
// The gateway starts as it ships: through its launcher (its V8 flags), with this Node first on PATH.
const gatewayLauncher = join(root, 'bin/ers-gateway');
const sandboxMain = join(root, 'dist/apps/ers-sandbox/src/main.js');
const spaDir = join(root, 'dist/demo-spa');
const gatewayPort = process.env.PORT ?? '3000';
const sandboxPort = process.env.SANDBOX_PORT ?? '3001';

if (!existsSync(gatewayMain) || !existsSync(sandboxMain) || !existsSync(join(spaDir, 'index.html'))) {
  process.stdout.write('Building (first run)...\n');
  const built = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

const children = [];
function start(name, command, env) {
  const [executable, ...args] = command;
  const child = spawn(executable, args, {
    cwd: root,
    env: { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.on('data', (chunk) => {
    if (process.env.DEMO_VERBOSE) process.stdout.write(`[${name}] ${chunk}`);
  });
  child.once('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`${name} stopped unexpectedly (${signal ?? code}); stopping the demo.\n`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    try {
      const response = await fetch(url);
      if (response.ok) return response;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer`);
}

let stopping = false;
let servedDir;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve))))).then(
    () => {
      if (servedDir) rmSync(servedDir, { recursive: true, force: true });
      process.exit(code);
    },
  );
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

start('sandbox', [process.execPath, sandboxMain], {
  SANDBOX_HOST: '127.0.0.1',
  SANDBOX_PORT: sandboxPort,
  SANDBOX_ASID: '200000000220',
  SANDBOX_LOG_LEVEL: process.env.SANDBOX_LOG_LEVEL ?? 'warn',
  // `SANDBOX_LEGACY_403=true npm start`: e-RS's bare business 403s from before November 2024.
  SANDBOX_LEGACY_403: process.env.SANDBOX_LEGACY_403 ?? 'false',
});
const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
const cards = await (await waitFor(`${sandboxUrl}/_sandbox/cards`)).json();

const redis = process.env.REDIS_URL;
// The SPA asks the sandbox's simulated Identity Agent for a card's token: tell it where that is,
// in a copy of the built SPA, so dist/ keeps the configuration the build (and compose) gave it.
if (existsSync(spaDir)) {
  servedDir = mkdtempSync(join(tmpdir(), 'ers-gateway-demo-'));
  cpSync(spaDir, servedDir, { recursive: true });
  writeFileSync(join(servedDir, 'demo-config.json'), JSON.stringify({ sandboxUrl }) + '\n');
}
start('gateway', [gatewayLauncher], {
  PORT: gatewayPort,
  HOST: process.env.HOST ?? '127.0.0.1',
  ERS_BASE_URL: `${sandboxUrl}/ers-api`,
  ERS_ASID: '200000000220',
  SESSION_STORE: redis ? 'redis' : 'memory',
  SESSION_KEYS: process.env.SESSION_KEYS ?? randomBytes(32).toString('base64'),
  // Throw-away keys make every demo session throw-away: any local Redis will do (the gateway warns).
  REDIS_ALLOW_VOLATILE: process.env.REDIS_ALLOW_VOLATILE ?? 'true',
  // The demo runs on plain http://localhost: a Secure __Host- cookie needs HTTPS.
  COOKIE_SECURE: 'false',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  // One instance, no load balancer to take it out: Ctrl-C stops it without the grace period.
  DRAIN_GRACE_MS: process.env.DRAIN_GRACE_MS ?? '0',
  ...(servedDir ? { STATIC_DIR: servedDir, STATIC_CONNECT_SRC: sandboxUrl } : {}),
});
await waitFor(`http://127.0.0.1:${gatewayPort}/health/ready`);

const lines = [
  '',
  `e-RS session gateway demo (session store: ${redis ? 'redis' : 'memory'}):  http://localhost:${gatewayPort}`,
  `the sandbox's test smartcards:                    ${sandboxUrl}/_sandbox/cards`,
  `what e-RS received, newest last:                  ${sandboxUrl}/_sandbox/requests`,
  '',
  'Test smartcards:',
  ...cards.map(
    (card) =>
      `  ${card.label.padEnd(42)} ${card.valid ? (card.permissions.length ? card.permissions.map((p) => `${p.businessFunction}@${p.orgIdentifier}`).join(', ') : '(no roles)') : '(invalid card)'}\n      token: ${card.token}`,
  ),
  '',
  'Press Ctrl-C to stop.',
  '',
];
process.stdout.write(lines.join('\n'));
