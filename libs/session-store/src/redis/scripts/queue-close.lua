local now = now_ms()
local fields = {'why', ARGV[2], 'n', '0', 'h', '-', 'ae', '0', 'r', '0'}
put_argv_blob(fields, 'k', 4)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], fmt(now), ARGV[1])
return 1
