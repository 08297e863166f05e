import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser';
import { type Card, type RecordedRequest } from '../support/sandbox-control';
import { sleep, waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

const A016_DELAY_MS = 1500;
const APPOINTMENT = { headers: { 'content-type': 'application/fhir+json' }, body: '{"resourceType":"Appointment"}' };

/**
 * e-RS: a client must not call A003 while earlier calls on that session are in flight. These
 * prove the gateway waits, across instances, and even when the instance holding the call died.
 */
describe('A003 never while a call on that e-RS session is in flight', () => {
  let env: Deployment;
  let referrer: Card;
  let a: string;
  let b: string;

  beforeAll(async () => {
    // A short ERS_TIMEOUT_MS keeps the in-flight lease (ERS_TIMEOUT_MS + 5 s) short for the kill -9 case.
    env = await deploy({ gateways: 2, env: { ERS_TIMEOUT_MS: '4000' } });
    a = env.gateways[0]!.url;
    b = env.gateways[1]!.url;
    referrer = await env.control.card((card) => card.valid && card.permissions.length === 2);
  });

  afterAll(async () => {
    await env?.stop();
  });

  beforeEach(async () => {
    await env.control.switches({ a016DelayMs: A016_DELAY_MS });
  });

  async function signedIn(url: string): Promise<{ user: Browser; sessionKey: string }> {
    const user = new Browser(url);
    expect((await user.login(referrer.token)).status).toBe(201);
    const role = referrer.permissions[0]!;
    expect((await user.chooseRole(role.businessFunction, role.orgIdentifier)).status).toBe(200);
    const sessions = await env.control.sessions();
    const mine = sessions.filter((s) => s.state === 'active' && s.userIdentifier === referrer.user.identifier).at(-1)!;
    return { user, sessionKey: mine.sessionKey };
  }

  const forKey = async (sessionKey: string): Promise<RecordedRequest[]> =>
    (await env.control.requests()).filter((r) => r.sessionKey === sessionKey);

  /** The sandbox saw no A003 while a call on this session was still being answered. */
  async function expectNoA003WhileInFlight(sessionKey: string): Promise<void> {
    const session = (await env.control.sessions()).find((s) => s.sessionKey === sessionKey);
    expect(session?.a003Count).toBe(1);
    expect(session?.a003WhileCallsInFlight).toBe(0);
  }

  /** Every A003 on this key came after every other call on it had been answered. */
  function expectA003AfterCalls(requests: RecordedRequest[]): void {
    const a003 = requests.filter((r) => r.operation === 'A003');
    expect(a003).toHaveLength(1);
    const closeAt = Date.parse(a003[0]!.at);
    for (const call of requests.filter((r) => r.operation !== 'A003')) {
      const answeredAt = Date.parse(call.at) + (call.durationMs ?? (call.operation === 'A016' ? A016_DELAY_MS : 0));
      expect(closeAt, `${call.operation} answered at ${answeredAt}`).toBeGreaterThanOrEqual(answeredAt);
    }
  }

  it('a role switch with a call in flight sends the old A003 only after the call ends', async () => {
    const { user, sessionKey } = await signedIn(a);
    const slow = user.ers('POST', 'STU3/v1/Appointment', APPOINTMENT);
    await sleep(200);
    const next = referrer.permissions[1]!;
    const switched = await user.chooseRole(next.businessFunction, next.orgIdentifier);
    expect(switched.status).toBe(200);
    expect((await slow).status).toBe(201);
    expectA003AfterCalls(await forKey(sessionKey));
    await expectNoA003WhileInFlight(sessionKey);
    expect((await user.logout()).status).toBe(204);
  });

  it('logout on one instance while a call is in flight on the other waits for that call', async () => {
    const { user, sessionKey } = await signedIn(a);
    const slow = user.ers('POST', 'STU3/v1/Appointment', APPOINTMENT);
    await sleep(200);
    const onB = new Browser(b);
    onB.cookie = user.cookie;
    expect((await onB.logout()).status).toBe(204);
    // Signed out at once: the cookie is dead on both instances while the call still runs.
    expect((await user.session()).status).toBe(401);
    expect((await slow).status).toBe(201);
    await waitFor('the A003', async () => (await forKey(sessionKey)).some((r) => r.operation === 'A003'));
    expectA003AfterCalls(await forKey(sessionKey));
    await expectNoA003WhileInFlight(sessionKey);
  });

  it('an instance killed with kill -9 after its user logged out with a call in flight: the A003 still comes, once', async () => {
    const { user, sessionKey } = await signedIn(a);
    const slow = user.ers('POST', 'STU3/v1/Appointment', APPOINTMENT).catch((error: unknown) => error);
    await sleep(200);
    expect((await user.logout()).status).toBe(204);
    await env.gateways[0]!.kill('SIGKILL');
    await slow;
    const started = Date.now();
    // The dead instance's in-flight mark holds until its lease runs out; then B sends the A003.
    const closed = await waitFor(
      'the A003 from the surviving instance',
      async () => (await env.control.sessions()).find((s) => s.sessionKey === sessionKey && s.a003Count > 0),
      30_000,
      200,
    );
    expect(closed.a003Count).toBe(1);
    expect(Date.now() - started).toBeLessThan(20_000);
    expectA003AfterCalls(await forKey(sessionKey));
    await expectNoA003WhileInFlight(sessionKey);
    await sleep(1500);
    expect((await env.control.sessions()).find((s) => s.sessionKey === sessionKey)?.a003Count).toBe(1);
  });
});
