import { describe, expect, it } from 'vitest';
import { cookieValue } from './session-cookie';

describe('cookieValue', () => {
  it.each([
    ['sid=abc', 'abc'],
    ['a=1; sid=abc; b=2', 'abc'],
    ['a=1;sid=abc', 'abc'],
    ['  sid=abc  ', 'abc'],
    ['xsid=abc; sid=def', 'def'],
    ['sidx=abc', null],
    ['sid=first; sid=second', 'first'],
    ['a=1; b', null],
    ['', null],
    ['sid=', ''],
  ])('%j → %j', (header, expected) => {
    expect(cookieValue(header, 'sid')).toBe(expected);
  });
});
