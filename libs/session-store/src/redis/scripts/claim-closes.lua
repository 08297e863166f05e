local now = now_ms()
local limit = tonumber(ARGV[2])
local poll = tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', fmt(now + poll), 'LIMIT', 0, limit * tonumber(ARGV[5]))
local out = {}
for _, u in ipairs(ids) do
  if #out >= limit then break end
  local uk = ARGV[1] .. 'U:' .. u
  local rec = redis.call('HMGET', uk, 'why', 'l', 'kn', 'h', 'ae', 'r')
  if not rec[1] then
    redis.call('ZREM', KEYS[1], u)
  elseif rec[2] and tonumber(rec[2]) > now then
    -- leased by another claimer
  else
    local fk = ARGV[1] .. 'F:' .. u
    -- Leases that ran out belong to calls whose instance died: they no longer hold the close.
    redis.call('ZREMRANGEBYSCORE', fk, '-inf', fmt(now))
    if redis.call('ZCARD', fk) > 0 then
      redis.call('ZADD', KEYS[1], fmt(now + poll), u)
    else
      local l = now + tonumber(ARGV[3])
      redis.call('ZADD', KEYS[1], fmt(l), u)
      local n = redis.call('HINCRBY', uk, 'n', 1)
      redis.call('HSET', uk, 'l', fmt(l))
      out[#out + 1] = read_pieces(uk, 'k', tonumber(rec[3]) or 0, {u, rec[1], tostring(n), rec[4] or '', rec[5] or '', rec[6] or ''})
    end
  end
end
return out
