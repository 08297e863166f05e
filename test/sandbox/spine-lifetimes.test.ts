import { describe, expect, it } from 'vitest';
import { expectBare403, expectSessionNotValid } from './support/forbidden';
import { useTestSandbox } from './support/sandbox-harness';

const SPECIALTY = '/STU3/v1/CodeSystem/SPECIALTY';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface SessionView {
  state: string;
  createdAt: string;
  lastCallAt: string;
  endedAt: string | null;
  forbiddenCount: number;
}

/**
 * The e-RS session lives as long as the user's Spine SSO session, whose idle and maximum times are
 * not published: the `spineIdleMs` / `spineMaxMs` switches stand in for them.
 */
describe('Spine session lifetimes', () => {
  const sandbox = useTestSandbox();

  const view = (key: string): Promise<SessionView> => sandbox.control<SessionView>('GET', `/sessions/${encodeURIComponent(key)}`);

  it('are off by default, and off again with null or 0', async () => {
    expect(await sandbox.control('GET', '/switches')).toMatchObject({ spineIdleMs: null, spineMaxMs: null });
    expect(await sandbox.control('PUT', '/switches', { spineIdleMs: 0, spineMaxMs: null })).toMatchObject({ spineIdleMs: 0, spineMaxMs: null });
    const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
    await sleep(50);
    expect((await sandbox.ers('GET', SPECIALTY, { sessionKey: key })).status).toBe(200);
  });

  it('refuses malformed lifetimes', async () => {
    for (const body of [{ spineIdleMs: -1 }, { spineMaxMs: 1.5 }, { spineIdleMs: '100' }, { spineMaxMs: 86_400_001 }]) {
      const answer = await sandbox.call('PUT', '/_sandbox/switches', {
        headers: [['Content-Type', 'application/json']],
        body: JSON.stringify(body),
      });
      expect(answer.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('spineIdleMs: each call restarts the idle time; once idle that long the session is dead (403 session not valid, then A003 403)', async () => {
    await sandbox.control('PUT', '/switches', { spineIdleMs: 800 });
    const { key, card } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
    // Four calls 250 ms apart: the session outlives its idle time because each call restarts it.
    for (let i = 0; i < 4; i += 1) {
      await sleep(250);
      expect((await sandbox.ers('GET', SPECIALTY, { sessionKey: key })).status).toBe(200);
    }
    const lastCall = Date.parse((await view(key)).lastCallAt);
    await sleep(1000);
    expectSessionNotValid(await sandbox.ers('GET', SPECIALTY, { sessionKey: key }));
    const dead = await view(key);
    expect(dead).toMatchObject({ state: 'expired', forbiddenCount: 1 });
    // It died when its idle time ran out, not when it was noticed.
    expect(Date.parse(dead.endedAt ?? '')).toBe(lastCall + 800);
    // As for any session e-RS does not know: A002 and A003 answer a bare 403.
    expectBare403(await sandbox.a002(key, card.token, { businessFunction: 'REFERRING_ADMIN', orgIdentifier: 'A81001' }), { business: false });
    expectBare403(await sandbox.a003(key), { business: false });
    // The card still works: a new session can be opened.
    expect((await sandbox.a001(card.token)).status).toBe(201);
  });

  it('spineIdleMs: the control view shows a session that ran out as expired, without a call', async () => {
    await sandbox.control('PUT', '/switches', { spineIdleMs: 100 });
    const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
    expect((await view(key)).state).toBe('active');
    await sleep(250);
    expect((await view(key)).state).toBe('expired');
    expect(await sandbox.control<unknown[]>('GET', '/sessions?state=live')).toEqual([]);
  });

  it('spineMaxMs: the session dies that long after A001, however busy', async () => {
    await sandbox.control('PUT', '/switches', { spineMaxMs: 1000 });
    const { key } = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
    const createdAt = Date.parse((await view(key)).createdAt);
    let status = 200;
    while (status === 200) {
      const sentAfterMs = Date.now() - createdAt;
      status = (await sandbox.ers('GET', SPECIALTY, { sessionKey: key })).status;
      if (sentAfterMs < 700) expect(status).toBe(200);
      await sleep(50);
    }
    expect(Date.now() - createdAt).toBeGreaterThanOrEqual(1000);
    expectSessionNotValid(await sandbox.ers('GET', SPECIALTY, { sessionKey: key }));
    const dead = await view(key);
    expect(dead.state).toBe('expired');
    expect(Date.parse(dead.endedAt ?? '')).toBe(createdAt + 1000);
  });

  it('with legacy403, a session that ran out gets the bare 403', async () => {
    await sandbox.control('PUT', '/switches', { spineMaxMs: 100, legacy403: true });
    const { key } = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');
    await sleep(200);
    expectBare403(await sandbox.ers('GET', SPECIALTY, { sessionKey: key }));
  });

  it('reset switches the lifetimes off', async () => {
    await sandbox.control('PUT', '/switches', { spineIdleMs: 100, spineMaxMs: 100 });
    await sandbox.control('POST', '/reset');
    expect(await sandbox.control('GET', '/switches')).toMatchObject({ spineIdleMs: null, spineMaxMs: null });
  });
});
