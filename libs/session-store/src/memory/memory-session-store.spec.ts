import { describe, expect, it } from 'vitest';
import { describeSessionStoreBehaviour, newSessionId, newUpstream } from '../testing/session-store.behaviour';
import { MemorySessionStore } from './memory-session-store';

describeSessionStoreBehaviour('MemorySessionStore', async (options) => new MemorySessionStore(options));

describe('MemorySessionStore with an injected clock', () => {
  it('expires by the clock it was given', async () => {
    let now = 1_000_000;
    const store = new MemorySessionStore({
      idleTimeoutMs: 1_000,
      absoluteTimeoutMs: 5_000,
      inFlightLeaseMs: 500,
      now: () => now,
    });
    const id = newSessionId();
    const created = await store.create(id, newUpstream());
    expect(created.createdAtMs).toBe(1_000_000);
    now += 999;
    expect((await store.beginCall(id, 'c')).status).toBe('ok');
    expect((await store.get(id))?.idleExpiresAtMs).toBe(1_001_999);
    now += 1_000;
    expect(await store.get(id)).toBeNull();
    expect(await store.sweepExpired(10)).toEqual([{ upstreamId: created.upstreamId, reason: 'idle-timeout' }]);
  });

  it('hands out copies, so a caller cannot change what it stored', async () => {
    const store = new MemorySessionStore({ idleTimeoutMs: 1_000, absoluteTimeoutMs: 5_000, inFlightLeaseMs: 500 });
    const id = newSessionId();
    const created = await store.create(id, newUpstream());
    created.user.firstName = 'Mallory';
    created.upstream.sessionKey = 'changed';
    const read = await store.get(id);
    expect(read?.user.firstName).toBe('Ada');
    expect(read?.upstream.sessionKey).not.toBe('changed');
  });
});
