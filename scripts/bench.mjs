// `npm run bench`: the gateway's own benchmark, for sizing a deployment. Plain Node ESM, no build
// step, but it runs the BUILT gateway (`npm run build` first; `BENCH_DIST=tmp/x` picks a copy of
// dist/ relative to the repository root). It starts, all on free ports and all its own:
//   - two throw-away redis-servers (--save '' --appendonly no): one with the small session count
//     (default 10 k), one with the large one (default 1 M), both seeded through the real store by
//     scripts/bench-seed.mjs;
//   - a fixed-response upstream ("e-RS": GET -> a 1453-byte e-RS-like JSON, other methods -> a small
//     JSON once the body has been read; v1/_upload -> {"receivedBytes":N} once the body has been
//     read, v1/_download -> 5 MiB of application/octet-stream), node:http with keep-alive;
//   - a baseline: bare node:http + undici Pool proxy, no session, constant headers, same upstream;
//   - the built gateway twice (one per Redis), by its launcher (bin/ers-gateway), access log on
//     (to /dev/null). Not NODE_ENV=production: that refuses the plain-HTTP cookie the bench needs.
// It loads one target at a time with autocannon (in this process, 32 connections, rotating over
// 100 cookies), in interleaved rounds, and measures CPU µs per request from /proc/PID/stat
// (utime+stime of the target's process tree ÷ completed requests), req/s, p50, p99 and RSS.
// Ratios are taken within a round and the median over rounds is reported.
// Then, in rounds of their own, bodies go through the baseline and the 10 k-session gateway,
// interleaved: a 100 kB JSON POST and a 5 MiB download, reported as CPU ms per MB of body.
// Targets are pinned to cpu0; the load generator (this process), the upstream and Redis to cpu1.
//
//   npm run bench                 # full run: 3 rounds, 10 k vs 1 M sessions (a few minutes)
//   npm run bench -- --quick      # < 1 min: 1 round, short runs, 10 k vs 100 k sessions
//   npm run bench -- --help
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.join(path.dirname(SELF), '..');
const API_PATH = '/api/ers/v1/anything';
// The body workloads: paths under v1/ (the only ones the gateway forwards, with STU3/), answered by
// the upstream without looking at sessions.
const UPLOAD_PATH = '/api/ers/v1/_upload';
const UPLOAD_BYTES = 102_400;
const DOWNLOAD_PATH = '/api/ers/v1/_download';
const DOWNLOAD_BYTES = 5 * 1024 * 1024;
// the upstream sees a gateway path under ERS_BASE_URL (/ers-api) instead of /api/ers
const upstreamPath = (p) => '/ers-api' + p.slice('/api/ers'.length);


// The shared perf lab's upstream answer (../shared/bench/upstream/resource.json): a 1453-byte
// e-RS-like ReferralRequest. BENCH_RESOURCE=<file> answers with another body.
const RESOURCE_JSON = '{"resourceType":"ReferralRequest","id":"000000070000","meta":{"versionId":"5","lastUpdated":"2024-03-18T10:22:31.000Z","profile":["https://fhir.nhs.uk/STU3/StructureDefinition/eRS-ReferralRequest-1"]},"extension":[{"url":"https://fhir.nhs.uk/STU3/StructureDefinition/Extension-eRS-ReferralPriority-1","valueCodeableConcept":{"coding":[{"system":"https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1","code":"ROUTINE","display":"Routine"}]}}],"identifier":[{"system":"https://fhir.nhs.uk/Id/ubrn","value":"000000070000"}],"status":"active","intent":"plan","type":{"coding":[{"system":"http://snomed.info/sct","code":"3457005","display":"Patient referral"}]},"priority":"routine","serviceRequested":[{"coding":[{"system":"https://fhir.nhs.uk/STU3/CodeSystem/eRS-Specialty-1","code":"CARDIOLOGY","display":"Cardiology"}]}],"subject":{"reference":"https://demographics.spineservices.nhs.uk/STU3/Patient/9912003888","identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9912003888"}},"authoredOn":"2024-03-11T09:15:04.000Z","requester":{"agent":{"reference":"Practitioner/000000000101"},"onBehalfOf":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"R69"}}},"recipient":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RCD"}}],"reasonCode":[{"text":"Chest pain on exertion"}],"description":"Referral for assessment","supportingInfo":[{"reference":"DocumentReference/000000070000-1"}]}';
function resourceBody() {
  return process.env.BENCH_RESOURCE ? fs.readFileSync(process.env.BENCH_RESOURCE) : Buffer.from(RESOURCE_JSON);
}

// A request body of exactly UPLOAD_BYTES, valid JSON ({"pad":"xxx…"}) as an e-RS POST body would be.
function uploadBody() {
  const b = Buffer.from(`{"pad":"${'x'.repeat(UPLOAD_BYTES - '{"pad":""}'.length)}"}`);
  if (b.length !== UPLOAD_BYTES) throw new Error(`upload body is ${b.length} bytes, not ${UPLOAD_BYTES}`);
  return b;
}

async function runUpstream() {
  const BODY = resourceBody();
  // allocated once: the download must cost the upstream (on the load cpu) as little as possible
  const DOWNLOAD = Buffer.alloc(DOWNLOAD_BYTES, 'x');
  const server = http.createServer((req, res) => {
    if (req.url === upstreamPath(DOWNLOAD_PATH)) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': DOWNLOAD.length });
      return res.end(DOWNLOAD);
    }
    if (req.url === upstreamPath(UPLOAD_PATH)) {
      // reads the whole body before answering, and says how much arrived (checked before the load)
      let n = 0;
      req.on('data', (c) => { n += c.length; });
      req.on('end', () => {
        const b = Buffer.from(JSON.stringify({ receivedBytes: n }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': b.length });
        res.end(b);
      });
      return;
    }
    if (req.url === '/ers-api/v1/_echo') {
      const b = Buffer.from(JSON.stringify({ xapiAsid: req.headers.xapi_asid ?? null, sessionKey: req.headers.http_x_session_key ?? null, cookie: req.headers.cookie ?? null }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': b.length });
      return res.end(b);
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      res.writeHead(200, { 'content-type': 'application/fhir+json', 'content-length': BODY.length });
      return res.end(BODY);
    }
    let n = 0;
    req.on('data', (c) => { n += c.length; });
    req.on('end', () => {
      const b = Buffer.from(JSON.stringify({ method: req.method, receivedBytes: n }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': b.length });
      res.end(b);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
}

async function runBaseline() {
  // node:http + undici Pool.stream (keep-alive), no session: the floor cost of any Node proxy doing
  // this job. Same path mapping as the gateway (/api/ers/<p> -> <base>/<p>), same injected headers
  // (constants), Cookie and X-CSRF not forwarded.
  const { Pool } = await import('undici');
  const base = new URL(process.env.ERS_BASE_URL);
  const pool = new Pool(base.origin, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 });
  const prefix = base.pathname.replace(/\/$/, '');
  const DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'cookie', 'x-csrf', 'expect']);
  const asid = process.env.ERS_ASID;
  const server = http.createServer((req, res) => {
    if (!req.url.startsWith('/api/ers/')) { res.writeHead(404).end(); return; }
    const headers = {};
    for (const k in req.headers) if (!DROP.has(k)) headers[k] = req.headers[k];
    headers.XAPI_ASID = asid;
    headers.HTTP_X_SESSION_KEY = 'baseline-constant-session-key';
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
    pool.stream({ path: prefix + req.url.slice(8), method: req.method, headers, body: hasBody ? req : null }, ({ statusCode, headers: h }) => {
      const out = {};
      for (const k in h) if (!DROP.has(k)) out[k] = h[k];
      res.writeHead(statusCode, out);
      return res;
    }).catch((err) => { if (!res.headersSent) res.writeHead(502).end(); else res.destroy(err); });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
}

// ------------------------------------------------------------------ orchestrator
async function main() {
  const HELP = `npm run bench [-- options]   (node scripts/bench.mjs [options])

Measures the built gateway (dist/, or BENCH_DIST) against a bare node:http + undici proxy
(the baseline) in the same run, and the gateway with a small and a large number of sessions in
Redis. Needs redis-server on the PATH; taskset (util-linux) for pinning.

  --quick                1 round, short runs, 10 k and 100 k sessions (under a minute
                         on a quiet machine)
  --rounds N             interleaved rounds (default 3; quick 1)
  --duration S           measured seconds per run (default 6; quick 3)
  --warmup S             unmeasured load per target before the first round (default 6; quick 2)
  --rewarm S             unmeasured load right before every measured run (default 2; quick 1)
  --connections N        autocannon connections (default 32)
  --body-duration S      measured seconds per body run (100 kB POST with --connections, 5 MiB
                         download with 8; default 2), after at most 1 s unmeasured
  --no-bodies            skip the body runs
  --cookies N            sessions the load rotates over (default 100)
  --sessions-small N     sessions in the first Redis (default 10000)
  --sessions-large N     sessions in the second Redis (default 1000000; quick 100000; 0 = skip)
  --seed-procs N         bench-seed processes run in parallel for the large seed (default 2)
  --max-foreign P        redo a run in which other processes used more than P % of the
                         machine (default 10; they are measured from /proc/stat)
  --retries N            at most N redos per run (default 2; quick 1); the cleanest is kept
  --no-pin               do not pin (targets cpu0, load + upstream + Redis cpu1)
  --out FILE             also write the markdown results to FILE
  --keep                 keep the run folder (logs, cookie files)
  env BENCH_DIST         dist folder relative to the repo root (default dist)`;
  const argv = process.argv.slice(2);
  const flag = (n) => argv.includes(`--${n}`);
  const val = (n, d) => {
    const i = argv.indexOf(`--${n}`);
    if (i === -1) return d;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) die(`--${n} needs a value`);
    return v;
  };
  const known = new Set(['quick', 'rounds', 'duration', 'warmup', 'rewarm', 'connections', 'body-duration', 'no-bodies', 'cookies', 'sessions-small', 'sessions-large', 'seed-procs', 'retries', 'max-foreign', 'no-pin', 'out', 'keep', 'help']);
  for (const a of argv) if (a.startsWith('--') && !known.has(a.slice(2))) die(`unknown option ${a} (see --help)`);
  if (flag('help') || argv.includes('-h')) { console.log(HELP); return; }
  const quick = flag('quick');
  const num = (n, d) => { const x = Number(val(n, d)); if (!Number.isFinite(x) || x < 0) die(`--${n} must be a number >= 0`); return x; };
  const opt = {
    quick,
    rounds: Math.max(1, Math.floor(num('rounds', quick ? 1 : 3))),
    duration: num('duration', quick ? 3 : 6),
    warmup: num('warmup', quick ? 2 : 6),
    rewarm: num('rewarm', quick ? 1 : 2),
    connections: Math.max(1, Math.floor(num('connections', 32))),
    // body runs are shorter than the GET runs: there are 4 of them per round (this keeps --quick
    // under a minute and the full run near 4 minutes), and 2 s already holds ~100 CPU ticks of the
    // target; what varies is the round, not the tick count
    bodyDuration: num('body-duration', 2),
    bodies: !flag('no-bodies'),
    cookies: Math.max(1, Math.floor(num('cookies', 100))),
    small: Math.max(1, Math.floor(num('sessions-small', 10_000))),
    large: Math.floor(num('sessions-large', quick ? 100_000 : 1_000_000)),
    seedProcs: Math.max(1, Math.floor(num('seed-procs', 2))),
    retries: Math.floor(num('retries', quick ? 1 : 2)),
    maxForeign: num('max-foreign', 10),
    out: val('out', null),
    keep: flag('keep'),
  };
  const dist = process.env.BENCH_DIST || 'dist';
  const gatewayMain = path.join(ROOT, dist, 'apps/gateway/src/main.js');
  // The gateway starts as it ships: through its launcher (bin/ers-gateway: its V8 flags), with the
  // built code of BENCH_DIST.
  const gatewayLauncher = path.join(ROOT, 'bin/ers-gateway');
  const storeIndex = path.join(ROOT, dist, 'libs/session-store/src/index.js');
  for (const f of [gatewayMain, storeIndex]) if (!fs.existsSync(f)) die(`${f} is missing: run \`npm run build\` first (or set BENCH_DIST)`);
  const redisBin = which('redis-server');
  if (!redisBin) die('redis-server not found: install it (Debian/Ubuntu: apt-get install redis-server) or put it on PATH');
  const canPin = !flag('no-pin') && process.env.BENCH_PIN !== '0' && which('taskset') !== null && os.cpus().length >= 2;
  const SUT_CPU = 0, LOAD_CPU = 1;
  const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const { default: autocannon } = await import('autocannon');
  const { default: Redis } = await import('ioredis');

  const T0 = Date.now();
  const RUN = fs.mkdtempSync(path.join(os.tmpdir(), 'ersgw-bench-'));
  const log = (...a) => console.error(`[bench ${((Date.now() - T0) / 1000).toFixed(1).padStart(5)}s] ${a.join(' ')}`);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  // a wait that does not keep this process alive: stopProc's 5 s bound would otherwise hold the
  // exit for 5 s after the last process has already stopped
  const bound = (ms) => new Promise((r) => setTimeout(r, ms).unref());

  // ---------------------------------------------------------------- processes and cleanup
  const procs = [];
  let stopping = false;
  const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
  function start(name, args, { env = {}, cpu = null, stdout = 'file' } = {}) {
    const full = canPin && cpu !== null ? ['taskset', '-c', String(cpu), ...args] : args;
    const logFile = path.join(RUN, `${name}.log`);
    const fd = fs.openSync(logFile, 'a');
    const out = stdout === 'null' ? 'ignore' : stdout === 'pipe' ? 'pipe' : fd;
    const child = spawn(full[0], full.slice(1), { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', out, fd] });
    fs.closeSync(fd);
    const p = { name, pid: child.pid, child, logFile, exited: false, code: null };
    p.exitedP = new Promise((resolve) => child.once('exit', (code, sig) => {
      p.exited = true; p.code = code ?? sig;
      if (!stopping && !p.expectExit) log(`!! ${name} (pid ${p.pid}) exited (${p.code}); its log: ${tail(logFile)}`);
      resolve();
    }));
    child.once('error', (e) => { p.exited = true; log(`!! ${name} could not start: ${e.message}`); });
    procs.push(p);
    return p;
  }
  async function stopProc(p) {
    if (p.exited || !alive(p.pid)) return;
    try { process.kill(p.pid, 'SIGTERM'); } catch { return; }
    await Promise.race([p.exitedP, bound(5000)]);
    if (!p.exited) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } await Promise.race([p.exitedP, bound(2000)]); }
  }
  async function stopAll() {
    if (stopping) return;
    stopping = true;
    for (const p of [...procs].reverse()) await stopProc(p);
    const left = procs.filter((p) => !p.exited && alive(p.pid));
    if (left.length) log(`still alive after stop: ${left.map((p) => `${p.name} ${p.pid}`).join(', ')}`);
    if (!opt.keep) fs.rmSync(RUN, { recursive: true, force: true });
    else log(`run folder kept: ${RUN}`);
  }
  process.on('exit', () => {
    for (const p of procs) if (!p.exited) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
    if (!opt.keep) { try { fs.rmSync(RUN, { recursive: true, force: true }); } catch { /* best effort */ } }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => { log(`got ${sig}: stopping everything`); stopAll().finally(() => process.exit(130)); });
  }

  try {
    await run();
    await stopAll();
    log('done; every process it started is stopped');
  } catch (err) {
    log(`FAILED: ${err instanceof Error ? err.message : err}`);
    await stopAll();
    process.exitCode = 1;
  }

  async function run() {
    if (canPin) execFileSync('taskset', ['-a', '-p', '-c', String(LOAD_CPU), String(process.pid)], { stdio: 'ignore' });
    const pinNote = canPin
      ? `pinned with taskset: targets (baseline, gateways) on cpu${SUT_CPU}; load generator (autocannon, in the bench process), upstream and redis-servers on cpu${LOAD_CPU}`
      : `not pinned (${flag('no-pin') || process.env.BENCH_PIN === '0' ? '--no-pin' : which('taskset') ? 'fewer than 2 cpus' : 'taskset not found'}): everything shares every cpu`;
    log(opt.quick ? 'QUICK run: 1 round, short runs, fewer sessions - indicative only' : 'full run');
    log(pinNote);

    // -------------------------------------------------------------- redis + upstream
    const startRedis = async (name) => {
      const port = await freePort();
      const dir = fs.mkdtempSync(path.join(RUN, `${name}-`));
      const p = start(name, [redisBin, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir, '--loglevel', 'warning'], { cpu: LOAD_CPU });
      await waitFor(() => portOpen(port), 10_000, p, name);
      p.url = `redis://127.0.0.1:${port}`;
      return p;
    };
    const withLarge = opt.large > 0;
    const [redisSmall, redisLarge] = await Promise.all([startRedis('redis-small'), withLarge ? startRedis('redis-large') : null]);
    const upPort = await freePort();
    const upstream = start('upstream', [process.execPath, SELF, '--role', 'upstream'], { env: { PORT: String(upPort) }, cpu: LOAD_CPU });
    await waitFor(() => portOpen(upPort), 10_000, upstream, 'upstream');
    const ersBase = `http://127.0.0.1:${upPort}/ers-api`;

    // -------------------------------------------------------------- sessions
    const sessionKeys = randomBytes(32).toString('base64');
    const usedMemory = async (url) => {
      const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await r.connect();
      const info = await r.info('memory');
      r.disconnect();
      return Number(/used_memory:(\d+)/.exec(info)?.[1]);
    };
    const dbsize = async (url) => {
      const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await r.connect();
      const n = await r.dbsize();
      r.disconnect();
      return n;
    };
    // what one session costs, key by key: MEMORY USAGE (and OBJECT ENCODING) of sampled keys of each
    // kind there are many of (a live session is one `S:` hash; a `U:` record exists only from its end
    // until its A003 is answered, so seeded sessions have none), the shared keys (the expiry index
    // `X`: one entry per session) ÷ sessions
    const keyBreakdown = async (url, count) => {
      const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await r.connect();
      try {
        const parts = [];
        const perPrefix = new Map();
        let cursor = '0';
        const seen = [];
        do {
          const [c, ks] = await r.scan(cursor, 'COUNT', 1000);
          cursor = c;
          seen.push(...ks);
        } while (cursor !== '0' && seen.length < 2000);
        for (const k of seen) {
          const prefix = k.replace(/^((?:[^:]*:){1,2}).*$/, '$1');
          if (!perPrefix.has(prefix)) perPrefix.set(prefix, []);
          perPrefix.get(prefix).push(k);
        }
        for (const [prefix, ks] of [...perPrefix].sort()) {
          if (ks.length > 20) {
            let sum = 0;
            const sample = ks.slice(0, 50);
            const encodings = new Set();
            for (const k of sample) {
              sum += Number(await r.memory('USAGE', k, 'SAMPLES', '0'));
              encodings.add(await r.object('ENCODING', k));
            }
            parts.push(`\`${prefix}*\` ${Math.round(sum / sample.length)} B (${[...encodings].join('/')})`);
          } else {
            for (const k of ks) parts.push(`\`${k}\` ${Math.round(Number(await r.memory('USAGE', k, 'SAMPLES', '0')) / count)} B (${await r.type(k)} ÷ sessions)`);
          }
        }
        for (const k of ['ersgw:X', 'ersgw:D']) {
          if (seen.includes(k) || !(await r.exists(k))) continue;
          parts.push(`\`${k}\` ${Math.round(Number(await r.memory('USAGE', k, 'SAMPLES', '0')) / count)} B (${await r.type(k)} ÷ sessions)`);
        }
        return { text: parts.join(', ') };
      } finally {
        r.disconnect();
      }
    };
    // writes `count` sessions in chunks (bench-seed.mjs reads its whole file), `procs` seeds at once
    const seed = async (name, redisUrl, count, parallel) => {
      const CHUNK = 100_000;
      const chunks = [];
      for (let from = 0; from < count; from += CHUNK) chunks.push([from, Math.min(count, from + CHUNK)]);
      const cookieFile = path.join(RUN, `${name}-cookies.txt`);
      let next = 0;
      const worker = async () => {
        while (next < chunks.length) {
          const c = next++;
          const [from, to] = chunks[c];
          const file = path.join(RUN, `${name}-sessions-${c}.jsonl`);
          const lines = [];
          for (let i = from; i < to; i++) {
            lines.push(JSON.stringify({ id: `bench-${i}`, sessionKey: randomBytes(32).toString('hex'), asid: '200000000220', userUid: String(100000000000 + i), roleCode: 'REFERRING_CLINICIAN', orgCode: 'A81001' }));
            if (i === 0) fs.writeFileSync(path.join(RUN, `${name}-session0.json`), lines[0]);
          }
          fs.writeFileSync(file, lines.join('\n') + '\n');
          const out = c === 0 ? cookieFile : path.join(RUN, `${name}-cookies-${c}.txt`);
          // one seed runs on the target cpu (nothing is loaded yet, Redis has cpu1); several share both
          const p = start(`${name}-seed-${c}`, [process.execPath, path.join(ROOT, 'scripts/bench-seed.mjs')], {
            env: { REDIS_URL: redisUrl, SESSIONS_FILE: file, COOKIES_OUT: out, COOKIE_NAME: 'sid', COOKIES: String(opt.cookies), SESSION_KEYS: sessionKeys, BENCH_DIST: dist },
            cpu: parallel > 1 ? `${SUT_CPU},${LOAD_CPU}` : SUT_CPU,
          });
          p.expectExit = true;
          await p.exitedP;
          fs.rmSync(file, { force: true });
          if (p.code !== 0) throw new Error(`bench-seed.mjs failed (${p.code}): ${tail(p.logFile)}`);
        }
      };
      await Promise.all(Array.from({ length: Math.min(parallel, chunks.length) }, worker));
      const cookies = fs.readFileSync(cookieFile, 'utf8').split('\n').filter(Boolean);
      const session0 = JSON.parse(fs.readFileSync(path.join(RUN, `${name}-session0.json`), 'utf8'));
      return { cookies, session0 };
    };
    const seedInto = async (name, redis, count, parallel) => {
      const before = await usedMemory(redis.url);
      const keysBefore = await dbsize(redis.url);
      const t = Date.now();
      const s = await seed(name, redis.url, count, parallel);
      const seconds = (Date.now() - t) / 1000;
      const after = await usedMemory(redis.url);
      const keys = await dbsize(redis.url);
      const breakdown = await keyBreakdown(redis.url, count);
      log(`${name}: ${count} sessions seeded in ${seconds.toFixed(1)} s (${Math.round(count / seconds)}/s), Redis used_memory +${((after - before) / 1048576).toFixed(1)} MiB = ${((after - before) / count).toFixed(0)} B/session, ${keys - keysBefore} keys`);
      log(`${name}: MEMORY USAGE per session: ${breakdown.text}`);
      return { ...s, seconds, bytesPerSession: (after - before) / count, usedMemoryMB: after / 1048576, keys, breakdown };
    };
    const small = await seedInto('small', redisSmall, opt.small, 1);
    const large = withLarge ? await seedInto('large', redisLarge, opt.large, opt.seedProcs) : null;

    // -------------------------------------------------------------- targets
    const startTarget = async (name, args, env) => {
      const port = await freePort();
      const p = start(name, args, { env: { ...env, PORT: String(port) }, cpu: SUT_CPU, stdout: 'null' });
      p.port = port;
      return p;
    };
    const gwEnv = (redisUrl) => ({
      HOST: '127.0.0.1', ERS_BASE_URL: ersBase, ERS_ASID: '200000000220', SESSION_STORE: 'redis', REDIS_URL: redisUrl,
      SESSION_KEYS: sessionKeys, COOKIE_NAME: 'sid', COOKIE_SECURE: 'false', LOG_LEVEL: 'info',
      // No load balancer to take it out: stop without the readiness grace period.
      DRAIN_GRACE_MS: '0',
      // The bench's Redis is throw-away (no AOF, as the lab's): accept it, warned.
      REDIS_ALLOW_VOLATILE: 'true',
      ERS_GATEWAY_DIST: path.join(ROOT, dist), PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
    });
    const targets = [];
    const baseline = await startTarget('baseline', [process.execPath, SELF, '--role', 'baseline'], { ERS_BASE_URL: ersBase, ERS_ASID: '200000000220' });
    targets.push({ key: 'baseline', label: 'baseline (node:http + undici, no session)', proc: baseline, redis: null, cookies: small.cookies, session0: null, sessions: 0 });
    const gwSmall = await startTarget('gateway-small', [gatewayLauncher], gwEnv(redisSmall.url));
    targets.push({ key: 'gw-small', label: `gateway, ${fmtCount(opt.small)} sessions`, proc: gwSmall, redis: redisSmall, cookies: small.cookies, session0: small.session0, sessions: opt.small });
    if (withLarge) {
      const gwLarge = await startTarget('gateway-large', [gatewayLauncher], gwEnv(redisLarge.url));
      targets.push({ key: 'gw-large', label: `gateway, ${fmtCount(opt.large)} sessions`, proc: gwLarge, redis: redisLarge, cookies: large.cookies, session0: large.session0, sessions: opt.large });
    }
    for (const t of targets) {
      const ready = t.key === 'baseline' ? () => portOpen(t.proc.port) : async () => (await get(t.proc.port, '/health/ready')).status === 200;
      await waitFor(ready, 30_000, t.proc, t.key);
    }
    log(`started: upstream :${upPort}, ${targets.map((t) => `${t.key} :${t.proc.port}`).join(', ')}`);

    // -------------------------------------------------------------- correctness checks
    const body = resourceBody();
    for (const t of targets) {
      const r = await get(t.proc.port, API_PATH, { 'X-CSRF': '1', Cookie: t.cookies[0] });
      if (r.status !== 200 || r.body.length !== body.length) throw new Error(`${t.key}: GET ${API_PATH} answered ${r.status} with ${r.body.length} bytes, expected 200 with ${body.length}`);
      const e = JSON.parse((await get(t.proc.port, '/api/ers/v1/_echo', { 'X-CSRF': '1', Cookie: t.cookies[0] })).body.toString());
      if (e.xapiAsid !== '200000000220' || e.cookie !== null) throw new Error(`${t.key}: the upstream got XAPI_ASID=${e.xapiAsid}, Cookie=${e.cookie}`);
      if (t.session0 && e.sessionKey !== t.session0.sessionKey) throw new Error(`${t.key}: the upstream got the wrong HTTP_X_SESSION_KEY`);
      if (t.key !== 'baseline') {
        const u = await get(t.proc.port, API_PATH, { 'X-CSRF': '1', Cookie: 'sid=not-a-session-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' });
        if (u.status !== 401) throw new Error(`${t.key}: an unknown cookie answered ${u.status}, expected 401`);
      }
      t.tree = descendants(t.proc.pid);
    }
    log('checks passed: 1453-byte answer, XAPI_ASID and the session\'s HTTP_X_SESSION_KEY reach the upstream, no Cookie; unknown cookie -> 401');

    // the body workloads: session count does not matter for bytes, so only the 10 k gateway runs them
    const upload = uploadBody();
    const bodyLoads = opt.bodies ? [
      { key: 'post100k', label: '100 kB JSON POST', method: 'POST', path: UPLOAD_PATH, body: upload, headers: { 'content-type': 'application/json' }, connections: opt.connections, bytes: UPLOAD_BYTES, way: 'up' },
      // 8 × 5 MiB in flight is plenty; more only queues on the load cpu, which parses every byte
      { key: 'get5m', label: '5 MiB download', method: 'GET', path: DOWNLOAD_PATH, connections: 8, bytes: DOWNLOAD_BYTES, way: 'down' },
    ] : [];
    const bodyTargets = opt.bodies ? targets.filter((t) => t.key === 'baseline' || t.key === 'gw-small') : [];
    // a cut-short answer ends in a bare socket timeout: say which call it was
    const named = (what, p) => p.catch((e) => { throw new Error(`${what}: ${e instanceof Error ? e.message : e}`); });
    for (const t of bodyTargets) {
      const p = await named(`${t.key}: POST ${UPLOAD_PATH}`, send(t.proc.port, 'POST', UPLOAD_PATH, { 'X-CSRF': '1', Cookie: t.cookies[0], 'Content-Type': 'application/json' }, upload));
      let got = null;
      try { got = JSON.parse(p.body.toString()).receivedBytes; } catch { /* not JSON: reported below */ }
      if (p.status !== 200 || got !== UPLOAD_BYTES) throw new Error(`${t.key}: POST ${UPLOAD_PATH} with ${UPLOAD_BYTES} bytes answered ${p.status} ${p.body.toString().slice(0, 200)}, expected 200 {"receivedBytes":${UPLOAD_BYTES}}`);
      const d = await named(`${t.key}: GET ${DOWNLOAD_PATH}`, send(t.proc.port, 'GET', DOWNLOAD_PATH, { 'X-CSRF': '1', Cookie: t.cookies[0] }));
      if (d.status !== 200 || d.body.length !== DOWNLOAD_BYTES) throw new Error(`${t.key}: GET ${DOWNLOAD_PATH} answered ${d.status} with ${d.body.length} bytes, expected 200 with ${DOWNLOAD_BYTES}`);
    }
    if (opt.bodies) log(`body checks passed (${bodyTargets.map((t) => t.key).join(', ')}): the upstream received all ${UPLOAD_BYTES} bytes of the POST; all ${DOWNLOAD_BYTES} bytes of the download arrived`);

    // -------------------------------------------------------------- load + measurement
    const ourPids = () => [process.pid, ...procs.filter((p) => !p.exited).flatMap((p) => descendants(p.pid))];
    // the GET workload of the main table; the body workloads (bodyLoads) have the same shape
    const getLoad = { key: 'get', method: 'GET', path: API_PATH, connections: opt.connections, bytes: 0 };
    const load = (t, seconds, w = getLoad) => new Promise((resolve, reject) => {
      let i = 0;
      const n = Math.min(opt.cookies, t.cookies.length);
      const inst = autocannon({
        url: `http://127.0.0.1:${t.proc.port}`,
        connections: w.connections,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
        requests: [{
          method: w.method, path: w.path, ...(w.body ? { body: w.body } : {}),
          setupRequest: (req) => ({ ...req, headers: { ...w.headers, 'x-csrf': '1', cookie: t.cookies[i++ % n] } }),
        }],
      }, (err, res) => (err ? reject(err) : resolve({ ...res, lat })));
      // autocannon's own percentiles are whole milliseconds: keep every 2xx latency (float ms) instead
      const lat = { v: new Float64Array(1 << 16), n: 0 };
      inst.on('response', (_client, status, _bytes, ms) => {
        if (status < 200 || status > 299) return;
        if (lat.n === lat.v.length) { const b = new Float64Array(lat.v.length * 2); b.set(lat.v); lat.v = b; }
        lat.v[lat.n++] = ms;
      });
      inst.on('error', reject);
    });
    const waitQuiet = async (maxMs) => {
      const t0 = Date.now();
      let last = 0;
      while (Date.now() - t0 < maxMs) {
        const pids = ourPids();
        const a = machineTicks(), la = treeTicks(pids);
        await sleep(500);
        const b = machineTicks(), lb = treeTicks(pids);
        last = (100 * Math.max(0, (b.busy - a.busy) - (lb - la))) / Math.max(1, b.total - a.total);
        if (last <= opt.maxForeign) return;
      }
      log(`other processes still use ${last.toFixed(0)} % of the machine - measuring anyway`);
    };
    // after the body warm-up, 1 s (~400 MB) is enough to bring a target back to steady state
    const rewarmFor = (w) => (w.bytes ? Math.min(opt.rewarm, 1) : opt.rewarm);
    const measure = async (t, w = getLoad) => {
      if (rewarmFor(w) > 0) await load(t, rewarmFor(w), w);
      await waitQuiet(opt.quick ? 1000 : 10_000);
      const pids = ourPids();
      const before = { t: treeTicks(t.tree), r: t.redis ? treeTicks([t.redis.pid]) : 0, all: treeTicks(pids), m: machineTicks(), c: cpuTimes() };
      const res = await load(t, w.bytes ? opt.bodyDuration : opt.duration, w);
      const after = { t: treeTicks(t.tree), r: t.redis ? treeTicks([t.redis.pid]) : 0, all: treeTicks(pids), m: machineTicks(), c: cpuTimes() };
      const reqs = res.requests.total;
      const us = 1e6 / CLK_TCK;
      const busy = (c) => { const b = before.c[c], a = after.c[c]; return a && b && a.total > b.total ? 100 * (1 - (a.idle - b.idle) / (a.total - b.total)) : NaN; };
      const r = {
        rps: reqs / res.duration, requests: reqs, p50: pct(res.lat, 0.5), p99: pct(res.lat, 0.99),
        cpuUs: ((after.t - before.t) * us) / reqs, redisUs: t.redis ? ((after.r - before.r) * us) / reqs : NaN,
        rssMB: treeRss(t.tree), errors: res.errors + res.timeouts + res.non2xx,
        sutBusy: busy(String(SUT_CPU)), loadBusy: busy(String(LOAD_CPU)),
        foreign: Math.max(0, (100 * ((after.m.busy - before.m.busy) - (after.all - before.all))) / Math.max(1, after.m.total - before.m.total)),
      };
      if (w.bytes) {
        // bytes of body moved in the workload's direction: only 2xx answers count (every one of them
        // is a whole body: autocannon completes a response at its content-length); MB = 10^6 bytes
        const mb = (res.lat.n * w.bytes) / 1e6;
        r.mbps = mb / res.duration;
        r.cpuMsPerMB = ((after.t - before.t) * 1000) / CLK_TCK / mb;
      }
      if (r.errors) log(`!! ${t.key}${w.bytes ? ` ${w.key}` : ''}: ${res.errors} errors, ${res.timeouts} timeouts, ${res.non2xx} non-2xx answers`);
      return r;
    };
    // shared-machine guard (like the lab's): redo a run in which other processes used the machine
    const measureClean = async (t, w, what) => {
      let m = await measure(t, w);
      for (let k = 0; k < opt.retries && m.foreign > opt.maxForeign; k++) {
        log(`${what}: ${m.foreign.toFixed(0)} % of the machine went to other processes - measuring again`);
        const again = await measure(t, w);
        again.retried = (m.retried ?? 0) + 1;
        m = again.foreign < m.foreign ? again : { ...m, retried: again.retried };
      }
      return m;
    };

    // background cost with no load (timers: close worker, sweeper, metrics), all targets at once
    {
      const a = targets.map((t) => treeTicks(t.tree));
      await sleep(2000);
      targets.forEach((t, i) => { t.idlePct = ((treeTicks(t.tree) - a[i]) * 100) / CLK_TCK / 2; });
      log(`idle CPU over 2 s: ${targets.map((t) => `${t.key} ${t.idlePct.toFixed(1)} %`).join(', ')}`);
    }
    if (opt.warmup > 0) {
      for (const t of targets) await load(t, opt.warmup);
      log(`warmed up (${opt.warmup} s of load per target)`);
    }
    const rounds = [];
    for (let r = 0; r < opt.rounds; r++) {
      // rotate and reverse the order from round to round, like the shared lab
      let order = targets.map((_, i) => targets[(i + r) % targets.length]);
      if (r % 2 === 1) order = order.reverse();
      const round = {};
      for (const t of order) {
        const m = await measureClean(t, getLoad, `round ${r + 1}/${opt.rounds} ${t.key}`);
        round[t.key] = m;
        log(`round ${r + 1}/${opt.rounds} ${t.key.padEnd(9)} ${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50.toFixed(1)} ms  p99 ${m.p99.toFixed(1)} ms  ${m.cpuUs.toFixed(1)} µs/req${t.redis ? ` (redis ${m.redisUs.toFixed(1)})` : ''}  RSS ${m.rssMB.toFixed(0)} MB  cpu${SUT_CPU} ${m.sutBusy.toFixed(0)} %  cpu${LOAD_CPU} ${m.loadBusy.toFixed(0)} %  foreign ${m.foreign.toFixed(1)} %`);
      }
      rounds.push(round);
    }

    // the bodies come after every GET round: 5 MiB answers leave the targets (and autocannon, which
    // keeps each answer as a string) with heaps that would skew the next GET runs. Same scheme:
    // rounds, baseline and gateway back to back, ratios within a round.
    if (bodyLoads.length) {
      // bodies run code the GETs never warmed (request streaming, large answers): their first
      // seconds cost up to twice the steady state, more than a 1 s rewarm absorbs; one GET rewarm's
      // worth per workload and target is enough
      if (opt.warmup > 0 && opt.rewarm > 0) {
        for (const w of bodyLoads) for (const t of bodyTargets) await load(t, opt.rewarm, w);
        log(`bodies warmed up (${opt.rewarm} s of load per workload and target)`);
      }
      for (let r = 0; r < opt.rounds; r++) {
        for (const w of bodyLoads) {
          // with two targets the rotate-and-reverse above would always put the baseline first: the
          // pair's order alternates instead
          for (const t of r % 2 ? [...bodyTargets].reverse() : bodyTargets) {
            const m = await measureClean(t, w, `body round ${r + 1}/${opt.rounds} ${w.key} ${t.key}`);
            rounds[r][`${w.key}/${t.key}`] = m;
            log(`body round ${r + 1}/${opt.rounds} ${w.key} ${t.key.padEnd(9)} ${m.rps.toFixed(0).padStart(5)} req/s  ${m.mbps.toFixed(0).padStart(5)} MB/s  ${m.cpuMsPerMB.toFixed(2)} CPU ms/MB  p99 ${m.p99.toFixed(1)} ms  RSS ${m.rssMB.toFixed(0)} MB  cpu${SUT_CPU} ${m.sutBusy.toFixed(0)} %  cpu${LOAD_CPU} ${m.loadBusy.toFixed(0)} %  foreign ${m.foreign.toFixed(1)} %`);
          }
        }
      }
    }

    // -------------------------------------------------------------- report
    const med = (xs) => { const s = xs.filter(Number.isFinite).sort((a, b) => a - b); if (!s.length) return NaN; const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
    const agg = (key, f) => med(rounds.map((rd) => (rd[key] ? f(rd[key], rd) : NaN)));
    const f = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-GB', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');
    const L = [];
    L.push(`### \`npm run bench${opt.quick ? ' -- --quick' : ''}\``);
    L.push('');
    L.push(`${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} × ${os.cpus()[0]?.model?.trim() ?? 'cpu'}, Node ${process.version}, ${redisVersion(redisBin)}, gateway from \`${dist}/\`. ` +
      `${opt.quick ? `**Quick run**: ${opt.rounds} round${opt.rounds > 1 ? 's' : ''}` : `${opt.rounds} interleaved rounds`}, ${opt.duration} s measured per run after ${opt.rewarm} s unmeasured (${opt.warmup} s warm-up per target first), ` +
      `autocannon ${opt.connections} connections, GET \`${API_PATH}\` rotating over ${Math.min(opt.cookies, small.cookies.length)} session cookies, upstream answers ${body.length} bytes. ${pinNote[0].toUpperCase()}${pinNote.slice(1)}.`);
    L.push('');
    L.push(`| target | req/s | p50 ms | p99 ms | CPU µs/req | RSS MB | Redis µs/req | cpu${SUT_CPU} busy % | foreign % | errors |`);
    L.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
    for (const t of targets) {
      L.push(`| ${t.label} | ${f(agg(t.key, (m) => m.rps))} | ${f(agg(t.key, (m) => m.p50), 1)} | ${f(agg(t.key, (m) => m.p99), 1)} | ${f(agg(t.key, (m) => m.cpuUs), 1)} | ${f(agg(t.key, (m) => m.rssMB))} | ${t.redis ? f(agg(t.key, (m) => m.redisUs), 1) : '–'} | ${f(agg(t.key, (m) => m.sutBusy))} | ${f(agg(t.key, (m) => m.foreign), 1)} | ${f(rounds.reduce((s, rd) => s + (rd[t.key]?.errors ?? 0), 0))} |`);
    }
    const ratio = (a, b, field) => agg(a, (m, rd) => m[field] / rd[b][field]);
    const ratioRow = (label, a, b) => `| ${label} | ${f(ratio(a, b, 'rps'), 2)} | ${f(ratio(a, b, 'p50'), 2)} | ${f(ratio(a, b, 'p99'), 2)} | ${f(ratio(a, b, 'cpuUs'), 2)} | ${f(ratio(a, b, 'rssMB'), 2)} | ${a !== 'baseline' && b !== 'baseline' ? f(ratio(a, b, 'redisUs'), 2) : '–'} | | | |`;
    L.push(ratioRow(`**gateway ÷ baseline** (${fmtCount(opt.small)} sessions)`, 'gw-small', 'baseline'));
    if (withLarge) {
      L.push(ratioRow(`**gateway ÷ baseline** (${fmtCount(opt.large)} sessions)`, 'gw-large', 'baseline'));
      L.push(ratioRow(`**${fmtCount(opt.large)} ÷ ${fmtCount(opt.small)} sessions** (gateway)`, 'gw-large', 'gw-small'));
    }
    const busyTargets = targets.filter((t) => agg(t.key, (m) => m.foreign) > opt.maxForeign);
    if (busyTargets.length) L.push('', `**Note:** other processes used more than ${opt.maxForeign} % of the machine during the runs of ${busyTargets.map((t) => t.key).join(', ')} (foreign %): those figures are noisier than usual${opt.rounds < 3 ? '; more rounds (--rounds 5) help' : ''}.`);
    L.push('');
    L.push(`Idle CPU with no load (2 s before the warm-up): ${targets.map((t) => `${t.key} ${f(t.idlePct, 1)} %`).join(', ')}.`, '');
    const mem = [`${fmtCount(opt.small)}: ${f(small.bytesPerSession)} B/session (${f(small.usedMemoryMB, 1)} MiB used)`];
    if (large) mem.push(`${fmtCount(opt.large)}: **${f(large.bytesPerSession)} B/session** (${f(large.usedMemoryMB, 1)} MiB used, ${f(large.keys)} keys)`);
    mem.push(`by key (\`MEMORY USAGE\`, sampled): ${(large ?? small).breakdown.text}`);
    L.push(`Redis memory per session (\`INFO memory\` used_memory after seeding − before, ÷ sessions; a live session is its \`S:\` hash and its entry in the expiry index \`X\`; a \`U:\` record exists only from its end until its A003 is answered): ${mem.join('; ')}. ` +
      `Seeding through the real store (scripts/bench-seed.mjs): ${fmtCount(opt.small)} in ${f(small.seconds, 1)} s${large ? `, ${fmtCount(opt.large)} in ${f(large.seconds, 1)} s (${opt.seedProcs} processes, ${f(opt.large / large.seconds)} sessions/s)` : ''}.`);
    L.push('');
    L.push(`CPU µs/req: utime+stime of the target's process tree (/proc/PID/stat, CLK_TCK ${CLK_TCK}) during the measured run ÷ completed requests; the median over rounds (µs/req = ms per 1000 requests; divide a core's 1,000,000 µs by it for the requests/s one core can carry). ` +
      `Redis µs/req: the same for that gateway's redis-server. Ratios are taken within each round, then the median. p50/p99: from autocannon's time of every 2xx response, measured on the load cpu it shares with the upstream and Redis. ` +
      `RSS: the target's resident memory after the run. cpu${SUT_CPU} busy %: how much of the target's cpu was used (below ~95 % the load side, not the target, was the limit, so compare CPU µs/req rather than req/s). foreign %: the machine's CPU used by processes this benchmark did not start; a run above ${opt.maxForeign} % is redone up to ${opt.retries} times and the cleanest attempt kept (${rounds.reduce((n, rd) => n + Object.values(rd).reduce((a, m) => a + (m.retried ?? 0), 0), 0)} redone in this run).`);
    if (bodyLoads.length) bodyReport(L);
    const md = L.join('\n') + '\n';
    process.stdout.write('\n' + md);
    if (opt.out) { fs.writeFileSync(opt.out, md); log(`results written to ${opt.out}`); }
    log(`total time ${((Date.now() - T0) / 1000).toFixed(0)} s`);

    // the second table: what moving bodies costs, per MB, gateway against baseline
    function bodyReport(L) {
      const [b, g] = bodyTargets;
      L.push('', '#### Bodies: 100 kB POST and 5 MiB download', '');
      L.push(`${opt.bodyDuration} s measured per run after ${rewarmFor(bodyLoads[0])} s unmeasured (${opt.warmup > 0 ? opt.rewarm : 0} s warm-up per workload and target first), in ${opt.rounds} round${opt.rounds > 1 ? 's' : ''} after the GET rounds (the pair's order alternating). ` +
        `${bodyLoads.map((w) => `${w.label}: ${w.method} \`${w.path}\`, ${w.bytes.toLocaleString('en-GB')} bytes ${w.way === 'up' ? 'up (request body, application/json; the upstream reads it all and answers {"receivedBytes":N})' : 'down (answer body, application/octet-stream with content-length)'}, ${w.connections} connections`).join('; ')}. ` +
        `Gateway: the ${fmtCount(opt.small)}-session one (the session count changes the cost per request, not per byte).`);
      L.push('');
      L.push('| workload | proxy | req/s | MB/s | CPU ms/MB | ratio gateway÷baseline (CPU ms/MB) |');
      L.push('|---|---|--:|--:|--:|--:|');
      for (const w of bodyLoads) {
        for (const t of [b, g]) {
          const k = `${w.key}/${t.key}`;
          L.push(`| ${w.label} | ${t === b ? 'baseline' : `gateway, ${fmtCount(opt.small)} sessions`} | ${f(agg(k, (m) => m.rps))} | ${f(agg(k, (m) => m.mbps))} | ${f(agg(k, (m) => m.cpuMsPerMB), 2)} | ${t === b ? '–' : `**${f(ratio(k, `${w.key}/${b.key}`, 'cpuMsPerMB'), 2)}**`} |`);
        }
      }
      const busy = bodyLoads.flatMap((w) => [b, g].map((t) => `${w.key} ${t.key} ${f(agg(`${w.key}/${t.key}`, (m) => m.sutBusy))} %`));
      const noisy = bodyLoads.flatMap((w) => [b, g].filter((t) => agg(`${w.key}/${t.key}`, (m) => m.foreign) > opt.maxForeign).map((t) => `${w.key} ${t.key}`));
      const errors = rounds.reduce((n, rd) => n + bodyLoads.reduce((a, w) => a + [b, g].reduce((c, t) => c + (rd[`${w.key}/${t.key}`]?.errors ?? 0), 0), 0), 0);
      L.push('');
      L.push(`CPU ms/MB: utime+stime of the proxy's process tree during the measured run ÷ MB of body moved in the workload's direction (completed 2xx requests × body size; MB = 10^6 bytes; headers not counted); the median over rounds, ratio within each round then the median. ` +
        `MB/s: that body volume per second. cpu${SUT_CPU} busy % (below ~95 % the target was not the limit - autocannon, which parses every byte on cpu${LOAD_CPU}, or the connection count was - so compare CPU ms/MB rather than req/s): ${busy.join(', ')}.` +
        (errors ? ` **${f(errors)} errors, timeouts or non-2xx answers** in these runs (see the log).` : '') +
        (noisy.length ? ` **Note:** other processes used more than ${opt.maxForeign} % of the machine during ${noisy.join(', ')}: noisier than usual.` : ''));
    }
  }

  function die(msg) {
    console.error(`bench: ${msg}`);
    process.exit(2);
  }
}

// ------------------------------------------------------------------ helpers
function which(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try { fs.accessSync(path.join(dir, name), fs.constants.X_OK); return path.join(dir, name); } catch { /* next */ }
  }
  return null;
}
function tail(file) {
  try { return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-15).join('\n'); } catch { return '(no log)'; }
}
function fmtCount(n) {
  return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6} M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3} k` : String(n);
}
function redisVersion(bin) {
  try { return 'Redis ' + /v=([\d.]+)/.exec(execFileSync(bin, ['--version']).toString())[1]; } catch { return 'Redis'; }
}
async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
    if (port !== 6379) return port;
  }
}
function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
async function waitFor(check, timeoutMs, proc, name) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (proc.exited) throw new Error(`${name} exited at start (${proc.code}):\n${tail(proc.logFile)}`);
    try { if (await check()) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not become ready within ${timeoutMs / 1000} s:\n${tail(proc.logFile)}`);
}
function get(port, urlPath, headers = {}) {
  return send(port, 'GET', urlPath, headers);
}
function send(port, method, urlPath, headers = {}, body = null) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent: false, timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}
function pct(lat, q) {
  if (!lat.n) return NaN;
  const s = lat.v.subarray(0, lat.n).sort();
  return s[Math.min(lat.n - 1, Math.floor(q * lat.n))];
}
function readStat(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }; // utime + stime
}
function descendants(root) {
  const kids = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { const { ppid } = readStat(Number(d)); if (!kids.has(ppid)) kids.set(ppid, []); kids.get(ppid).push(Number(d)); } catch { /* gone */ }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const k of kids.get(out[i]) ?? []) out.push(k);
  return out;
}
function treeTicks(pids) {
  let t = 0;
  for (const p of pids) { try { t += readStat(p).ticks; } catch { /* gone */ } }
  return t;
}
function treeRss(pids) {
  let kb = 0;
  for (const p of pids) { try { kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0); } catch { /* gone */ } }
  return kb / 1024;
}
function cpuTimes() {
  const out = {};
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].trim().split(/\s+/).map(Number);
    out[m[1]] = { idle: v[3] + (v[4] || 0), total: v.reduce((a, b) => a + b, 0) };
  }
  return out;
}
function machineTicks() {
  const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { busy: v[0] + v[1] + v[2], total: v.reduce((a, b) => a + b, 0) };
}

// ------------------------------------------------------------------ entry: the orchestrator, or one of its child roles (this same file)
if (process.argv[2] === '--role') {
  const role = process.argv[3];
  if (role === 'upstream') await runUpstream();
  else if (role === 'baseline') await runBaseline();
  else throw new Error(`unknown role ${role}`);
} else {
  await main();
}
