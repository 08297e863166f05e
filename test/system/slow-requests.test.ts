import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInBrowser } from '../support/browser';
import { closedAfter, open, rawRequest } from '../support/raw-http';
import { type Card } from '../support/sandbox-control';
import { waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

/**
 * Slow clients (CONTRACT §1, README, Configuration): headers that never finish, a session body
 * that never finishes, an upload that stalls, idle keep-alive connections, and a cap on
 * connections. The limits are lowered here so the tests take seconds; their defaults are in the
 * config spec.
 */
describe('slow requests and connections', () => {
  let env: Deployment;
  let port: number;
  let gateway: string;
  let referrer: Card;
  const LIMITS = {
    HEADERS_TIMEOUT_MS: '1500',
    SESSION_BODY_TIMEOUT_MS: '1500',
    UPLOAD_STALL_TIMEOUT_MS: '1500',
    KEEP_ALIVE_TIMEOUT_MS: '1500',
    MAX_CONNECTIONS: '20',
  };

  beforeAll(async () => {
    env = await deploy({ gateways: 1, env: LIMITS });
    port = env.gateways[0]!.port;
    gateway = env.gateways[0]!.url;
    referrer = await env.control.card((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'REFERRING_CLINICIAN'));
  });

  afterAll(async () => {
    await env?.stop();
  });

  it('closes a connection whose headers do not arrive within HEADERS_TIMEOUT_MS (a byte every 200 ms does not keep it)', async () => {
    const ms = await closedAfter(port, 'GET /api/session HTTP/1.1\r\nHost: x\r\n', 6_000, { everyMs: 200, byte: 'X' });
    console.log(`[slow] slow headers closed after ${Math.round(ms)} ms`);
    expect(ms).toBeGreaterThan(1_000);
  });

  it('closes a connection that opens and sends nothing', async () => {
    const ms = await closedAfter(port, '', 6_000);
    console.log(`[slow] silent connection closed after ${Math.round(ms)} ms`);
  });

  it('found in review: headers and 1 of 100 declared body bytes to POST /api/session: closed within SESSION_BODY_TIMEOUT_MS, no A001', async () => {
    await env.control.clearRequests();
    const head =
      'POST /api/session HTTP/1.1\r\nHost: x\r\nX-CSRF: 1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{';
    const ms = await closedAfter(port, head, 6_000);
    console.log(`[slow] session body closed after ${Math.round(ms)} ms`);
    expect(ms).toBeGreaterThan(1_000);
    expect(await env.control.requests()).toEqual([]);
    await waitFor('the log line', () => env.gateways[0]!.lines.some((line) => line.includes('"session-body-timeout"')), 2_000);
  });

  it('closes a proxied upload that stalls for UPLOAD_STALL_TIMEOUT_MS, aborts the e-RS request and clears its in-flight mark', async () => {
    const user = await signedInBrowser(gateway, referrer);
    await env.control.clearRequests();
    const socket = await open(port);
    const started = performance.now();
    socket.write(
      'POST /api/ers/STU3/v1/Binary HTTP/1.1\r\nHost: x\r\nX-CSRF: 1\r\nContent-Type: text/plain\r\n' +
        `X-ERS-XAPI-META-FILE_NAME: a.txt\r\nCookie: ers-session=${user.cookie}\r\nContent-Length: 1000\r\n\r\n` +
        'x'.repeat(100),
    );
    const closed = await new Promise<number>((resolve) => {
      socket.resume();
      socket.once('close', () => resolve(performance.now() - started));
    });
    console.log(`[slow] stalled upload closed after ${Math.round(closed)} ms`);
    expect(closed).toBeGreaterThan(1_000);
    expect(closed).toBeLessThan(6_000);
    // e-RS saw the upload start and then lose its client; the session's in-flight mark is gone,
    // so a logout's A003 is not held back.
    await waitFor('the upload to end at e-RS', async () => (await env.control.requests()).some((r) => r.path.endsWith('/Binary') && r.outcome !== 'pending'), 5_000);
    const [upload] = (await env.control.requests()).filter((r) => r.path.endsWith('/Binary'));
    // Aborted at e-RS: its connection closed before it could answer (it never saw the whole body).
    expect({ outcome: upload!.outcome, status: upload!.status }).toEqual({ outcome: 'aborted', status: null });
    await waitFor('the log line', () => env.gateways[0]!.lines.some((line) => line.includes('"upload-stalled"')), 2_000);
    expect((await user.logout()).status).toBe(204);
    await waitFor('the A003 of the logged-out session', async () => (await env.control.sessions()).some((s) => s.a003Count === 1 && s.state !== 'active'), 5_000);
  });

  it('a slow upload that keeps moving is not cut off', async () => {
    const user = await signedInBrowser(gateway, referrer);
    const chunks = Array.from({ length: 5 }, (_, i) => Buffer.from(`chunk-${i};`));
    const body = Readable.from(
      (async function* () {
        for (const chunk of chunks) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          yield chunk;
        }
      })(),
    );
    const answer = await user.ers('POST', 'STU3/v1/Binary', {
      body,
      headers: { 'content-type': 'text/plain', 'x-ers-xapi-meta-file_name': 'slow.txt' },
    });
    expect(answer.status).toBe(201);
  });

  it('closes an idle keep-alive connection after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const socket = await open(port);
    const started = performance.now();
    socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    const ms = await new Promise<number>((resolve) => {
      socket.resume();
      socket.once('close', () => resolve(performance.now() - started));
    });
    console.log(`[slow] idle keep-alive closed after ${Math.round(ms)} ms`);
    expect(ms).toBeGreaterThan(1_000);
    expect(ms).toBeLessThan(5_000);
  });

  it('accepts at most MAX_CONNECTIONS connections; the next is closed at once', async () => {
    const held = await Promise.all(Array.from({ length: 20 }, () => open(port)));
    try {
      const ms = await closedAfter(port, 'GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n', 2_000);
      expect(ms).toBeLessThan(1_000);
    } finally {
      for (const socket of held) socket.destroy();
    }
    await waitFor('a new connection to be accepted', async () => (await rawRequest(port, 'GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status === 200, 5_000);
  });
});
