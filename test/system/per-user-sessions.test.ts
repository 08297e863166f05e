import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser';
import { type Card, type SandboxSession } from '../support/sandbox-control';
import { waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

/**
 * Issue 18 point 5, per-user sessions, over HTTP against real gateway processes sharing one Redis
 * and the sandbox counting A003s per e-RS session.
 */
const ADMIN_TOKEN = 'YWRtaW4tdG9rZW4tb2YtdGhlLXBlci11c2VyLXRlc3Q9PQ';
const WRONG_TOKEN = 'd3JvbmctdG9rZW4tb2YtdGhlLXBlci11c2VyLXRlc3Q9PQ';

describe('per-user sessions', () => {
  let env: Deployment;
  let gateway: string;
  let ops: string;

  beforeAll(async () => {
    // Gateway 0 serves the admin API on its ops port; gateway 1 has no ADMIN_TOKEN (empty: unset).
    env = await deploy({
      gateways: 2,
      env: { MAX_SESSIONS_PER_USER: '2', ADMIN_TOKEN },
      gatewayEnv: (i): Record<string, string> => (i === 1 ? { ADMIN_TOKEN: '' } : {}),
    });
    gateway = env.gateways[0]!.url;
    ops = env.gateways[0]!.opsUrl;
  });

  afterAll(async () => {
    await env?.stop();
  });

  /** Signs in with the card and answers the browser and the e-RS session its login opened. */
  async function signIn(card: Card): Promise<{ browser: Browser; ers: SandboxSession }> {
    const before = new Set((await env.control.sessions()).map((s) => s.sessionKey));
    const browser = new Browser(gateway);
    expect((await browser.login(card.token)).status).toBe(201);
    const opened = (await env.control.sessions()).filter((s) => !before.has(s.sessionKey) && s.cardLabel === card.label);
    expect(opened).toHaveLength(1);
    return { browser, ers: opened[0]! };
  }

  const ersSession = async (sessionKey: string): Promise<SandboxSession | undefined> =>
    (await env.control.sessions()).find((s) => s.sessionKey === sessionKey);

  it('MAX_SESSIONS_PER_USER: the third sign-in of one user ends the oldest, whose cookie answers 401 and whose e-RS session gets one A003', async () => {
    const card = await env.control.card((c) => c.label === 'referrer-two-roles');
    const other = await env.control.card((c) => c.label === 'provider-three-roles');
    const first = await signIn(card);
    const second = await signIn(card);
    const bystander = await signIn(other);
    const third = await signIn(card);

    const answer = await first.browser.session();
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ code: 'no-session' });
    const closed = await waitFor('the A003 of the oldest session', async () => {
      const s = await ersSession(first.ers.sessionKey);
      return s?.state === 'deleted' ? s : undefined;
    }, 5000, 50);
    expect(closed.a003Count).toBe(1);

    for (const kept of [second, third, bystander]) {
      expect((await kept.browser.session()).status).toBe(200);
      expect((await ersSession(kept.ers.sessionKey))?.a003Count).toBe(0);
    }
    // Counted and logged like any end, with its own reason.
    const metrics = await (await fetch(`${ops}/metrics`)).text();
    expect(metrics).toContain('ersgw_sessions_ended_total{reason="session-limit"} 1');
    expect(env.gateways[0]!.lines.some((line) => line.includes('"session-ended"') && line.includes('"session-limit"'))).toBe(true);
  });

  const admin = async (method: string, path: string, token: string | null = ADMIN_TOKEN, base = ops) => {
    const response = await fetch(base + path, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
  };
  const hashed = (cookie: string | null): string => createHash('sha256').update(cookie ?? '').digest('base64url');

  describe('the admin API', () => {
    it('is off without ADMIN_TOKEN and never on the public port: 404, even with the right token', async () => {
      const path = '/admin/users/555020964101/sessions';
      expect((await admin('GET', path, ADMIN_TOKEN, env.gateways[1]!.opsUrl)).status).toBe(404);
      for (const g of env.gateways) {
        const answer = await admin('GET', path, ADMIN_TOKEN, g.url);
        expect(answer.status).toBe(404);
        expect((await admin('DELETE', path, ADMIN_TOKEN, g.url)).status).toBe(404);
        expect(answer.text).not.toContain('555020964101"');
      }
    });

    it('answers 401 problem+json to a missing or wrong token, before anything else', async () => {
      for (const [token, path] of [
        [null, '/admin/users/555020964101/sessions'],
        [WRONG_TOKEN, '/admin/users/555020964101/sessions'],
        [WRONG_TOKEN, '/admin/nothing-here'],
        [ADMIN_TOKEN.slice(0, -1), '/admin/users/555020964101/sessions'],
      ] as const) {
        const answer = await admin('GET', path, token);
        expect(answer.status).toBe(401);
        expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(answer.headers.get('www-authenticate')).toBe('Bearer');
        expect(answer.json).toMatchObject({ code: 'admin-unauthorized', status: 401 });
      }
      expect((await admin('DELETE', '/admin/users/555020964101/sessions', WRONG_TOKEN)).status).toBe(401);
    });

    it("lists a user's live sessions: hashed id, role, created, last seen; never a cookie or a key", async () => {
      const card = await env.control.card((c) => c.label === 'provider-three-roles');
      const noRole = await signIn(card);
      const withRole = await signIn(card);
      const role = card.permissions[0]!;
      expect((await withRole.browser.chooseRole(role.businessFunction, role.orgIdentifier)).status).toBe(200);
      const before = await admin('GET', `/admin/users/${card.user.identifier}/sessions`);
      expect(before.status).toBe(200);
      expect(before.headers.get('cache-control')).toBe('no-store');
      const sessions = before.json?.sessions as Record<string, unknown>[];
      expect(sessions.map((s) => s.id)).toEqual([hashed(noRole.browser.cookie), hashed(withRole.browser.cookie)]);
      expect(sessions[0]).toMatchObject({ role: null });
      expect(sessions[1]).toMatchObject({ role: { businessFunction: role.businessFunction, orgIdentifier: role.orgIdentifier } });
      for (const s of sessions) {
        expect(Object.keys(s).sort()).toEqual(['absoluteExpiresAt', 'createdAt', 'id', 'idleExpiresAt', 'lastSeenAt', 'role']);
        expect(Date.parse(String(s.lastSeenAt))).toBeGreaterThanOrEqual(Date.parse(String(s.createdAt)));
      }
      for (const secret of [noRole.browser.cookie, withRole.browser.cookie, noRole.ers.sessionKey, withRole.ers.sessionKey, card.token]) {
        expect(before.text).not.toContain(secret);
      }
      // A proxied call moves last seen.
      expect((await withRole.browser.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(200);
      const after = (await admin('GET', `/admin/users/${card.user.identifier}/sessions`)).json?.sessions as Record<string, unknown>[];
      expect(Date.parse(String(after[1]?.lastSeenAt))).toBeGreaterThan(Date.parse(String(sessions[1]?.lastSeenAt)));
      expect((await admin('GET', '/admin/users/555020964199/sessions')).json).toEqual({ sessions: [] });
      expect((await admin('GET', '/admin/users/not%20an%20id/sessions')).status).toBe(400);
      await noRole.browser.logout();
      await withRole.browser.logout();
    });

    it('ends one session by its hashed id: its cookie answers 401, its e-RS session gets one A003, the other lives', async () => {
      const card = await env.control.card((c) => c.label === 'provider-three-roles');
      const kept = await signIn(card);
      const ended = await signIn(card);
      const path = `/admin/users/${card.user.identifier}/sessions/${hashed(ended.browser.cookie)}`;
      expect((await admin('DELETE', `/admin/users/555020964101/sessions/${hashed(ended.browser.cookie)}`)).status).toBe(404);
      const answer = await admin('DELETE', path);
      expect(answer.status).toBe(204);
      expect((await ended.browser.session()).status).toBe(401);
      const closed = await waitFor('the A003 of the ended session', async () => {
        const s = await ersSession(ended.ers.sessionKey);
        return s?.state === 'deleted' ? s : undefined;
      }, 5000, 50);
      expect(closed.a003Count).toBe(1);
      expect((await admin('DELETE', path)).status).toBe(404);
      expect((await kept.browser.session()).status).toBe(200);
      expect((await ersSession(kept.ers.sessionKey))?.a003Count).toBe(0);
      expect((await admin('GET', path)).status).toBe(405);
      await kept.browser.logout();
    });

    it("ends all of a user's sessions: each cookie answers 401, each e-RS session gets one A003", async () => {
      const card = await env.control.card((c) => c.label === 'two-organisations');
      const other = await env.control.card((c) => c.label === 'referrer-two-roles');
      const mine = [await signIn(card), await signIn(card)];
      const bystander = await signIn(other);
      const answer = await admin('DELETE', `/admin/users/${card.user.identifier}/sessions`);
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ ended: 2 });
      for (const s of mine) {
        expect((await s.browser.session()).status).toBe(401);
        const closed = await waitFor('the A003 of each ended session', async () => {
          const e = await ersSession(s.ers.sessionKey);
          return e?.state === 'deleted' ? e : undefined;
        }, 5000, 50);
        expect(closed.a003Count).toBe(1);
      }
      expect((await admin('GET', `/admin/users/${card.user.identifier}/sessions`)).json).toEqual({ sessions: [] });
      expect((await admin('DELETE', `/admin/users/${card.user.identifier}/sessions`)).json).toEqual({ ended: 0 });
      expect((await bystander.browser.session()).status).toBe(200);
    });

    it('never logs the admin token, the right one or a wrong one', async () => {
      await admin('GET', '/admin/users/555020964101/sessions');
      await admin('GET', '/admin/users/555020964101/sessions', WRONG_TOKEN);
      const logged = env.gateways.flatMap((g) => g.lines).join('\n');
      expect(logged).toContain('admin-sessions-ended');
      expect(logged).not.toContain(ADMIN_TOKEN.slice(0, 16));
      expect(logged).not.toContain(WRONG_TOKEN.slice(0, 16));
      // Nor the user ids the admin paths named (they name members of staff).
      for (const id of ['555020964102', '555020964103']) expect(logged).not.toContain(id);
    });
  });
});
