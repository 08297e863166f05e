/**
 * The e-RS session keys this instance has decrypted on the hot path, each with the exact bytes it
 * was decrypted from and the associated data it was authenticated with (which names the record:
 * upstream id, session hash, absolute expiry, role flag). A proxied call whose record still holds
 * those bytes under the same associated data gets the key without a second AES-GCM decryption:
 * AES-GCM is deterministic, so equal bytes with equal associated data always decrypt (and
 * authenticate) to the same key. Any other bytes or binding (a new key, a tampered blob, a record
 * copied to another cookie's hash or with its expiry edited) are decrypted and authenticated afresh.
 *
 * Why: creating Node's AES-GCM decipher is the largest single cost of a proxied call over the Node
 * floor (README, Performance), and a session's key blob never changes during its life.
 *
 * Bounds, for the security review: an entry lives at most `maxAgeMs` (the idle timeout) from its
 * decryption, is dropped when this instance ends its session, and there are at most `maxEntries`
 * (the oldest go first). It holds nothing the process does not already hold: every key it holds
 * was in memory for the call that decrypted it, and `SESSION_KEYS` (which decrypt every record)
 * stay in memory for the process's life. Nothing here is logged or exported.
 */
export class DecryptedKeyMemo {
  /** By upstream id, in the order of decryption (a refreshed entry is moved to the end). */
  private readonly entries = new Map<string, MemoEntry>();
  private readonly purgeTimer: NodeJS.Timeout;

  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
    /** Milliseconds, monotonic; a parameter for tests. */
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    // Entries of sessions nobody calls any more are dropped within a minute of their age.
    this.purgeTimer = setInterval(() => this.dropExpired(this.now()), Math.min(60_000, maxAgeMs)).unref();
  }

  /** The key decrypted from exactly these bytes with exactly this associated data, if still held. */
  get(upstreamId: string, aad: string, blob: Buffer): string | undefined {
    const entry = this.entries.get(upstreamId);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now() || entry.aad !== aad || !entry.blob.equals(blob)) {
      this.entries.delete(upstreamId);
      return undefined;
    }
    return entry.key;
  }

  /** Remembers a key just decrypted (and authenticated) from `blob` with `aad`; the bytes are copied. */
  set(upstreamId: string, aad: string, blob: Buffer, key: string): void {
    const now = this.now();
    this.entries.delete(upstreamId);
    this.dropExpired(now);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    // A copy: `blob` is a view into a reply buffer that may be much larger.
    this.entries.set(upstreamId, new MemoEntry(Buffer.from(blob), aad, key, now + this.maxAgeMs));
  }

  /** This instance ended the session: its key is no longer needed here. */
  forget(upstreamId: string): void {
    this.entries.delete(upstreamId);
  }

  get size(): number {
    return this.entries.size;
  }

  close(): void {
    clearInterval(this.purgeTimer);
    this.entries.clear();
  }

  /** Entries are in the order of their decryption, so the expired ones are at the front. */
  private dropExpired(now: number): void {
    for (const [upstreamId, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(upstreamId);
    }
  }
}

class MemoEntry {
  constructor(
    readonly blob: Buffer,
    readonly aad: string,
    readonly key: string,
    readonly expiresAt: number,
  ) {}
}
