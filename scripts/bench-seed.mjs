// `npm run bench:seed`: writes sessions into Redis in the gateway's real format, through the real
// store code (encrypted, with a selected role), and one Cookie header line per session. This is
// the seed hook of the performance lab (../shared/bench, `--gateway-seed`):
//   REDIS_URL      where to write (the lab gives db 1)
//   SESSIONS_FILE  JSONL of {"id","sessionKey","asid","userUid","roleCode","orgCode"}
//   COOKIES_OUT    one Cookie header value per line; line i carries session i
//   COOKIE_NAME    the gateway's cookie name (default sid)
//   COOKIES        how many cookie lines to write at least (default 100)
//   SESSION_KEYS   the gateway's SESSION_KEYS (the first encrypts)
//   SESSION_IDLE_TIMEOUT_S / SESSION_ABSOLUTE_TIMEOUT_S  as the gateway's (defaults 1800 / 43200)
// Needs `npm run build` first (it loads the built store).
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { RedisSessionStore, SessionCipher, createRedisConnection, waitForRedisReady } = require(
  join(root, process.env.BENCH_DIST ?? 'dist', 'libs/session-store/src/index.js'),
);

const env = process.env;
for (const name of ['REDIS_URL', 'SESSIONS_FILE', 'COOKIES_OUT', 'SESSION_KEYS']) {
  if (!env[name]) {
    process.stderr.write(`bench-seed: ${name} is required\n`);
    process.exit(2);
  }
}
const cookieName = env.COOKIE_NAME || 'sid';
const sessions = readFileSync(env.SESSIONS_FILE, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
const redis = createRedisConnection({ url: env.REDIS_URL, commandTimeoutMs: 10_000 });
await waitForRedisReady(redis, 10_000);
const store = new RedisSessionStore(redis, SessionCipher.fromBase64(env.SESSION_KEYS.split(',')), {
  idleTimeoutMs: Number(env.SESSION_IDLE_TIMEOUT_S || 1800) * 1000,
  absoluteTimeoutMs: Number(env.SESSION_ABSOLUTE_TIMEOUT_S || 43200) * 1000,
  inFlightLeaseMs: 185_000,
  ownsConnection: true,
});

const cookies = new Array(sessions.length);
const role = (s) => ({ businessFunction: s.roleCode || 'REFERRING_CLINICIAN', orgIdentifier: s.orgCode || 'A81001', orgName: 'BENCH SURGERY' });
let next = 0;
async function worker() {
  while (next < sessions.length) {
    const i = next++;
    const s = sessions[i];
    const sessionId = randomBytes(32).toString('base64url');
    await store.create(sessionId, {
      upstream: { sessionKey: s.sessionKey, ssoToken: `bench-token-${i}` },
      user: { identifier: String(s.userUid ?? i).padStart(12, '0').slice(-12), firstName: 'Bench', lastName: `User${i}`, middleName: null },
      roles: [role(s)],
      role: role(s),
    });
    cookies[i] = `${cookieName}=${sessionId}`;
  }
}
await Promise.all(Array.from({ length: 64 }, worker));
await store.close();
const count = Math.max(Number(env.COOKIES || 100), 1);
writeFileSync(env.COOKIES_OUT, cookies.slice(0, Math.min(count, cookies.length)).join('\n') + '\n');
process.stdout.write(`[bench-seed] ${sessions.length} sessions written through RedisSessionStore; ${Math.min(count, cookies.length)} cookies -> ${env.COOKIES_OUT}\n`);
