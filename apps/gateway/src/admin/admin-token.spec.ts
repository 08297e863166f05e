import { describe, expect, it } from 'vitest';
import { AdminToken } from './admin-token';

describe('AdminToken', () => {
  const token = new AdminToken('c2VjcmV0LWFkbWluLXRva2VuLWZvci10ZXN0cy0xMjM0');

  it('admits exactly the configured bearer token', () => {
    expect(token.admits('Bearer c2VjcmV0LWFkbWluLXRva2VuLWZvci10ZXN0cy0xMjM0')).toBe(true);
    expect(token.admits('bearer c2VjcmV0LWFkbWluLXRva2VuLWZvci10ZXN0cy0xMjM0')).toBe(true);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['another scheme', 'Basic c2VjcmV0LWFkbWluLXRva2VuLWZvci10ZXN0cy0xMjM0'],
    ['a prefix of it', 'Bearer c2VjcmV0LWFkbWluLXRva2VuLWZvci10ZXN0cy0xMjM'],
    ['it and more', 'Bearer c2VjcmV0LWFkbWluLXRva2VuLWZvci10ZXN0cy0xMjM0x'],
    ['the scheme alone', 'Bearer '],
    ['the raw token without a scheme', 'c2VjcmV0LWFkbWluLXRva2VuLWZvci10ZXN0cy0xMjM0'],
  ])('refuses %s', (_what, header) => {
    expect(token.admits(header)).toBe(false);
  });
});
