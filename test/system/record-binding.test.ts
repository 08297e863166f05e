import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Browser, signedInBrowser } from '../support/browser';
import { SecretWatch } from '../support/leaks';
import { type Card } from '../support/sandbox-control';
import { type Deployment, deploy } from './cluster';

const hashOf = (cookie: string): string => createHash('sha256').update(cookie).digest('base64url');

/**
 * Found in review: a session record copied in Redis to another cookie's key served that other
 * cookie with the first user's e-RS session. Tried here as someone with write access to Redis
 * (but not to SESSION_KEYS) would: every record is bound to its cookie's hash, role flag and
 * absolute expiry, so a record moved, copied or edited is no session, nothing is forwarded with
 * its key, and the gateway says so once in its log (with no secret in the line).
 */
describe('session records bound to their cookie', () => {
  let env: Deployment;
  let gateway: string;
  let redis: Redis;
  let referrer: Card;
  let provider: Card;
  const secrets = new SecretWatch();

  beforeAll(async () => {
    env = await deploy({ gateways: 1 });
    gateway = env.gateways[0]!.url;
    redis = new Redis(env.redis!.url);
    referrer = await env.control.card((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'REFERRING_CLINICIAN'));
    provider = await env.control.card((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'SERVICE_PROVIDER_CLINICIAN'));
    secrets.add('smartcard token', referrer.token);
    secrets.add('smartcard token', provider.token);
  });

  afterAll(async () => {
    redis?.disconnect();
    await env?.stop();
  });

  beforeEach(async () => {
    await env.control.clearRequests();
  });

  const record = (user: Browser): string => `ersgw:S:${hashOf(user.cookie!)}`;
  const rejections = (): string[] => env.gateways[0]!.lines.filter((line) => line.includes('"session-record-rejected"'));
  const watch = async (user: Browser): Promise<void> => {
    secrets.add('cookie value', user.cookie);
    for (const session of await env.control.sessions()) secrets.add('e-RS session key', session.sessionKey);
  };

  it('a victim\'s record copied onto the attacker\'s cookie: 401 no-session, nothing forwarded, logged once; the victim carries on', async () => {
    const victim = await signedInBrowser(gateway, referrer);
    const attacker = await signedInBrowser(gateway, provider);
    await watch(victim);
    await watch(attacker);
    const logged = rejections().length;
    await env.control.clearRequests();
    await redis.copy(record(victim), record(attacker), 'REPLACE');

    const stolen = await attacker.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY');
    expect({ status: stolen.status, code: stolen.json.code }).toEqual({ status: 401, code: 'no-session' });
    expect((await attacker.session()).status).toBe(401);
    expect((await attacker.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(401);
    expect(await env.control.requests()).toEqual([]);
    expect(rejections().length - logged).toBe(1);
    expect(await redis.exists(record(attacker))).toBe(0);

    expect((await victim.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(200);
  });

  it('a record renamed to another cookie\'s key is no session there, either way round', async () => {
    const victim = await signedInBrowser(gateway, referrer);
    await watch(victim);
    const attacker = new Browser(gateway);
    attacker.cookie = 'B'.repeat(43);
    await redis.rename(record(victim), record(attacker));
    await env.control.clearRequests();
    expect((await attacker.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(401);
    expect((await victim.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(401);
    expect(await env.control.requests()).toEqual([]);
  });

  it('an absolute expiry pushed back in Redis: the record is no session', async () => {
    const user = await signedInBrowser(gateway, referrer);
    await watch(user);
    const ae = Number(await redis.hget(record(user), 'ae'));
    await redis.hset(record(user), 'ae', String(ae + 7 * 86_400_000));
    await env.control.clearRequests();
    expect((await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(401);
    expect(await env.control.requests()).toEqual([]);
  });

  it('a role flag set in Redis on a session without a role: no session, not a call with no role at e-RS', async () => {
    const user = await signedInBrowser(gateway, referrer, false);
    await watch(user);
    await redis.hset(record(user), 'r', '1');
    await env.control.clearRequests();
    expect((await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(401);
    expect((await user.session()).status).toBe(401);
    expect(await env.control.requests()).toEqual([]);
  });

  it('never put a token, a session key or a cookie value in a log line', () => {
    expect(secrets.size).toBeGreaterThan(4);
    for (const line of env.gateways[0]!.lines) secrets.expectAbsent('a log line', line);
    expect(rejections().length).toBeGreaterThanOrEqual(3);
    for (const line of rejections()) expect(JSON.parse(line)).toMatchObject({ level: 'error', upstream: expect.any(String) });
  });
});
