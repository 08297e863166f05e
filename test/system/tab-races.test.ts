import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser';
import { type Card, type SandboxSession } from '../support/sandbox-control';
import { sleep, waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';
import { prng } from '../support/prng';

/**
 * Issue 18, races, end to end: two tabs of one browser (one cookie jar), each talking to its own
 * gateway process over one Redis, race a role switch against proxied calls, a logout against a
 * role switch, and two sign-ins. The sandbox sees every e-RS session: none may get a call after
 * its A003 (it would answer 403), an A003 while a call is in flight, or two A003s, and a switch's
 * new e-RS session may only open once the old one is closed. The store-level version with
 * thousands of interleavings is session-races.test.ts.
 */
const ROUNDS_PER_RACE = 15;
const SPECIALTIES = 'STU3/v1/CodeSystem/SPECIALTY';
const SEED = Number(process.env.RACE_SEED ?? Date.now() % 1_000_000_007);


/** Two browsers sharing one cookie jar, as two tabs do. */
function twoTabs(urls: string[]): [Browser, Browser] {
  const jar: { cookie: string | null } = { cookie: null };
  const tabs = urls.map((url) => {
    const tab = new Browser(url);
    Object.defineProperty(tab, 'cookie', {
      get: () => jar.cookie,
      set: (value: string | null) => {
        jar.cookie = value;
      },
    });
    return tab;
  });
  return [tabs[0]!, tabs[1]!];
}

type Race = 'switch-vs-calls' | 'logout-vs-switch' | 'two-sign-ins';

describe('two tabs of one user racing over two gateways (issue 18)', () => {
  let env: Deployment;
  let card: Card;
  const random = prng(SEED);
  /** How the racing requests were answered: shows both orders happened. */
  const tally = new Map<string, number>();

  beforeAll(async () => {
    // Every sign-in and switch counts against the one test address: lift that limit, keep the token's.
    env = await deploy({ gateways: 2, env: { LOGIN_ADDRESS_LIMIT: '100000' } });
    card = await env.control.card((c) => c.label === 'referrer-two-roles');
  });

  afterAll(async () => {
    await env?.stop();
  });

  const ours = async (since: Set<string>): Promise<SandboxSession[]> =>
    (await env.control.sessions()).filter((s) => s.cardLabel === card.label && !since.has(s.sessionKey));

  async function round(race: Race): Promise<string[]> {
    const before = new Set((await env.control.sessions()).map((s) => s.sessionKey));
    const [a, b] = twoTabs(env.gateways.map((g) => g.url));
    const [first, second] = card.permissions;
    expect((await a.login(card.token)).status).toBe(201);
    expect((await a.chooseRole(first!.businessFunction, first!.orgIdentifier)).status).toBe(200);
    const jitter = (): Promise<void> => sleep(Math.floor(random() * 8));

    const statuses: number[] = [];
    const note = async (answer: Promise<{ status: number }>): Promise<void> => {
      statuses.push((await answer).status);
    };
    if (race === 'switch-vs-calls') {
      await Promise.all([
        jitter().then(() => note(a.chooseRole(second!.businessFunction, second!.orgIdentifier))),
        ...Array.from({ length: 4 }, () => jitter().then(() => note(b.ers('GET', SPECIALTIES)))),
      ]);
    } else if (race === 'logout-vs-switch') {
      await Promise.all([
        jitter().then(() => note(a.chooseRole(second!.businessFunction, second!.orgIdentifier))),
        jitter().then(() => note(b.logout())),
      ]);
    } else {
      await Promise.all([jitter().then(() => note(a.login(card.token))), jitter().then(() => note(b.login(card.token)))]);
    }
    // No server error whatever the order, and no throttling: each answer is a success or a clean
    // refusal (a switch or sign-in that lost its race must not count against the card).
    const problems = statuses.filter((s) => s >= 500 || s === 429).map((s) => `${race}: answered ${s}`);
    for (const status of statuses) tally.set(`${race} ${status}`, (tally.get(`${race} ${status}`) ?? 0) + 1);

    // The jar's session, if any, answers consistently on both gateways.
    const [onA, onB] = [await a.session(), await b.session()];
    if (onA.status !== onB.status) problems.push(`${race}: the two gateways disagree about the jar's session (${onA.status}, ${onB.status})`);

    // Sign everything out: every cookie value either tab was ever given, then wait for the A003s.
    for (const line of [...a.setCookies, ...b.setCookies]) {
      const cleanup = new Browser(env.gateways[0]!.url);
      cleanup.remember(line);
      if (cleanup.cookie !== null) await cleanup.logout();
    }
    const sessions = await waitFor(`${race}: every e-RS session of the round closed`, async () => {
      const now = await ours(before);
      return now.every((s) => s.state === 'deleted') && now;
    });
    for (const s of sessions) {
      if (s.a003Count !== 1) problems.push(`${race}: ${s.sessionKey} got ${s.a003Count} A003s`);
      if (s.forbiddenCount !== 0) problems.push(`${race}: ${s.forbiddenCount} call(s) carried ${s.sessionKey} after it closed`);
      if (s.a003WhileCallsInFlight !== 0) problems.push(`${race}: an A003 on ${s.sessionKey} while a call was in flight`);
    }
    if (race !== 'two-sign-ins') {
      // One gateway session, one e-RS session at a time: each opens only after the last closed.
      const ordered = [...sessions].sort((x, y) => x.createdAt.localeCompare(y.createdAt));
      for (let i = 1; i < ordered.length; i++) {
        if (ordered[i]!.createdAt < ordered[i - 1]!.endedAt!) problems.push(`${race}: two live e-RS sessions at ${ordered[i]!.createdAt}`);
      }
    }
    return problems;
  }

  it(`${3 * ROUNDS_PER_RACE} rounds: a switch racing calls, a logout racing a switch, two sign-ins`, async () => {
    const problems: string[] = [];
    for (let i = 0; i < ROUNDS_PER_RACE; i++) {
      for (const race of ['switch-vs-calls', 'logout-vs-switch', 'two-sign-ins'] as const) problems.push(...(await round(race)));
    }
    console.info(`tab races, seed ${SEED}:`, Object.fromEntries([...tally].sort()));
    expect(problems, `replay with RACE_SEED=${SEED}`).toEqual([]);
  });
});
