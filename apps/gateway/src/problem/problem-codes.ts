/**
 * Every problem the gateway itself answers with (`application/problem+json`). The code is the
 * stable, documented part; `type` is built from it. Listed once, here: the exception filter, the
 * OpenAPI document and the README all come from this table.
 */
export const PROBLEMS = {
  'invalid-request': { status: 400, title: 'The request is malformed' },
  'invalid-path': { status: 400, title: 'The e-RS path is not allowed' },
  'invalid-token': { status: 401, title: 'The smartcard token was not accepted' },
  'no-session': { status: 401, title: 'There is no session' },
  'admin-unauthorized': { status: 401, title: 'The admin token is missing or wrong' },
  'session-expired': { status: 401, title: 'Your e-RS session has ended' },
  csrf: { status: 403, title: 'The anti-forgery header is missing' },
  origin: { status: 403, title: 'This origin may not call the gateway' },
  'no-roles': { status: 403, title: 'This smartcard has no e-RS roles' },
  'role-not-selected': { status: 403, title: 'Choose a role first' },
  'forbidden-path': { status: 403, title: 'This e-RS path is not available through the gateway' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be JSON' },
  'unknown-role': { status: 422, title: 'That role is not one of your roles' },
  'too-many-logins': { status: 429, title: 'Too many sign-ins; try again later' },
  'too-many-calls': { status: 429, title: 'Too many e-RS calls in progress for this session' },
  'internal-error': { status: 500, title: 'Something went wrong in the gateway' },
  'upstream-unavailable': { status: 502, title: 'e-RS could not be reached' },
  'upstream-error': { status: 502, title: 'e-RS gave an answer the gateway cannot use' },
  'store-unavailable': { status: 503, title: 'The session store is unavailable' },
  'upstream-timeout': { status: 504, title: 'e-RS did not answer in time' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;
export const PROBLEM_CODES = Object.keys(PROBLEMS) as ProblemCode[];

/** Base of the `type` URI; the code is appended. Documented in the README. */
export const PROBLEM_TYPE_BASE = 'https://ers-session-gateway.nhs.invalid/problems/';
