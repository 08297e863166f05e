import { describe, expect, it } from 'vitest';
import { FOLDED_ERS_SESSION_KEY_HEADER, foldHeaderName } from './headers';

describe('foldHeaderName', () => {
  it.each(['HTTP_X_SESSION_KEY', 'http-x-session-key', 'Http_X-Session_Key'])(
    'recognises %s as the session key header',
    (name) => {
      expect(foldHeaderName(name)).toBe(FOLDED_ERS_SESSION_KEY_HEADER);
    },
  );
  it('keeps other names apart', () => {
    expect(foldHeaderName('X-Session-Key')).not.toBe(FOLDED_ERS_SESSION_KEY_HEADER);
  });
});
