import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type MockInstance, afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRedis, type RedisProcess } from '../../../../test/support/redis-server';
import { SessionCipher } from '../cipher/session-cipher';
import { hashUserId } from '../hashed-ids';
import type { SessionStoreOptions } from '../session-store.options';
import { describeSessionStoreBehaviour, newSessionId, newUpstream } from '../testing/session-store.behaviour';
import { RedisSessionStore, hashSessionId } from './redis-session-store';
import { connect, openStore, testKey } from '../testing/redis-test-kit';

let server: RedisProcess;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

describeSessionStoreBehaviour('RedisSessionStore', async (options) => (await openStore(server.url, options)).store);
// The gateway's default: decrypted keys kept (SESSION_KEY_CACHE_SIZE). The same rules must hold.
describeSessionStoreBehaviour(
  'RedisSessionStore with the key cache',
  async (options) => (await openStore(server.url, { ...options, keyCacheSize: 1_000 })).store,
);

const LONG: SessionStoreOptions = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 120_000, inFlightLeaseMs: 60_000 };

describe('RedisSessionStore on Redis', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  const open = async (
    keys: Buffer[] = [testKey()],
    prefix = `t${randomBytes(4).toString('hex')}:`,
  ): Promise<{ store: RedisSessionStore; redis: Redis }> => {
    const opened = await openStore(server.url, { ...LONG, keyPrefix: prefix }, keys);
    cleanups.push(() => opened.store.close());
    return opened;
  };
  const raw = async (): Promise<Redis> => {
    const redis = await connect(server.url);
    cleanups.push(async () => {
      await redis.quit();
    });
    return redis;
  };

  /** Every key and every stored byte (DUMP, plus the decoded values) under a prefix. */
  async function everything(redis: Redis, prefix: string): Promise<{ keys: string[]; text: string }> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    let text = keys.join('\n');
    for (const key of keys) {
      const dump = await redis.dumpBuffer(key);
      text += `\n${dump?.toString('latin1') ?? ''}`;
      const type = await redis.type(key);
      if (type === 'hash') text += `\n${JSON.stringify(await redis.hgetall(key))}`;
      if (type === 'zset') text += `\n${JSON.stringify(await redis.zrangebyscore(key, '-inf', '+inf', 'WITHSCORES'))}`;
      if (type === 'string') text += `\n${(await redis.get(key)) ?? ''}`;
    }
    return { keys, text };
  }

  it('never stores the cookie value, the session key, the token or the profile in clear', async () => {
    const prefix = `sec${randomBytes(4).toString('hex')}:`;
    const { store } = await open([testKey()], prefix);
    const secrets: string[] = [];
    const keepSecret = (...values: string[]): void => {
      secrets.push(...values);
    };

    const plain = newSessionId();
    const a = newUpstream();
    keepSecret(plain, a.upstream.sessionKey, a.upstream.ssoToken);
    await store.create(plain, a);
    await store.beginCall(plain, 'call-1');

    const before = newSessionId();
    const after = newSessionId();
    const b = newUpstream(null);
    keepSecret(before, after, b.upstream.sessionKey, b.upstream.ssoToken, 'pro-xapi-session_from-a002');
    const created = await store.create(before, b);
    await store.beginSessionCall(before, 'a002');
    await store.commitRole(before, after, 'a002', { businessFunction: 'X', orgIdentifier: 'Y', orgName: 'Z' }, 'pro-xapi-session_from-a002');
    await store.end(after, 'logout');
    await store.claimClose(created.upstreamId, 60_000);

    const orphan = newUpstream(null).upstream;
    keepSecret(orphan.sessionKey, orphan.ssoToken);
    await store.queueClose(orphan, 'no-roles');

    const { keys, text } = await everything(await raw(), prefix);
    expect(keys.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      expect(text.includes(secret), 'a secret was found in Redis').toBe(false);
    }
    // The profile (a person's name and identifier) is encrypted too.
    expect(text).not.toContain('Lovelace');
    expect(text).not.toContain('555020964101');
  });

  it('reads data written before a key rotation, and treats data of a dropped key as no session', async () => {
    const keyA = testKey();
    const keyB = testKey();
    const prefix = `rot${randomBytes(4).toString('hex')}:`;
    const { store: writerA } = await open([keyA], prefix);
    const id = newSessionId();
    const init = newUpstream();
    const created = await writerA.create(id, init);
    const ended = newSessionId();
    const endedSession = await writerA.create(ended, newUpstream());
    await writerA.end(ended, 'logout');

    const { store: rotated } = await open([keyB, keyA], prefix);
    expect(await rotated.get(id)).toEqual(created);
    expect(await rotated.beginCall(id, 'c1')).toMatchObject({ status: 'ok', sessionKey: init.upstream.sessionKey });
    await rotated.endCall(created.upstreamId, 'c1');

    const { store: onlyB } = await open([keyB], prefix);
    expect(await onlyB.get(id)).toBeNull();
    expect(await onlyB.beginCall(id, 'c2')).toEqual({ status: 'no-session' });
    expect(await onlyB.beginSessionCall(id, 'c3')).toBeNull();
    expect(await onlyB.commitRole(id, newSessionId(), 'c4', init.roles[0]!, 'k')).toBeNull();
    expect((await onlyB.stats()).callsInFlight).toBe(0);
    // A close it cannot read is left for an instance that can, not lost.
    expect(await onlyB.claimCloses(10, 60_000)).toEqual([]);
    const claim = await rotated.claimClose(endedSession.upstreamId, 60_000);
    expect(claim).toMatchObject({ status: 'claimed', close: { sessionKey: endedSession.upstream.sessionKey } });

    // New data written by the rotated store is readable with the new key alone.
    const fresh = newSessionId();
    await rotated.create(fresh, newUpstream());
    expect(await onlyB.get(fresh)).not.toBeNull();
  });

  describe('records bound to their cookie (a record moved, copied or edited in Redis is no session)', () => {
    const bound = async (keyCacheSize: number): Promise<{ store: RedisSessionStore; redis: Redis; prefix: string; tampered: string[] }> => {
      const prefix = `bind${randomBytes(4).toString('hex')}:`;
      const tampered: string[] = [];
      const opened = await openStore(server.url, { ...LONG, keyPrefix: prefix, keyCacheSize, onTampered: (u) => tampered.push(u) }, [testKey()]);
      cleanups.push(() => opened.store.close());
      return { ...opened, prefix, tampered };
    };
    const sessionKey = (prefix: string, id: string): string => `${prefix}S:${hashSessionId(id)}`;

    for (const keyCacheSize of [0, 100]) {
      describe(keyCacheSize === 0 ? 'key cache off' : 'key cache on', () => {
        it('found in review: a record copied to another cookie\'s key does not serve that cookie, and is dropped once', async () => {
          const { store, redis, prefix, tampered } = await bound(keyCacheSize);
          const victim = newSessionId();
          const created = await store.create(victim, newUpstream());
          expect((await store.beginCall(victim, 'v1')).status).toBe('ok');
          const attacker = newSessionId();
          await redis.copy(sessionKey(prefix, victim), sessionKey(prefix, attacker));
          expect(await store.beginCall(attacker, 'a1')).toEqual({ status: 'no-session' });
          expect(tampered).toEqual([created.upstreamId]);
          // Dropped: the next call with that cookie is plain no-session, reported no more.
          expect(await redis.exists(sessionKey(prefix, attacker))).toBe(0);
          expect(await store.beginCall(attacker, 'a2')).toEqual({ status: 'no-session' });
          expect(await store.get(attacker)).toBeNull();
          expect(tampered).toHaveLength(1);
          // The victim is untouched, and nothing of the attacker's attempt stays in flight.
          expect(await store.beginCall(victim, 'v2')).toEqual({ status: 'ok', upstreamId: created.upstreamId, sessionKey: created.upstream.sessionKey });
          expect((await store.stats()).callsInFlight).toBe(2);
        });

        it('a record moved (RENAME) to another cookie\'s key is no session there', async () => {
          const { store, redis, prefix, tampered } = await bound(keyCacheSize);
          const victim = newSessionId();
          await store.create(victim, newUpstream());
          await store.beginCall(victim, 'v1');
          const attacker = newSessionId();
          await redis.rename(sessionKey(prefix, victim), sessionKey(prefix, attacker));
          expect(await store.get(attacker)).toBeNull();
          expect(await store.beginCall(attacker, 'a1')).toEqual({ status: 'no-session' });
          expect(tampered).toHaveLength(1);
        });

        it('an absolute expiry pushed back in Redis makes the record no session', async () => {
          const { store, redis, prefix, tampered } = await bound(keyCacheSize);
          const id = newSessionId();
          const created = await store.create(id, newUpstream());
          expect((await store.beginCall(id, 'c1')).status).toBe('ok');
          await redis.hset(sessionKey(prefix, id), 'ae', String(created.absoluteExpiresAtMs + 86_400_000));
          expect(await store.beginCall(id, 'c2')).toEqual({ status: 'no-session' });
          expect(tampered).toEqual([created.upstreamId]);
        });

        it('a role flag set in Redis on a session without a role makes it no session', async () => {
          const { store, redis, prefix, tampered } = await bound(keyCacheSize);
          const id = newSessionId();
          const created = await store.create(id, newUpstream(null));
          expect(await store.beginCall(id, 'c1')).toEqual({ status: 'no-role' });
          await redis.hset(sessionKey(prefix, id), 'r', '1');
          expect(await store.beginCall(id, 'c2')).toEqual({ status: 'no-session' });
          expect(tampered).toEqual([created.upstreamId]);
        });

        it('blobs copied between two records (key and profile pieces) are refused', async () => {
          const { store, redis, prefix } = await bound(keyCacheSize);
          const victim = newSessionId();
          const attacker = newSessionId();
          await store.create(victim, newUpstream());
          await store.create(attacker, newUpstream());
          await store.beginCall(victim, 'v');
          await store.beginCall(attacker, 'a');
          const stolen = await redis.hgetallBuffer(sessionKey(prefix, victim));
          const blobs = Object.entries(stolen).filter(([field]) => /^[kp]/.test(field));
          expect(blobs.length).toBeGreaterThan(4);
          await redis.hset(sessionKey(prefix, attacker), Object.fromEntries(blobs));
          expect(await store.beginCall(attacker, 'a2')).toEqual({ status: 'no-session' });
          expect(await store.get(attacker)).toBeNull();
        });
      });
    }

    it('a record made before the binding (blob version 1) is no session, not tampering, and its close still goes out', async () => {
      const { store, redis, prefix, tampered } = await bound(0);
      const id = newSessionId();
      const created = await store.create(id, newUpstream());
      // Rewrite the record as the previous build stored it: version 1 blobs, bound to the upstream id only.
      const legacy = (store as unknown as { cipher: SessionCipher }).cipher;
      const v1 = (plaintext: string, aad: string): Buffer => {
        const blob = legacy.encrypt(plaintext, aad);
        blob[0] = 1;
        return blob;
      };
      // A version-1 blob made with the v1 associated data (the version byte is not authenticated).
      const keyBlob = v1(created.upstream.sessionKey, `ersgw/v1/${created.upstreamId}/k`);
      await redis.hset(sessionKey(prefix, id), 'kn', '1', 'k0', keyBlob);
      expect(await store.beginCall(id, 'c1')).toEqual({ status: 'no-session' });
      expect(await store.get(id)).toBeNull();
      expect(tampered).toEqual([]);
      const ended = await store.end(id, 'logout');
      expect(ended?.upstreamId).toBe(created.upstreamId);
      const claimed = await store.claimClose(created.upstreamId, 60_000);
      expect(claimed).toMatchObject({ status: 'claimed', close: { sessionKey: created.upstream.sessionKey } });
    });

    it('a close whose key was edited in Redis is dropped and reported, never sent with a wrong key', async () => {
      const { store, redis, prefix, tampered } = await bound(0);
      const id = newSessionId();
      const created = await store.create(id, newUpstream());
      await store.end(id, 'logout');
      await redis.hset(`${prefix}U:${created.upstreamId}`, 'h', hashSessionId(newSessionId()));
      expect(await store.claimClose(created.upstreamId, 60_000)).toEqual({ status: 'done' });
      expect(tampered).toEqual([created.upstreamId]);
      expect(await redis.exists(`${prefix}U:${created.upstreamId}`)).toBe(0);
    });
  });

  describe('with the key cache (keyCacheSize)', () => {
    const openCached = async (prefix = `kc${randomBytes(4).toString('hex')}:`): Promise<{ store: RedisSessionStore; redis: Redis }> => {
      const opened = await openStore(server.url, { ...LONG, keyPrefix: prefix, keyCacheSize: 100 }, [testKey()]);
      cleanups.push(() => opened.store.close());
      return opened;
    };
    const decrypts = (): MockInstance => {
      const spy = vi.spyOn(SessionCipher.prototype, 'open');
      cleanups.push(async () => spy.mockRestore());
      return spy;
    };

    it('decrypts a session key once, then serves the calls of that session without decrypting', async () => {
      const { store } = await openCached();
      const id = newSessionId();
      const created = await store.create(id, newUpstream());
      const spy = decrypts();
      for (let i = 0; i < 3; i++) {
        expect(await store.beginCall(id, `c${i}`)).toEqual({ status: 'ok', upstreamId: created.upstreamId, sessionKey: created.upstream.sessionKey });
      }
      expect(spy).toHaveBeenCalledTimes(1);
      // Off (the store's default): every call decrypts.
      const { store: uncached } = await open();
      const other = newSessionId();
      await uncached.create(other, newUpstream());
      spy.mockClear();
      for (let i = 0; i < 3; i++) expect((await uncached.beginCall(other, `d${i}`)).status).toBe('ok');
      expect(spy).toHaveBeenCalledTimes(3);
    });

    it('still refuses a key blob changed in Redis after it was cached (and drops the record)', async () => {
      const prefix = `kt${randomBytes(4).toString('hex')}:`;
      const { store } = await openCached(prefix);
      const id = newSessionId();
      const created = await store.create(id, newUpstream());
      expect((await store.beginCall(id, 'c1')).status).toBe('ok');
      const redis = await raw();
      const record = `${prefix}S:${hashSessionId(id)}`;
      const original = (await redis.hgetBuffer(record, 'k0')) as Buffer;
      const tampered = Buffer.from(original);
      tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
      await redis.hset(record, 'k0', tampered);
      const spy = decrypts();
      expect(await store.beginCall(id, 'c2')).toEqual({ status: 'no-session' });
      expect(spy).toHaveBeenCalledTimes(1);
      // A record that failed authentication is gone: restoring the bytes does not bring it back.
      await redis.hset(record, 'k0', original);
      expect(await store.beginCall(id, 'c3')).toEqual({ status: 'no-session' });
      void created;
    });

    it('refuses a cached session\'s blobs copied onto another cached session', async () => {
      const prefix = `ks${randomBytes(4).toString('hex')}:`;
      const { store } = await openCached(prefix);
      const victim = newSessionId();
      const attacker = newSessionId();
      await store.create(victim, newUpstream());
      await store.create(attacker, newUpstream());
      expect((await store.beginCall(victim, 'v')).status).toBe('ok');
      expect((await store.beginCall(attacker, 'a')).status).toBe('ok');
      const redis = await raw();
      const stolen = await redis.hgetallBuffer(`${prefix}S:${hashSessionId(victim)}`);
      await redis.hset(`${prefix}S:${hashSessionId(attacker)}`, Object.fromEntries(Object.entries(stolen).filter(([field]) => /^k/.test(field))));
      expect(await store.beginCall(attacker, 'a2')).toEqual({ status: 'no-session' });
    });

    it('drops the key of a session this instance ends', async () => {
      const { store } = await openCached();
      const a = newSessionId();
      const b = newSessionId();
      await store.create(a, newUpstream());
      await store.create(b, newUpstream());
      await store.beginCall(a, 'c1');
      await store.beginCall(b, 'c2');
      expect(store.cachedKeys).toBe(2);
      await store.end(a, 'logout');
      expect(store.cachedKeys).toBe(1);
    });
  });

  it('keeps a session in one compact hash (a listpack): no upstream record until it ends', async () => {
    const prefix = `lp${randomBytes(4).toString('hex')}:`;
    const { store } = await open([testKey()], prefix);
    const redis = await raw();
    const oldId = newSessionId();
    const newId = newSessionId();
    const created = await store.create(oldId, newUpstream(null));
    const encoding = async (id: string): Promise<unknown> => redis.object('ENCODING', `${prefix}S:${hashSessionId(id)}`);
    expect(await encoding(oldId)).toBe('listpack');
    expect(created.upstreamId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await redis.exists(`${prefix}U:${created.upstreamId}`)).toBe(0);
    expect(await redis.zscore(`${prefix}X`, hashSessionId(oldId))).not.toBeNull();

    await store.beginSessionCall(oldId, 'a002');
    // A key long enough to take three pieces (33 + 97 bytes): the hot path reads the third apart.
    const longKey = `pro-xapi-session_${'x'.repeat(80)}`;
    await store.commitRole(oldId, newId, 'a002', created.roles[0]!, longKey);
    expect(await encoding(newId)).toBe('listpack');
    // The index entry moved with the session.
    expect(await redis.zscore(`${prefix}X`, hashSessionId(oldId))).toBeNull();
    expect(await redis.zscore(`${prefix}X`, hashSessionId(newId))).not.toBeNull();
    expect(await store.beginCall(newId, 'c1')).toEqual({ status: 'ok', upstreamId: created.upstreamId, sessionKey: longKey });
    expect(await encoding(newId)).toBe('listpack');
    expect(await redis.exists(`${prefix}U:${created.upstreamId}`)).toBe(0);

    await store.end(newId, 'logout');
    expect(await redis.exists(`${prefix}S:${hashSessionId(newId)}`)).toBe(0);
    expect(await redis.object('ENCODING', `${prefix}U:${created.upstreamId}`)).toBe('listpack');
    expect(await redis.zcard(`${prefix}X`)).toBe(0);
  });

  it('round-trips blobs of one piece, and a profile too big for a listpack', async () => {
    const { store } = await open();
    const short = newSessionId();
    const init = newUpstream();
    await store.create(short, { ...init, upstream: { ...init.upstream, sessionKey: 'k' } });
    expect(await store.beginCall(short, 'c1')).toMatchObject({ status: 'ok', sessionKey: 'k' });
    const big = newSessionId();
    const roles = Array.from({ length: 150 }, (_, i) => ({ businessFunction: `BF${i}`, orgIdentifier: `O${i}`, orgName: `Org ${i}` }));
    const created = await store.create(big, { ...newUpstream(), roles, role: roles[7]! });
    expect(await store.get(big)).toEqual(created);
    expect(await store.beginCall(big, 'c2')).toMatchObject({ status: 'ok', sessionKey: created.upstream.sessionKey });
  });

  it('closes the session it replaces if a new one is ever stored under a live id', async () => {
    const { store } = await open();
    const id = newSessionId();
    const first = await store.create(id, newUpstream());
    const second = await store.create(id, newUpstream());
    expect(await store.get(id)).toEqual(second);
    expect(await store.stats()).toMatchObject({ sessions: 1, pendingCloses: 1 });
    expect(await store.claimCloses(10, 5_000)).toEqual([
      { upstreamId: first.upstreamId, sessionKey: first.upstream.sessionKey, reason: 'relogin', attempt: 1 },
    ]);
  });

  it('beginCall costs exactly one command (EVALSHA); calls ending together are cleared by one command', async () => {
    const prefix = `one${randomBytes(4).toString('hex')}:`;
    const { store, redis } = await open(undefined, prefix);
    const id = newSessionId();
    const { upstreamId } = await store.create(id, newUpstream());
    await store.beginCall(id, 'warm-up'); // the first use of a script on a connection is an EVAL
    await store.endCall(upstreamId, 'warm-up');

    const monitorSource = await raw();
    const monitor = await monitorSource.monitor();
    cleanups.push(async () => {
      monitor.disconnect();
    });
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua') seen.push(args);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));

    seen.length = 0;
    const grant = await store.beginCall(id, 'measured');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(grant.status).toBe('ok');
    expect(seen.map((args) => args[0]?.toLowerCase())).toEqual(['evalsha']);

    const others = await Promise.all(['b', 'c'].map(async (name) => (await store.beginCall(id, name), name)));
    expect(await redis.zcard(`${prefix}F:${upstreamId}`)).toBe(3);
    // MONITOR lines come on their own connection and can trail the replies: let those of the two
    // beginCalls arrive before counting afresh (under load they came after the reset).
    await new Promise((resolve) => setTimeout(resolve, 150));
    seen.length = 0;
    await Promise.all([store.endCall(upstreamId, 'measured'), ...others.map((name) => store.endCall(upstreamId, name))]);
    expect(await redis.zcard(`${prefix}F:${upstreamId}`)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 150));
    // The test's own ZCARDs aside, the three marks went in one EVALSHA.
    expect(seen.map((args) => args[0]?.toLowerCase()).filter((name) => name !== 'zcard')).toEqual(['evalsha']);
  });

  it('still ends and closes a session whose idle and absolute expiry both passed while no instance ran', async () => {
    const prefix = `late${randomBytes(4).toString('hex')}:`;
    // Expiries in ms, the rest as deployed: the record must outlive its absolute expiry by the
    // close retention, so the sweeper of the first instance to come back still finds its key.
    const opened = await openStore(server.url, { ...LONG, idleTimeoutMs: 200, absoluteTimeoutMs: 400, keyPrefix: prefix });
    cleanups.push(() => opened.store.close());
    const { store } = opened;
    const redis = await raw();
    const id = newSessionId();
    const created = await store.create(id, newUpstream());
    const key = `${prefix}S:${hashSessionId(id)}`;
    const retentionMs = 400 + 7 * 24 * 3600 * 1000;
    expect(Number(await redis.call('PEXPIRETIME', key))).toBe(created.absoluteExpiresAtMs + retentionMs);
    await new Promise((resolve) => setTimeout(resolve, 550)); // no sweeper: nothing runs
    expect(await store.get(id)).toBeNull();
    expect(await redis.exists(key)).toBe(1);
    expect(await store.sweepExpired(10)).toEqual([{ upstreamId: created.upstreamId, reason: 'absolute-timeout' }]);
    expect(await redis.exists(key)).toBe(0);
    expect(await store.claimCloses(10, 5_000)).toEqual([
      { upstreamId: created.upstreamId, sessionKey: created.upstream.sessionKey, reason: 'absolute-timeout', attempt: 1 },
    ]);
  });

  it('drops the index entry of a session record Redis lost, counts it, and sweeps the others', async () => {
    const prefix = `gone${randomBytes(4).toString('hex')}:`;
    const lost: number[] = [];
    const opened = await openStore(server.url, {
      ...LONG,
      idleTimeoutMs: 200,
      keyPrefix: prefix,
      onLostSessions: (count) => lost.push(count),
    });
    cleanups.push(() => opened.store.close());
    const { store } = opened;
    const redis = await raw();
    const deleted = newSessionId();
    await store.create(deleted, newUpstream());
    const kept = await Promise.all([newSessionId(), newSessionId()].map((id) => store.create(id, newUpstream())));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await redis.del(`${prefix}S:${hashSessionId(deleted)}`)).toBe(1);
    const ended = await store.sweepExpired(10);
    expect(ended.map((e) => e.upstreamId).sort()).toEqual(kept.map((k) => k.upstreamId).sort());
    expect(lost).toEqual([1]);
    expect(await redis.zcard(`${prefix}X`)).toBe(0);
    expect(await store.sweepExpired(10)).toEqual([]);
    expect(lost).toEqual([1]);
    expect((await store.claimCloses(10, 5_000)).map((c) => c.upstreamId).sort()).toEqual(kept.map((k) => k.upstreamId).sort());
  });

  it('writes its key prefix into the hot-path script safely, whatever the prefix holds', async () => {
    const prefix = `we"ird\\]]..${randomBytes(4).toString('hex')}'\n:`;
    const opened = await openStore(server.url, { ...LONG, keyPrefix: prefix });
    cleanups.push(() => opened.store.close());
    const id = newSessionId();
    const created = await opened.store.create(id, newUpstream());
    expect((await opened.store.beginCall(id, 'mark-1')).status).toBe('ok');
    expect(await (await raw()).zscore(`${prefix}F:${created.upstreamId}`, 'mark-1')).not.toBeNull();
  });

  it('reads back the chosen role whether or not it is one of the roles (stored as an index when it is)', async () => {
    const prefix = `role${randomBytes(4).toString('hex')}:`;
    const { store } = await open([testKey()], prefix);
    const listed = newUpstream();
    const listedId = newSessionId();
    await store.create(listedId, listed);
    const outside = { businessFunction: 'OTHER', orgIdentifier: 'Q01', orgName: 'Elsewhere' };
    const outsideId = newSessionId();
    await store.create(outsideId, { ...newUpstream(), role: outside });
    expect((await store.get(listedId))?.role).toEqual(listed.role);
    expect((await store.get(outsideId))?.role).toEqual(outside);
    // The index is smaller than a copy: the record with the listed role has the shorter profile.
    const redis = await raw();
    const bytes = async (id: string): Promise<number> => {
      const record = await redis.hgetallBuffer(`${prefix}S:${hashSessionId(id)}`);
      let total = 0;
      for (let i = 0; i < Number(record.pn?.toString()); i++) total += record[`p${i}`]?.length ?? 0;
      return total;
    };
    expect(await bytes(listedId)).toBeLessThan((await bytes(outsideId)) - 40);
  });

  it('works when Redis lost its script cache (EVALSHA falls back to EVAL)', async () => {
    const { store } = await open();
    const id = newSessionId();
    await store.create(id, newUpstream());
    const redis = await raw();
    await redis.script('FLUSH');
    const grant = await store.beginCall(id, 'c');
    expect(grant.status).toBe('ok');
    expect((await store.stats()).callsInFlight).toBe(1);
    // The batched end-calls command too (it is sent by the store, not through ioredis's scripts).
    await redis.script('FLUSH');
    await store.endCall(grant.status === 'ok' ? grant.upstreamId : '', 'c');
    expect((await store.stats()).callsInFlight).toBe(0);
  });

  it('keeps the time of Redis, not of the instance: expiries come from Redis TIME', async () => {
    const { store } = await open();
    const redis = await raw();
    const [seconds, micros] = await redis.time();
    const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const created = await store.create(newSessionId(), newUpstream());
    expect(Math.abs(created.createdAtMs - redisNow)).toBeLessThan(500);
  });

  it('close() leaves a connection it does not own open', async () => {
    const redis = await raw();
    const store = new RedisSessionStore(redis, new SessionCipher([testKey()]), { ...LONG });
    await store.close();
    expect(await redis.ping()).toBe('PONG');
  });
});

describe('the per-user index in Redis', () => {
  const opened: { store: RedisSessionStore; redis: Redis }[] = [];
  afterEach(async () => {
    for (const { store } of opened.splice(0)) await store.close();
  });
  const open = async (options: Partial<SessionStoreOptions> = {}) => {
    const prefix = `pu${randomBytes(4).toString('hex')}:`;
    const made = await openStore(server.url, { ...LONG, ...options, keyPrefix: prefix });
    opened.push(made);
    return { ...made, index: `${prefix}N:${hashUserId('555020964101')}`, prefix };
  };

  it('is filed under a hash of the user id with a TTL, and emptied by the sweeper', async () => {
    const { store, redis, index, prefix } = await open({ idleTimeoutMs: 300 });
    const id = newSessionId();
    await store.create(id, newUpstream());
    expect(await redis.zrange(index, '0', '-1')).toEqual([hashSessionId(id)]);
    expect(await redis.pttl(index)).toBeGreaterThan(LONG.absoluteTimeoutMs);
    expect((await redis.keys(`${prefix}*`)).join()).not.toContain('555020964101');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await store.sweepExpired(10)).toHaveLength(1);
    expect(await redis.exists(index)).toBe(0);
  });

  it('drops the entry of a record Redis lost when the index is next read, and does not count it', async () => {
    const { store, redis, index, prefix } = await open({ maxSessionsPerUser: 1 });
    const lost = newSessionId();
    await store.create(lost, newUpstream());
    await redis.del(`${prefix}S:${hashSessionId(lost)}`);
    expect(await store.listUserSessions('555020964101')).toEqual([]);
    expect(await redis.exists(index)).toBe(0);
    // Lost again, then a new sign-in at a limit of 1: nothing to end, nothing queued.
    await store.create(newSessionId(), newUpstream());
    await redis.del((await redis.keys(`${prefix}S:*`))[0] ?? '');
    const next = await store.create(newSessionId(), newUpstream());
    expect(next.displaced).toBeUndefined();
    expect((await store.stats()).pendingCloses).toBe(0);
  });

  it('ends only the named user\'s session: a hashed id of another user\'s session is refused', async () => {
    const { store } = await open();
    const bobs = newSessionId();
    await store.create(bobs, newUpstream(null, '555020964102'));
    expect(await store.endUserSession('555020964101', hashSessionId(bobs), 'admin')).toBeNull();
    expect(await store.get(bobs)).not.toBeNull();
  });
});
