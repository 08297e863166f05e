import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { type GatewayConfig } from '@libs/config';
import {
  type ErsSessionClient,
  ErsRoleAlreadySelectedError,
  ErsRoleRejectedError,
  type OpenedUpstreamSession,
  type RoleSelected,
} from '@libs/ers-client';
import { MemorySessionStore, type SessionStore, StoreUnavailableError } from '@libs/session-store';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { GatewayError } from '../problem/gateway-error';
import { UpstreamCloseService } from '../upstream-close/upstream-close.service';
import { LoginThrottle } from './login-throttle';
import { SessionCookie } from './session-cookie';
import { SessionService } from './session.service';

const TOKEN = 'AQIC5wM2LY4Sfcyw62EbAOsRpdfbGYUOyvkfZ4M6U7W52lM=@AAJTSQACMDE=#';
const CLINICIAN = { businessFunction: 'REFERRING_CLINICIAN', orgIdentifier: 'A81001', orgName: ' THE SURGERY' };
const ADMIN = { businessFunction: 'REFERRING_ADMIN', orgIdentifier: 'A81001', orgName: ' THE SURGERY' };

/** A typed fake of e-RS behind the same port: records calls in order, scriptable answers. */
class FakeErs implements ErsSessionClient {
  readonly calls: string[] = [];
  private next = 0;
  permissions = [CLINICIAN, ADMIN];
  /** Answers for the coming A002s: an error to throw, or the key to answer with. */
  a002: (Error | string | undefined)[] = [];

  async createSession(ssoToken: string): Promise<OpenedUpstreamSession> {
    expect(ssoToken).toBe(TOKEN);
    const sessionKey = `pro-xapi-session_${++this.next}`;
    this.calls.push(`A001 ${sessionKey}`);
    return { sessionKey, user: { identifier: '555020964101', firstName: 'S', lastName: 'J', middleName: null }, permissions: this.permissions };
  }

  async selectRole(sessionKey: string, _token: string, role: { businessFunction: string }): Promise<RoleSelected> {
    this.calls.push(`A002 ${sessionKey} ${role.businessFunction}`);
    const answer = this.a002.shift();
    if (answer instanceof Error) throw answer;
    return { sessionKey: answer ?? sessionKey, permission: role.businessFunction === ADMIN.businessFunction ? ADMIN : CLINICIAN };
  }

  async checkSession(sessionKey: string): Promise<'live'> {
    this.calls.push(`check ${sessionKey}`);
    return 'live';
  }

  async deleteSession(sessionKey: string): Promise<'deleted'> {
    this.calls.push(`A003 ${sessionKey}`);
    return 'deleted';
  }
}

const config = {
  ers: { timeoutMs: 2000, sessionTimeoutMs: 1000, closeConcurrency: 8 },
  cookie: { name: 'sid', secure: true },
  loginThrottle: { tokenFailures: 5, tokenWindowSeconds: 900, addressLimit: 300, addressWindowSeconds: 60 },
} as unknown as GatewayConfig;

const ADDRESS = '10.0.0.1';

describe('SessionService', () => {
  let store: SessionStore;
  let ers: FakeErs;
  let closes: UpstreamCloseService;
  let sessions: SessionService;

  beforeEach(() => {
    store = new MemorySessionStore({ idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000, inFlightLeaseMs: 5000 });
    ers = new FakeErs();
    const logger = pino({ level: 'silent' });
    const metrics = new GatewayMetrics();
    closes = new UpstreamCloseService(store, ers, logger, metrics, config);
    sessions = new SessionService(store, ers, logger, closes, new SessionCookie(config), metrics, new LoginThrottle(store, logger, config), config);
  });

  /** Runs the close worker's job once, as its timer would. */
  async function drainCloses(): Promise<void> {
    for (const close of await store.claimCloses(10, 1000)) {
      await ers.deleteSession(close.sessionKey);
      await store.completeClose(close.upstreamId);
    }
  }

  it('a card without roles gets no session and its e-RS session is closed', async () => {
    ers.permissions = [];
    await expect(sessions.login(TOKEN, null, ADDRESS)).rejects.toMatchObject({ code: 'no-roles' });
    await drainCloses();
    expect(ers.calls).toEqual(['A001 pro-xapi-session_1', 'A003 pro-xapi-session_1']);
  });

  it('an A003 whose completion meets a store outage (a failover) is completed when the store is back, not sent again', async () => {
    const { upstreamId } = await store.queueClose({ sessionKey: 'pro-xapi-session_9', ssoToken: TOKEN }, 'logout');
    const complete = store.completeClose.bind(store);
    let failures = 2;
    store.completeClose = async (id: string): Promise<void> => {
      if (failures-- > 0) throw new StoreUnavailableError();
      await complete(id);
    };
    await closes.closeNow(upstreamId, 2000);
    expect(ers.calls).toEqual(['A003 pro-xapi-session_9']);
    expect(failures).toBe(-1);
    expect(await store.claimClose(upstreamId, 1000)).toEqual({ status: 'done' });
  });

  it('a role switch is A003 of the old session, then A001, then A002, with a new cookie each step', async () => {
    const login = await sessions.login(TOKEN, null, ADDRESS);
    const first = await sessions.chooseRole(login, CLINICIAN, ADDRESS);
    expect(first.sessionId).not.toBe(login.sessionId);
    const second = await sessions.chooseRole(first, ADMIN, ADDRESS);
    expect(second.session.role).toEqual(ADMIN);
    expect(second.session.absoluteExpiresAtMs).toBe(login.session.absoluteExpiresAtMs);
    expect(ers.calls).toEqual([
      'A001 pro-xapi-session_1',
      'A002 pro-xapi-session_1 REFERRING_CLINICIAN',
      'A003 pro-xapi-session_1',
      'A001 pro-xapi-session_2',
      'A002 pro-xapi-session_2 REFERRING_ADMIN',
    ]);
    expect(await store.get(first.sessionId)).toBeNull();
  });

  it('a switch that loses a race (another tab signed out first) gives back the sign-in it reserved', async () => {
    // LOGIN_TOKEN_FAILURES is 5: six lost races must not lock the card out of signing in.
    for (let i = 0; i < 6; i++) {
      const chosen = await sessions.chooseRole(await sessions.login(TOKEN, null, ADDRESS), CLINICIAN, ADDRESS);
      await sessions.end(chosen.sessionId, 'logout');
      await expect(sessions.chooseRole(chosen, ADMIN, ADDRESS)).rejects.toMatchObject({ code: 'no-session' });
    }
    await expect(sessions.login(TOKEN, null, ADDRESS)).resolves.toMatchObject({ session: { role: null } });
  });

  it('choosing the selected role again only issues a new cookie value', async () => {
    const chosen = await sessions.chooseRole(await sessions.login(TOKEN, null, ADDRESS), CLINICIAN, ADDRESS);
    const again = await sessions.chooseRole(chosen, CLINICIAN, ADDRESS);
    expect(again.sessionId).not.toBe(chosen.sessionId);
    expect(ers.calls).toHaveLength(2);
    expect(await store.get(chosen.sessionId)).toBeNull();
  });

  it('a lost A002 answer (e-RS then says 400: role already selected) is recovered by a switch', async () => {
    const login = await sessions.login(TOKEN, null, ADDRESS);
    ers.a002 = [new ErsRoleAlreadySelectedError()];
    const chosen = await sessions.chooseRole(login, CLINICIAN, ADDRESS);
    expect(chosen.session.role).toEqual(CLINICIAN);
    expect(ers.calls).toEqual([
      'A001 pro-xapi-session_1',
      'A002 pro-xapi-session_1 REFERRING_CLINICIAN',
      'A003 pro-xapi-session_1',
      'A001 pro-xapi-session_2',
      'A002 pro-xapi-session_2 REFERRING_CLINICIAN',
    ]);
  });

  it('an A002 403 means the e-RS session is dead: session-expired, session ended, cookie cleared', async () => {
    const login = await sessions.login(TOKEN, null, ADDRESS);
    ers.a002 = [new ErsRoleRejectedError()];
    const failure = await sessions.chooseRole(login, CLINICIAN, ADDRESS).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GatewayError);
    expect(failure).toMatchObject({ code: 'session-expired', clearCookie: true });
    expect(await store.get(login.sessionId)).toBeNull();
    await drainCloses();
    expect(ers.calls.at(-1)).toBe('A003 pro-xapi-session_1');
  });

  it('signing out while A002 runs: when e-RS gave a new key, both keys are closed', async () => {
    const login = await sessions.login(TOKEN, null, ADDRESS);
    ers.a002 = ['pro-api-session:renamed'];
    const original = ers.selectRole.bind(ers);
    ers.selectRole = async (...args) => {
      await sessions.end(login.sessionId, 'logout');
      return original(...args);
    };
    await expect(sessions.chooseRole(login, CLINICIAN, ADDRESS)).rejects.toMatchObject({ code: 'no-session' });
    await drainCloses();
    expect(ers.calls.filter((call) => call.startsWith('A003')).sort()).toEqual([
      'A003 pro-api-session:renamed',
      'A003 pro-xapi-session_1',
    ]);
  });

  it('an e-RS session that cannot be recorded (store down) is closed straight away', async () => {
    store.create = () => Promise.reject(new StoreUnavailableError());
    await expect(sessions.login(TOKEN, null, ADDRESS)).rejects.toBeInstanceOf(StoreUnavailableError);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ers.calls).toEqual(['A001 pro-xapi-session_1', 'A003 pro-xapi-session_1']);
  });

  it('signing in again ends the session the request had', async () => {
    const first = await sessions.chooseRole(await sessions.login(TOKEN, null, ADDRESS), CLINICIAN, ADDRESS);
    const second = await sessions.login(TOKEN, first.sessionId, ADDRESS);
    expect(await store.get(first.sessionId)).toBeNull();
    expect(second.session.role).toBeNull();
    await drainCloses();
    expect(ers.calls).toContain('A003 pro-xapi-session_1');
    await closes.beforeApplicationShutdown();
  });
});
