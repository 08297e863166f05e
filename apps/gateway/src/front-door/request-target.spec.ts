import { describe, expect, it } from 'vitest';
import { ERS_ROUTE, SESSION_ROUTES } from './api-routes';
import { classifyTarget, readsAsApi } from './request-target';

const route = (url: string): string | undefined => {
  const target = classifyTarget(url);
  return target.kind === 'api' ? (target.route?.template ?? 'no route') : target.kind;
};

describe('classifyTarget: each request is routed on the spelling the front door checked', () => {
  it.each([
    ['/api/ers/STU3/v1/CodeSystem/SPECIALTY', ERS_ROUTE.template],
    ['/api/ers/STU3/v1/x?y=%2F', ERS_ROUTE.template],
    ['/api/session', '/api/session'],
    ['/api/session?x=1', '/api/session'],
    ['/api/session/role', '/api/session/role'],
    // Literally under /api/ but no route: 404 at the door, never a second spelling of a route.
    ['/api', 'no route'],
    ['/api/', 'no route'],
    ['/api/session/', 'no route'],
    ['/api/sess%69on', 'no route'],
    ['/api/session/%72ole', 'no route'],
    ['/api//session', 'no route'],
    ['/api/./session', 'no route'],
    ['/api/session;x=1', 'no route'],
    ['/api/%65rs/STU3/v1/x', 'no route'],
    ['/api/ers', 'no route'],
    ['/api/ERS/STU3/v1/x', 'no route'],
    // Not the browser API.
    ['/', 'other'],
    ['/health/ready', 'other'],
    ['/openapi.json', 'other'],
    ['/apix/session', 'other'],
    ['/index.html?api/session', 'other'],
  ])('%s: %s', (url, expected) => {
    expect(route(url)).toBe(expected);
  });

  it.each([
    // Found in review: an encoded prefix skipped the anti-forgery check and was routed to /api/session.
    '/%61pi/session',
    '/%61%70%69/session/role',
    '/%2561pi/session',
    '/API/session',
    '/Api/ers/STU3/v1/x',
    '//api/session',
    '/./api/session',
    '/x/../api/session',
    '/api;a=b/session',
    '/api%2Fsession',
    '\\api\\session',
    '/%5capi/session',
  ])('refuses %s (400): another spelling of /api', (url) => {
    expect(classifyTarget(url).kind).toBe('refused');
  });

  it.each([
    // Found in review: an absolute-form target was routed (and proxied, with a foreign Origin and no X-CSRF).
    'http://abv1/api/ers/STU3/v1/ReferralRequest/1',
    'https://gateway.example/api/session',
    'HTTP://x/api/session',
    '*',
    'api/session',
    '',
  ])('refuses %j (400): not a path (absolute-form, asterisk-form)', (url) => {
    const target = classifyTarget(url);
    expect(target.kind).toBe('refused');
  });

  it('knows every session route by its exact path, with the methods the controller answers', () => {
    expect([...SESSION_ROUTES.keys()]).toEqual(['/api/session', '/api/session/role']);
    expect([...SESSION_ROUTES.get('/api/session')!.methods]).toEqual(['GET', 'POST', 'DELETE']);
    expect([...SESSION_ROUTES.get('/api/session/role')!.methods]).toEqual(['PUT']);
  });
});

describe('readsAsApi', () => {
  it('sees /api behind encodings, case, dot segments, doubled slashes, backslashes and parameters', () => {
    for (const path of ['/%61pi', '/%41PI/x', '/%2561pi/x', '//api', '/a/../api/x', '/./api', '/api;x', '\\api', '/%5Capi']) {
      expect(readsAsApi(path), path).toBe(true);
    }
    for (const path of ['/', '/apix', '/ap%69x', '/health/live', '/a/api', '/..', '/%zz']) {
      expect(readsAsApi(path), path).toBe(false);
    }
  });
});
