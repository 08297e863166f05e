/**
 * The Lua scripts behind the Redis session store. Each one is a single atomic step, and each takes
 * its time from Redis `TIME` so gateway instances with skewed clocks agree on every expiry.
 *
 * They live in a TypeScript file (not `.lua` files) so `tsc` carries them into `dist` unchanged.
 *
 * Keys (prefix `P`, default `ersgw:`):
 *   P S:<h>  HASH  one gateway session; h = base64url(SHA-256(cookie value)). Its Redis TTL
 *                  ends a grace period after min(ie, ae): scripts compare the times themselves,
 *                  and the grace lets `end`/`commitRole`/the sweeper still find a session that
 *                  has just expired (its upstream id, its exact reason, its in-flight mark)
 *                  u upstreamId, r "1" once a role is selected, ie idle expiry, ae absolute expiry,
 *                  c created, k encrypted e-RS session key, p encrypted profile
 *   P U:<u>  HASH  the durable record that an upstream (e-RS) session exists, kept until its close
 *                  completes: k encrypted key, s h of its live session ("" once ended), ae absolute
 *                  expiry, why end reason, n claim attempts, l claim lease expiry
 *   P X      ZSET  u -> min(ie, ae) of every live session: the index the sweeper scans
 *   P F:<u>  ZSET  callId -> lease expiry: calls in flight on an upstream session
 *   P D      ZSET  u -> when its close (A003) is next due (or its claim lease runs out)
 *   P T:<h>  STR   u, for `inFlightLeaseMs` after a session id stops working, so a late
 *                  `commitRole` on that id can still find and clear its in-flight mark
 *
 * Keys built inside a script from the prefix (U, F, S and T of another record) are not declared
 * in KEYS. That is fine on a standalone Redis or Sentinel; Redis Cluster would need every key of
 * a script in one slot (hash tags such as `{u}`): future work, not done.
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

export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
}

const script = (numberOfKeys: number, body: string): ScriptDefinition => ({
  numberOfKeys,
  lua: PRELUDE + body,
});

/**
 * KEYS: S, U, X. ARGV: idleMs, absoluteMs, absoluteExpiresAtMs or "", u, r, k, p, h, retentionMs,
 * graceMs.
 * Returns {c, ie, ae}.
 */
export const CREATE = script(
  3,
  `
local now = now_ms()
local ae
if ARGV[3] ~= '' then ae = tonumber(ARGV[3]) else ae = now + tonumber(ARGV[2]) end
local ie = math.min(now + tonumber(ARGV[1]), ae)
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'u', ARGV[4], 'r', ARGV[5], 'ie', fmt(ie), 'ae', fmt(ae), 'c', fmt(now), 'k', ARGV[6], 'p', ARGV[7])
-- The hash lives until its absolute expiry (+ grace): the sweeper deletes it at idle expiry,
-- so a proxied call need not move its TTL (one command less on the hot path).
redis.call('PEXPIREAT', KEYS[1], fmt(ae + tonumber(ARGV[10])))
redis.call('HSET', KEYS[2], 'k', ARGV[6], 's', ARGV[8], 'ae', fmt(ae), 'n', '0')
redis.call('PEXPIREAT', KEYS[2], fmt(ae + tonumber(ARGV[9])))
redis.call('ZADD', KEYS[3], fmt(ie), ARGV[4])
return {fmt(now), fmt(ie), fmt(ae)}
`,
);

/** KEYS: S. Returns {u, r, ie, ae, c, k, p} of a live session, or nil. Does not slide. */
export const GET = script(
  1,
  `
local f = redis.call('HMGET', KEYS[1], 'u', 'r', 'ie', 'ae', 'c', 'k', 'p')
if not f[1] then return false end
local now = now_ms()
if tonumber(f[3]) <= now or tonumber(f[4]) <= now then return false end
return f
`,
);

/**
 * The hot path. KEYS: S. ARGV: prefix, idleMs, leaseMs, callId, markMarginMs.
 * Returns 0 (no session), 1 (no role) or {u, k}: nothing else, to keep the reply small.
 * It slides `ie` in the hash only: the expiry index X keeps the older (earlier) time, and the
 * sweeper, which re-reads `ie` before ending anything, re-files a slid session when it meets it.
 * That keeps a sorted-set update off every proxied call.
 */
export const BEGIN_CALL = script(
  1,
  `
local f = redis.call('HMGET', KEYS[1], 'u', 'r', 'ie', 'ae', 'k')
if not f[1] then return 0 end
local now = now_ms()
local ae = tonumber(f[4])
if tonumber(f[3]) <= now or ae <= now then return 0 end
if f[2] ~= '1' then return 1 end
redis.call('HSET', KEYS[1], 'ie', fmt(math.min(now + tonumber(ARGV[2]), ae)))
local fk = ARGV[1] .. 'F:' .. f[1]
local lease = now + tonumber(ARGV[3])
redis.call('ZADD', fk, fmt(lease), ARGV[4])
-- Every lease has the same length, so the newest one always ends last.
redis.call('PEXPIREAT', fk, fmt(lease + tonumber(ARGV[5])))
return {f[1], f[5]}
`,
);

/**
 * KEYS: S. ARGV: prefix, leaseMs, callId, markRetentionMs.
 * Marks the call in flight without sliding and without needing a role.
 * Returns {u, r, ie, ae, c, k, p} or nil.
 */
export const BEGIN_SESSION_CALL = script(
  1,
  `
local f = redis.call('HMGET', KEYS[1], 'u', 'r', 'ie', 'ae', 'c', 'k', 'p')
if not f[1] then return false end
local now = now_ms()
if tonumber(f[3]) <= now or tonumber(f[4]) <= now then return false end
local fk = ARGV[1] .. 'F:' .. f[1]
local lease = now + tonumber(ARGV[2])
redis.call('ZADD', fk, fmt(lease), ARGV[3])
redis.call('PEXPIREAT', fk, fmt(lease + tonumber(ARGV[4])))
return f
`,
);

/**
 * KEYS: S old, S new, U, F, T old.
 * ARGV: expected p, new p, new k, callId, new h, u, tombstoneMs, graceMs.
 * Moves a live session to its new id with the role selected; always clears the mark.
 * Returns {ie, ae, c} or nil when the old session is gone, expired or was changed meanwhile.
 */
export const COMMIT_ROLE = script(
  5,
  `
redis.call('ZREM', KEYS[4], ARGV[4])
local f = redis.call('HMGET', KEYS[1], 'u', 'ie', 'ae', 'c', 'p')
if f[1] ~= ARGV[6] or f[5] ~= ARGV[1] then return false end
local now = now_ms()
if tonumber(f[2]) <= now or tonumber(f[3]) <= now then return false end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'u', ARGV[6], 'r', '1', 'ie', f[2], 'ae', f[3], 'c', f[4], 'k', ARGV[3], 'p', ARGV[2])
redis.call('PEXPIREAT', KEYS[2], fmt(tonumber(f[3]) + tonumber(ARGV[8])))
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[5], ARGV[6], 'PX', ARGV[7])
redis.call('HSET', KEYS[3], 'k', ARGV[3], 's', ARGV[5])
return {f[2], f[3], f[4]}
`,
);

/**
 * KEYS: none. ARGV: prefix, then (u, callId) pairs. Clears the in-flight marks of calls that have
 * ended: the store batches them (one command for every call that ended within a millisecond or
 * two) so clearing a mark costs a proxied call a fraction of a Redis round trip.
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
 * KEYS: S, X, D, T. ARGV: prefix, reason, tombstoneMs, retentionMs.
 * Ends a session and queues its close. A session found already expired (not yet swept) ends with
 * its timeout as the reason, so the reason recorded is what really ended it.
 * Returns {u, reason} or nil.
 */
export const END = script(
  4,
  `
local f = redis.call('HMGET', KEYS[1], 'u', 'ie', 'ae', 'k')
if not f[1] then return false end
local u = f[1]
local now = now_ms()
local reason = ARGV[2]
if tonumber(f[3]) <= now then reason = 'absolute-timeout' elseif tonumber(f[2]) <= now then reason = 'idle-timeout' end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], u)
local uk = ARGV[1] .. 'U:' .. u
redis.call('HSET', uk, 'k', f[4], 's', '', 'why', reason)
redis.call('HDEL', uk, 'l')
redis.call('PEXPIRE', uk, ARGV[4])
redis.call('ZADD', KEYS[3], fmt(now), u)
redis.call('SET', KEYS[4], u, 'PX', ARGV[3])
return {u, reason}
`,
);

/** KEYS: U, D. ARGV: u, k, reason, retentionMs. */
export const QUEUE_CLOSE = script(
  2,
  `
local now = now_ms()
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'k', ARGV[2], 's', '', 'why', ARGV[3], 'n', '0', 'ae', fmt(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], fmt(now), ARGV[1])
return 1
`,
);

/**
 * KEYS: X, D. ARGV: prefix, limit, tombstoneMs, retentionMs.
 * Returns {{u, reason}, ...} for the sessions it ended.
 */
export const SWEEP_EXPIRED = script(
  2,
  `
local now = now_ms()
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', fmt(now), 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, u in ipairs(ids) do
  local uk = ARGV[1] .. 'U:' .. u
  local rec = redis.call('HMGET', uk, 's', 'ae', 'k')
  if not rec[3] then
    -- No upstream record (cannot happen unless its retention ran out): nothing left to close.
    redis.call('ZREM', KEYS[1], u)
  else
    local h = rec[1]
    local ie = nil
    local ae = tonumber(rec[2])
    local k = rec[3]
    local sk = nil
    if h and h ~= '' then
      sk = ARGV[1] .. 'S:' .. h
      local s = redis.call('HMGET', sk, 'u', 'ie', 'ae', 'k')
      if s[1] == u then
        ie = tonumber(s[2])
        ae = tonumber(s[3])
        k = s[4]
      else
        sk = nil
      end
    end
    if ie and ie > now and ae > now then
      -- Slid after the index was read elsewhere: repair the index, do not end it.
      redis.call('ZADD', KEYS[1], fmt(math.min(ie, ae)), u)
    else
      -- A missing session hash means Redis already expired it (PEXPIREAT): it is still ended here.
      local reason = 'idle-timeout'
      if ae and ae <= now then reason = 'absolute-timeout' end
      if sk then redis.call('DEL', sk) end
      if h and h ~= '' then redis.call('SET', ARGV[1] .. 'T:' .. h, u, 'PX', ARGV[3]) end
      redis.call('ZREM', KEYS[1], u)
      redis.call('HSET', uk, 'k', k, 's', '', 'why', reason)
      redis.call('PEXPIRE', uk, ARGV[4])
      redis.call('ZADD', KEYS[2], fmt(now), u)
      table.insert(out, {u, reason})
    end
  end
end
return out
`,
);

/**
 * KEYS: D. ARGV: prefix, limit, leaseMs, pollDelayMs, scanFactor.
 * Claims due closes with no live in-flight mark. A close still in flight is pushed back by the
 * poll delay so it sorts behind the due ones and cannot starve them.
 * Returns {{u, k, why, n}, ...}.
 */
export const CLAIM_CLOSES = script(
  1,
  `
local now = now_ms()
local limit = tonumber(ARGV[2])
local poll = tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', fmt(now + poll), 'LIMIT', 0, limit * tonumber(ARGV[5]))
local out = {}
for _, u in ipairs(ids) do
  if #out >= limit then break end
  local uk = ARGV[1] .. 'U:' .. u
  local rec = redis.call('HMGET', uk, 'k', 'why', 'l')
  if not rec[1] then
    redis.call('ZREM', KEYS[1], u)
  elseif rec[3] and tonumber(rec[3]) > now then
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
      table.insert(out, {u, rec[1], rec[2], tostring(n)})
    end
  end
end
return out
`,
);

/**
 * KEYS: D, U, F. ARGV: u, leaseMs.
 * Returns 0 done, 1 claimed elsewhere, 2 in flight, or {k, why, n} when claimed.
 */
export const CLAIM_CLOSE = script(
  3,
  `
local now = now_ms()
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
local rec = redis.call('HMGET', KEYS[2], 'k', 'why', 'l')
if not score or not rec[1] then return 0 end
if rec[3] and tonumber(rec[3]) > now then return 1 end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', fmt(now))
if redis.call('ZCARD', KEYS[3]) > 0 then return 2 end
local l = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], fmt(l), ARGV[1])
local n = redis.call('HINCRBY', KEYS[2], 'n', 1)
redis.call('HSET', KEYS[2], 'l', fmt(l))
return {rec[1], rec[2], tostring(n)}
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

/** KEYS: X, D. Returns {sessions, pendingCloses, now}. */
export const COUNTS = script(
  2,
  `
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), fmt(now_ms())}
`,
);

/**
 * Scripts called through ioredis' defined commands. BEGIN_CALL is not among them: the hot path
 * sends its EVALSHA itself (see RedisSessionStore.beginCall).
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
} as const;

export type ScriptName = keyof typeof SCRIPTS;
