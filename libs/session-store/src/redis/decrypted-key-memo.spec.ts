import { afterEach, describe, expect, it, vi } from 'vitest';
import { DecryptedKeyMemo } from './decrypted-key-memo';

describe('DecryptedKeyMemo', () => {
  let clock = 0;
  const memos: DecryptedKeyMemo[] = [];
  const memo = (maxEntries = 10, maxAgeMs = 1_000): DecryptedKeyMemo => {
    const made = new DecryptedKeyMemo(maxEntries, maxAgeMs, () => clock);
    memos.push(made);
    return made;
  };
  afterEach(() => {
    for (const made of memos.splice(0)) made.close();
    clock = 0;
  });

  it('gives the key back only for the same upstream id and exactly the same bytes', () => {
    const m = memo();
    m.set('u1', 'aad-u1', Buffer.from('blob-1'), 'key-1');
    expect(m.get('u1', 'aad-u1', Buffer.from('blob-1'))).toBe('key-1');
    expect(m.get('u2', 'aad-u2', Buffer.from('blob-1'))).toBeUndefined();
    // Other bytes (a new key, a tampered or swapped blob) are a miss, and the entry is dropped.
    expect(m.get('u1', 'aad-u1', Buffer.from('blob-2'))).toBeUndefined();
    expect(m.get('u1', 'aad-u1', Buffer.from('blob-1'))).toBeUndefined();
    expect(m.size).toBe(0);
  });

  it('gives nothing back for the same bytes under other associated data (a record copied to another cookie, or edited)', () => {
    const m = memo();
    m.set('u1', 'ersgw/v2/k/u1/h1/1000/1', Buffer.from('blob-1'), 'key-1');
    expect(m.get('u1', 'ersgw/v2/k/u1/h2/1000/1', Buffer.from('blob-1'))).toBeUndefined();
    m.set('u1', 'ersgw/v2/k/u1/h1/1000/1', Buffer.from('blob-1'), 'key-1');
    expect(m.get('u1', 'ersgw/v2/k/u1/h1/9999/1', Buffer.from('blob-1'))).toBeUndefined();
    expect(m.size).toBe(0);
  });

  it('keeps its own copy of the bytes (a reply buffer may be reused or changed)', () => {
    const m = memo();
    const reply = Buffer.from('xxblob-1xx');
    m.set('u1', 'aad-u1', reply.subarray(2, 8), 'key-1');
    reply.fill(0);
    expect(m.get('u1', 'aad-u1', Buffer.from('blob-1'))).toBe('key-1');
  });

  it('forgets an entry at its age, and a new entry sweeps the aged ones', () => {
    const m = memo(10, 1_000);
    m.set('u1', 'aad-u1', Buffer.from('b1'), 'k1');
    clock = 600;
    m.set('u2', 'aad-u2', Buffer.from('b2'), 'k2');
    clock = 999;
    expect(m.get('u1', 'aad-u1', Buffer.from('b1'))).toBe('k1');
    clock = 1_000;
    expect(m.get('u1', 'aad-u1', Buffer.from('b1'))).toBeUndefined();
    expect(m.get('u2', 'aad-u2', Buffer.from('b2'))).toBe('k2');
    // A new entry sweeps the aged ones in front of it.
    clock = 1_700;
    m.set('u3', 'aad-u3', Buffer.from('b3'), 'k3');
    expect(m.size).toBe(1);
  });

  it('drops aged entries on a timer when no call comes (an idle instance holds no old keys)', () => {
    vi.useFakeTimers();
    try {
      const m = memo(10, 1_000);
      m.set('u1', 'aad-u1', Buffer.from('b1'), 'k1');
      clock = 1_000;
      vi.advanceTimersByTime(1_000);
      expect(m.size).toBe(0);
      m.close();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('holds at most maxEntries: the oldest decrypted goes first', () => {
    const m = memo(2);
    m.set('u1', 'aad-u1', Buffer.from('b1'), 'k1');
    m.set('u2', 'aad-u2', Buffer.from('b2'), 'k2');
    m.set('u3', 'aad-u3', Buffer.from('b3'), 'k3');
    expect(m.size).toBe(2);
    expect(m.get('u1', 'aad-u1', Buffer.from('b1'))).toBeUndefined();
    expect(m.get('u2', 'aad-u2', Buffer.from('b2'))).toBe('k2');
    expect(m.get('u3', 'aad-u3', Buffer.from('b3'))).toBe('k3');
    // Setting an id again replaces its entry (and makes it the newest), it does not add one.
    m.set('u2', 'aad-u2', Buffer.from('b2'), 'k2');
    m.set('u4', 'aad-u4', Buffer.from('b4'), 'k4');
    expect(m.get('u3', 'aad-u3', Buffer.from('b3'))).toBeUndefined();
    expect(m.get('u2', 'aad-u2', Buffer.from('b2'))).toBe('k2');
  });

  it('forget and close drop entries', () => {
    const m = memo();
    m.set('u1', 'aad-u1', Buffer.from('b1'), 'k1');
    m.set('u2', 'aad-u2', Buffer.from('b2'), 'k2');
    m.forget('u1');
    expect(m.get('u1', 'aad-u1', Buffer.from('b1'))).toBeUndefined();
    expect(m.size).toBe(1);
    m.close();
    expect(m.size).toBe(0);
  });
});
