import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEMS, PROBLEM_CODES } from '../../apps/gateway/src/problem/problem-codes';
import { type Answer, Browser } from '../support/browser';
import { SecretWatch } from '../support/leaks';
import { type Card } from '../support/sandbox-control';
import { waitFor } from '../support/wait';
import { type Deployment, deploy } from './cluster';

const UBRN = '000000070000';
const ATTACHMENT = 'att-70000-letter';

/** The parts of an OpenAPI document the test reads. */
interface OpenApi {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown> | undefined>;
  components?: { schemas?: Record<string, { properties?: Record<string, { enum?: string[] }> } | undefined> };
  'x-problem-codes': Record<string, { status: number; title: string }>;
}

/** Every label value of every sample in a Prometheus text exposition. */
function labelValues(text: string): { metric: string; name: string; value: string }[] {
  const found: { metric: string; name: string; value: string }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}\s/.exec(line);
    if (match === null) continue;
    for (const label of match[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      found.push({ metric: match[1]!, name: label[1]!, value: label[2]! });
    }
  }
  return found;
}

/** The value of the first sample whose line starts with `prefix` (name and labels), or undefined. */
function sample(text: string, metric: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    if (!Object.entries(labels).every(([name, value]) => line.includes(`${name}="${value}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** CONTRACT §6: the OpenAPI document, /metrics and the logs, as an operator sees them. */
describe('operations: /openapi.json, /metrics and logs', () => {
  let env: Deployment;
  let gateway: string;
  let referrer: Card;
  const secrets = new SecretWatch();
  const watch = (kind: string, value: string | null): void => secrets.add(kind, value);
  let proxied: Answer;

  beforeAll(async () => {
    env = await deploy({ gateways: 1 });
    gateway = env.gateways[0]!.url;
    referrer = await env.control.card((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'REFERRING_CLINICIAN'));
    for (const card of await env.control.cards()) watch('smartcard token', card.token);

    // Some traffic: sign-in, role, proxied calls with ids in their paths, an error, sign-out.
    const user = new Browser(gateway);
    expect((await user.login(referrer.token)).status).toBe(201);
    watch('cookie value', user.cookie);
    const role = referrer.permissions.find((p) => p.businessFunction === 'REFERRING_CLINICIAN')!;
    expect((await user.chooseRole(role.businessFunction, role.orgIdentifier)).status).toBe(200);
    watch('cookie value', user.cookie);
    for (const session of await env.control.sessions()) watch('e-RS session key', session.sessionKey);
    proxied = await user.ers('GET', `STU3/v1/ReferralRequest/${UBRN}`, { headers: { 'x-correlation-id': 'ops-a005' } });
    expect(proxied.status).toBe(200);
    expect((await user.ers('GET', `STU3/v1/Binary/${ATTACHMENT}`)).status).toBe(200);
    expect((await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY')).status).toBe(200);
    // e-RS answers a UBRN it has no referral for 422 NO_SUCH_REQUEST (the A005 page).
    expect((await user.ers('GET', 'STU3/v1/ReferralRequest/999999999999')).status).toBe(422);
    expect((await user.call('GET', '/api/session', { noCsrf: true })).status).toBe(403);
    expect((await user.logout()).status).toBe(204);
    await waitFor('the A003 after sign-out', async () => (await env.control.sessions()).every((s) => s.state === 'deleted'));
  });

  afterAll(async () => {
    await env?.stop();
  });

  it('GET /openapi.json: an OpenAPI 3 document of the browser API with every problem code', async () => {
    const response = await fetch(`${gateway}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const document = (await response.json()) as OpenApi;
    expect(document.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(document.paths['/api/session'] ?? {})).toEqual(expect.arrayContaining(['post', 'get', 'delete']));
    expect(Object.keys(document.paths['/api/session/role'] ?? {})).toContain('put');
    expect(Object.keys(document.paths['/api/ers/{path}'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
    const problem = document.components?.schemas?.Problem;
    expect(problem?.properties).toMatchObject({
      type: expect.anything(),
      title: expect.anything(),
      status: expect.anything(),
      detail: expect.anything(),
      code: expect.anything(),
      correlationId: expect.anything(),
    });
    expect(PROBLEM_CODES.length).toBeGreaterThan(15);
    expect([...(problem?.properties?.code?.enum ?? [])].sort()).toEqual([...PROBLEM_CODES].sort());
    const listed = document['x-problem-codes'];
    expect(Object.keys(listed).sort()).toEqual([...PROBLEM_CODES].sort());
    for (const code of PROBLEM_CODES) expect(listed[code], code).toEqual({ status: PROBLEMS[code].status, title: PROBLEMS[code].title });
    // The session calls document their problem answers by reference to the schema.
    const text = JSON.stringify(document);
    expect(text).toContain('#/components/schemas/Problem');
    secrets.expectAbsent('/openapi.json', text);
  });

  it('GET /metrics on OPS_PORT: Prometheus text by route template, with upstream latency, sessions and store errors', async () => {
    const ops = env.gateways[0]!.opsUrl;
    const metrics = await waitFor('the logout to be counted', async () => {
      const text = await (await fetch(`${ops}/metrics`)).text();
      return (sample(text, 'ersgw_sessions_ended_total', { reason: 'logout' }) ?? 0) >= 1 ? text : undefined;
    });
    const response = await fetch(`${ops}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    await response.arrayBuffer();

    expect(sample(metrics, 'ersgw_http_requests_total', { route: '/api/session', method: 'POST', status: '201' })).toBe(1);
    expect(sample(metrics, 'ersgw_http_requests_total', { route: '/api/session', method: 'DELETE', status: '204' })).toBe(1);
    expect(sample(metrics, 'ersgw_http_requests_total', { route: '/api/session', method: 'GET', status: '403' })).toBe(1);
    expect(metrics).toMatch(/^ersgw_http_request_duration_seconds_bucket\{.*route="\/api\/session".*\} \d+/m);
    expect(metrics).toMatch(/^ersgw_http_request_duration_seconds_count\{/m);
    expect(sample(metrics, 'ersgw_upstream_request_duration_seconds_count', { operation: 'proxy' })).toBe(4);
    expect(sample(metrics, 'ersgw_upstream_request_duration_seconds_count', { operation: 'A001' })).toBe(1);
    expect(sample(metrics, 'ersgw_upstream_request_duration_seconds_count', { operation: 'A002' })).toBe(1);
    expect(sample(metrics, 'ersgw_sessions_started_total', {})).toBe(1);
    expect(sample(metrics, 'ersgw_sessions_ended_total', { reason: 'logout' })).toBe(1);
    expect(sample(metrics, 'ersgw_store_errors_total', {})).toBe(0);
    expect(metrics).toMatch(/^# TYPE ersgw_store_errors_total counter$/m);

    // The proxied calls are counted under one route template, not four paths.
    const proxyRoutes = new Set(labelValues(metrics).filter((l) => l.name === 'route' && l.value.startsWith('/api/ers')).map((l) => l.value));
    expect(proxyRoutes.size).toBe(1);
    const proxyRoute = [...proxyRoutes][0]!;
    expect(proxyRoute).toBe('/api/ers/*');
    const proxiedCalls = [200, 422].reduce((sum, status) => sum + (sample(metrics, 'ersgw_http_requests_total', { route: proxyRoute, method: 'GET', status: String(status) }) ?? 0), 0);
    expect(proxiedCalls).toBe(4);
    for (const label of labelValues(metrics)) {
      const where = `${label.metric}{${label.name}="${label.value}"}`;
      for (const id of [UBRN, '999999999999', ATTACHMENT, 'SPECIALTY', 'STU3', 'ReferralRequest']) expect(label.value.includes(id), where).toBe(false);
      if (label.name === 'route') expect(label.value, where).toMatch(/^(\/[a-z0-9.*:{}_-]*)+$|^unmatched$/i);
    }
    secrets.expectAbsent('/metrics', metrics);
  });

  it('OPS_PORT serves /metrics and the health endpoints, nothing of the browser API; the public port serves no /metrics', async () => {
    const ops = env.gateways[0]!.opsUrl;
    const live = await fetch(`${ops}/health/live`);
    expect({ status: live.status, body: await live.json() }).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await fetch(`${ops}/health/ready`);
    expect({ status: ready.status, body: await ready.json() }).toEqual({ status: 200, body: { status: 'ok', store: 'up', draining: false } });
    for (const path of ['/api/session', '/api/ers/STU3/v1/CodeSystem/SPECIALTY', '/openapi.json', '/']) {
      const answer = await fetch(`${ops}${path}`, { headers: { 'x-csrf': '1' } });
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
      await answer.arrayBuffer();
    }
    const post = await fetch(`${ops}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    await post.arrayBuffer();
    const publicMetrics = await fetch(`${gateway}/metrics`);
    expect(publicMetrics.status).toBe(404);
    expect(await publicMetrics.text()).not.toContain('ersgw_');
    // Load balancers keep the public health endpoints.
    expect((await fetch(`${gateway}/health/ready`)).status).toBe(200);
  });

  it('logs every line as JSON; an access-log line per proxied call, and never a cookie, token or session key', async () => {
    const gatewayProcess = env.gateways[0]!;
    const access = await waitFor('the access-log line of the proxied call', () =>
      gatewayProcess.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.correlationId === 'ops-a005'),
    );
    expect(access).toMatchObject({
      method: 'GET',
      path: `/api/ers/STU3/v1/ReferralRequest/${UBRN}`,
      status: 200,
      correlationId: 'ops-a005',
      upstream: expect.any(String),
      ersTransactionId: expect.any(String),
    });
    expect(access.ersTransactionId).toBe(proxied.headers['x_ers_transaction_id']);
    expect(String(access.upstream).length).toBeGreaterThan(0);

    const entries: Record<string, unknown>[] = [];
    for (const line of gatewayProcess.lines) {
      let entry: unknown;
      expect(() => (entry = JSON.parse(line)), `not JSON: ${line.slice(0, 200)}`).not.toThrow();
      expect(entry, line.slice(0, 200)).toMatchObject({ level: expect.any(String), time: expect.any(String) });
      entries.push(entry as Record<string, unknown>);
    }
    // One access line per answered request that is not a probe: the 4 proxied calls all logged.
    const proxiedLines = entries.filter((entry) => typeof entry.path === 'string' && entry.path.startsWith('/api/ers/'));
    expect(proxiedLines.map((entry) => entry.status).sort()).toEqual([200, 200, 200, 422]);
    for (const entry of proxiedLines) expect(entry.upstream, JSON.stringify(entry)).toEqual(access.upstream);

    expect(secrets.size).toBeGreaterThanOrEqual(8);
    secrets.expectAbsent('gateway log', gatewayProcess.lines.join('\n'));
  });
});
