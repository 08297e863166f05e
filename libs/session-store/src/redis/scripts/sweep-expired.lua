local now = now_ms()
local hs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', fmt(now), 'LIMIT', 0, tonumber(ARGV[2]))
local lost = 0
local out = {0}
for _, h in ipairs(hs) do
  local sk = ARGV[1] .. 'S:' .. h
  local s = redis.call('HMGET', sk, 'u', 'ie', 'ae', 'kn')
  if not s[1] then
    redis.call('ZREM', KEYS[1], h)
    lost = lost + 1
  else
    local ie = tonumber(s[2])
    local ae = tonumber(s[3])
    if ie > now and ae > now then
      -- Slid after the index was read elsewhere: repair the index, do not end it.
      redis.call('ZADD', KEYS[1], fmt(math.min(ie, ae)), h)
    else
      local reason = end_reason(ie, ae, now, 'idle-timeout')
      retire(ARGV[1], sk, h, s[1], s[4], reason, now, ARGV[3], ARGV[4])
      out[#out + 1] = {s[1], reason}
    end
  end
end
out[1] = lost
return out
