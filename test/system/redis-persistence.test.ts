import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser';
import { type GatewayProcess, type Sandbox, startGateway, startSandbox } from '../support/processes';
import { PERSISTENT_REDIS, type RedisProcess, startRedis } from '../support/redis-server';
import { type Card, SandboxControl } from '../support/sandbox-control';
import { sleep, waitFor } from '../support/wait';

/** The gateway's JSON log lines with this `event`. */
function events(gateway: GatewayProcess, event: string): Record<string, unknown>[] {
  return gateway.lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.event === event);
}

/**
 * CONTRACT §6: Redis must keep what it acknowledged. A gateway refuses a Redis that cannot (or
 * warns once, when allowed), and a Redis that comes back empty is logged with what was lost.
 */
describe('Redis persistence, as the gateway process sees it', () => {
  let sandbox: Sandbox;
  let control: SandboxControl;
  let referrer: Card;
  const started: { redis?: RedisProcess; gateway?: GatewayProcess }[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox();
    control = new SandboxControl(sandbox.url);
    referrer = await control.card((card) => card.valid && card.permissions.length > 0);
  });
  afterEach(async () => {
    for (const { redis, gateway } of started.splice(0)) {
      await gateway?.stop();
      await redis?.stop();
    }
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('refuses to start on a Redis without persistence, naming the setting and the way out', async () => {
    const redis = await startRedis({ args: ['--appendonly', 'no', '--save', ''] });
    started.push({ redis });
    const error = await startGateway({ ersBaseUrl: sandbox.ersBaseUrl, redisUrl: redis.url }).then(
      (gateway) => {
        started.push({ gateway });
        return null;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/exited with 1 at start/);
    expect(message).toMatch(/Redis cannot keep sessions: appendonly "no" \(a restart loses every session\)/);
    expect(message).toContain('REDIS_ALLOW_VOLATILE=true');
  });

  it('refuses it too when it only answers after the gateway started: exit 1 before anything is stored', async () => {
    const redis = await startRedis({ args: ['--appendonly', 'no', '--save', ''] });
    started.push({ redis });
    await redis.kill('SIGTERM');
    // The gateway waits 5 s for Redis, then starts without it (readiness 503).
    const gateway = await startGateway({ ersBaseUrl: sandbox.ersBaseUrl, redisUrl: redis.url });
    started.push({ gateway });
    await redis.restart();
    const code = await Promise.race([gateway.exited, sleep(10_000).then(() => 'still running')]);
    expect(code).toBe(1);
    expect(events(gateway, 'redis-cannot-keep-sessions')).toEqual([
      expect.objectContaining({ level: 'fatal', msg: expect.stringMatching(/^Redis cannot keep sessions: appendonly "no"/) as unknown }),
    ]);
  });

  it('starts on it with REDIS_ALLOW_VOLATILE=true, warns once, and logs a restart with the sessions and open e-RS sessions lost', async () => {
    const redis = await startRedis({ args: ['--appendonly', 'no', '--save', ''] });
    started.push({ redis });
    const gateway = await startGateway({ ersBaseUrl: sandbox.ersBaseUrl, redisUrl: redis.url, env: { REDIS_ALLOW_VOLATILE: 'true' } });
    started.push({ gateway });
    expect(events(gateway, 'redis-volatile')).toEqual([
      expect.objectContaining({ level: 'warn', setting: 'appendonly', value: 'no', allowed: true }),
    ]);

    const users = [new Browser(gateway.url), new Browser(gateway.url), new Browser(gateway.url)];
    for (const user of users) expect((await user.login(referrer.token)).status).toBe(201);
    const role = referrer.permissions[0]!;
    expect((await users[0]!.chooseRole(role.businessFunction, role.orgIdentifier)).status).toBe(200);
    const open = (await control.sessions()).filter((s) => s.a003Count === 0).length;
    expect(open).toBe(3);
    // The gateway reads the counts every 2 s: let it see these before Redis goes.
    await sleep(2_500);
    await redis.restart();

    const [lost] = await waitFor('the loss to be logged', () => {
      const lines = events(gateway, 'redis-data-lost');
      return lines.length > 0 && lines;
    });
    expect(lost).toMatchObject({ level: 'error', sessions: 3, openErsSessions: open });
    expect(String(lost!.msg)).toMatch(/^Redis came back empty: 3 sessions and 3 open e-RS sessions lost/);
    const metrics = await (await fetch(`${gateway.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/^ersgw_redis_data_lost_total 1$/m);
    // Once: neither the reconnect nor later polls say either thing again.
    await sleep(2_500);
    expect(events(gateway, 'redis-data-lost')).toHaveLength(1);
    expect(events(gateway, 'redis-volatile')).toHaveLength(1);
    expect((await users[1]!.session()).status).toBe(401);
  });

  it('says nothing about a Redis with AOF every second and noeviction, through a restart', async () => {
    const redis = await startRedis({ args: PERSISTENT_REDIS });
    started.push({ redis });
    const gateway = await startGateway({ ersBaseUrl: sandbox.ersBaseUrl, redisUrl: redis.url });
    started.push({ gateway });
    const user = new Browser(gateway.url);
    expect((await user.login(referrer.token)).status).toBe(201);
    await sleep(1_100); // the AOF's fsync (SIGTERM also flushes it)
    await redis.restart();
    await waitFor('the session after the restart', async () => (await user.session()).status === 200);
    await sleep(2_500);
    for (const event of ['redis-volatile', 'redis-persistence-unchecked', 'redis-data-lost']) {
      expect(events(gateway, event), event).toEqual([]);
    }
    // The watch ran (its counter is exported) and counted no loss.
    expect(await (await fetch(`${gateway.opsUrl}/metrics`)).text()).toMatch(/^ersgw_redis_data_lost_total 0$/m);
  });
});
