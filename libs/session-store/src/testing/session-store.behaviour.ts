import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { hashSessionId } from '../hashed-ids';
import type { SessionStoreOptions } from '../session-store.options';
import type { GatewayRole, NewGatewaySession, SessionStore } from '../session-store.port';

/** Makes a fresh, empty store with these timeouts; the suite closes it after each test. */
export type SessionStoreFactory = (options: SessionStoreOptions) => Promise<SessionStore>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Timeouts long enough that nothing expires during a test that is not about expiry. */
const LONG: SessionStoreOptions = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 120_000, inFlightLeaseMs: 60_000 };

const CLINICIAN: GatewayRole = { businessFunction: 'REFERRING_CLINICIAN', orgIdentifier: 'R01', orgName: ' Leeds GP' };
const ADMIN: GatewayRole = { businessFunction: 'REFERRING_ADMIN', orgIdentifier: 'R02', orgName: 'Admin Org' };

export const newSessionId = (): string => randomBytes(24).toString('base64url');

let keyCounter = 0;
/** A distinct fake e-RS session, its secrets recognisable so the Redis tests can search for them. */
export function newUpstream(role: GatewayRole | null = CLINICIAN, identifier = '555020964101'): NewGatewaySession {
  keyCounter += 1;
  return {
    upstream: {
      sessionKey: `pro-xapi-session_${randomUUID()}-${keyCounter}`,
      ssoToken: `AQIC5wM2LY4Sfcyw${randomBytes(12).toString('hex')}=@AAJTSQACMDE=#`,
    },
    user: { identifier, firstName: 'Ada', lastName: 'Lovelace', middleName: null },
    roles: [CLINICIAN, ADMIN],
    role,
  };
}

/**
 * The rules every {@link SessionStore} must keep, run against the in-memory store (unit) and
 * against Redis (system). Expiry uses real sleeps: Redis `TIME` cannot be faked.
 */
export function describeSessionStoreBehaviour(name: string, factory: SessionStoreFactory): void {
  describe(`SessionStore behaviour: ${name}`, () => {
    const opened: SessionStore[] = [];
    const open = async (options: Partial<SessionStoreOptions> = {}): Promise<SessionStore> => {
      const store = await factory({ ...LONG, ...options });
      opened.push(store);
      return store;
    };

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    describe('create and get', () => {
      it('round-trips a session, its secrets included, with expiries from the timeouts', async () => {
        const store = await open();
        const id = newSessionId();
        const init = newUpstream();
        const created = await store.create(id, init);
        expect(created.upstream).toEqual(init.upstream);
        expect(created.idleExpiresAtMs - created.createdAtMs).toBe(LONG.idleTimeoutMs);
        expect(created.absoluteExpiresAtMs - created.createdAtMs).toBe(LONG.absoluteTimeoutMs);
        expect(Math.abs(created.createdAtMs - Date.now())).toBeLessThan(1_000);

        const read = await store.get(id);
        expect(read).toEqual(created);
        expect(read).toMatchObject({ user: init.user, roles: init.roles, role: init.role, upstream: init.upstream });
      });

      it('keeps a null role and the upstream id the store chose', async () => {
        const store = await open();
        const a = await store.create(newSessionId(), newUpstream(null));
        const b = await store.create(newSessionId(), newUpstream(null));
        expect(a.role).toBeNull();
        expect(a.upstreamId).not.toBe(b.upstreamId);
        expect(a.upstreamId).not.toBe(a.upstream.sessionKey);
      });

      it('answers null for an id it never issued', async () => {
        const store = await open();
        await store.create(newSessionId(), newUpstream());
        expect(await store.get(newSessionId())).toBeNull();
      });

      it('takes a given absolute expiry (role switch) and clamps the idle expiry to it', async () => {
        const store = await open();
        const first = await store.create(newSessionId(), newUpstream());
        const soon = first.createdAtMs + 5_000;
        const second = await store.create(newSessionId(), { ...newUpstream(null), absoluteExpiresAtMs: soon });
        expect(second.absoluteExpiresAtMs).toBe(soon);
        expect(second.idleExpiresAtMs).toBe(soon);
      });

      it('does not slide the idle timeout on get', async () => {
        const store = await open({ idleTimeoutMs: 600 });
        const id = newSessionId();
        const created = await store.create(id, newUpstream());
        await sleep(350);
        expect((await store.get(id))?.idleExpiresAtMs).toBe(created.idleExpiresAtMs);
        await sleep(400);
        expect(await store.get(id)).toBeNull();
      });
    });

    describe('beginCall', () => {
      it('grants the upstream id and session key of a live session with a role', async () => {
        const store = await open();
        const id = newSessionId();
        const created = await store.create(id, newUpstream());
        expect(await store.beginCall(id, 'call-1')).toEqual({
          status: 'ok',
          upstreamId: created.upstreamId,
          sessionKey: created.upstream.sessionKey,
        });
      });

      it('slides the idle timeout, but never past the absolute expiry', async () => {
        const store = await open({ idleTimeoutMs: 600, absoluteTimeoutMs: 1_500 });
        const id = newSessionId();
        const created = await store.create(id, newUpstream());
        await sleep(300);
        expect((await store.beginCall(id, 'c1')).status).toBe('ok');
        const slid = await store.get(id);
        expect(slid?.idleExpiresAtMs).toBeGreaterThan(created.idleExpiresAtMs);
        await sleep(400); // 700 ms: past the first idle expiry, alive only because it slid
        expect((await store.beginCall(id, 'c2')).status).toBe('ok');
        await sleep(400); // 1100 ms: a slide now would reach past the absolute expiry
        expect((await store.beginCall(id, 'c3')).status).toBe('ok');
        const clamped = await store.get(id);
        expect(clamped?.idleExpiresAtMs).toBe(created.absoluteExpiresAtMs);
        expect(clamped?.absoluteExpiresAtMs).toBe(created.absoluteExpiresAtMs);
        await sleep(created.absoluteExpiresAtMs - Date.now() + 100);
        expect(await store.get(id)).toBeNull();
        expect(await store.beginCall(id, 'c4')).toEqual({ status: 'no-session' });
      });

      it('answers no-role before a role is selected, without sliding or marking', async () => {
        const store = await open();
        const id = newSessionId();
        const created = await store.create(id, newUpstream(null));
        expect(await store.beginCall(id, 'c1')).toEqual({ status: 'no-role' });
        expect((await store.get(id))?.idleExpiresAtMs).toBe(created.idleExpiresAtMs);
        expect((await store.stats()).callsInFlight).toBe(0);
      });

      it('answers no-session for an unknown id', async () => {
        const store = await open();
        expect(await store.beginCall(newSessionId(), 'c1')).toEqual({ status: 'no-session' });
        expect(await store.beginSessionCall(newSessionId(), 'c1')).toBeNull();
      });

      it('marks the call in flight until endCall; endCall is idempotent', async () => {
        const store = await open();
        const id = newSessionId();
        const { upstreamId } = await store.create(id, newUpstream());
        await store.beginCall(id, 'c1');
        await store.beginCall(id, 'c2');
        expect((await store.stats()).callsInFlight).toBe(2);
        await store.endCall(upstreamId, 'c1');
        await store.endCall(upstreamId, 'c1');
        expect((await store.stats()).callsInFlight).toBe(1);
        await store.endCall(upstreamId, 'c2');
        await store.endCall('no-such-upstream', 'c9');
        expect((await store.stats()).callsInFlight).toBe(0);
      });
    });

    describe('calls per session (maxCallsPerSession)', () => {
      it('refuses the call past the cap, without sliding or marking, and takes one again when a call ends', async () => {
        const store = await open({ maxCallsPerSession: 3 });
        const id = newSessionId();
        const { upstreamId } = await store.create(id, newUpstream());
        for (const callId of ['c1', 'c2', 'c3']) expect((await store.beginCall(id, callId)).status).toBe('ok');
        const before = await store.get(id);
        expect(await store.beginCall(id, 'c4')).toEqual({ status: 'too-many-calls' });
        expect((await store.get(id))?.idleExpiresAtMs).toBe(before?.idleExpiresAtMs);
        expect((await store.stats()).callsInFlight).toBe(3);
        await store.endCall(upstreamId, 'c2');
        expect((await store.beginCall(id, 'c5')).status).toBe('ok');
        expect(await store.beginCall(id, 'c6')).toEqual({ status: 'too-many-calls' });
      });

      it('counts per session: another session is not affected', async () => {
        const store = await open({ maxCallsPerSession: 1 });
        const a = newSessionId();
        const b = newSessionId();
        await store.create(a, newUpstream());
        await store.create(b, newUpstream());
        expect((await store.beginCall(a, 'a1')).status).toBe('ok');
        expect((await store.beginCall(a, 'a2')).status).toBe('too-many-calls');
        expect((await store.beginCall(b, 'b1')).status).toBe('ok');
      });

      it('does not count marks whose lease ran out (their instance died)', async () => {
        const store = await open({ maxCallsPerSession: 2, inFlightLeaseMs: 300 });
        const id = newSessionId();
        await store.create(id, newUpstream());
        await store.beginCall(id, 'dead-1');
        await store.beginCall(id, 'dead-2');
        expect((await store.beginCall(id, 'c3')).status).toBe('too-many-calls');
        await sleep(400);
        expect((await store.beginCall(id, 'c4')).status).toBe('ok');
      });
    });

    describe('login throttling', () => {
      const limits = { tokenFailures: 3, tokenWindowMs: 60_000, addressLimit: 5, addressWindowMs: 60_000 };
      const address = (): string => `10.${randomBytes(3).join('.')}`;
      const token = (): string => randomBytes(32).toString('base64url');

      it('admits logins up to the address limit, then refuses with the time left in the window', async () => {
        const store = await open();
        const from = address();
        for (let i = 0; i < 5; i++) {
          const admitted = await store.admitLogin(from, token(), limits);
          expect(admitted).toEqual({ status: 'admitted' });
        }
        const refused = await store.admitLogin(from, token(), limits);
        expect(refused).toMatchObject({ status: 'limited', by: 'address' });
        expect(refused.status === 'limited' && refused.retryAfterMs > 59_000 && refused.retryAfterMs <= 60_000).toBe(true);
        // Another address is not affected.
        expect(await store.admitLogin(address(), token(), limits)).toEqual({ status: 'admitted' });
      });

      it('counts a token\'s failures: refused A001s keep theirs, others give them back', async () => {
        const store = await open();
        const bad = token();
        for (let i = 0; i < 3; i++) {
          expect((await store.admitLogin(address(), bad, limits)).status).toBe('admitted');
          await store.settleLogin(bad, true);
        }
        expect(await store.admitLogin(address(), bad, limits)).toMatchObject({ status: 'limited', by: 'token' });
        const good = token();
        for (let i = 0; i < 10; i++) {
          expect((await store.admitLogin(`${address()}`, good, limits)).status).toBe('admitted');
          await store.settleLogin(good, false);
        }
      });

      it('reserves a failure per attempt, so attempts in flight together cannot pass the token limit', async () => {
        const store = await open();
        const bad = token();
        const attempts = await Promise.all(Array.from({ length: 10 }, () => store.admitLogin(address(), bad, limits)));
        expect(attempts.filter((attempt) => attempt.status === 'admitted')).toHaveLength(3);
      });

      it('starts a new window when the old one has run out', async () => {
        const store = await open();
        const short = { ...limits, addressLimit: 1, addressWindowMs: 300 };
        const from = address();
        expect((await store.admitLogin(from, token(), short)).status).toBe('admitted');
        expect((await store.admitLogin(from, token(), short)).status).toBe('limited');
        await sleep(400);
        expect((await store.admitLogin(from, token(), short)).status).toBe('admitted');
      });
    });

    describe('expiry', () => {
      it('ends a session after the idle timeout: no-session everywhere', async () => {
        const store = await open({ idleTimeoutMs: 600 });
        const id = newSessionId();
        await store.create(id, newUpstream());
        await sleep(750);
        expect(await store.get(id)).toBeNull();
        expect(await store.beginCall(id, 'c1')).toEqual({ status: 'no-session' });
        expect(await store.beginSessionCall(id, 'c1')).toBeNull();
      });

      it('ends a session at its absolute expiry even while it is in use', async () => {
        const store = await open({ idleTimeoutMs: 400, absoluteTimeoutMs: 700 });
        const id = newSessionId();
        await store.create(id, newUpstream());
        for (let i = 0; i < 3; i++) {
          await sleep(200);
          expect((await store.beginCall(id, `c${i}`)).status).toBe('ok');
        }
        await sleep(250); // 850 ms: idle would still run (slid at 600), absolute has passed
        expect(await store.get(id)).toBeNull();
        expect(await store.beginCall(id, 'late')).toEqual({ status: 'no-session' });
      });
    });

    describe('beginSessionCall and commitRole', () => {
      it('beginSessionCall returns the whole session without a role, marks in flight, does not slide', async () => {
        const store = await open();
        const id = newSessionId();
        const created = await store.create(id, newUpstream(null));
        await sleep(20);
        expect(await store.beginSessionCall(id, 'a002')).toEqual(created);
        expect((await store.get(id))?.idleExpiresAtMs).toBe(created.idleExpiresAtMs);
        expect((await store.stats()).callsInFlight).toBe(1);
      });

      it('moves the session to a new id with the role and the new key; the old id dies at once', async () => {
        const store = await open();
        const oldId = newSessionId();
        const newId = newSessionId();
        const created = await store.create(oldId, newUpstream(null));
        await store.beginSessionCall(oldId, 'a002');
        const committed = await store.commitRole(oldId, newId, 'a002', CLINICIAN, 'pro-xapi-session_after-a002');
        expect(committed).toEqual({
          ...created,
          role: CLINICIAN,
          upstream: { sessionKey: 'pro-xapi-session_after-a002', ssoToken: created.upstream.ssoToken },
        });
        expect(await store.get(oldId)).toBeNull();
        expect(await store.beginCall(oldId, 'x')).toEqual({ status: 'no-session' });
        expect(await store.get(newId)).toEqual(committed);
        expect(await store.beginCall(newId, 'c1')).toEqual({
          status: 'ok',
          upstreamId: created.upstreamId,
          sessionKey: 'pro-xapi-session_after-a002',
        });
        await store.endCall(created.upstreamId, 'c1');
        expect((await store.stats()).callsInFlight).toBe(0);

        // The close of the upstream session uses the key A002 answered with.
        await store.end(newId, 'logout');
        const [close] = await store.claimCloses(10, 5_000);
        expect(close?.sessionKey).toBe('pro-xapi-session_after-a002');
      });

      it('returns null after the session ended meanwhile, and clears the mark', async () => {
        const store = await open();
        const oldId = newSessionId();
        const { upstreamId } = await store.create(oldId, newUpstream(null));
        await store.beginSessionCall(oldId, 'a002');
        await store.end(oldId, 'logout');
        expect(await store.commitRole(oldId, newSessionId(), 'a002', CLINICIAN, 'k2')).toBeNull();
        expect((await store.stats()).callsInFlight).toBe(0);
        expect((await store.claimClose(upstreamId, 5_000)).status).toBe('claimed');
      });

      it('returns null for an expired session and does not revive it', async () => {
        const store = await open({ idleTimeoutMs: 400 });
        const oldId = newSessionId();
        const newId = newSessionId();
        await store.create(oldId, newUpstream(null));
        await store.beginSessionCall(oldId, 'a002');
        await sleep(500);
        expect(await store.commitRole(oldId, newId, 'a002', CLINICIAN, 'k2')).toBeNull();
        expect(await store.get(newId)).toBeNull();
        expect((await store.stats()).callsInFlight).toBe(0);
      });
    });

    describe('end and closes', () => {
      it('ends a session at once and queues one close; a second end answers null', async () => {
        const store = await open();
        const id = newSessionId();
        const created = await store.create(id, newUpstream());
        expect(await store.end(id, 'logout')).toEqual({ upstreamId: created.upstreamId, reason: 'logout' });
        expect(await store.get(id)).toBeNull();
        expect(await store.beginCall(id, 'c')).toEqual({ status: 'no-session' });
        expect(await store.end(id, 'logout')).toBeNull();
        expect(await store.stats()).toMatchObject({ sessions: 0, pendingCloses: 1 });
        expect(await store.claimCloses(10, 5_000)).toEqual([
          { upstreamId: created.upstreamId, sessionKey: created.upstream.sessionKey, reason: 'logout', attempt: 1 },
        ]);
      });

      it('records the timeout as the reason when ending a session that had already expired', async () => {
        const store = await open({ idleTimeoutMs: 300 });
        const id = newSessionId();
        const { upstreamId } = await store.create(id, newUpstream());
        await sleep(400);
        expect(await store.end(id, 'logout')).toEqual({ upstreamId, reason: 'idle-timeout' });
        expect(await store.sweepExpired(10)).toEqual([]);
        expect(await store.claimCloses(10, 5_000)).toHaveLength(1);
      });

      it('holds a close while a call is in flight and releases it right after endCall', async () => {
        const store = await open();
        const id = newSessionId();
        const { upstreamId } = await store.create(id, newUpstream());
        expect((await store.beginCall(id, 'slow-call')).status).toBe('ok');
        await store.end(id, 'logout');
        expect(await store.claimCloses(10, 5_000)).toEqual([]);
        expect(await store.claimClose(upstreamId, 5_000)).toEqual({ status: 'in-flight' });
        await store.endCall(upstreamId, 'slow-call');
        const claimed = await store.claimCloses(10, 5_000);
        expect(claimed.map((c) => c.upstreamId)).toEqual([upstreamId]);
      });

      it('holds a close for a session-management call in flight too', async () => {
        const store = await open();
        const id = newSessionId();
        const { upstreamId } = await store.create(id, newUpstream(null));
        await store.beginSessionCall(id, 'a002');
        await store.end(id, 'logout');
        expect(await store.claimClose(upstreamId, 5_000)).toEqual({ status: 'in-flight' });
        await store.endCall(upstreamId, 'a002');
        expect((await store.claimClose(upstreamId, 5_000)).status).toBe('claimed');
      });

      it('lets a close go once the in-flight lease of a dead instance runs out', async () => {
        const store = await open({ inFlightLeaseMs: 400 });
        const id = newSessionId();
        const { upstreamId } = await store.create(id, newUpstream());
        await store.beginCall(id, 'call-of-a-dead-instance');
        await store.end(id, 'logout');
        expect(await store.claimClose(upstreamId, 5_000)).toEqual({ status: 'in-flight' });
        await sleep(500);
        expect((await store.stats()).callsInFlight).toBe(0);
        expect((await store.claimCloses(10, 5_000)).map((c) => c.upstreamId)).toEqual([upstreamId]);
      });

      it('does not give a claimed close to a second claimer until its lease runs out', async () => {
        const store = await open();
        const id = newSessionId();
        const { upstreamId } = await store.create(id, newUpstream());
        await store.end(id, 'logout');
        const [first] = await store.claimCloses(10, 400);
        expect(first).toMatchObject({ upstreamId, attempt: 1 });
        expect(await store.claimCloses(10, 400)).toEqual([]);
        expect(await store.claimClose(upstreamId, 400)).toEqual({ status: 'claimed-elsewhere' });
        await sleep(500);
        const [again] = await store.claimCloses(10, 400);
        expect(again).toMatchObject({ upstreamId, attempt: 2, reason: 'logout' });
      });

      it('makes a released close due again after the retry delay', async () => {
        const store = await open();
        const id = newSessionId();
        const { upstreamId } = await store.create(id, newUpstream());
        await store.end(id, 'session-expired');
        await store.claimCloses(10, 60_000);
        await store.releaseClose(upstreamId, 500);
        expect(await store.claimCloses(10, 60_000)).toEqual([]);
        await sleep(600);
        const [retry] = await store.claimCloses(10, 60_000);
        expect(retry).toMatchObject({ upstreamId, attempt: 2, reason: 'session-expired' });
      });

      it('forgets a completed close', async () => {
        const store = await open();
        const id = newSessionId();
        const { upstreamId } = await store.create(id, newUpstream());
        await store.end(id, 'logout');
        await store.claimCloses(10, 5_000);
        await store.completeClose(upstreamId);
        expect(await store.claimClose(upstreamId, 5_000)).toEqual({ status: 'done' });
        expect(await store.claimCloses(10, 5_000)).toEqual([]);
        expect(await store.stats()).toEqual({ sessions: 0, pendingCloses: 0, callsInFlight: 0 });
        await store.releaseClose(upstreamId, 0);
        expect(await store.claimCloses(10, 5_000)).toEqual([]);
      });

      it('claimClose answers claimed with the close, and done for an unknown id', async () => {
        const store = await open();
        const id = newSessionId();
        const created = await store.create(id, newUpstream());
        await store.end(id, 'role-switch');
        expect(await store.claimClose(created.upstreamId, 5_000)).toEqual({
          status: 'claimed',
          close: { upstreamId: created.upstreamId, sessionKey: created.upstream.sessionKey, reason: 'role-switch', attempt: 1 },
        });
        expect(await store.claimClose(randomUUID(), 5_000)).toEqual({ status: 'done' });
      });

      it('queues the close of an upstream session that has no gateway session', async () => {
        const store = await open();
        const { upstream } = newUpstream(null);
        const ended = await store.queueClose(upstream, 'no-roles');
        expect(ended.reason).toBe('no-roles');
        expect(await store.stats()).toMatchObject({ sessions: 0, pendingCloses: 1 });
        expect(await store.claimCloses(10, 5_000)).toEqual([
          { upstreamId: ended.upstreamId, sessionKey: upstream.sessionKey, reason: 'no-roles', attempt: 1 },
        ]);
      });

      it('claims at most `limit` closes per call', async () => {
        const store = await open();
        for (let i = 0; i < 5; i++) await store.queueClose(newUpstream().upstream, 'logout');
        expect(await store.claimCloses(3, 5_000)).toHaveLength(3);
        expect(await store.claimCloses(3, 5_000)).toHaveLength(2);
        expect(await store.claimCloses(3, 5_000)).toHaveLength(0);
      });
    });

    describe('sweepExpired', () => {
      it('ends idle-expired sessions with idle-timeout, queues one close each, spares a slid one', async () => {
        const store = await open({ idleTimeoutMs: 500 });
        const idle = newSessionId();
        const busy = newSessionId();
        const a = await store.create(idle, newUpstream());
        const b = await store.create(busy, newUpstream());
        await sleep(300);
        const grant = await store.beginCall(busy, 'c1');
        expect(grant.status).toBe('ok');
        await store.endCall(b.upstreamId, 'c1');
        await sleep(300); // idle: 600 ms since use; busy: 300 ms
        expect(await store.sweepExpired(100)).toEqual([{ upstreamId: a.upstreamId, reason: 'idle-timeout' }]);
        expect(await store.sweepExpired(100)).toEqual([]);
        expect(await store.get(busy)).not.toBeNull();
        const closes = await store.claimCloses(10, 5_000);
        expect(closes).toEqual([
          { upstreamId: a.upstreamId, sessionKey: a.upstream.sessionKey, reason: 'idle-timeout', attempt: 1 },
        ]);
        expect(await store.end(idle, 'logout')).toBeNull();
      });

      it('ends absolute-expired sessions with absolute-timeout', async () => {
        const store = await open({ idleTimeoutMs: 10_000, absoluteTimeoutMs: 400 });
        const id = newSessionId();
        const { upstreamId } = await store.create(id, newUpstream());
        expect(await store.sweepExpired(100)).toEqual([]);
        await sleep(500);
        expect(await store.sweepExpired(100)).toEqual([{ upstreamId, reason: 'absolute-timeout' }]);
        expect((await store.claimCloses(10, 5_000)).map((c) => c.reason)).toEqual(['absolute-timeout']);
      });

      it('ends at most `limit` sessions per call', async () => {
        const store = await open({ idleTimeoutMs: 200 });
        for (let i = 0; i < 5; i++) await store.create(newSessionId(), newUpstream());
        await sleep(300);
        expect(await store.sweepExpired(3)).toHaveLength(3);
        expect(await store.sweepExpired(3)).toHaveLength(2);
        expect(await store.stats()).toMatchObject({ sessions: 0, pendingCloses: 5 });
      });
    });

    describe('operations', () => {
      it('answers ping', async () => {
        const store = await open();
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('counts live sessions, queued closes and calls in flight', async () => {
        const store = await open();
        const ids = [newSessionId(), newSessionId(), newSessionId()];
        for (const id of ids) await store.create(id, newUpstream());
        await store.beginCall(ids[0] ?? '', 'c1');
        await store.beginCall(ids[1] ?? '', 'c2');
        await store.end(ids[2] ?? '', 'logout');
        expect(await store.stats()).toEqual({ sessions: 2, pendingCloses: 1, callsInFlight: 2 });
      });
    });

    describe('per-user sessions', () => {
      const ADA = '555020964101';
      const BOB = '555020964102';
      /** Creates sessions one after another (distinct creation times), returning their ids. */
      const signIn = async (store: SessionStore, identifier: string, count: number, role: GatewayRole | null = CLINICIAN) => {
        const made: { id: string; upstreamId: string; createdAtMs: number }[] = [];
        for (let i = 0; i < count; i++) {
          const id = newSessionId();
          const created = await store.create(id, newUpstream(role, identifier));
          made.push({ id, upstreamId: created.upstreamId, createdAtMs: created.createdAtMs });
          await sleep(3);
        }
        return made;
      };

      it("lists only the user's live sessions, oldest first, by hashed id, with no secret", async () => {
        const store = await open();
        const [first, second] = await signIn(store, ADA, 2);
        const noRole = (await signIn(store, ADA, 1, null))[0];
        await signIn(store, BOB, 1);
        const listed = await store.listUserSessions(ADA);
        expect(listed.map((s) => s.hashedId)).toEqual([first, second, noRole].map((s) => hashSessionId(s?.id ?? '')));
        expect(listed[0]).toEqual({
          hashedId: hashSessionId(first?.id ?? ''),
          role: CLINICIAN,
          createdAtMs: first?.createdAtMs,
          lastSeenAtMs: first?.createdAtMs,
          idleExpiresAtMs: (first?.createdAtMs ?? 0) + LONG.idleTimeoutMs,
          absoluteExpiresAtMs: (first?.createdAtMs ?? 0) + LONG.absoluteTimeoutMs,
        });
        expect(listed[2]?.role).toBeNull();
        expect(await store.listUserSessions('555020964199')).toEqual([]);
      });

      it('moves last seen on a proxied call, and follows a role choice to the new id keeping its creation time', async () => {
        const store = await open();
        const [one] = await signIn(store, ADA, 1, null);
        const oldId = one?.id ?? '';
        await sleep(10);
        await store.beginSessionCall(oldId, 'a002');
        const newId = newSessionId();
        await store.commitRole(oldId, newId, 'a002', ADMIN, 'k2');
        const [moved] = await store.listUserSessions(ADA);
        expect(moved).toMatchObject({ hashedId: hashSessionId(newId), role: ADMIN, createdAtMs: one?.createdAtMs });
        expect(moved?.lastSeenAtMs).toBeGreaterThan(one?.createdAtMs ?? 0);
        await sleep(10);
        expect((await store.beginCall(newId, 'c1')).status).toBe('ok');
        const [seen] = await store.listUserSessions(ADA);
        expect(seen?.lastSeenAtMs).toBeGreaterThan(moved?.lastSeenAtMs ?? 0);
        expect(await store.listUserSessions(ADA)).toHaveLength(1);
      });

      it('drops ended and swept sessions from the index', async () => {
        const store = await open({ idleTimeoutMs: 300 });
        const [ended, swept] = await signIn(store, ADA, 2);
        await store.end(ended?.id ?? '', 'logout');
        expect((await store.listUserSessions(ADA)).map((s) => s.hashedId)).toEqual([hashSessionId(swept?.id ?? '')]);
        await sleep(400);
        // Expired: not listed even before the sweeper runs, and not ended a second time by it.
        expect(await store.listUserSessions(ADA)).toEqual([]);
        expect(await store.sweepExpired(10)).toEqual([{ upstreamId: swept?.upstreamId, reason: 'idle-timeout' }]);
        expect(await store.endUserSessions(ADA, 'admin')).toEqual([]);
      });

      it('ends one session by hashed id as end does: one close, only for that user', async () => {
        const store = await open();
        const [a1, a2] = await signIn(store, ADA, 2);
        const hashed = hashSessionId(a1?.id ?? '');
        expect(await store.endUserSession(BOB, hashed, 'admin')).toBeNull();
        expect(await store.endUserSession(ADA, 'not-a-hashed-id', 'admin')).toBeNull();
        expect(await store.get(a1?.id ?? '')).not.toBeNull();
        expect(await store.endUserSession(ADA, hashed, 'admin')).toEqual({ upstreamId: a1?.upstreamId, reason: 'admin' });
        expect(await store.endUserSession(ADA, hashed, 'admin')).toBeNull();
        expect(await store.get(a1?.id ?? '')).toBeNull();
        expect(await store.get(a2?.id ?? '')).not.toBeNull();
        expect((await store.claimCloses(10, 5_000)).map((c) => [c.upstreamId, c.reason])).toEqual([[a1?.upstreamId, 'admin']]);
      });

      it("ends all of a user's sessions in one step, one close each, and no one else's", async () => {
        const store = await open();
        const ada = await signIn(store, ADA, 3);
        const [bob] = await signIn(store, BOB, 1);
        const ended = await store.endUserSessions(ADA, 'admin');
        expect(ended.map((e) => e.upstreamId).sort()).toEqual(ada.map((s) => s.upstreamId).sort());
        expect(ended.every((e) => e.reason === 'admin')).toBe(true);
        expect(await store.endUserSessions(ADA, 'admin')).toEqual([]);
        for (const s of ada) expect(await store.get(s.id)).toBeNull();
        expect(await store.get(bob?.id ?? '')).not.toBeNull();
        expect((await store.claimCloses(10, 5_000)).map((c) => c.upstreamId).sort()).toEqual(ada.map((s) => s.upstreamId).sort());
      });

      it('maxSessionsPerUser: a new session ends the oldest past the limit, queueing one close each', async () => {
        const store = await open({ maxSessionsPerUser: 2 });
        const [a1, a2] = await signIn(store, ADA, 2);
        const [bob] = await signIn(store, BOB, 1);
        const id = newSessionId();
        const third = await store.create(id, newUpstream(CLINICIAN, ADA));
        expect(third.displaced).toEqual([{ upstreamId: a1?.upstreamId, reason: 'session-limit' }]);
        expect(await store.get(a1?.id ?? '')).toBeNull();
        expect(await store.get(a2?.id ?? '')).not.toBeNull();
        expect(await store.get(bob?.id ?? '')).not.toBeNull();
        expect((await store.listUserSessions(ADA)).map((s) => s.hashedId)).toEqual([a2?.id ?? '', id].map(hashSessionId));
        expect((await store.claimCloses(10, 5_000)).map((c) => [c.upstreamId, c.reason])).toEqual([[a1?.upstreamId, 'session-limit']]);
        // A role switch (end, then create) stays within the limit: it ends nothing else.
        await store.end(id, 'role-switch');
        const switched = await store.create(newSessionId(), { ...newUpstream(ADMIN, ADA), absoluteExpiresAtMs: third.absoluteExpiresAtMs });
        expect(switched.displaced).toBeUndefined();
        expect(await store.get(a2?.id ?? '')).not.toBeNull();
      });

      it('maxSessionsPerUser: 1 keeps only the newest; unset keeps all', async () => {
        const one = await open({ maxSessionsPerUser: 1 });
        await signIn(one, ADA, 3);
        expect(await one.listUserSessions(ADA)).toHaveLength(1);
        expect((await one.stats()).pendingCloses).toBe(2);
        const unlimited = await open();
        await signIn(unlimited, ADA, 3);
        expect(await unlimited.listUserSessions(ADA)).toHaveLength(3);
      });
    });

    describe('concurrency', () => {
      it('keeps 50 parallel calls over many sessions apart', async () => {
        const store = await open();
        const sessions = await Promise.all(
          Array.from({ length: 10 }, async () => {
            const id = newSessionId();
            return { id, created: await store.create(id, newUpstream()) };
          }),
        );
        const calls = Array.from({ length: 50 }, (_, i) => ({ session: sessions[i % sessions.length], callId: `call-${i}` }));
        const grants = await Promise.all(calls.map(({ session, callId }) => store.beginCall(session?.id ?? '', callId)));
        grants.forEach((grant, i) => {
          const created = calls[i]?.session?.created;
          expect(grant).toEqual({ status: 'ok', upstreamId: created?.upstreamId, sessionKey: created?.upstream.sessionKey });
        });
        expect((await store.stats()).callsInFlight).toBe(50);
        await Promise.all(calls.map(({ session, callId }) => store.endCall(session?.created.upstreamId ?? '', callId)));
        expect((await store.stats()).callsInFlight).toBe(0);
      });
    });
  });
}
