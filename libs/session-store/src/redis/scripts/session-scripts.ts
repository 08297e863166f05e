/**
 * The Lua scripts behind the Redis session store. Each one is a single atomic step, and each takes
 * its time from Redis `TIME` so gateway instances with skewed clocks agree on every expiry.
 *
 * They live in a TypeScript file (not `.lua` files) so `tsc` carries them into `dist` unchanged.
 *
 * Keys (prefix `P`, default `ersgw:`):
 *   P S:<h>  HASH  one live gateway session, and while it lives the only record of its upstream
 *                  (e-RS) session; h = base64url(SHA-256(cookie value)).
 *                  u upstreamId (16 random bytes, base64url), r "1" once a role is selected,
 *                  ie idle expiry, ae absolute expiry, c created, ls last seen (sign-in, role
 *                  choice or proxied call), uh the user's hash (its N index), then two encrypted blobs:
 *                  kn + k0, k1, … the e-RS session key, pn + p0, p1, … the profile.
 *                  Both blobs are bound to their record: their associated data names h, u and ae
 *                  (and, for the key, r), so a record copied or moved to another h, or with its
 *                  role flag or absolute expiry edited, fails authentication and is no session.
 *                  A blob is stored as raw bytes in pieces of at most 64 bytes (<f>n = how many),
 *                  so every value stays within `hash-max-listpack-value` (64) and the hash stays a
 *                  compact listpack instead of a hash table.
 *                  Its Redis TTL is ae + the close retention (ae + 7 days + the absolute timeout by
 *                  default): scripts compare the times themselves, the sweeper deletes the hash
 *                  when it ends the session, and the long TTL keeps the key for the sweeper to
 *                  end and close the session after an outage in which no instance ran.
 *   P U:<u>  HASH  an upstream session whose close (A003) is pending: created when its session
 *                  ends (END, SWEEP_EXPIRED, or a live session replaced by another at its h) and
 *                  by QUEUE_CLOSE; deleted when the close completes, or by its TTL (the close
 *                  retention) if it never does. kn + k0, k1, … the encrypted key, h ae r the
 *                  binding its key was encrypted with (copied from the S hash; "-", "0", "0" for
 *                  QUEUE_CLOSE), why end reason, n claim attempts, l claim lease expiry. No U
 *                  record while the session lives: its key is in the S hash.
 *   P X      ZSET  h -> min(ie, ae) of every live session: the index the sweeper scans
 *   P N:<uh> ZSET  h -> c of every live session of one user; uh = base64url(SHA-256 of the
 *                  user's identifier, see `hashUserId`), never the identifier. Kept by the scripts
 *                  that create, move and end sessions (retire), so it changes with them atomically;
 *                  an entry whose record Redis lost is dropped when the index is next read.
 *   P F:<u>  ZSET  callId -> lease expiry: calls in flight on an upstream session
 *   P D      ZSET  u -> when its close (A003) is next due (or its claim lease runs out)
 *   P T:<h>  STR   u, for `inFlightLeaseMs` after a session id stops working, so a late
 *                  `commitRole` on that id can still find and clear its in-flight mark
 *   P L:a:<address>  STR  logins from a client address in the current window (PEXPIRE: the window)
 *   P L:t:<sha256(token)>  STR  failed (and pending) A001s of a smartcard token in its window
 *
 * A session record Redis lost while it lived (evicted, or deleted by hand) takes its encrypted
 * key with it, so that e-RS session can no longer be closed: the sweeper drops its index entry
 * and counts it (`onLostSessions`). Redis must not evict these keys (`maxmemory-policy
 * noeviction`, the default).
 *
 * Blobs travel as pieces too, never joined in Lua: in ARGV as <count>, <piece>, …; in replies
 * as <count>, <piece>, … or, when they end the reply (or one row of it), as the rest of it.
 *
 * Keys built inside a script from the prefix (U, F, X, D, and S and T of another record) are not
 * declared in KEYS. That is fine on a standalone Redis or Sentinel; Redis Cluster would need every
 * key of a script in one slot (hash tags such as `{u}`): future work, not done.
 *
 * Scripts return numbers as strings so large epoch milliseconds survive any reply mapping.
 */

const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function fmt(n) return string.format('%.0f', n) end
`;

/**
 * Blobs: reading and writing their pieces. Only in the scripts that need them (a local function
 * costs a closure on every run, and the hot path has none to spare).
 */
const BLOBS = `
-- Appends to out the pieces <f>0 .. <f>(n-1) of the blob f in hash key (a missing one as '').
local function read_pieces(key, f, n, out)
  if n <= 0 then return out end
  local names = {}
  for i = 1, n do names[i] = f .. (i - 1) end
  local got = redis.call('HMGET', key, unpack(names))
  for i = 1, n do out[#out + 1] = got[i] or '' end
  return out
end
-- Appends to fields the blob f that ARGV carries from index i (count, pieces); returns the next index.
local function put_argv_blob(fields, f, i)
  local n = tonumber(ARGV[i])
  fields[#fields + 1] = f .. 'n'
  fields[#fields + 1] = ARGV[i]
  for j = 1, n do
    fields[#fields + 1] = f .. (j - 1)
    fields[#fields + 1] = ARGV[i + j]
  end
  return i + n + 1
end
-- What ended a session: its timeout if one has passed, else the reason given.
local function end_reason(ie, ae, now, given)
  if tonumber(ae) <= now then return 'absolute-timeout' end
  if tonumber(ie) <= now then return 'idle-timeout' end
  return given
end
-- Ends the live session in hash sk (session h, upstream u, kn key pieces): its key moves to a new
-- U record with the close bookkeeping, the hash and its index entry go, its close is queued, and
-- a tombstone keeps u findable from h for a late commitRole.
local function retire(p, sk, h, u, kn, reason, now, tombstone_ms, retention_ms)
  local uk = p .. 'U:' .. u
  local n = tonumber(kn) or 0
  local b = redis.call('HMGET', sk, 'ae', 'r', 'uh')
  local fields = {'why', reason, 'n', '0', 'kn', tostring(n), 'h', h, 'ae', b[1] or '0', 'r', b[2] or '0'}
  local pieces = read_pieces(sk, 'k', n, {})
  for i = 1, n do
    fields[#fields + 1] = 'k' .. (i - 1)
    fields[#fields + 1] = pieces[i]
  end
  redis.call('DEL', sk, uk)
  redis.call('HSET', uk, unpack(fields))
  redis.call('PEXPIRE', uk, retention_ms)
  redis.call('ZREM', p .. 'X', h)
  if b[3] then redis.call('ZREM', p .. 'N:' .. b[3], h) end
  redis.call('ZADD', p .. 'D', fmt(now), u)
  redis.call('SET', p .. 'T:' .. h, u, 'PX', tombstone_ms)
end
-- Files h in the user index nk with score c, and keeps the index as long as its newest record.
local function index_user(nk, h, c, keep_until, now)
  redis.call('ZADD', nk, fmt(c), h)
  if redis.call('PTTL', nk) < keep_until - now then redis.call('PEXPIRE', nk, fmt(keep_until - now)) end
end
-- The live sessions in user index nk (user hash uh), oldest first, as {h, S key, HMGET fields
-- u r ie ae c kn pn ls}, skipping 'except'. Entries whose record is gone or belongs to someone
-- else are dropped; expired ones are left for the sweeper.
local function user_sessions(p, nk, uh, now, except)
  local live = {}
  for _, h in ipairs(redis.call('ZRANGE', nk, 0, -1)) do
    if h ~= except then
      local sk = p .. 'S:' .. h
      local f = redis.call('HMGET', sk, 'u', 'r', 'ie', 'ae', 'c', 'kn', 'pn', 'ls', 'uh')
      if not f[1] or f[9] ~= uh then
        redis.call('ZREM', nk, h)
      elseif tonumber(f[3]) > now and tonumber(f[4]) > now then
        live[#live + 1] = {h, sk, f}
      end
    end
  end
  return live
end
-- The reply of GET and BEGIN_SESSION_CALL: {u, r, ie, ae, c, kn, k pieces…, p pieces…}.
local function session_reply(key, f)
  local kn = tonumber(f[6]) or 0
  local out = {f[1], f[2], f[3], f[4], f[5], tostring(kn)}
  read_pieces(key, 'k', kn, out)
  return read_pieces(key, 'p', tonumber(f[7]) or 0, out)
end
`;

export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
}

const script = (numberOfKeys: number, body: string): ScriptDefinition => ({
  numberOfKeys,
  lua: PRELUDE + body,
});

/**
 * KEYS: S, N (the user's index). ARGV: prefix, idleMs, createdAtMs or "", absoluteExpiresAtMs, u,
 * r, h, retentionMs, tombstoneMs, uh, maxSessionsPerUser (0: unlimited), then the key blob (count,
 * pieces…), then the profile blob (count, pieces…). The
 * absolute expiry is given (the blobs' associated data names it, so it is known before they are
 * encrypted): a new session's is its creation time, read from Redis `TIME` just before, plus the
 * absolute timeout, and that time is its `c`; a role switch's carries over ("" : `c` is now).
 * Past the per-user limit, the user's oldest live sessions end here (session-limit), in the same
 * step as the new one is filed. Returns {c, ie, ae, then u, reason of each session it ended}.
 */
export const CREATE = script(
  2,
  BLOBS +
    `
local now = now_ms()
local c = now
if ARGV[3] ~= '' then c = tonumber(ARGV[3]) end
local ae = tonumber(ARGV[4])
local ie = math.min(c + tonumber(ARGV[2]), ae)
local old = redis.call('HMGET', KEYS[1], 'u', 'ie', 'ae', 'kn')
if old[1] then
  -- Only if two cookie values (random) ever collide: even then the e-RS session that held this id
  -- is closed, not forgotten.
  retire(ARGV[1], KEYS[1], ARGV[7], old[1], old[4], end_reason(old[2], old[3], now, 'relogin'), now, ARGV[9], ARGV[8])
end
redis.call('DEL', KEYS[1])
local fields = {'u', ARGV[5], 'r', ARGV[6], 'ie', fmt(ie), 'ae', fmt(ae), 'c', fmt(c), 'ls', fmt(c), 'uh', ARGV[10]}
put_argv_blob(fields, 'p', put_argv_blob(fields, 'k', 12))
redis.call('HSET', KEYS[1], unpack(fields))
-- Kept until long after its absolute expiry: the sweeper deletes it when it ends the session
-- (so a proxied call need not move its TTL), and until then it holds the key the close needs.
redis.call('PEXPIREAT', KEYS[1], fmt(ae + tonumber(ARGV[8])))
redis.call('ZADD', ARGV[1] .. 'X', fmt(ie), ARGV[7])
index_user(KEYS[2], ARGV[7], c, ae + tonumber(ARGV[8]), now)
local out = {fmt(c), fmt(ie), fmt(ae)}
local max = tonumber(ARGV[11])
if max > 0 then
  local others = user_sessions(ARGV[1], KEYS[2], ARGV[10], now, ARGV[7])
  for i = 1, #others + 1 - max do
    local h, sk, f = others[i][1], others[i][2], others[i][3]
    retire(ARGV[1], sk, h, f[1], f[6], 'session-limit', now, ARGV[9], ARGV[8])
    out[#out + 1] = f[1]
    out[#out + 1] = 'session-limit'
  end
end
return out
`,
);

/** KEYS: S. Returns {u, r, ie, ae, c, kn, k pieces…, p pieces…} of a live session, or nil. Does not slide. */
export const GET = script(
  1,
  BLOBS +
    `
local f = redis.call('HMGET', KEYS[1], 'u', 'r', 'ie', 'ae', 'c', 'kn', 'pn')
if not f[1] then return false end
local now = now_ms()
if tonumber(f[3]) <= now or tonumber(f[4]) <= now then return false end
return session_reply(KEYS[1], f)
`,
);

/**
 * The hot path. KEYS: S. ARGV: callId. The prefix, the idle timeout, the lease and the mark margin
 * are written into the script's text (`beginCallScript`), one script per store configuration, so
 * each proxied call sends four arguments instead of eight.
 * Returns 0 (no session), 1 (no role), 2 (`maxCalls` calls already in flight) or one bulk string:
 * the length of u as one byte, u, the length of ae as one byte, ae (the key's binding), then the
 * key blob's pieces joined. One bulk string, not an array: the client decodes a single value (each
 * array element costs ioredis' decoder as much again, measured by instruction counts per call).
 * The cap counts the call's in-flight marks (ZCARD, O(1)); only at the cap are marks whose lease
 * ran out (their instance died) dropped and the count taken again.
 * It slides `ie` in the hash only: the expiry index X keeps the older (earlier) time, and the
 * sweeper, which re-reads `ie` before ending anything, re-files a slid session when it meets it.
 * That keeps a sorted-set update off every proxied call.
 */
export function beginCallScript(prefix: string, idleMs: number, leaseMs: number, markMarginMs: number, maxCalls: number): ScriptDefinition {
  return script(
    1,
    `
local PREFIX = ${luaString(prefix)}
-- An encrypted e-RS key (33 bytes + a key of 32 to 95) is two pieces: read with the rest.
local f = redis.call('HMGET', KEYS[1], 'u', 'r', 'ie', 'ae', 'kn', 'k0', 'k1')
if not f[1] then return 0 end
local now = now_ms()
local ae = tonumber(f[4])
if tonumber(f[3]) <= now or ae <= now then return 0 end
if f[2] ~= '1' then return 1 end
local fk = PREFIX .. 'F:' .. f[1]
if redis.call('ZCARD', fk) >= ${integer(maxCalls)} then
  redis.call('ZREMRANGEBYSCORE', fk, '-inf', fmt(now))
  if redis.call('ZCARD', fk) >= ${integer(maxCalls)} then return 2 end
end
redis.call('HSET', KEYS[1], 'ie', fmt(math.min(now + ${integer(idleMs)}, ae)), 'ls', fmt(now))
local lease = now + ${integer(leaseMs)}
redis.call('ZADD', fk, fmt(lease), ARGV[1])
-- Every lease has the same length, so the newest one always ends last.
redis.call('PEXPIREAT', fk, fmt(lease + ${integer(markMarginMs)}))
local kn = tonumber(f[5]) or 0
local head = string.char(#f[1]) .. f[1] .. string.char(#f[4]) .. f[4]
if kn == 2 then return head .. (f[6] or '') .. (f[7] or '') end
local out = {head}
for i = 1, math.min(kn, 2) do out[i + 1] = f[5 + i] or '' end
if kn > 2 then
  local names = {}
  for i = 3, kn do names[i - 2] = 'k' .. (i - 1) end
  local more = redis.call('HMGET', KEYS[1], unpack(names))
  for i = 1, kn - 2 do out[i + 3] = more[i] or '' end
end
return table.concat(out)
`,
  );
}

/** Any string as a Lua literal: every byte as a decimal escape, so no prefix can break out of it. */
function luaString(value: string): string {
  return `"${[...Buffer.from(value, 'utf8')].map((byte) => `\\${byte}`).join('')}"`;
}

function integer(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`not a non-negative integer: ${value}`);
  return String(value);
}

/**
 * KEYS: S. ARGV: prefix, leaseMs, callId, markRetentionMs.
 * Marks the call in flight without sliding and without needing a role.
 * Returns {u, r, ie, ae, c, kn, k pieces…, p pieces…} or nil.
 */
export const BEGIN_SESSION_CALL = script(
  1,
  BLOBS +
    `
local f = redis.call('HMGET', KEYS[1], 'u', 'r', 'ie', 'ae', 'c', 'kn', 'pn')
if not f[1] then return false end
local now = now_ms()
if tonumber(f[3]) <= now or tonumber(f[4]) <= now then return false end
local fk = ARGV[1] .. 'F:' .. f[1]
local lease = now + tonumber(ARGV[2])
redis.call('ZADD', fk, fmt(lease), ARGV[3])
redis.call('PEXPIREAT', fk, fmt(lease + tonumber(ARGV[4])))
return session_reply(KEYS[1], f)
`,
);

/**
 * KEYS: S old, S new, F, T old.
 * ARGV: prefix, old h, new h, u, expected p0, callId, tombstoneMs, retentionMs, expected ae, then
 * the new key blob (count, pieces…), then the new profile blob (count, pieces…).
 * Moves a live session to its new id (and its index entry to the new h) with the role selected;
 * always clears the mark. The expected first piece of the profile stands for the whole profile
 * the caller read: it holds that encryption's random IV and tag, so any rewrite changes it.
 * Returns {ie, ae, c} or nil when the old session is gone, expired or was changed meanwhile.
 */
export const COMMIT_ROLE = script(
  4,
  BLOBS +
    `
redis.call('ZREM', KEYS[3], ARGV[6])
local f = redis.call('HMGET', KEYS[1], 'u', 'ie', 'ae', 'c', 'p0', 'uh')
if f[1] ~= ARGV[4] or f[5] ~= ARGV[5] or f[3] ~= ARGV[9] then return false end
local now = now_ms()
if tonumber(f[2]) <= now or tonumber(f[3]) <= now then return false end
local taken = redis.call('HMGET', KEYS[2], 'u', 'ie', 'ae', 'kn')
if taken[1] and taken[1] ~= ARGV[4] then
  -- Only if two cookie values collide: the session that held the new id is ended and closed.
  retire(ARGV[1], KEYS[2], ARGV[3], taken[1], taken[4], end_reason(taken[2], taken[3], now, 'relogin'), now, ARGV[7], ARGV[8])
end
local fields = {'u', ARGV[4], 'r', '1', 'ie', f[2], 'ae', f[3], 'c', f[4], 'ls', fmt(now)}
if f[6] then
  fields[#fields + 1] = 'uh'
  fields[#fields + 1] = f[6]
end
put_argv_blob(fields, 'p', put_argv_blob(fields, 'k', 10))
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(fields))
redis.call('PEXPIREAT', KEYS[2], fmt(tonumber(f[3]) + tonumber(ARGV[8])))
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. 'X', ARGV[2])
redis.call('ZADD', ARGV[1] .. 'X', fmt(math.min(tonumber(f[2]), tonumber(f[3]))), ARGV[3])
if f[6] then
  -- The user's index follows the session to its new id, keeping its creation time.
  local nk = ARGV[1] .. 'N:' .. f[6]
  redis.call('ZREM', nk, ARGV[2])
  index_user(nk, ARGV[3], tonumber(f[4]), tonumber(f[3]) + tonumber(ARGV[8]), now)
end
redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[7])
return {f[2], f[3], f[4]}
`,
);

/**
 * KEYS: none. ARGV: prefix, then (u, callId) pairs. Clears the in-flight marks of calls that have
 * ended: the store batches them (one command for every call that ended within 10 ms) so clearing
 * a mark costs a proxied call a fraction of a Redis round trip.
 */
export const END_CALLS = script(
  0,
  `
for i = 2, #ARGV, 2 do
  redis.call('ZREM', ARGV[1] .. 'F:' .. ARGV[i], ARGV[i + 1])
end
return 0
`,
);

/** KEYS: T. ARGV: prefix, callId. Clears a mark left on a session id that has since stopped working. */
export const CLEAR_ORPHAN_MARK = script(
  1,
  `
local u = redis.call('GET', KEYS[1])
if u then redis.call('ZREM', ARGV[1] .. 'F:' .. u, ARGV[2]) end
return 0
`,
);

/**
 * KEYS: S. ARGV: prefix, h, reason, tombstoneMs, retentionMs, and optionally uh: then only a
 * session of that user ends (the admin API names sessions by h and user).
 * Ends a session and queues its close. A session found already expired (not yet swept) ends with
 * its timeout as the reason, so the reason recorded is what really ended it.
 * Returns {u, reason} or nil.
 */
export const END = script(
  1,
  BLOBS +
    `
local f = redis.call('HMGET', KEYS[1], 'u', 'ie', 'ae', 'kn', 'uh')
if not f[1] then return false end
if ARGV[6] and f[5] ~= ARGV[6] then return false end
local now = now_ms()
local reason = end_reason(f[2], f[3], now, ARGV[3])
retire(ARGV[1], KEYS[1], ARGV[2], f[1], f[4], reason, now, ARGV[4], ARGV[5])
return {f[1], reason}
`,
);

/** KEYS: U, D. ARGV: u, reason, retentionMs, then the key blob (count, pieces…). */
export const QUEUE_CLOSE = script(
  2,
  BLOBS +
    `
local now = now_ms()
local fields = {'why', ARGV[2], 'n', '0', 'h', '-', 'ae', '0', 'r', '0'}
put_argv_blob(fields, 'k', 4)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], fmt(now), ARGV[1])
return 1
`,
);

/**
 * KEYS: X. ARGV: prefix, limit, tombstoneMs, retentionMs.
 * Returns {lost, {u, reason}, ...}: how many index entries it dropped because their session hash
 * was gone (lost by Redis: nothing left to close with), then the sessions it ended.
 */
export const SWEEP_EXPIRED = script(
  1,
  BLOBS +
    `
local now = now_ms()
local hs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', fmt(now), 'LIMIT', 0, tonumber(ARGV[2]))
local lost = 0
local out = {0}
for _, h in ipairs(hs) do
  local sk = ARGV[1] .. 'S:' .. h
  local s = redis.call('HMGET', sk, 'u', 'ie', 'ae', 'kn')
  if not s[1] then
    redis.call('ZREM', KEYS[1], h)
    lost = lost + 1
  else
    local ie = tonumber(s[2])
    local ae = tonumber(s[3])
    if ie > now and ae > now then
      -- Slid after the index was read elsewhere: repair the index, do not end it.
      redis.call('ZADD', KEYS[1], fmt(math.min(ie, ae)), h)
    else
      local reason = end_reason(ie, ae, now, 'idle-timeout')
      retire(ARGV[1], sk, h, s[1], s[4], reason, now, ARGV[3], ARGV[4])
      out[#out + 1] = {s[1], reason}
    end
  end
end
out[1] = lost
return out
`,
);

/**
 * KEYS: D. ARGV: prefix, limit, leaseMs, pollDelayMs, scanFactor.
 * Claims due closes with no live in-flight mark. A close still in flight is pushed back by the
 * poll delay so it sorts behind the due ones and cannot starve them.
 * Returns {{u, why, n, h, ae, r, k pieces…}, ...}.
 */
export const CLAIM_CLOSES = script(
  1,
  BLOBS +
    `
local now = now_ms()
local limit = tonumber(ARGV[2])
local poll = tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', fmt(now + poll), 'LIMIT', 0, limit * tonumber(ARGV[5]))
local out = {}
for _, u in ipairs(ids) do
  if #out >= limit then break end
  local uk = ARGV[1] .. 'U:' .. u
  local rec = redis.call('HMGET', uk, 'why', 'l', 'kn', 'h', 'ae', 'r')
  if not rec[1] then
    redis.call('ZREM', KEYS[1], u)
  elseif rec[2] and tonumber(rec[2]) > now then
    -- leased by another claimer
  else
    local fk = ARGV[1] .. 'F:' .. u
    -- Leases that ran out belong to calls whose instance died: they no longer hold the close.
    redis.call('ZREMRANGEBYSCORE', fk, '-inf', fmt(now))
    if redis.call('ZCARD', fk) > 0 then
      redis.call('ZADD', KEYS[1], fmt(now + poll), u)
    else
      local l = now + tonumber(ARGV[3])
      redis.call('ZADD', KEYS[1], fmt(l), u)
      local n = redis.call('HINCRBY', uk, 'n', 1)
      redis.call('HSET', uk, 'l', fmt(l))
      out[#out + 1] = read_pieces(uk, 'k', tonumber(rec[3]) or 0, {u, rec[1], tostring(n), rec[4] or '', rec[5] or '', rec[6] or ''})
    end
  end
end
return out
`,
);

/**
 * KEYS: D, U, F. ARGV: u, leaseMs.
 * Returns 0 done, 1 claimed elsewhere, 2 in flight, or {why, n, h, ae, r, k pieces…} when claimed.
 */
export const CLAIM_CLOSE = script(
  3,
  BLOBS +
    `
local now = now_ms()
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
local rec = redis.call('HMGET', KEYS[2], 'why', 'l', 'kn', 'h', 'ae', 'r')
if not score or not rec[1] then return 0 end
if rec[2] and tonumber(rec[2]) > now then return 1 end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', fmt(now))
if redis.call('ZCARD', KEYS[3]) > 0 then return 2 end
local l = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], fmt(l), ARGV[1])
local n = redis.call('HINCRBY', KEYS[2], 'n', 1)
redis.call('HSET', KEYS[2], 'l', fmt(l))
return read_pieces(KEYS[2], 'k', tonumber(rec[3]) or 0, {rec[1], tostring(n), rec[4] or '', rec[5] or '', rec[6] or ''})
`,
);

/** KEYS: U, D, F. ARGV: u. */
export const COMPLETE_CLOSE = script(
  3,
  `
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`,
);

/** KEYS: D, U. ARGV: u, retryInMs. Only reschedules a close that is still queued. */
export const RELEASE_CLOSE = script(
  2,
  `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local now = now_ms()
redis.call('ZADD', KEYS[1], 'XX', fmt(now + tonumber(ARGV[2])), ARGV[1])
redis.call('HDEL', KEYS[2], 'l')
return 1
`,
);

/**
 * KEYS: S. ARGV: prefix, h, u, k0. Drops a session record whose blobs failed authentication (it
 * was copied, moved or edited in Redis): it is no session. Only if it is still the record that was
 * read (same u and first key piece). Its e-RS key cannot be trusted, so no close is queued.
 */
export const DISCARD = script(
  1,
  `
local f = redis.call('HMGET', KEYS[1], 'u', 'k0', 'uh')
if f[1] ~= ARGV[3] or f[2] ~= ARGV[4] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. 'X', ARGV[2])
if f[3] then redis.call('ZREM', ARGV[1] .. 'N:' .. f[3], ARGV[2]) end
return 1
`,
);

/**
 * KEYS: N (the user's index). ARGV: prefix, uh.
 * Returns the user's live sessions, oldest first: {{h, ls, u, r, ie, ae, c, kn, k pieces…, p pieces…}, …}
 * (the profile holds the role; the key comes along because the record's reply is read whole).
 */
export const LIST_USER = script(
  1,
  BLOBS +
    `
local out = {}
for _, s in ipairs(user_sessions(ARGV[1], KEYS[1], ARGV[2], now_ms(), nil)) do
  local row = session_reply(s[2], s[3])
  table.insert(row, 1, s[3][8] or s[3][5])
  table.insert(row, 1, s[1])
  out[#out + 1] = row
end
return out
`,
);

/**
 * KEYS: N (the user's index). ARGV: prefix, uh, reason, tombstoneMs, retentionMs.
 * Ends every session of the user, as END does each. Returns {u, reason, u, reason, …}.
 */
export const END_USER = script(
  1,
  BLOBS +
    `
local now = now_ms()
local out = {}
for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local sk = ARGV[1] .. 'S:' .. h
  local f = redis.call('HMGET', sk, 'u', 'ie', 'ae', 'kn', 'uh')
  if not f[1] or f[5] ~= ARGV[2] then
    redis.call('ZREM', KEYS[1], h)
  else
    local reason = end_reason(f[2], f[3], now, ARGV[3])
    retire(ARGV[1], sk, h, f[1], f[4], reason, now, ARGV[4], ARGV[5])
    out[#out + 1] = f[1]
    out[#out + 1] = reason
  end
end
return out
`,
);

/**
 * KEYS: L:a (the client address's logins), L:t (the token's failures).
 * ARGV: tokenFailures, tokenWindowMs, addressLimit, addressWindowMs.
 * Returns 0 (admitted: one login counted, one failure reserved), or {1, retryAfterMs} (the token
 * is at its limit) or {2, retryAfterMs} (the address is); a refused login counts nothing.
 * Fixed windows: each counter expires a window after its first count.
 */
export const ADMIT_LOGIN = script(
  2,
  `
local function wait(key, window)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = tonumber(window)
  end
  return ttl
end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[1]) then return {1, wait(KEYS[2], ARGV[2])} end
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[3]) then return {2, wait(KEYS[1], ARGV[4])} end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 0
`,
);

/** KEYS: L:t. Gives back a token's reserved failure (its A001 was not refused). */
export const RELEASE_LOGIN_FAILURE = script(
  1,
  `
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 0
`,
);

/** KEYS: X, D. Returns {sessions, pendingCloses, now}. */
export const COUNTS = script(
  2,
  `
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), fmt(now_ms())}
`,
);

/**
 * Scripts called through ioredis' defined commands (each also as `<name>Buffer`, whose replies
 * keep bulk strings as Buffers: the ones that return blob pieces are called that way).
 * beginCallScript is not among them: the hot path sends its EVALSHA itself (see
 * RedisSessionStore.beginCall).
 */
export const SCRIPTS = {
  ersgwCreate: CREATE,
  ersgwGet: GET,
  ersgwBeginSessionCall: BEGIN_SESSION_CALL,
  ersgwCommitRole: COMMIT_ROLE,
  ersgwEndCalls: END_CALLS,
  ersgwClearOrphanMark: CLEAR_ORPHAN_MARK,
  ersgwEnd: END,
  ersgwQueueClose: QUEUE_CLOSE,
  ersgwSweepExpired: SWEEP_EXPIRED,
  ersgwClaimCloses: CLAIM_CLOSES,
  ersgwClaimClose: CLAIM_CLOSE,
  ersgwCompleteClose: COMPLETE_CLOSE,
  ersgwReleaseClose: RELEASE_CLOSE,
  ersgwCounts: COUNTS,
  ersgwDiscard: DISCARD,
  ersgwListUser: LIST_USER,
  ersgwEndUser: END_USER,
  ersgwAdmitLogin: ADMIT_LOGIN,
  ersgwReleaseLoginFailure: RELEASE_LOGIN_FAILURE,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
