local out = {}
for _, s in ipairs(user_sessions(ARGV[1], KEYS[1], ARGV[2], now_ms(), nil)) do
  local row = session_reply(s[2], s[3])
  table.insert(row, 1, s[3][8] or s[3][5])
  table.insert(row, 1, s[1])
  out[#out + 1] = row
end
return out
