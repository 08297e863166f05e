local f = redis.call('HMGET', KEYS[1], 'u', 'k0', 'uh')
if f[1] ~= ARGV[3] or f[2] ~= ARGV[4] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. 'X', ARGV[2])
if f[3] then redis.call('ZREM', ARGV[1] .. 'N:' .. f[3], ARGV[2]) end
return 1
