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
