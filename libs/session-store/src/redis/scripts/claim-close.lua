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
