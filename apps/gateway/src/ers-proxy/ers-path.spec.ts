import { describe, expect, it } from 'vitest';
import { GatewayError } from '../problem/gateway-error';
import { checkedErsPath } from './ers-path';

const codeOf = (path: string): string => {
  try {
    checkedErsPath(`/api/ers/${path}`);
    return 'ok';
  } catch (error) {
    return error instanceof GatewayError ? error.code : 'thrown';
  }
};

describe('checkedErsPath', () => {
  it.each([
    'STU3/v1/ReferralRequest/000000070000',
    'STU3/v1/ReferralRequest/$ers.fetchworklist',
    'v1/Referral/1',
    'stu3/v1/CodeSystem/SPECIALTY',
    'STU3/v1/Task?focus=ReferralRequest%2F1%2F_history%2F2&intent=proposal',
    'STU3/v1/Binary/att-1%20x',
  ])('allows %s', (path) => {
    expect(codeOf(path)).toBe('ok');
  });

  it('returns the path and query exactly as sent', () => {
    expect(checkedErsPath('/api/ers/STU3/v1/Task?a=%2F&b=c')).toBe('STU3/v1/Task?a=%2F&b=c');
  });

  it.each([
    'v1/ProfessionalSession',
    'V1/PROFESSIONALSESSION/x',
    'v1/%50rofessionalSession',
    'STU3/ProfessionalSession',
    'STU3/v1/ProfessionalSession',
    'R4/Patient',
    'ers-api/v1/x',
    '%53TU3/v1/ProfessionalSession',
    'STU3',
    'v1',
  ])('refuses %s as forbidden-path', (path) => {
    expect(codeOf(path)).toBe('forbidden-path');
  });

  it.each([
    '',
    'STU3/',
    'STU3//v1',
    'STU3/v1/../x',
    'STU3/./v1',
    'STU3/%2E%2E/v1',
    'STU3/%2e/v1',
    'STU3/v1/a%2Fb',
    'STU3/v1/a%5cb',
    'STU3/v1/a\\b',
    'STU3/v1/a%00',
    'STU3/v1/a%7F',
    'STU3/v1/a%E0%A4',
    'STU3/v1/a#frag',
    'STU3/v1/a?x=\u0001',
  ])('refuses %j as invalid-path', (path) => {
    expect(codeOf(path)).toBe('invalid-path');
  });
});

describe('checkedErsPath, order of refusals', () => {
  it('reports a malformed path as invalid-path even when it also names a session endpoint', () => {
    expect(codeOf('v1/ProfessionalSession//x')).toBe('invalid-path');
    expect(codeOf('STU3/v1/ProfessionalSession/..')).toBe('invalid-path');
    expect(codeOf('v1/%50rofessionalSession/%E0%A4')).toBe('invalid-path');
  });

  it('looks for the session endpoint only in the first three segments, decoded and in any case', () => {
    expect(codeOf('STU3/v1/%70rofessionalsession')).toBe('forbidden-path');
    expect(codeOf('STU3/v1/ReferralRequest/ProfessionalSession')).toBe('ok');
  });
});

/** The split-based check this one replaced (kept as the oracle for the segment scan). */
function splitOracle(rawUrl: string): string {
  const relative = rawUrl.slice('/api/ers/'.length);
  const queryAt = relative.indexOf('?');
  const path = queryAt === -1 ? relative : relative.slice(0, queryAt);
  const query = queryAt === -1 ? '' : relative.slice(queryAt);
  if (/[\u0000-\u001f\u007f\\]|%(?:[01][0-9a-f]|7f|2f|5c)/i.test(path) || /[\u0000-\u001f\u007f]/.test(query) || relative.includes('#')) {
    return 'invalid-path:chars';
  }
  const segments = path.split('/');
  const encoded = path.includes('%');
  let first = '';
  let sessionEndpoint = false;
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index] as string;
    if (segment === '') return 'invalid-path:empty';
    let plain = segment;
    if (encoded) {
      try {
        plain = decodeURIComponent(segment);
      } catch {
        return 'invalid-path:encoding';
      }
    }
    if (plain === '.' || plain === '..') return 'invalid-path:dot';
    if (index > 2) continue;
    const lower = plain.toLowerCase();
    if (index === 0) first = lower;
    else if (lower === 'professionalsession') sessionEndpoint = true;
  }
  if ((first !== 'stu3' && first !== 'v1') || segments.length < 2) return 'forbidden-path:business';
  if (sessionEndpoint) return 'forbidden-path:session';
  return `ok:${relative}`;
}

const outcome = (rawUrl: string): string => {
  try {
    return `ok:${checkedErsPath(rawUrl)}`;
  } catch (error) {
    if (!(error instanceof GatewayError)) return 'thrown';
    const detail = error.message;
    const kind = /characters/.test(detail)
      ? 'chars'
      : /empty/.test(detail)
        ? 'empty'
        : /percent/.test(detail)
          ? 'encoding'
          : /dot/.test(detail)
            ? 'dot'
            : /session endpoints/.test(detail)
              ? 'session'
              : 'business';
    return `${error.code}:${kind}`;
  }
};

describe('checkedErsPath segment scan', () => {
  it('answers exactly as the split-based check for 20,000 generated paths', () => {
    // A small deterministic generator (no Math.random: a failure must reproduce).
    let seed = 42;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pieces = ['STU3', 'stu3', 'v1', 'V1', 'ProfessionalSession', 'professionalsession', 'ReferralRequest', '1', '.', '..', '...', '.a', '%2e', '%2E%2e', '%', '%zz', '%41', 'a%20b', '', '?x=1', '?a=/b', '#f', 'ä', '~'];
    for (let index = 0; index < 20_000; index++) {
      const count = 1 + next(6);
      const segments: string[] = [];
      for (let s = 0; s < count; s++) segments.push(pieces[next(pieces.length)] as string);
      const url = `/api/ers/${segments.join(next(10) === 0 ? '//' : '/')}${next(8) === 0 ? '/' : ''}`;
      expect(outcome(url), url).toBe(splitOracle(url));
    }
  });
});
