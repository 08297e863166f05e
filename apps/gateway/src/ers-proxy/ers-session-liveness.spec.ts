import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type ErsSessionClient,
  ErsBusyError,
  ErsTimeoutError,
  type OpenedUpstreamSession,
  type RoleSelected,
  type SessionLiveness,
} from '@libs/ers-client';
import { MemorySessionStore, type SessionStore } from '@libs/session-store';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { ErsSessionLiveness } from './ers-session-liveness';

const TOKEN = 'AQIC5wM2LY4Sfcyw62EbAOsRpdfbGYUOyvkfZ4M6U7W52lM=@AAJTSQACMDE=#';
const ROLE = { businessFunction: 'REFERRING_CLINICIAN', orgIdentifier: 'A81001', orgName: ' THE SURGERY' };

/** e-RS as far as a liveness check sees it: each check waits for the answer the test gives. */
class CheckingErs implements ErsSessionClient {
  readonly checks: { sessionKey: string; ssoToken: string; role: { businessFunction: string; orgIdentifier: string } }[] = [];
  private readonly answers: ((answer: SessionLiveness | Error) => void)[] = [];

  async checkSession(sessionKey: string, ssoToken: string, role: { businessFunction: string; orgIdentifier: string }): Promise<SessionLiveness> {
    this.checks.push({ sessionKey, ssoToken, role });
    const answer = await new Promise<SessionLiveness | Error>((resolve) => this.answers.push(resolve));
    if (answer instanceof Error) throw answer;
    return answer;
  }

  /** Answers the oldest check still waiting. */
  answer(answer: SessionLiveness | Error): void {
    const next = this.answers.shift();
    if (next === undefined) throw new Error('no check is waiting');
    next(answer);
  }

  createSession(): Promise<OpenedUpstreamSession> {
    throw new Error('a liveness check never signs in');
  }

  selectRole(): Promise<RoleSelected> {
    throw new Error('a liveness check never selects a role');
  }

  deleteSession(): Promise<'deleted'> {
    throw new Error('a liveness check never closes a session');
  }
}

const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ErsSessionLiveness', () => {
  let store: SessionStore;
  let ers: CheckingErs;
  let metrics: GatewayMetrics;
  let liveness: ErsSessionLiveness;
  let upstreamId: string;

  beforeEach(async () => {
    store = new MemorySessionStore({ idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000, inFlightLeaseMs: 5000 });
    ers = new CheckingErs();
    metrics = new GatewayMetrics();
    liveness = new ErsSessionLiveness(store, ers, pino({ level: 'silent' }), metrics);
    ({ upstreamId } = await store.create('cookie-1', {
      upstream: { sessionKey: 'pro-xapi-session_1', ssoToken: TOKEN },
      user: { identifier: '555020964101', firstName: 'S', lastName: 'J', middleName: null },
      roles: [ROLE],
      role: ROLE,
    }));
  });

  async function verdicts(): Promise<Record<string, number>> {
    const metric = await metrics.registry.getSingleMetric('ersgw_ers_session_checks_total')?.get();
    return Object.fromEntries((metric?.values ?? []).map((value) => [String(value.labels['verdict']), value.value]));
  }

  it.each(['live', 'dead'] as const)('asks e-RS with the session key, the token and the selected role, and reports %s', async (answer) => {
    const verdict = liveness.check('cookie-1', upstreamId);
    await settled();
    expect(ers.checks).toEqual([{ sessionKey: 'pro-xapi-session_1', ssoToken: TOKEN, role: ROLE }]);
    ers.answer(answer);
    expect(await verdict).toBe(answer);
    expect(await verdicts()).toEqual({ [answer]: 1 });
  });

  it('shares one check among the 403s of one session that arrive while it runs, and checks again after', async () => {
    const first = [liveness.check('cookie-1', upstreamId), liveness.check('cookie-1', upstreamId), liveness.check('cookie-1', upstreamId)];
    await settled();
    expect(ers.checks).toHaveLength(1);
    ers.answer('live');
    expect(await Promise.all(first)).toEqual(['live', 'live', 'live']);
    const again = liveness.check('cookie-1', upstreamId);
    await settled();
    expect(ers.checks).toHaveLength(2);
    ers.answer('dead');
    expect(await again).toBe('dead');
  });

  it.each([
    ['the check lane is full', new ErsBusyError('A002')],
    ['e-RS does not answer in time', new ErsTimeoutError('A002', 1000)],
    ['something unexpected', new Error('boom')],
  ])('is unknown, never a rejection, when %s', async (_name, error) => {
    const verdict = liveness.check('cookie-1', upstreamId);
    await settled();
    ers.answer(error);
    expect(await verdict).toBe('unknown');
    expect(await verdicts()).toEqual({ unknown: 1 });
  });

  it('is unknown without asking e-RS when the cookie no longer leads to that e-RS session', async () => {
    expect(await liveness.check('cookie-1', 'another-upstream')).toBe('unknown');
    await store.end('cookie-1', 'logout');
    expect(await liveness.check('cookie-1', upstreamId)).toBe('unknown');
    expect(ers.checks).toEqual([]);
  });
});
