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
