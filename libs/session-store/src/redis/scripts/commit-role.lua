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
