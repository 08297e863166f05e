local u = redis.call('GET', KEYS[1])
if u then redis.call('ZREM', ARGV[1] .. 'F:' .. u, ARGV[2]) end
return 0
