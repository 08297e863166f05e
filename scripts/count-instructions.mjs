// Instructions per proxied request, counted by valgrind's callgrind: a measure that repeats within
// about 1 % from run to run, where CPU timings on a shared host swing by ±20 %. Use it to compare
// two builds (or a build and the lab's `node-redis` floor); use the lab and `npm run bench` for
// the figures a deployment is sized from.
//
//   node scripts/count-instructions.mjs [--runs 3] [--warm 40000] [--requests 3000]
//        [--dist dist] [--lab <copy of ../shared/bench>] [--keep <dir>] [-- <node flags for the gateway>]
//
// Per run it starts its own redis-server and upstream (the 1453-byte answer) on free ports, seeds
// 100 sessions through the real store (scripts/bench-seed.mjs), starts the built gateway under
// callgrind with instrumentation off, sends `--warm` requests (32 connections), counts `--requests`
// more, and prints instructions per request. User space only: the kernel's share is not counted.
// With `--lab`, it also counts the lab's `node-redis` the same way. The gateway runs through its
// launcher (bin/ers-gateway, the flags it ships with); `-- <node flags>` runs its main.js with those
// flags instead (an experiment). Needs valgrind (callgrind_control), redis-server and `npm run build`.
//
// With `--keep <dir>`, each process also runs with `--perf-basic-prof`, and its callgrind dump and
// JIT symbol map are kept in <dir> (`<kind>-<run>.callgrind`, `<kind>-<run>.map`) for
// `scripts/instruction-breakdown.mjs`, which says which functions the instructions went to.
//
// A process could settle in a slow steady state (docs/performance-log.md, fixed since): a run
// more than 10 % above the lowest of its kind is marked `slow state`.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The gateway as it ships: its launcher (bin/ers-gateway), V8 flags included. */
const LAUNCHER = path.join(ROOT, 'bin/ers-gateway');

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const own = dash === -1 ? argv : argv.slice(0, dash);
/** `-- <node flags>`: an experiment, the gateway's main.js with these flags instead of the launcher. */
const gatewayFlags = dash === -1 ? null : argv.slice(dash + 1);
const option = (name, fallback) => {
  const at = own.indexOf(`--${name}`);
  return at === -1 ? fallback : own[at + 1];
};
if (own.includes('--help')) {
  process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport')[0] + '\n');
  process.exit(0);
}
const runs = Number(option('runs', '3'));
const warm = Number(option('warm', '40000'));
const counted = Number(option('requests', '3000'));
const dist = option('dist', 'dist');
const lab = option('lab', null);
const keep = option('keep', null);
if (keep !== null) fs.mkdirSync(keep, { recursive: true });
for (const bin of ['valgrind', 'callgrind_control', 'redis-server', 'redis-cli']) {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
  } catch {
    process.stderr.write(`count-instructions: ${bin} not found (Debian: apt-get install -y valgrind redis-server)\n`);
    process.exit(2);
  }
}
const gatewayMain = path.join(ROOT, dist, 'apps/gateway/src/main.js');
if (!fs.existsSync(gatewayMain)) {
  process.stderr.write(`count-instructions: ${gatewayMain} is missing: run \`npm run build\` first\n`);
  process.exit(2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

/** The lab's 1453-byte e-RS answer when a lab copy is given, else a JSON of the same size. */
function upstreamBody() {
  if (lab !== null) return JSON.stringify(JSON.parse(fs.readFileSync(path.join(lab, 'upstream/resource.json'), 'utf8')));
  const base = JSON.stringify({ resourceType: 'ReferralRequest', id: '000000070000', text: '' });
  return base.replace('"text":""', `"text":"${'x'.repeat(1453 - base.length)}"`);
}

async function countOnce(kind, run) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'count-instructions-'));
  const [redisPort, upstreamPort, port] = [await freePort(), await freePort(), await freePort()];
  execFileSync('redis-server', ['--port', String(redisPort), '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', path.join(work, 'redis.pid')]);
  const body = upstreamBody();
  const upstream = http
    .createServer((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    })
    .listen(upstreamPort, '127.0.0.1');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  let child = null;
  try {
    for (let tries = 0; ; tries++) {
      try {
        execFileSync('redis-cli', ['-p', String(redisPort), 'ping'], { stdio: 'ignore' });
        break;
      } catch (error) {
        if (tries > 50) throw error;
        await sleep(100);
      }
    }
    const sessions = Array.from({ length: 100 }, () => ({
      id: randomBytes(24).toString('base64url'),
      sessionKey: randomBytes(32).toString('hex'),
      asid: '200000000123',
      userUid: '555000000000',
      roleCode: 'R8000',
      orgCode: 'R69',
    }));
    let cookies;
    let requestPath;
    let command;
    let env;
    if (kind === 'gateway') {
      const key = randomBytes(32).toString('base64');
      fs.writeFileSync(path.join(work, 'sessions.jsonl'), sessions.map((s) => JSON.stringify(s)).join('\n') + '\n');
      execFileSync('node', [path.join(ROOT, 'scripts/bench-seed.mjs')], {
        env: { ...process.env, BENCH_DIST: dist, REDIS_URL: `redis://127.0.0.1:${redisPort}/1`, SESSIONS_FILE: path.join(work, 'sessions.jsonl'), COOKIES_OUT: path.join(work, 'cookies.txt'), SESSION_KEYS: key },
        stdio: 'ignore',
      });
      cookies = fs.readFileSync(path.join(work, 'cookies.txt'), 'utf8').trim().split('\n');
      requestPath = '/api/ers/v1/anything';
      command = gatewayFlags === null ? ['sh', LAUNCHER] : ['node', ...gatewayFlags, gatewayMain];
      env = { ERS_ASID: '200000000123', ERS_BASE_URL: `http://127.0.0.1:${upstreamPort}/ers-api`, SESSION_KEYS: key, REDIS_ALLOW_VOLATILE: 'true', DRAIN_GRACE_MS: '0', COOKIE_SECURE: 'false', COOKIE_NAME: 'sid', REDIS_URL: `redis://127.0.0.1:${redisPort}/1`, PORT: String(port), LOG_LEVEL: 'info', ERS_GATEWAY_DIST: path.join(ROOT, dist) };
    } else {
      for (const s of sessions) execFileSync('redis-cli', ['-p', String(redisPort), 'set', `session:${s.id}`, JSON.stringify(s)], { stdio: 'ignore' });
      cookies = sessions.map((s) => `sid=${s.id}`);
      requestPath = '/ers-api/v1/anything';
      command = ['node', path.join(lab, 'proxies/node-redis.mjs')];
      env = { ERS_BASE_URL: `http://127.0.0.1:${upstreamPort}`, REDIS_URL: `redis://127.0.0.1:${redisPort}`, PORT: String(port), XAPI_ASID: '200000000123', NODE_ENV: 'production' };
    }
    const out = path.join(work, 'callgrind.out');
    // Through NODE_OPTIONS so it reaches node behind the launcher too; valgrind follows the launcher's exec.
    const profiling = keep === null ? {} : { NODE_OPTIONS: '--perf-basic-prof' };
    child = spawn('valgrind', ['--tool=callgrind', '--trace-children=yes', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${out}`, ...command], {
      env: { ...process.env, ...env, ...profiling },
      stdio: ['ignore', 'ignore', 'ignore'],
      // --perf-basic-prof also writes V8's isolate log into the working directory: keep it out of the checkout.
      cwd: work,
    });
    const one = (index) =>
      new Promise((resolve, reject) => {
        const request = http.request({ host: '127.0.0.1', port, path: requestPath, headers: { cookie: cookies[index % cookies.length], 'x-csrf': '1' }, agent }, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`status ${response.statusCode}: ${body.slice(0, 200)}`))));
        });
        request.on('error', reject);
        request.end();
      });
    const load = async (total) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < total) await one(next++);
        }),
      );
    };
    for (let tries = 0; ; tries++) {
      try {
        await one(0);
        break;
      } catch (error) {
        if (tries > 600) throw new Error(`${kind} did not answer 200: ${error.message}`);
        await sleep(200);
      }
    }
    await load(warm);
    execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore' });
    await load(counted);
    execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
    const dumps = fs.readdirSync(work).filter((name) => name.startsWith('callgrind.out.'));
    let instructions = 0;
    for (const name of dumps) {
      const match = /^(?:summary|totals): (\d+)/m.exec(fs.readFileSync(path.join(work, name), 'utf8'));
      if (match) instructions += Number(match[1]);
    }
    if (keep !== null) {
      for (const name of dumps) fs.copyFileSync(path.join(work, name), path.join(keep, `${kind}-${run}.callgrind`));
      fs.copyFileSync(`/tmp/perf-${child.pid}.map`, path.join(keep, `${kind}-${run}.map`));
      fs.rmSync(`/tmp/perf-${child.pid}.map`, { force: true });
    }
    return Math.round(instructions / counted);
  } finally {
    if (child !== null) child.kill('SIGKILL');
    upstream.close();
    agent.destroy();
    try {
      execFileSync('redis-cli', ['-p', String(redisPort), 'shutdown', 'nosave'], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const kinds = lab === null ? ['gateway'] : ['gateway', 'node-redis'];
const results = new Map(kinds.map((kind) => [kind, []]));
for (let run = 1; run <= runs; run++) {
  for (const kind of kinds) {
    const perRequest = await countOnce(kind, run);
    results.get(kind).push(perRequest);
    process.stderr.write(`run ${run}/${runs} ${kind}: ${perRequest.toLocaleString('en-GB')} instructions per request\n`);
  }
}
for (const [kind, values] of results) {
  const lowest = Math.min(...values);
  const marked = values.map((value) => `${value.toLocaleString('en-GB')}${value > lowest * 1.1 ? ' (slow state)' : ''}`);
  process.stdout.write(`${kind}: ${marked.join(', ')}; lowest ${lowest.toLocaleString('en-GB')}\n`);
}
const floor = results.get('node-redis');
if (floor !== undefined) {
  const ratio = Math.min(...results.get('gateway')) / Math.min(...floor);
  process.stdout.write(`gateway ÷ node-redis (lowest of each): ${ratio.toFixed(2)}\n`);
}
