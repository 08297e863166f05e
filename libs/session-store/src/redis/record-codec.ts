/** The session record's blobs: the e-RS key and the profile, encrypted and bound to their record, in pieces. */
import { type OpenResult, SessionCipher } from '../cipher/session-cipher';
import type { GatewayRole, GatewayUser } from '../session-store.port';

/** A script argument: what ioredis sends as a bulk string. */
export type ScriptArg = string | number | Buffer;

/**
 * Blobs are stored in pieces no longer than Redis' `hash-max-listpack-value` (64 by default), so
 * a session hash stays a listpack (see the layout in `scripts/session-scripts.ts`).
 */
export const BLOB_PIECE_BYTES = 64;

/** What the profile blob holds: everything of a session that is not an index field. */
export interface Profile {
  user: GatewayUser;
  roles: GatewayRole[];
  role: GatewayRole | null;
  ssoToken: string;
}

/**
 * The profile as stored: the chosen role as its index in `roles` when it is one of them (always,
 * for a role the gateway let the user choose), which keeps a copy of it out of every session
 * record (about 90 bytes, the difference between one allocator size class and the next).
 */
interface StoredProfile extends Omit<Profile, 'role'> {
  role: number | GatewayRole | null;
}

function packProfile(profile: Profile): StoredProfile {
  const { role, roles } = profile;
  if (role === null) return profile;
  const index = roles.findIndex(
    (r) => r.businessFunction === role.businessFunction && r.orgIdentifier === role.orgIdentifier && r.orgName === role.orgName,
  );
  return index === -1 ? profile : { ...profile, role: index };
}

function unpackProfile(stored: StoredProfile): Profile {
  const { role, roles } = stored;
  if (typeof role !== 'number') return { ...stored, role };
  const chosen = roles[role];
  return { ...stored, role: chosen === undefined ? null : { ...chosen } };
}

/** An opened profile blob: authenticated, so it is our own JSON (a shape check would only restate encryptProfile). */
export function profile(json: string): Profile {
  return unpackProfile(JSON.parse(json) as StoredProfile);
}

export function encryptProfile(cipher: SessionCipher, upstreamId: string, h: string, ae: string, stored: Profile): Buffer {
  return cipher.encrypt(JSON.stringify(packProfile(stored)), profileAad(upstreamId, h, ae));
}

export function openProfile(cipher: SessionCipher, upstreamId: string, h: string, ae: string, blob: Buffer): OpenResult {
  if (SessionCipher.versionOf(blob) === 1) return { ok: false, failure: 'unknown-key' };
  return cipher.open(blob, profileAad(upstreamId, h, ae));
}

/** What a key blob is bound to besides its upstream id. */
export interface KeyBinding {
  /** The session's hash (the S key's id); `-` for a close queued without a session. */
  h: string;
  /** The absolute expiry, as stored; `0` without a session. */
  ae: string;
  /** The role flag; `0` without a session. */
  r: string;
}

export const UNBOUND: KeyBinding = { h: '-', ae: '0', r: '0' };

/**
 * The associated data of a session's e-RS key: the record it belongs to (upstream id and the
 * cookie's hash) and the fields a copy or an edit would change (absolute expiry, role flag). A
 * blob copied or moved to another record, or left in a record whose expiry or role was edited,
 * fails authentication.
 */
export function keyAad(upstreamId: string, h: string, ae: string, r: string): string {
  return `ersgw/v2/k/${upstreamId}/${h}/${ae}/${r}`;
}

/** The associated data of a session's profile (which holds the chosen role): its record and absolute expiry. */
function profileAad(upstreamId: string, h: string, ae: string): string {
  return `ersgw/v2/p/${upstreamId}/${h}/${ae}`;
}

/** A blob as script arguments: its piece count, then its pieces (views, not copies). */
export function pieces(blob: Buffer): ScriptArg[] {
  const out: ScriptArg[] = [String(Math.ceil(blob.length / BLOB_PIECE_BYTES))];
  for (let at = 0; at < blob.length; at += BLOB_PIECE_BYTES) out.push(blob.subarray(at, at + BLOB_PIECE_BYTES));
  return out;
}

/** The blob `f` of a hash read with HGETALL (`<f>n` pieces `<f>0`, …), or null when it has none. */
export function blobOf(record: Record<string, Buffer>, f: 'k' | 'p'): Buffer | null {
  const n = Number(record[`${f}n`]?.toString('latin1'));
  if (!(n > 0)) return null;
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const piece = record[`${f}${i}`];
    if (piece === undefined) return null;
    parts.push(piece);
  }
  return Buffer.concat(parts);
}
