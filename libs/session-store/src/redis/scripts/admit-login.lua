local function wait(key, window)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = tonumber(window)
  end
  return ttl
end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[1]) then return {1, wait(KEYS[2], ARGV[2])} end
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[3]) then return {2, wait(KEYS[1], ARGV[4])} end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 0
