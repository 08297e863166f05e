return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), fmt(now_ms())}
