import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SessionCipher } from './session-cipher';

const keyA = randomBytes(32);
const keyB = randomBytes(32);

describe('SessionCipher', () => {
  it('round-trips with the same record binding, and never shows the plaintext', () => {
    const cipher = new SessionCipher([keyA]);
    const blob = cipher.encrypt('pro-xapi-session_secret', 'u1/k');
    expect(Buffer.isBuffer(blob)).toBe(true);
    // version, key id, IV and tag, then exactly as many bytes as the plaintext (GCM adds none)
    expect(blob.length).toBe(33 + 'pro-xapi-session_secret'.length);
    expect(blob.toString('latin1')).not.toContain('secret');
    expect(cipher.decrypt(blob, 'u1/k')).toBe('pro-xapi-session_secret');
  });

  it('uses a fresh IV every time', () => {
    const cipher = new SessionCipher([keyA]);
    expect(cipher.encrypt('same', 'aad').equals(cipher.encrypt('same', 'aad'))).toBe(false);
  });

  it('refuses a blob moved to another record (AAD)', () => {
    const cipher = new SessionCipher([keyA]);
    expect(cipher.decrypt(cipher.encrypt('v', 'u1/k'), 'u2/k')).toBeNull();
  });

  it('refuses a tampered blob', () => {
    const cipher = new SessionCipher([keyA]);
    const raw = cipher.encrypt('value', 'aad');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(cipher.decrypt(raw, 'aad')).toBeNull();
    expect(cipher.decrypt(Buffer.alloc(0), 'aad')).toBeNull();
    expect(cipher.decrypt(Buffer.from('not a blob at all, but long enough to have a header'), 'aad')).toBeNull();
    // cut short: a header and part of the ciphertext
    expect(cipher.decrypt(cipher.encrypt('value', 'aad').subarray(0, 35), 'aad')).toBeNull();
  });

  it('rotates: the first key encrypts, every key decrypts, a dropped key reads nothing', () => {
    const old = new SessionCipher([keyA]).encrypt('v', 'aad');
    const rotated = new SessionCipher([keyB, keyA]);
    expect(rotated.decrypt(old, 'aad')).toBe('v');
    const fresh = rotated.encrypt('w', 'aad');
    expect(new SessionCipher([keyB]).decrypt(fresh, 'aad')).toBe('w');
    expect(new SessionCipher([keyB]).decrypt(old, 'aad')).toBeNull();
  });

  it('rejects keys that are not 32 bytes without showing them', () => {
    expect(() => new SessionCipher([])).toThrow(/at least one key/);
    const short = Buffer.from('short-key-material');
    expect(() => new SessionCipher([keyA, short])).toThrow('SessionCipher key #2 is not 32 bytes');
    expect(SessionCipher.fromBase64([keyA.toString('base64')]).decrypt(new SessionCipher([keyA]).encrypt('x', 'a'), 'a')).toBe('x');
  });

  it('says why a blob did not open: a key it does not hold (a rotation), or rejected (tampered, moved, forged)', () => {
    const cipher = new SessionCipher([keyA]);
    const blob = cipher.encrypt('v', 'u1/k');
    expect(cipher.open(blob, 'u1/k')).toEqual({ ok: true, plaintext: 'v' });
    expect(new SessionCipher([keyB]).open(blob, 'u1/k')).toEqual({ ok: false, failure: 'unknown-key' });
    expect(cipher.open(blob, 'u2/k')).toEqual({ ok: false, failure: 'rejected' });
    expect(cipher.open(Buffer.alloc(10), 'u1/k')).toEqual({ ok: false, failure: 'rejected' });
  });

  it('writes version 2 (blobs bound to their whole record) and still reads version 1', () => {
    const cipher = new SessionCipher([keyA]);
    const blob = cipher.encrypt('v', 'aad');
    expect(SessionCipher.versionOf(blob)).toBe(2);
    const old = Buffer.from(blob);
    old[0] = 1;
    // The version byte is not authenticated: a store tells the two apart to pick the associated data.
    expect(SessionCipher.versionOf(old)).toBe(1);
    expect(cipher.open(old, 'aad')).toEqual({ ok: true, plaintext: 'v' });
    const unknown = Buffer.from(blob);
    unknown[0] = 3;
    expect(SessionCipher.versionOf(unknown)).toBe(0);
    expect(cipher.open(unknown, 'aad')).toEqual({ ok: false, failure: 'rejected' });
  });
});
