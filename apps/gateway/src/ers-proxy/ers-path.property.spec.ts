import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../problem/gateway-error';
import { checkedErsPath } from './ers-path';
import { servletNormalise, tomcat } from './testing/servlet-path-model';

/**
 * Whatever `checkedErsPath` lets through reaches e-RS at `{base}/{path}` exactly as the browser
 * wrote it. These properties hold that against a model of how the servlet stacks e-RS may run on
 * read a path (testing/servlet-path-model.ts: Tomcat, Jetty, Spring): every path the gateway
 * accepts is read by every one of them as exactly the segments the gateway checked (or refused by
 * all of them), and none is read as a Professional Session endpoint.
 */

/** The base path of `ERS_BASE_URL` (`https://host/ers-api`). */
const BASE = '/ers-api';

/** Pieces of segments: real ones, and every spelling trick of the review and the literature. */
const FRAGMENTS = [
  'v1', 'V1', 'STU3', 'stu3', 'ProfessionalSession', 'professionalsession', 'PROFESSIONALSESSION', 'Professional', 'Session',
  'ReferralRequest', 'CodeSystem', 'SPECIALTY', '$ers.fetchworklist', '000000070000', 'att-1', 'x', 'a', 'b', '_', '-', '~', '.x', 'x.',
  '.', '..', '%2e', '%2E', '.%2e', '%2e.', '%2e%2e', '%2E%2e', '%252e', '%252e%252e', '%25',
  ';', ';jsessionid=1', ';x=y', '..;', '.;', '%3B', '%3b', '%3B..',
  '/', '//', '%2F', '%2f', '%252F', '\\', '%5C', '%5c',
  '%00', '%0a', '%0D', '%1f', '%7f', '%20', '%', '%z', '%zz', '%4', '%E0%A4', '%C0%AE', '%C3%A9', 'é', '\u0000', '\t',
  '%50', '%70', '%72', '%6f', '%53', '%73', '%76', '%31', '%56', '%u0050', '#', '?', '?x=1', '&', '=', '+', '@', ':',
];

const segment = fc.array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''));
const prefix = fc.constantFrom('', 'STU3/', 'v1/', 'STU3/v1/', 'v1/ProfessionalSession/', 'STU3/v1/x/', 'v1/x/');
const generatedPath = fc
  .tuple(prefix, fc.array(segment, { minLength: 1, maxLength: 6 }))
  .map(([start, segments]) => start + segments.join('/'));
/** Any text at all after a real prefix, for what the fragments do not think of. */
const anyPath = fc
  .tuple(prefix, fc.string({ unit: fc.constantFrom(...'abvV1STU3PpRrSs/.;%\\2eEfFcC5b0#?&=:@ '.split('')), maxLength: 40 }))
  .map(([start, rest]) => start + rest);

type Verdict = 'accepted' | 'invalid-path' | 'forbidden-path' | 'thrown';

function verdictOf(path: string): { verdict: Verdict; forwarded?: string } {
  try {
    return { verdict: 'accepted', forwarded: `${BASE}/${checkedErsPath(`/api/ers/${path}`)}` };
  } catch (error) {
    return { verdict: error instanceof GatewayError && (error.code === 'invalid-path' || error.code === 'forbidden-path') ? error.code : 'thrown' };
  }
}

/** The segments the gateway checked: the path below the base, each segment decoded. */
function checkedSegments(path: string): string[] {
  const pathOnly = path.split('?')[0] as string;
  return ['ers-api', ...pathOnly.split('/').map((part) => decodeURIComponent(part))];
}

function namesSessionEndpoint(segments: readonly string[]): boolean {
  const lower = segments.map((part) => part.toLowerCase());
  return (lower[1] === 'v1' && lower[2] === 'professionalsession') || (lower[1] === 'stu3' && lower[2] === 'v1' && lower[3] === 'professionalsession');
}

/** What the properties saw, for the record (printed once at the end). */
const seen = { cases: 0, accepted: 0, 'invalid-path': 0, 'forbidden-path': 0, thrown: 0, servletRejected: 0, servletWouldReachSession: 0 };

function holdsFor(path: string): void {
  const { verdict, forwarded } = verdictOf(path);
  seen.cases++;
  seen[verdict]++;
  // The gateway answers every path with a decision, never a crash.
  expect(verdict).not.toBe('thrown');
  const all = servletNormalise(`${BASE}/${path}`);
  if (Array.isArray(all) && namesSessionEndpoint(all)) seen.servletWouldReachSession++;
  if (forwarded === undefined) return;
  const read = servletNormalise(forwarded);
  if (read === 'rejected') {
    seen.servletRejected++;
    return;
  }
  // Read by every stack as exactly what was checked: no second spelling, no disagreement.
  expect({ path, read }).toEqual({ path, read: checkedSegments(path) });
  expect(read !== 'ambiguous' && namesSessionEndpoint(read), path).toBe(false);
}

describe('checkedErsPath against the servlet path model (fast-check)', () => {
  afterAll(() => {
    console.log(`[ers-path properties] ${JSON.stringify(seen)}`);
  });

  it('the model reads the review\'s paths as e-RS would', () => {
    expect(tomcat('/ers-api/STU3/v1/x/..;/..;/v1/ProfessionalSession')).toEqual(['ers-api', 'STU3', 'v1', 'ProfessionalSession']);
    expect(tomcat('/ers-api/STU3/v1/x/..;/..;/..;/v1/ProfessionalSession')).toEqual(['ers-api', 'v1', 'ProfessionalSession']);
    expect(tomcat('/ers-api/v1/ProfessionalSession;jsessionid=1')).toEqual(['ers-api', 'v1', 'ProfessionalSession']);
    expect(tomcat('/ers-api/STU3/%2e%2e/v1/ProfessionalSession')).toEqual(['ers-api', 'v1', 'ProfessionalSession']);
    expect(servletNormalise('/ers-api/a//b')).toBe('ambiguous');
    expect(servletNormalise('/ers-api/STU3/v1/CodeSystem/SPECIALTY')).toEqual(['ers-api', 'STU3', 'v1', 'CodeSystem', 'SPECIALTY']);
  });

  it.each([
    'STU3/v1/x/..;/..;/v1/ProfessionalSession',
    'v1/ProfessionalSession;jsessionid=1',
    'STU3/v1/ReferralRequest;x/1',
    'STU3/v1/ReferralRequest%3Bx/1',
    'STU3/v1/ReferralRequest/1%3b',
  ])('found in review: %s is 400 invalid-path', (path) => {
    expect(verdictOf(path).verdict).toBe('invalid-path');
  });

  it('holds for 20,000 paths built from path fragments, encodings, dot segments, backslashes and parameters', () => {
    fc.assert(fc.property(generatedPath, (path) => holdsFor(path)), { numRuns: 20_000, seed: 1_606 });
  });

  it('holds for 20,000 paths of arbitrary characters', () => {
    fc.assert(fc.property(anyPath, (path) => holdsFor(path)), { numRuns: 20_000, seed: 1_607 });
  });

  it('generated paths a servlet stack would read as a session endpoint, and the gateway refused every one', () => {
    // Not vacuous: the generators do produce paths e-RS would route to v1/ProfessionalSession.
    expect(seen.servletWouldReachSession).toBeGreaterThan(100);
    expect(seen.accepted).toBeGreaterThan(100);
  });
});
