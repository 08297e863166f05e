import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, signedInBrowser } from '../support/browser';
import { type Card } from '../support/sandbox-control';
import { type Deployment, deploy } from './cluster';

/** The origin browsers see: the load balancer's, over TLS. */
const PUBLIC_ORIGIN = 'https://gw.example.nhs.uk';
/** What a TLS-terminating load balancer in front of the gateway adds to each request. */
const FROM_THE_BALANCER = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'gw.example.nhs.uk' };

/**
 * Behind a load balancer that terminates TLS, the gateway sees plain HTTP and the balancer's
 * `X-Forwarded-Proto` and `X-Forwarded-Host`. With `TRUST_PROXY=1` the SPA served from the
 * public origin (`STATIC_DIR`) must pass the same-origin check on its calls (browsers send
 * `Origin` on every POST, PUT and DELETE), without being listed in `ALLOWED_ORIGINS`.
 */
describe('TRUST_PROXY: the same-origin check behind a TLS load balancer', () => {
  let env: Deployment;
  let gateway: string;
  let referrer: Card;

  beforeAll(async () => {
    env = await deploy({ gateways: 1, env: { TRUST_PROXY: '1' } });
    gateway = env.gateways[0]!.url;
    referrer = await env.control.card((card) => card.valid && card.permissions.some((p) => p.businessFunction === 'REFERRING_CLINICIAN'));
  });

  afterAll(async () => {
    await env?.stop();
  });

  const signedIn = (): Promise<Browser> => signedInBrowser(gateway, referrer);

  it('accepts the public origin on session routes and proxied calls, with no CORS headers', async () => {
    const user = await signedIn();
    const headers = { ...FROM_THE_BALANCER, origin: PUBLIC_ORIGIN };
    const session = await user.call('GET', '/api/session', { headers });
    expect(session.status).toBe(200);
    const proxied = await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY', { headers });
    expect(proxied.status).toBe(200);
    expect(proxied.headers['access-control-allow-origin']).toBeUndefined();
    const posted = await user.ers('POST', 'STU3/v1/ReferralRequest/$ers.fetchworklist', {
      headers: { ...headers, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Parameters', parameter: [] }),
    });
    // e-RS's own answer (a 403 OperationOutcome for this worklist), not the gateway's 403 origin.
    expect({ status: posted.status, type: posted.json?.resourceType, code: posted.json?.code }).toEqual({ status: 403, type: 'OperationOutcome', code: undefined });
    expect((await user.call('DELETE', '/api/session', { headers })).status).toBe(204);
  });

  it('refuses the public origin without the balancer headers, and an origin the client put before the balancer entry', async () => {
    const user = await signedIn();
    const plain = await user.call('GET', '/api/session', { headers: { origin: PUBLIC_ORIGIN } });
    expect({ status: plain.status, code: plain.json?.code }).toEqual({ status: 403, code: 'origin' });
    // A client's own X-Forwarded-Host entry comes first; the balancer's (last) is the one used.
    const spoofed = await user.call('GET', '/api/session', {
      headers: { origin: 'https://evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example, gw.example.nhs.uk' },
    });
    expect({ status: spoofed.status, code: spoofed.json?.code }).toEqual({ status: 403, code: 'origin' });
    expect((await user.session()).status).toBe(200);
  });
});
