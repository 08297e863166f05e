import { hash } from 'node:crypto';

/** The store keeps only this hash of the cookie value, never the value. */
export function hashSessionId(sessionId: string): string {
  return hash('sha256', sessionId, 'base64url');
}

/**
 * The per-user index is filed under this hash of the user's identifier (the SDS user id), never
 * the identifier itself: it names a member of staff, so it stays out of key names, and the profile
 * that holds it stays encrypted. A plain hash pseudonymises, it does not anonymise (see
 * docs/design.md, "Per-user sessions"): it stays the same across `SESSION_KEYS` rotations.
 */
export function hashUserId(identifier: string): string {
  return hash('sha256', `ersgw/user/${identifier}`, 'base64url');
}
