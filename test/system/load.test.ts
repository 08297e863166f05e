import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, Browser } from '../support/browser';
import { type Card, type RecordedRequest } from '../support/sandbox-control';
import { sleep, waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

const USERS = 50;
const CALLS = 20;
/**
 * The sandbox keeps the last 1000 e-RS requests (REQUEST_LOG_CAPACITY in
 * apps/ers-sandbox/src/state/request-log.ts): 1000 proxied calls plus the sign-ins would not fit,
 * so the calls run in rounds and the log is read and cleared after each.
 */
const ROUNDS = 2;
const CALLS_PER_ROUND = CALLS / ROUNDS;
const REFERRAL = '000000070000';

interface VirtualUser {
  index: number;
  prefix: string;
  card: Card;
  role: Card['permissions'][number];
  cookie: string | null;
  /** The e-RS session key its proxied calls carried (learnt from the sandbox's request log). */
  sessionKey: string | null;
}

const pad = (n: number): string => String(n).padStart(2, '0');
const correlationOf = (request: RecordedRequest): string | undefined =>
  request.headers.find(([name]) => name.toLowerCase() === 'x-correlation-id')?.[1];

/** CONTRACT §4: any instance serves any request; two instances sharing one Redis behave as one. */
describe('50 users x 20 calls across two instances on one Redis', () => {
  let env: Deployment;
  let a: string;
  let b: string;
  const users: VirtualUser[] = [];

  beforeAll(async () => {
    // 50 simulated users share the sandbox's few cards: as many sign-ins with one token at once
    // would count against its failure limit (LOGIN_TOKEN_FAILURES counts attempts in flight).
    env = await deploy({ gateways: 2, env: { LOGIN_TOKEN_FAILURES: '1000' } });
    a = env.gateways[0]!.url;
    b = env.gateways[1]!.url;
    // Everyone reads CodeSystems (A004) and referrals (A005): only roles the SCAL allows both.
    const mayRead = (permission: { businessFunction: string }): boolean =>
      ['REFERRING_CLINICIAN', 'REFERRING_CLINICIAN_ADMIN', 'SERVICE_PROVIDER_CLINICIAN'].includes(permission.businessFunction);
    const cards = (await env.control.cards()).filter((card) => card.valid && card.permissions.some(mayRead));
    expect(cards.length).toBeGreaterThanOrEqual(3);
    for (let index = 0; index < USERS; index++) {
      const card = cards[index % cards.length]!;
      const roles = card.permissions.filter(mayRead);
      const role = roles[Math.floor(index / cards.length) % roles.length]!;
      users.push({ index, prefix: `u${pad(index)}`, card, role, cookie: null, sessionKey: null });
    }
  });

  afterAll(async () => {
    await env?.stop();
  });

  /** One call as `user` on instance `url`, keeping the cookie jar shared across instances. */
  async function call(user: VirtualUser, url: string, run: (browser: Browser) => Promise<Answer>): Promise<Answer> {
    const browser = new Browser(url);
    browser.cookie = user.cookie;
    const answer = await run(browser);
    user.cookie = browser.cookie;
    return answer;
  }

  it('signs everyone in and lets them choose a role (sign-in on one instance, role on the other)', async () => {
    const results = await Promise.all(
      users.map(async (user) => {
        const [first, second] = user.index % 2 === 0 ? [a, b] : [b, a];
        const login = await call(user, first, (browser) => browser.login(user.card.token));
        const role = await call(user, second, (browser) => browser.chooseRole(user.role.businessFunction, user.role.orgIdentifier));
        return { login: login.status, role: role.status, chosen: role.json?.role, who: role.json?.user?.identifier };
      }),
    );
    for (const [index, result] of results.entries()) {
      const user = users[index]!;
      expect(result, user.prefix).toEqual({ login: 201, role: 200, chosen: user.role, who: user.card.user.identifier });
      expect(user.cookie, user.prefix).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    expect(new Set(users.map((user) => user.cookie)).size).toBe(USERS);
  });

  it('answers all 1000 proxied calls with 200 and never mixes up two users', async () => {
    const recorded: RecordedRequest[] = [];
    const statuses = new Map<number, number>();
    for (let round = 0; round < ROUNDS; round++) {
      await env.control.clearRequests();
      const answers = await Promise.all(
        users.map(async (user) => {
          const seen: { id: string; status: number; echoed: unknown }[] = [];
          for (let n = round * CALLS_PER_ROUND; n < (round + 1) * CALLS_PER_ROUND; n++) {
            const id = `${user.prefix}-c${pad(n)}`;
            const path = n % 2 === 0 ? 'STU3/v1/CodeSystem/SPECIALTY' : `STU3/v1/ReferralRequest/${REFERRAL}`;
            const answer = await call(user, n % 2 === 0 ? a : b, (browser) =>
              browser.ers('GET', path, { headers: { 'x-correlation-id': id, accept: 'application/fhir+json' } }),
            );
            seen.push({ id, status: answer.status, echoed: answer.headers['x-correlation-id'] });
          }
          return seen;
        }),
      );
      for (const answer of answers.flat()) {
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect(answer.echoed, answer.id).toBe(answer.id);
      }
      // Every call of this round reached e-RS exactly once, and the log kept them all.
      const inRound = (await env.control.requests(5000)).filter((request) => request.operation !== null);
      expect(inRound.length).toBe(USERS * CALLS_PER_ROUND);
      recorded.push(...inRound);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: USERS * CALLS });

    const sessions = new Map((await env.control.sessions()).map((session) => [session.sessionKey, session]));
    const byUser = new Map<string, RecordedRequest[]>();
    for (const request of recorded) {
      const id = correlationOf(request);
      expect(id).toMatch(/^u\d\d-c\d\d$/);
      const prefix = id!.slice(0, 3);
      byUser.set(prefix, [...(byUser.get(prefix) ?? []), request]);
    }
    expect(byUser.size).toBe(USERS);
    const owners = new Map<string, string>();
    for (const user of users) {
      const requests = byUser.get(user.prefix) ?? [];
      expect(requests.length, user.prefix).toBe(CALLS);
      expect(new Set(requests.map(correlationOf)).size, `${user.prefix}: every call once`).toBe(CALLS);
      const keys = new Set(requests.map((request) => request.sessionKey));
      expect(keys.size, `${user.prefix}: one e-RS session key for all calls`).toBe(1);
      const [key] = [...keys];
      expect(key, user.prefix).toEqual(expect.any(String));
      expect(owners.get(key!), `${user.prefix} shares a key with ${owners.get(key!) ?? ''}`).toBeUndefined();
      owners.set(key!, user.prefix);
      user.sessionKey = key!;
      const session = sessions.get(key!);
      expect(session?.userIdentifier, `${user.prefix}: the key belongs to the card's user`).toBe(user.card.user.identifier);
      expect(session?.role, user.prefix).toMatchObject({ businessFunction: user.role.businessFunction, orgIdentifier: user.role.orgIdentifier });
      expect(session?.state).toBe('active');
      for (const request of requests) expect(request.status, correlationOf(request)).toBe(200);
    }
    expect(owners.size).toBe(USERS);
  });

  it('signs everyone out (half on each instance): each e-RS session gets exactly one A003', async () => {
    const keys = new Set(users.map((user) => user.sessionKey));
    expect(keys.size).toBe(USERS);
    const outs = await Promise.all(users.map((user) => call(user, user.index < USERS / 2 ? a : b, (browser) => browser.logout())));
    expect(outs.map((out) => out.status)).toEqual(users.map(() => 204));
    expect(users.map((user) => user.cookie)).toEqual(users.map(() => null));

    const closed = await waitFor(
      'one A003 for each of the 50 e-RS sessions',
      async () => {
        const now = (await env.control.sessions()).filter((s) => keys.has(s.sessionKey));
        return now.length === USERS && now.every((s) => s.state === 'deleted' && s.a003Count >= 1) ? now : undefined;
      },
      20_000,
      100,
    );
    expect(closed.length).toBe(USERS);
    for (const session of closed) expect({ key: session.sessionKey, a003: session.a003Count }).toEqual({ key: session.sessionKey, a003: 1 });
  });

  it('sent no e-RS session a second A003 or a second A002', async () => {
    // Give a late duplicate A003 (e.g. from the other instance) a moment to show up.
    await sleep(1000);
    const sessions = await env.control.sessions();
    expect(sessions.length).toBe(USERS);
    for (const session of sessions) {
      expect({ key: session.sessionKey, a002: session.a002Count, a003: session.a003Count, state: session.state }).toEqual({
        key: session.sessionKey,
        a002: 1,
        a003: 1,
        state: 'deleted',
      });
    }
  });
});
