import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser';
import { type Deployment, deploy } from './cluster';

/** The cookie with the production defaults: `__Host-` name, Secure, HttpOnly, SameSite=Strict. */
describe('the session cookie with default settings', () => {
  let env: Deployment;

  beforeAll(async () => {
    // An empty variable counts as unset: these are the gateway's defaults.
    env = await deploy({ env: { COOKIE_SECURE: '', COOKIE_NAME: '' } });
  });

  afterAll(async () => {
    await env?.stop();
  });

  it('is __Host-ers-session=<256-bit base64url>; Path=/; HttpOnly; Secure; SameSite=Strict, with no Domain or expiry', async () => {
    const card = await env.control.card((c) => c.valid && c.permissions.length > 0);
    const user = new Browser(env.gateways[0]!.url, '__Host-ers-session');
    const login = await user.login(card.token);
    expect(login.status).toBe(201);
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^__Host-ers-session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    expect(setCookie).not.toMatch(/Domain|Max-Age|Expires/i);
    expect((await user.session()).status).toBe(200);
    const out = await user.logout();
    expect(String(out.headers['set-cookie'])).toBe('__Host-ers-session=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0');
    expect((await user.session()).status).toBe(401);
  });

  it('with a Secure cookie (served over HTTPS), every answer carries HSTS for a year, subdomains included', async () => {
    const card = await env.control.card((c) => c.valid && c.permissions.length > 0);
    const user = new Browser(env.gateways[0]!.url, '__Host-ers-session');
    const answers = [
      await user.call('GET', '/health/live'),
      await user.call('GET', '/openapi.json'),
      await user.call('GET', '/api/session'),
      await user.call('GET', '/nowhere'),
      await user.login(card.token),
      await user.call('PUT', '/api/session/role', { json: card.permissions[0] }),
      await user.ers('GET', 'STU3/v1/CodeSystem/SPECIALTY'),
      await user.ers('GET', 'STU3/v1/../x'),
      await user.call('GET', '/%61pi/session'),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 401, 404, 201, 200, 200, 400, 400]);
    for (const answer of answers) {
      expect(answer.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(answer.headers['content-security-policy']).toBe("default-src 'none'; base-uri 'none'; frame-ancestors 'none'; sandbox");
    }
  });
});
