local PREFIX = __PREFIX__
-- An encrypted e-RS key (33 bytes + a key of 32 to 95) is two pieces: read with the rest.
local f = redis.call('HMGET', KEYS[1], 'u', 'r', 'ie', 'ae', 'kn', 'k0', 'k1')
if not f[1] then return 0 end
local now = now_ms()
local ae = tonumber(f[4])
if tonumber(f[3]) <= now or ae <= now then return 0 end
if f[2] ~= '1' then return 1 end
local fk = PREFIX .. 'F:' .. f[1]
if redis.call('ZCARD', fk) >= __MAX_CALLS__ then
  redis.call('ZREMRANGEBYSCORE', fk, '-inf', fmt(now))
  if redis.call('ZCARD', fk) >= __MAX_CALLS__ then return 2 end
end
redis.call('HSET', KEYS[1], 'ie', fmt(math.min(now + __IDLE_MS__, ae)), 'ls', fmt(now))
local lease = now + __LEASE_MS__
redis.call('ZADD', fk, fmt(lease), ARGV[1])
-- Every lease has the same length, so the newest one always ends last.
redis.call('PEXPIREAT', fk, fmt(lease + __MARK_MARGIN_MS__))
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
