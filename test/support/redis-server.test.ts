import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_NOT_FOUND, startRedis, type RedisProcess } from './redis-server';

/** One RESP command over a raw socket; resolves with the first reply line, or null on timeout. */
function send(port: number, command: string, timeoutMs = 500): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (value: string | null): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.once('error', () => done(null));
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.once('data', (data: Buffer) => done(data.toString('utf8').split('\r\n')[0] ?? ''));
  });
}

describe('startRedis (test harness)', () => {
  const started: RedisProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((r) => r.stop()));
  });

  it('starts a private redis-server on a free port, never 6379, without persistence', async () => {
    const redis = await startRedis();
    started.push(redis);
    expect(redis.port).not.toBe(6379);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await send(redis.port, 'PING')).toBe('+PONG');
    expect(await send(redis.port, 'CONFIG GET save')).toBe('*2');
  });

  it('pauses (no answer), resumes, and restarts on the same port with no data', async () => {
    const redis = await startRedis();
    started.push(redis);
    expect(await send(redis.port, 'SET k v')).toBe('+OK');
    redis.pause();
    expect(await send(redis.port, 'PING', 300)).toBeNull();
    redis.resume();
    expect(await send(redis.port, 'GET k')).toBe('$1');
    const port = redis.port;
    await redis.restart();
    expect(redis.port).toBe(port);
    expect(await send(port, 'GET k')).toBe('$-1');
    await redis.kill('SIGKILL');
    expect(await send(port, 'PING', 300)).toBeNull();
    await redis.restart();
    expect(await send(port, 'PING')).toBe('+PONG');
  });

  it('stops even while paused', async () => {
    const redis = await startRedis();
    redis.pause();
    await redis.stop();
    expect(await send(redis.port, 'PING', 300)).toBeNull();
  });

  it('says how to install redis-server when it is not on PATH', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      await expect(startRedis()).rejects.toThrow(REDIS_NOT_FOUND);
    } finally {
      process.env['PATH'] = path;
    }
    expect(REDIS_NOT_FOUND).toBe(
      'redis-server not found: install it (Debian/Ubuntu: apt-get install redis-server) or put it on PATH',
    );
  });
});
