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
