local f = redis.call('HMGET', KEYS[1], 'u', 'ie', 'ae', 'kn', 'uh')
if not f[1] then return false end
if ARGV[6] and f[5] ~= ARGV[6] then return false end
local now = now_ms()
local reason = end_reason(f[2], f[3], now, ARGV[3])
retire(ARGV[1], KEYS[1], ARGV[2], f[1], f[4], reason, now, ARGV[4], ARGV[5])
return {f[1], reason}
