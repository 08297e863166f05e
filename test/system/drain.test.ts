import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { type Answer, Browser, signedInBrowser } from '../support/browser';
import { type GatewayProcess, startGateway } from '../support/processes';
import { type Card } from '../support/sandbox-control';
import { sleep, waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

/** e-RS's answer time while a test needs calls in flight at SIGTERM (every call, A001-A003 included). */
const LATENCY_MS = 1000;
/** A003 timeout: a close's claim lease is this + 5 s. */
const SESSION_TIMEOUT_MS = 2000;
const LEASE_MS = SESSION_TIMEOUT_MS + 5000;

/** A fresh connection per probe, so a probe never rides an old keep-alive connection. */
async function probe(url: string, headers: Record<string, string> = {}): Promise<{ status: number | 'refused'; connection?: string }> {
  const agent = new Agent({ pipelining: 0 });
  try {
    const response = await request(url, { dispatcher: agent, headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
    await response.body.dump();
    return { status: response.statusCode, connection: String(response.headers.connection) };
  } catch {
    return { status: 'refused' };
  } finally {
    await agent.destroy();
  }
}

/**
 * CONTRACT §6, issue 18 point 4: SIGTERM keeps serving with readiness 503 for DRAIN_GRACE_MS, then
 * closes the listener, lets A001/A002/A003 and proxied calls in flight finish, and closes the e-RS
 * pools last; a rolling restart of two instances under load fails no request.
 */
describe('SIGTERM drains: nothing in flight is cut', () => {
  let env: Deployment;
  let referrer: Card;
  let provider: Card;

  /** Another gateway on the deployment's Redis and sandbox (stopped with it). */
  async function gateway(extra: Record<string, string> = {}): Promise<GatewayProcess> {
    const started = await startGateway({
      ersBaseUrl: env.sandbox.ersBaseUrl,
      redisUrl: env.redis!.url,
      env: { ERS_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS), DRAIN_GRACE_MS: '300', LOGIN_ADDRESS_LIMIT: '100000', LOGIN_TOKEN_FAILURES: '100000', ...extra },
    });
    env.gateways.push(started);
    return started;
  }

  beforeAll(async () => {
    env = await deploy({ gateways: 0 });
    const cards = await env.control.cards();
    referrer = cards.find((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'REFERRING_CLINICIAN'))!;
    provider = cards.find((card) => card.valid && card.permissions.length === 3)!;
  });

  afterAll(async () => {
    for (const gateway of env?.gateways ?? []) {
      if (gateway.child.signalCode === 'SIGSTOP') gateway.child.kill('SIGCONT');
    }
    await env?.stop();
  });

  it('a sign-in (A001) and a role choice (A002) in flight at SIGTERM are answered 201 and 200', async () => {
    const instance = await gateway();
    const choosing = await signedInBrowser(instance.url, referrer, false);
    await env.control.switches({ latencyMs: LATENCY_MS });
    await env.control.clearRequests();
    try {
      const role = referrer.permissions[0]!;
      const choice = choosing.chooseRole(role.businessFunction, role.orgIdentifier);
      const login = new Browser(instance.url).login(provider.token);
      await waitFor('the A001 and the A002 to reach e-RS', async () => {
        const pending = (await env.control.requests()).filter((r) => r.status === null).map((r) => r.operation);
        return pending.includes('A001') && pending.includes('A002');
      });
      instance.child.kill('SIGTERM');
      const [chosen, signedIn] = await Promise.all([choice, login]);
      expect({ choice: chosen.status, login: signedIn.status }, `${chosen.text} ${signedIn.text}`).toEqual({ choice: 200, login: 201 });
      expect(await instance.exited).toBe(0);
    } finally {
      await env.control.switches({ latencyMs: 0 });
    }
  });

  it('an A003 in flight at SIGTERM is answered, and sent once (not again by another instance)', async () => {
    const other = await gateway();
    const instance = await gateway();
    const user = await signedInBrowser(instance.url, referrer);
    const sessionKey = (await env.control.requests()).findLast((r) => r.operation === 'A002')!.sessionKey!;
    // The other instance must not claim this close first: paused, as a slow instance would be.
    other.child.kill('SIGSTOP');
    await env.control.switches({ latencyMs: LATENCY_MS });
    await env.control.clearRequests();
    try {
      expect((await user.logout()).status).toBe(204);
      await waitFor('the A003 to reach e-RS', async () =>
        (await env.control.requests()).some((r) => r.operation === 'A003' && r.sessionKey === sessionKey && r.status === null),
      );
      const claimedAt = Date.now();
      instance.child.kill('SIGTERM');
      expect(await instance.exited).toBe(0);
      other.child.kill('SIGCONT');
      const a003 = (await env.control.requests()).filter((r) => r.operation === 'A003' && r.sessionKey === sessionKey);
      expect(a003.map((r) => r.status)).toEqual([204]);
      expect(instance.lines.some((line) => line.includes('"event":"upstream-closed"'))).toBe(true);
      expect(instance.lines.filter((line) => line.includes('upstream-close-failed'))).toEqual([]);
      // Past the claim's lease, the other instance has had its chance to send it again.
      await sleep(Math.max(0, claimedAt + LEASE_MS + 1500 - Date.now()));
      const session = (await env.control.sessions()).find((s) => s.sessionKey === sessionKey)!;
      expect(session.a003Count).toBe(1);
    } finally {
      if (other.child.signalCode === 'SIGSTOP') other.child.kill('SIGCONT');
      await env.control.switches({ latencyMs: 0 });
    }
  });

  it('readiness answers 503 for the grace period while new requests are still served, then the listener closes', async () => {
    const GRACE_MS = 2500;
    const instance = await gateway({ DRAIN_GRACE_MS: String(GRACE_MS) });
    const user = await signedInBrowser(instance.url, referrer);
    const cookie = `ers-session=${user.cookie!}`;
    const signalledAt = Date.now();
    instance.child.kill('SIGTERM');
    await waitFor('readiness 503 on the operations port', async () => (await probe(`${instance.opsUrl}/health/ready`)).status === 503, 1000, 25);
    expect((await probe(`${instance.url}/health/ready`)).status).toBe(503);
    // A new connection, a new request: served as usual, and told to close.
    const session = await probe(`${instance.url}/api/session`, { 'x-csrf': '1', cookie });
    const proxied = await probe(`${instance.url}/api/ers/STU3/v1/CodeSystem/SPECIALTY`, { 'x-csrf': '1', cookie });
    expect([session, proxied]).toEqual([
      { status: 200, connection: 'close' },
      { status: 200, connection: 'close' },
    ]);
    expect(Date.now() - signalledAt).toBeLessThan(GRACE_MS);
    // Then it stops accepting, and exits.
    await waitFor('the listener to close', async () => (await probe(`${instance.url}/health/live`)).status === 'refused', GRACE_MS + 1000, 50);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(GRACE_MS - 100);
    expect(await instance.exited).toBe(0);
  });

  it('a rolling restart of two instances under load fails no request', async () => {
    const grace = { DRAIN_GRACE_MS: '1000' };
    await env.control.switches({ latencyMs: 50 });
    /** A tiny load balancer: round robin over the instances whose readiness answers 200. */
    const targets: { instance: GatewayProcess; ready: boolean }[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        await Promise.all(targets.map(async (target) => (target.ready = (await probe(`${target.instance.url}/health/ready`)).status === 200)));
        await sleep(50);
      }
    })();
    let next = 0;
    const pick = async (): Promise<GatewayProcess> => {
      for (;;) {
        const ready = targets.filter((target) => target.ready);
        if (ready.length > 0) return ready[next++ % ready.length]!.instance;
        await sleep(10);
      }
    };
    const add = async (instance: GatewayProcess): Promise<void> => {
      const target = { instance, ready: false };
      targets.push(target);
      await waitFor('the balancer to see the new instance ready', () => target.ready, 5000, 20);
    };
    const restart = async (instance: GatewayProcess): Promise<void> => {
      instance.child.kill('SIGTERM');
      expect(await instance.exited).toBe(0);
      targets.splice(targets.findIndex((target) => target.instance === instance), 1);
      await add(await gateway(grace));
    };

    const counts = { requests: 0, failed: 0, byStatus: {} as Record<string, number>, failures: [] as string[] };
    let loading = true;
    const send = async (user: { cookie: string | null }, expected: number, call: (browser: Browser) => Promise<Answer>): Promise<boolean> => {
      const browser = new Browser((await pick()).url);
      browser.cookie = user.cookie;
      counts.requests++;
      let status: string;
      try {
        const answer = await call(browser);
        status = String(answer.status);
        if (answer.status !== expected) counts.failures.push(`${status} ${answer.text.slice(0, 120)}`);
      } catch (error) {
        status = (error as Error).message;
        counts.failures.push(status);
      }
      counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
      user.cookie = browser.cookie;
      const ok = status === String(expected);
      if (!ok) counts.failed++;
      return ok;
    };
    const role = referrer.permissions[0]!;
    const virtualUser = async (): Promise<void> => {
      while (loading) {
        const user = { cookie: null as string | null };
        if (!(await send(user, 201, (b) => b.login(referrer.token)))) continue;
        if (await send(user, 200, (b) => b.chooseRole(role.businessFunction, role.orgIdentifier))) {
          for (let i = 0; i < 3; i++) await send(user, 200, (b) => b.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY'));
        }
        await send(user, 204, (b) => b.logout());
      }
    };

    const before = new Set((await env.control.sessions()).map((s) => s.sessionKey));
    const [first, second] = [await gateway(grace), await gateway(grace)];
    await add(first);
    await add(second);
    const users = Array.from({ length: 6 }, () => virtualUser());
    try {
      await sleep(1000);
      await restart(first);
      await restart(second);
      await sleep(1000);
    } finally {
      loading = false;
      await Promise.all(users);
      probing = false;
      await prober;
      await env.control.switches({ latencyMs: 0 });
    }
    console.log(`rolling restart under load: ${JSON.stringify({ requests: counts.requests, failed: counts.failed, byStatus: counts.byStatus })}`);
    expect(counts.failures).toEqual([]);
    expect(counts.requests).toBeGreaterThan(200);
    // Every e-RS session opened was closed, once (the whole-run check in env.stop() counts the twice).
    const opened = async () => (await env.control.sessions()).filter((s) => !before.has(s.sessionKey));
    await waitFor('every e-RS session opened to be closed', async () => (await opened()).every((s) => s.a003Count === 1), 10_000, 200);
    expect((await opened()).length).toBeGreaterThan(30);
  });
});
