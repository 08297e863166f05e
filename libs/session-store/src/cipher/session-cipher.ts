import { type KeyObject, createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes } from 'node:crypto';

/**
 * The blob format's version byte. 1 and 2 have the same layout; 2 marks blobs whose associated
 * data binds them to their whole record (the store's v2 binding), so a store can tell a blob made
 * before that binding (1) from one that fails it.
 */
const VERSION = 2;
const READABLE_VERSIONS: ReadonlySet<number> = new Set([1, 2]);
const KEY_ID_BYTES = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES;

/** Why a blob did not open. */
export type OpenFailure =
  /** Made with a key this process does not hold (a rotation in progress, or an old key dropped). */
  | 'unknown-key'
  /** Too short, an unknown version, or failed authentication: tampered, copied or forged. */
  | 'rejected';

export type OpenResult = { ok: true; plaintext: string } | { ok: false; failure: OpenFailure };

interface CipherKey {
  id: Buffer;
  /** Imported once: a raw Buffer key would be imported again on every (de)cipher. */
  key: KeyObject;
}

const REJECTED: OpenResult = { ok: false, failure: 'rejected' };
const UNKNOWN_KEY: OpenResult = { ok: false, failure: 'unknown-key' };

/**
 * Encrypts values at rest with AES-256-GCM. The first key encrypts; every key decrypts, so keys
 * can be rotated by putting the new key first and dropping the old one once its data has expired.
 *
 * A blob is raw bytes: version (1 byte) | key id (4 bytes: SHA-256 of the key) | IV (12 bytes)
 * | tag (16 bytes) | ciphertext. Raw, not base64: Redis stores bytes, and a third more bytes would
 * cost memory per session and an encode and decode per call. `aad` binds a value to its record
 * (e.g. upstream id + field), so a blob copied into another record fails authentication instead
 * of decrypting.
 */
export class SessionCipher {
  private readonly keys: readonly CipherKey[];

  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new Error('SessionCipher needs at least one key');
    this.keys = keys.map((key, index) => {
      // The message names the position only: a key never goes into an error or a log.
      if (key.length !== 32) throw new Error(`SessionCipher key #${index + 1} is not 32 bytes`);
      return { id: createHash('sha256').update(key).digest().subarray(0, KEY_ID_BYTES), key: createSecretKey(Buffer.from(key)) };
    });
  }

  /** Keys as configured in `SESSION_KEYS`: standard or url-safe base64 of 32 bytes each. */
  static fromBase64(keys: readonly string[]): SessionCipher {
    return new SessionCipher(keys.map((k) => Buffer.from(k.trim(), 'base64')));
  }

  encrypt(plaintext: string, aad: string): Buffer {
    const current = this.keys[0] as CipherKey;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt8(VERSION, 0);
    current.id.copy(header, 1);
    iv.copy(header, 1 + KEY_ID_BYTES);
    cipher.getAuthTag().copy(header, 1 + KEY_ID_BYTES + IV_BYTES);
    return Buffer.concat([header, body]);
  }

  /**
   * `null` when the blob is malformed, was made with a key we no longer hold, or fails
   * authentication: callers treat all three as "no such value" and never see a crypto error.
   */
  decrypt(raw: Buffer, aad: string): string | null {
    const opened = this.open(raw, aad);
    return opened.ok ? opened.plaintext : null;
  }

  /** The blob format version (1 or 2), or 0 when it is not a blob of ours. */
  static versionOf(raw: Buffer): number {
    return raw.length >= HEADER_BYTES && READABLE_VERSIONS.has(raw[0] as number) ? (raw[0] as number) : 0;
  }

  /** `decrypt`, saying why a blob did not open (never a crypto error, never the blob). */
  open(raw: Buffer, aad: string): OpenResult {
    if (SessionCipher.versionOf(raw) === 0) return REJECTED;
    const match = this.keyWithId(raw);
    if (match === null) return UNKNOWN_KEY;
    const iv = raw.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + IV_BYTES);
    const tag = raw.subarray(1 + KEY_ID_BYTES + IV_BYTES, HEADER_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', match.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      // GCM is a stream mode: `final` only checks the tag and returns no bytes.
      const plaintext = decipher.update(raw.subarray(HEADER_BYTES));
      decipher.final();
      return { ok: true, plaintext: plaintext.toString('utf8') };
    } catch {
      // Authentication failed (tampered, swapped between records, or a key-id collision).
      return REJECTED;
    }
  }

  /** The key whose id the blob names (compared in place: this runs on every proxied call). */
  private keyWithId(raw: Buffer): CipherKey | null {
    for (const key of this.keys) {
      if (raw.compare(key.id, 0, KEY_ID_BYTES, 1, 1 + KEY_ID_BYTES) === 0) return key;
    }
    return null;
  }
}
