for i = 2, #ARGV, 2 do
  redis.call('ZREM', ARGV[1] .. 'F:' .. ARGV[i], ARGV[i + 1])
end
return 0
