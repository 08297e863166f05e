import { createHash, randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { Browser } from '../support/browser';
import { type Card } from '../support/sandbox-control';
import { waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

const FIVE_MIB = 5 * 1024 * 1024;
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** CONTRACT §3: bodies are streamed both ways, never buffered whole. */
describe('streaming through the gateway', () => {
  let env: Deployment;
  let gateway: string;
  let user: Browser;
  /** Own agent for the streaming calls, so a held request never blocks the others. */
  const agent = new Agent({ keepAliveTimeout: 1000 });

  beforeAll(async () => {
    env = await deploy({ gateways: 1 });
    gateway = env.gateways[0]!.url;
    const referrer: Card = await env.control.card(
      (card) => card.valid && card.permissions.some((p) => p.businessFunction === 'REFERRING_CLINICIAN'),
    );
    user = new Browser(gateway);
    expect((await user.login(referrer.token)).status).toBe(201);
    const role = referrer.permissions.find((p) => p.businessFunction === 'REFERRING_CLINICIAN')!;
    expect((await user.chooseRole(role.businessFunction, role.orgIdentifier)).status).toBe(200);
  });

  afterAll(async () => {
    await env?.control.releaseHolds().catch(() => undefined);
    await agent.close();
    await env?.stop();
  });

  beforeEach(async () => {
    await env.control.clearRequests();
  });

  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    'x-csrf': '1',
    cookie: `${user.cookieName}=${user.cookie!}`,
    ...extra,
  });

  it('downloads the 5 MiB attachment whole, with its sha256, content-type and content-length', async () => {
    const fixture = (await env.control.binaries()).find((binary) => binary.bytes === FIVE_MIB && !binary.id.includes('hold'));
    expect(fixture, 'a 5 MiB fixture attachment').toBeDefined();
    const answer = await user.ers('GET', `STU3/v1/Binary/${fixture!.id}`);
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(FIVE_MIB);
    expect(sha256(answer.body)).toBe(fixture!.sha256);
    expect(answer.headers['content-type']).toBe(fixture!.contentType);
    expect(answer.headers['content-length']).toBe(String(FIVE_MIB));
    expect(String(answer.headers['content-disposition'])).toMatch(/^attachment; filename="/);
  });

  it('sends the first bytes of a download before e-RS has sent the rest (att-hold)', async () => {
    const fixture = (await env.control.binaries()).find((binary) => binary.id === 'att-hold');
    expect((fixture as { held?: boolean } | undefined)?.held).toBe(true);
    const response = await request(`${gateway}/api/ers/STU3/v1/Binary/att-hold`, { dispatcher: agent, headers: headers() });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-length']).toBe(String(fixture!.bytes));
    const hash = createHash('sha256');
    let received = 0;
    const started = Date.now();
    const iterator = response.body[Symbol.asyncIterator]();
    // Read until the sandbox's first chunk (64 KiB) has arrived: the sandbox is holding the rest.
    while (received < 64 * 1024) {
      const next = await iterator.next();
      expect(next.done, 'the body ended before the hold was released').toBe(false);
      const chunk = next.value as Buffer;
      hash.update(chunk);
      received += chunk.length;
    }
    // Still held: the sandbox has a waiter and no further bytes can have been produced.
    expect(await (await fetch(`${env.sandbox.url}/_sandbox/holds`)).json()).toEqual({ waiting: 1 });
    // Well before the sandbox's own 30 s safety release: the gateway passed the bytes on at once.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(received).toBeLessThanOrEqual(64 * 1024);
    expect(await env.control.releaseHolds()).toEqual({ released: 1 });
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      const chunk = next.value as Buffer;
      hash.update(chunk);
      received += chunk.length;
    }
    expect(received).toBe(fixture!.bytes);
    expect(hash.digest('hex')).toBe(fixture!.sha256);
  });

  it('uploads 5 MiB whole: 201, Location through the gateway, same sha256 at e-RS', async () => {
    const body = randomBytes(FIVE_MIB);
    const fileName = `scan-${Date.now()}.bin`;
    const answer = await user.ers('POST', 'STU3/v1/Binary', {
      headers: { 'content-type': 'application/octet-stream', 'x-ers-xapi-meta-file_name': fileName },
      body,
    });
    expect(answer.status, answer.text).toBe(201);
    const location = String(answer.headers.location);
    expect(location).toMatch(/^\/api\/ers\/STU3\/v1\/Binary\/att-[0-9a-f-]+$/);
    const upload = (await env.control.uploads()).find((u) => u.fileName === fileName);
    expect(upload).toMatchObject({ bytes: FIVE_MIB, sha256: sha256(body), complete: true });
    expect(location.endsWith(`/Binary/${upload!.id}`)).toBe(true);
    // The e-RS request carried the whole body, with its declared length.
    const recorded = (await env.control.requests()).find((r) => r.operation === 'A020');
    expect(recorded).toMatchObject({ bodyBytes: FIVE_MIB, bodySha256: sha256(body), status: 201 });
    // And the Location works: the upload downloads back through the gateway.
    const back = await user.call('GET', location);
    expect(back.status).toBe(200);
    expect(sha256(back.body)).toBe(sha256(body));
  });

  it('forwards an upload before its body has ended (the sandbox sees bytes while the client still holds the rest)', async () => {
    const total = 3 * 1024 * 1024;
    const first = 256 * 1024;
    const body = randomBytes(total);
    const fileName = `stream-${Date.now()}.bin`;
    const source = new PassThrough();
    const pending = request(`${gateway}/api/ers/STU3/v1/Binary`, {
      method: 'POST',
      dispatcher: agent,
      headers: headers({
        'content-type': 'application/octet-stream',
        'content-length': String(total),
        'x-ers-xapi-meta-file_name': fileName,
      }),
      body: source,
    });
    // Keep a rejection from going unhandled while the test is still writing.
    pending.catch(() => undefined);
    source.write(body.subarray(0, first));
    const inProgress = await waitFor(
      'the sandbox to receive the first bytes of the upload',
      async () => (await env.control.uploads()).find((u) => u.fileName === fileName && !u.complete && u.bytes > 0),
      10_000,
    );
    expect(inProgress.bytes).toBeLessThanOrEqual(first);
    expect(inProgress.sha256).toBeNull();
    source.end(body.subarray(first));
    const response = await pending;
    const text = await response.body.text();
    expect(response.statusCode, text).toBe(201);
    expect(String(response.headers.location)).toMatch(/^\/api\/ers\/STU3\/v1\/Binary\/att-/);
    const done = (await env.control.uploads()).find((u) => u.fileName === fileName);
    expect(done).toMatchObject({ bytes: total, sha256: sha256(body), complete: true });
  });

  it('passes a chunked upload (no Content-Length) of ~1 MiB whole', async () => {
    const body = randomBytes(1024 * 1024 + 123);
    const fileName = `chunked-${Date.now()}.bin`;
    const source = new PassThrough();
    const pending = request(`${gateway}/api/ers/STU3/v1/Binary`, {
      method: 'POST',
      dispatcher: agent,
      headers: headers({ 'content-type': 'application/octet-stream', 'x-ers-xapi-meta-file_name': fileName }),
      body: source,
    });
    pending.catch(() => undefined);
    for (let at = 0; at < body.length; at += 100_000) source.write(body.subarray(at, at + 100_000));
    source.end();
    const response = await pending;
    const text = await response.body.text();
    expect(response.statusCode, text).toBe(201);
    const done = (await env.control.uploads()).find((u) => u.fileName === fileName);
    expect(done).toMatchObject({ bytes: body.length, sha256: sha256(body), complete: true });
    const recorded = (await env.control.requests()).find((r) => r.operation === 'A020');
    expect(recorded?.rawHeaderNames.map((name) => name.toLowerCase())).not.toContain('content-length');
    expect(recorded?.bodySha256).toBe(sha256(body));
  });

  it('a HEAD through the gateway gets the headers e-RS gives a GET, and no body', async () => {
    const fixture = (await env.control.binaries()).find((binary) => binary.bytes === FIVE_MIB && !binary.id.includes('hold'));
    const response = await request(`${gateway}/api/ers/STU3/v1/Binary/${fixture!.id}`, { method: 'HEAD', dispatcher: agent, headers: headers() });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-length']).toBe(String(FIVE_MIB));
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect((await response.body.arrayBuffer()).byteLength).toBe(0);
  });

  // Last in this file: it signs the user out.
  it('a browser that goes away mid-download: e-RS is cut off, the call no longer counts as in flight, the gateway carries on', async () => {
    const response = await request(`${gateway}/api/ers/STU3/v1/Binary/att-hold`, { dispatcher: agent, headers: headers() });
    expect(response.statusCode).toBe(200);
    let received = 0;
    for await (const chunk of response.body) {
      received += (chunk as Buffer).length;
      // Leaving the loop destroys the body: undici drops the connection, as a closed tab does.
      if (received >= 64 * 1024) break;
    }
    const logs = env.gateways[0]!.lines;
    await waitFor('the gateway to log the cut answer', () => logs.some((line) => line.includes('"event":"proxied-answer-cut"')));
    await env.control.releaseHolds();
    const cut = logs.find((line) => line.includes('"event":"proxied-answer-cut"'))!;
    expect(JSON.parse(cut)).toMatchObject({ level: 'warn', upstream: expect.any(String) });

    // The gateway carries on for this user.
    const small = (await env.control.binaries()).find((binary) => binary.bytes < 1024 * 1024 && !binary.id.includes('hold'));
    expect((await user.ers('GET', `STU3/v1/Binary/${small!.id}`)).status).toBe(200);

    // Its mark was cleared when the answer was cut: the logout's A003 goes out at once, not after
    // the call's lease (ERS_TIMEOUT_MS + 5 s: 185 s by default) would have run out.
    const sessionKey = (await env.control.requests()).find((r) => r.operation !== 'A003' && r.sessionKey)?.sessionKey;
    const started = Date.now();
    expect((await user.logout()).status).toBe(204);
    await waitFor('the A003', async () => (await env.control.requests()).some((r) => r.operation === 'A003' && r.sessionKey === sessionKey), 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    const session = (await env.control.sessions()).find((s) => s.sessionKey === sessionKey);
    expect(session?.a003WhileCallsInFlight).toBe(0);
  });
});
