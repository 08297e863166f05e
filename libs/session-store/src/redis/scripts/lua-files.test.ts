import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisProcess } from '../../../../../test/support/redis-server';
import { SCRIPTS, beginCallScript } from './session-scripts';

// The lint of the store's Lua: every `.lua` file compiles in a real Redis (`SCRIPT LOAD` fails on a
// syntax error), and so does every script as the store sends it (prelude and blobs included).
describe('the session store Lua files', () => {
  let server: RedisProcess;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    await redis?.quit();
    await server?.stop();
  });

  const files = readdirSync(__dirname).filter((name) => name.endsWith('.lua'));

  it('are all there', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it.each(files)('%s compiles (SCRIPT LOAD)', async (name) => {
    const sha = await redis.script('LOAD', readFileSync(join(__dirname, name), 'utf8'));
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
  });

  it('fails a file with a syntax error (the lint can fail)', async () => {
    await expect(redis.script('LOAD', 'local x = = 1')).rejects.toThrow(/Error compiling script/);
  });

  it('compiles every script as the store sends it', async () => {
    const scripts = [...Object.values(SCRIPTS), beginCallScript('ersgw:', 1_800_000, 30_000, 5_000, 8)];
    for (const { lua } of scripts) expect(await redis.script('LOAD', lua)).toMatch(/^[0-9a-f]{40}$/);
  });
});
