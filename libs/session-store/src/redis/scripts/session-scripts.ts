/**
 * The Lua scripts behind the Redis session store. Each one is a single atomic step, and each takes
 * its time from Redis `TIME` so gateway instances with skewed clocks agree on every expiry.
 *
 * Their Lua is in the `.lua` files next to this one, read when this module loads (`scripts/build.mjs`
 * copies them into `dist`; `lua-files.test.ts` loads each into Redis, so a syntax error fails it).
 *
 * Keys (prefix `P`, default `ersgw:`):
 *   P S:<h>  HASH  one live gateway session, and while it lives the only record of its upstream
 *                  (e-RS) session; h = base64url(SHA-256(cookie value)).
 *                  u upstreamId (16 random bytes, base64url), r "1" once a role is selected,
 *                  ie idle expiry, ae absolute expiry, c created, ls last seen (sign-in, role
 *                  choice or proxied call), uh the user's hash (its N index), then two encrypted blobs:
 *                  kn + k0, k1, … the e-RS session key, pn + p0, p1, … the profile.
 *                  Both blobs are bound to their record: their associated data names h, u and ae
 *                  (and, for the key, r), so a record copied or moved to another h, or with its
 *                  role flag or absolute expiry edited, fails authentication and is no session.
 *                  A blob is stored as raw bytes in pieces of at most 64 bytes (<f>n = how many),
 *                  so every value stays within `hash-max-listpack-value` (64) and the hash stays a
 *                  compact listpack instead of a hash table.
 *                  Its Redis TTL is ae + the close retention (ae + 7 days + the absolute timeout by
 *                  default): scripts compare the times themselves, the sweeper deletes the hash
 *                  when it ends the session, and the long TTL keeps the key for the sweeper to
 *                  end and close the session after an outage in which no instance ran.
 *   P U:<u>  HASH  an upstream session whose close (A003) is pending: created when its session
 *                  ends (END, SWEEP_EXPIRED, or a live session replaced by another at its h) and
 *                  by QUEUE_CLOSE; deleted when the close completes, or by its TTL (the close
 *                  retention) if it never does. kn + k0, k1, … the encrypted key, h ae r the
 *                  binding its key was encrypted with (copied from the S hash; "-", "0", "0" for
 *                  QUEUE_CLOSE), why end reason, n claim attempts, l claim lease expiry. No U
 *                  record while the session lives: its key is in the S hash.
 *   P X      ZSET  h -> min(ie, ae) of every live session: the index the sweeper scans
 *   P N:<uh> ZSET  h -> c of every live session of one user; uh = base64url(SHA-256 of the
 *                  user's identifier, see `hashUserId`), never the identifier. Kept by the scripts
 *                  that create, move and end sessions (retire), so it changes with them atomically;
 *                  an entry whose record Redis lost is dropped when the index is next read.
 *   P F:<u>  ZSET  callId -> lease expiry: calls in flight on an upstream session
 *   P D      ZSET  u -> when its close (A003) is next due (or its claim lease runs out)
 *   P T:<h>  STR   u, for `inFlightLeaseMs` after a session id stops working, so a late
 *                  `commitRole` on that id can still find and clear its in-flight mark
 *   P L:a:<address>  STR  logins from a client address in the current window (PEXPIRE: the window)
 *   P L:t:<sha256(token)>  STR  failed (and pending) A001s of a smartcard token in its window
 *
 * A session record Redis lost while it lived (evicted, or deleted by hand) takes its encrypted
 * key with it, so that e-RS session can no longer be closed: the sweeper drops its index entry
 * and counts it (`onLostSessions`). Redis must not evict these keys (`maxmemory-policy
 * noeviction`, the default).
 *
 * Blobs travel as pieces too, never joined in Lua: in ARGV as <count>, <piece>, …; in replies
 * as <count>, <piece>, … or, when they end the reply (or one row of it), as the rest of it.
 *
 * Keys built inside a script from the prefix (U, F, X, D, and S and T of another record) are not
 * declared in KEYS. That is fine on a standalone Redis or Sentinel; Redis Cluster would need every
 * key of a script in one slot (hash tags such as `{u}`): future work, not done.
 *
 * Scripts return numbers as strings so large epoch milliseconds survive any reply mapping.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Lua file `<name>.lua` next to this module (in `dist`, where the build copied it), after a
 * newline as when the scripts were strings here: the same text, so the same SHA-1s across an upgrade.
 */
function lua(name: string): string {
  return `\n${readFileSync(join(__dirname, `${name}.lua`), 'utf8')}`;
}

const PRELUDE = lua('prelude');

/**
 * Blobs: reading and writing their pieces. Only in the scripts that need them (a local function
 * costs a closure on every run, and the hot path has none to spare).
 */
const BLOBS = lua('blobs');

export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
}

const script = (numberOfKeys: number, body: string): ScriptDefinition => ({
  numberOfKeys,
  lua: PRELUDE + body,
});

/**
 * KEYS: S, N (the user's index). ARGV: prefix, idleMs, createdAtMs or "", absoluteExpiresAtMs, u,
 * r, h, retentionMs, tombstoneMs, uh, maxSessionsPerUser (0: unlimited), then the key blob (count,
 * pieces…), then the profile blob (count, pieces…). The
 * absolute expiry is given (the blobs' associated data names it, so it is known before they are
 * encrypted): a new session's is its creation time, read from Redis `TIME` just before, plus the
 * absolute timeout, and that time is its `c`; a role switch's carries over ("" : `c` is now).
 * Past the per-user limit, the user's oldest live sessions end here (session-limit), in the same
 * step as the new one is filed. Returns {c, ie, ae, then u, reason of each session it ended}.
 */
export const CREATE = script(2, BLOBS + lua('create'));

/** KEYS: S. Returns {u, r, ie, ae, c, kn, k pieces…, p pieces…} of a live session, or nil. Does not slide. */
export const GET = script(1, BLOBS + lua('get'));

/**
 * The hot path. KEYS: S. ARGV: callId. The prefix, the idle timeout, the lease and the mark margin
 * are written into the script's text (`beginCallScript`), one script per store configuration, so
 * each proxied call sends four arguments instead of eight.
 * Returns 0 (no session), 1 (no role), 2 (`maxCalls` calls already in flight) or one bulk string:
 * the length of u as one byte, u, the length of ae as one byte, ae (the key's binding), then the
 * key blob's pieces joined. One bulk string, not an array: the client decodes a single value (each
 * array element costs ioredis' decoder as much again, measured by instruction counts per call).
 * The cap counts the call's in-flight marks (ZCARD, O(1)); only at the cap are marks whose lease
 * ran out (their instance died) dropped and the count taken again.
 * It slides `ie` in the hash only: the expiry index X keeps the older (earlier) time, and the
 * sweeper, which re-reads `ie` before ending anything, re-files a slid session when it meets it.
 * That keeps a sorted-set update off every proxied call.
 */
/** begin-call.lua: its constants are the placeholders `__PREFIX__`, `__IDLE_MS__`, … (Lua names, so it parses as it is). */
const BEGIN_CALL_TEMPLATE = lua('begin-call');

export function beginCallScript(prefix: string, idleMs: number, leaseMs: number, markMarginMs: number, maxCalls: number): ScriptDefinition {
  const constants: Record<string, string> = {
    __PREFIX__: luaString(prefix),
    __IDLE_MS__: integer(idleMs),
    __LEASE_MS__: integer(leaseMs),
    __MARK_MARGIN_MS__: integer(markMarginMs),
    __MAX_CALLS__: integer(maxCalls),
  };
  return script(1, BEGIN_CALL_TEMPLATE.replace(/__[A-Z_]+__/g, (name) => constants[name] ?? name));
}

/** Any string as a Lua literal: every byte as a decimal escape, so no prefix can break out of it. */
function luaString(value: string): string {
  return `"${[...Buffer.from(value, 'utf8')].map((byte) => `\\${byte}`).join('')}"`;
}

function integer(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`not a non-negative integer: ${value}`);
  return String(value);
}

/**
 * KEYS: S. ARGV: prefix, leaseMs, callId, markRetentionMs.
 * Marks the call in flight without sliding and without needing a role.
 * Returns {u, r, ie, ae, c, kn, k pieces…, p pieces…} or nil.
 */
export const BEGIN_SESSION_CALL = script(1, BLOBS + lua('begin-session-call'));

/**
 * KEYS: S old, S new, F, T old.
 * ARGV: prefix, old h, new h, u, expected p0, callId, tombstoneMs, retentionMs, expected ae, then
 * the new key blob (count, pieces…), then the new profile blob (count, pieces…).
 * Moves a live session to its new id (and its index entry to the new h) with the role selected;
 * always clears the mark. The expected first piece of the profile stands for the whole profile
 * the caller read: it holds that encryption's random IV and tag, so any rewrite changes it.
 * Returns {ie, ae, c} or nil when the old session is gone, expired or was changed meanwhile.
 */
export const COMMIT_ROLE = script(4, BLOBS + lua('commit-role'));

/**
 * KEYS: none. ARGV: prefix, then (u, callId) pairs. Clears the in-flight marks of calls that have
 * ended: the store batches them (one command for every call that ended within 10 ms) so clearing
 * a mark costs a proxied call a fraction of a Redis round trip.
 */
export const END_CALLS = script(0, lua('end-calls'));

/** KEYS: T. ARGV: prefix, callId. Clears a mark left on a session id that has since stopped working. */
export const CLEAR_ORPHAN_MARK = script(1, lua('clear-orphan-mark'));

/**
 * KEYS: S. ARGV: prefix, h, reason, tombstoneMs, retentionMs, and optionally uh: then only a
 * session of that user ends (the admin API names sessions by h and user).
 * Ends a session and queues its close. A session found already expired (not yet swept) ends with
 * its timeout as the reason, so the reason recorded is what really ended it.
 * Returns {u, reason} or nil.
 */
export const END = script(1, BLOBS + lua('end'));

/** KEYS: U, D. ARGV: u, reason, retentionMs, then the key blob (count, pieces…). */
export const QUEUE_CLOSE = script(2, BLOBS + lua('queue-close'));

/**
 * KEYS: X. ARGV: prefix, limit, tombstoneMs, retentionMs.
 * Returns {lost, {u, reason}, ...}: how many index entries it dropped because their session hash
 * was gone (lost by Redis: nothing left to close with), then the sessions it ended.
 */
export const SWEEP_EXPIRED = script(1, BLOBS + lua('sweep-expired'));

/**
 * KEYS: D. ARGV: prefix, limit, leaseMs, pollDelayMs, scanFactor.
 * Claims due closes with no live in-flight mark. A close still in flight is pushed back by the
 * poll delay so it sorts behind the due ones and cannot starve them.
 * Returns {{u, why, n, h, ae, r, k pieces…}, ...}.
 */
export const CLAIM_CLOSES = script(1, BLOBS + lua('claim-closes'));

/**
 * KEYS: D, U, F. ARGV: u, leaseMs.
 * Returns 0 done, 1 claimed elsewhere, 2 in flight, or {why, n, h, ae, r, k pieces…} when claimed.
 */
export const CLAIM_CLOSE = script(3, BLOBS + lua('claim-close'));

/** KEYS: U, D, F. ARGV: u. */
export const COMPLETE_CLOSE = script(3, lua('complete-close'));

/** KEYS: D, U. ARGV: u, retryInMs. Only reschedules a close that is still queued. */
export const RELEASE_CLOSE = script(2, lua('release-close'));

/**
 * KEYS: S. ARGV: prefix, h, u, k0. Drops a session record whose blobs failed authentication (it
 * was copied, moved or edited in Redis): it is no session. Only if it is still the record that was
 * read (same u and first key piece). Its e-RS key cannot be trusted, so no close is queued.
 */
export const DISCARD = script(1, lua('discard'));

/**
 * KEYS: N (the user's index). ARGV: prefix, uh.
 * Returns the user's live sessions, oldest first: {{h, ls, u, r, ie, ae, c, kn, k pieces…, p pieces…}, …}
 * (the profile holds the role; the key comes along because the record's reply is read whole).
 */
export const LIST_USER = script(1, BLOBS + lua('list-user'));

/**
 * KEYS: N (the user's index). ARGV: prefix, uh, reason, tombstoneMs, retentionMs.
 * Ends every session of the user, as END does each. Returns {u, reason, u, reason, …}.
 */
export const END_USER = script(1, BLOBS + lua('end-user'));

/**
 * KEYS: L:a (the client address's logins), L:t (the token's failures).
 * ARGV: tokenFailures, tokenWindowMs, addressLimit, addressWindowMs.
 * Returns 0 (admitted: one login counted, one failure reserved), or {1, retryAfterMs} (the token
 * is at its limit) or {2, retryAfterMs} (the address is); a refused login counts nothing.
 * Fixed windows: each counter expires a window after its first count.
 */
export const ADMIT_LOGIN = script(2, lua('admit-login'));

/** KEYS: L:t. Gives back a token's reserved failure (its A001 was not refused). */
export const RELEASE_LOGIN_FAILURE = script(1, lua('release-login-failure'));

/** KEYS: X, D. Returns {sessions, pendingCloses, now}. */
export const COUNTS = script(2, lua('counts'));

/**
 * Scripts called through ioredis' defined commands (each also as `<name>Buffer`, whose replies
 * keep bulk strings as Buffers: the ones that return blob pieces are called that way).
 * beginCallScript is not among them: the hot path sends its EVALSHA itself (see
 * RedisSessionStore.beginCall).
 */
export const SCRIPTS = {
  ersgwCreate: CREATE,
  ersgwGet: GET,
  ersgwBeginSessionCall: BEGIN_SESSION_CALL,
  ersgwCommitRole: COMMIT_ROLE,
  ersgwEndCalls: END_CALLS,
  ersgwClearOrphanMark: CLEAR_ORPHAN_MARK,
  ersgwEnd: END,
  ersgwQueueClose: QUEUE_CLOSE,
  ersgwSweepExpired: SWEEP_EXPIRED,
  ersgwClaimCloses: CLAIM_CLOSES,
  ersgwClaimClose: CLAIM_CLOSE,
  ersgwCompleteClose: COMPLETE_CLOSE,
  ersgwReleaseClose: RELEASE_CLOSE,
  ersgwCounts: COUNTS,
  ersgwDiscard: DISCARD,
  ersgwListUser: LIST_USER,
  ersgwEndUser: END_USER,
  ersgwAdmitLogin: ADMIT_LOGIN,
  ersgwReleaseLoginFailure: RELEASE_LOGIN_FAILURE,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
