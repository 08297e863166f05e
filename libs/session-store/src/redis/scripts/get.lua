local f = redis.call('HMGET', KEYS[1], 'u', 'r', 'ie', 'ae', 'c', 'kn', 'pn')
if not f[1] then return false end
local now = now_ms()
if tonumber(f[3]) <= now or tonumber(f[4]) <= now then return false end
return session_reply(KEYS[1], f)
