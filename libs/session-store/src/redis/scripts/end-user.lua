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
