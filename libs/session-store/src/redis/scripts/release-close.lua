if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local now = now_ms()
redis.call('ZADD', KEYS[1], 'XX', fmt(now + tonumber(ARGV[2])), ARGV[1])
redis.call('HDEL', KEYS[2], 'l')
return 1
