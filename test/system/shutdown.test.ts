import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { Browser } from '../support/browser';
import { type GatewayProcess, type NodeProcess } from '../support/processes';
import { type Card } from '../support/sandbox-control';
import { waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

const A016_DELAY_MS = 2000;

/** A fresh connection per probe, so a probe never rides an old keep-alive connection. */
async function probe(url: string): Promise<{ status: number | 'refused'; ms: number }> {
  const agent = new Agent({ pipelining: 0 });
  const started = Date.now();
  try {
    const response = await request(url, { dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
    await response.body.dump();
    return { status: response.statusCode, ms: Date.now() - started };
  } catch {
    return { status: 'refused', ms: Date.now() - started };
  } finally {
    await agent.destroy();
  }
}

/** The exit code, or 'still running' when the process has not exited within `ms`. */
async function exitWithin(process: NodeProcess, ms: number): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), Math.max(ms, 0))));
  try {
    return await Promise.race([process.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** CONTRACT §1 and §6: health endpoints, and SIGTERM drains before exiting 0. */
describe('health and SIGTERM draining', () => {
  let env: Deployment;
  let busy: NodeProcess;
  let idle: NodeProcess;
  let referrer: Card;

  beforeAll(async () => {
    env = await deploy({ gateways: 2, sandboxEnv: { SANDBOX_A016_DELAY_MS: String(A016_DELAY_MS) } });
    [busy, idle] = env.gateways as [GatewayProcess, GatewayProcess];
    referrer = await env.control.card((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'REFERRING_CLINICIAN'));
  });

  afterAll(async () => {
    env?.redis?.resume();
    for (const gateway of env?.gateways ?? []) {
      if (gateway.child.exitCode === null && gateway.child.signalCode === null) await gateway.kill('SIGKILL');
    }
    await env?.stop();
  });

  it('/health/live and /health/ready answer 200 while running', async () => {
    for (const gateway of env.gateways) {
      const live = await fetch(`${gateway.url}/health/live`);
      expect(live.status).toBe(200);
      await live.arrayBuffer();
      const ready = await fetch(`${gateway.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(ready.headers.get('cache-control')).toBe('no-store');
      expect(await ready.json()).toMatchObject({ status: 'ok', draining: false });
    }
  });

  it('/health/ready is 503 within 2.5 s while Redis hangs (live stays 200), and 200 again after', async () => {
    env.redis!.pause();
    try {
      const ready = await probe(`${idle.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(2500);
      const live = await probe(`${idle.url}/health/live`);
      expect(live.status).toBe(200);
    } finally {
      env.redis!.resume();
    }
    await waitFor('readiness to come back after Redis resumed', async () => (await probe(`${idle.url}/health/ready`)).status === 200, 10_000, 100);
  });

  it('on SIGTERM finishes the call in flight with its normal status, is not ready, then exits 0', async () => {
    const user = new Browser(busy.url);
    expect((await user.login(referrer.token)).status).toBe(201);
    const role = referrer.permissions.find((p) => p.businessFunction === 'REFERRING_CLINICIAN')!;
    expect((await user.chooseRole(role.businessFunction, role.orgIdentifier)).status).toBe(200);
    await env.control.switches({ a016DelayMs: A016_DELAY_MS });
    await env.control.clearRequests();

    const startedAt = Date.now();
    const booking = user.ers('POST', 'STU3/v1/Appointment', {
      headers: { 'content-type': 'application/fhir+json', 'x-correlation-id': 'drain-a016' },
      body: JSON.stringify({ resourceType: 'Appointment', status: 'booked' }),
    });
    let answeredAt = 0;
    void booking.then(() => (answeredAt = Date.now()), () => undefined);
    // The call is at e-RS (in flight) before the signal.
    await waitFor('the A016 to reach the sandbox', async () =>
      (await env.control.requests()).some((r) => r.operation === 'A016' && r.status === null),
    );
    let exitedAt = 0;
    void busy.exited.then(() => (exitedAt = Date.now()));
    busy.child.kill('SIGTERM');
    const signalledAt = Date.now();

    // Readiness turns 503 (or the listener is gone) at once, while the call is still in flight.
    const notReady = await waitFor(
      'readiness to stop answering 200',
      async () => {
        const ready = await probe(`${busy.url}/health/ready`);
        return ready.status !== 200 ? ready : undefined;
      },
      1500,
      25,
    );
    expect([503, 'refused']).toContain(notReady.status);
    expect(answeredAt, 'readiness changed before the call in flight ended').toBe(0);
    expect(exitedAt, 'the process exited with a call in flight').toBe(0);
    // New connections stop: a new one is refused or answered 503, never served.
    const fresh = await probe(`${busy.url}/openapi.json`);
    expect([503, 'refused']).toContain(fresh.status);
    expect(answeredAt).toBe(0);

    const answer = await booking;
    expect(answer.status, answer.text).toBe(201);
    expect(answer.json).toMatchObject({ resourceType: 'Appointment' });
    expect(answer.headers['x-correlation-id']).toBe('drain-a016');
    expect(answeredAt - startedAt).toBeGreaterThanOrEqual(A016_DELAY_MS - 100);
    expect(answeredAt).toBeGreaterThan(signalledAt);

    // Bounded wait: a gateway that lingers is killed in afterAll rather than slowing the run.
    const code = await exitWithin(busy, answeredAt + 3000 - Date.now());
    expect(code, 'exits shortly after the last call ends').toBe(0);
    expect(exitedAt - answeredAt).toBeLessThan(3000);
    const a016 = (await env.control.requests()).filter((r) => r.operation === 'A016');
    expect(a016.map((r) => r.status)).toEqual([201]);
  });

  it('exits 0 promptly on SIGTERM with nothing in flight', async () => {
    // It was serving a moment ago (and may hold idle keep-alive connections).
    expect((await probe(`${idle.url}/health/ready`)).status).toBe(200);
    const started = Date.now();
    idle.child.kill('SIGTERM');
    const code = await exitWithin(idle, 5000);
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
