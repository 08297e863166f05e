import { GatewayError } from '../problem/gateway-error';

const PROXY_PREFIX = '/api/ers/';
/** Raw or percent-encoded control characters, and encoded `/` or `\`, which could change routing. */
 
const FORBIDDEN_IN_PATH = /[\u0000-\u001f\u007f\\]|%(?:[01][0-9a-f]|7f|2f|5c)/i;
/** A query is passed on as sent (it may encode `/`), but never with raw control characters. */
 
const FORBIDDEN_IN_QUERY = /[\u0000-\u001f\u007f]/;

/**
 * The e-RS path of a proxied call, checked. Only business endpoints are reachable: paths under
 * `STU3/` or `v1/`, never the Professional Session endpoints (the gateway alone opens and closes
 * e-RS sessions), no dot or empty segments and nothing encoded that could change the route.
 * Returns the path with its query, as received (never re-encoded).
 */
export function checkedErsPath(rawUrl: string): string {
  const relative = rawUrl.slice(PROXY_PREFIX.length);
  const queryAt = relative.indexOf('?');
  const path = queryAt === -1 ? relative : relative.slice(0, queryAt);
  const query = queryAt === -1 ? '' : relative.slice(queryAt);
  if (FORBIDDEN_IN_PATH.test(path) || FORBIDDEN_IN_QUERY.test(query) || relative.includes('#')) {
    throw new GatewayError('invalid-path', 'The path has characters that are not allowed.');
  }
  const segments = path.split('/');
  // Percent-decoding is needed only when the path has a `%` (most calls have none).
  const encoded = path.includes('%');
  let first = '';
  let sessionEndpoint = false;
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index] as string;
    if (segment === '') throw new GatewayError('invalid-path', 'The path has an empty segment.');
    let plain = segment;
    if (encoded) {
      try {
        plain = decodeURIComponent(segment);
      } catch {
        throw new GatewayError('invalid-path', 'The path has a malformed percent-encoding.');
      }
    }
    if (plain === '.' || plain === '..') throw new GatewayError('invalid-path', 'The path has a dot segment.');
    if (index > 2) continue;
    // e-RS paths are matched case-insensitively here so no spelling reaches the session endpoints.
    const lower = plain.toLowerCase();
    if (index === 0) first = lower;
    else if (lower === 'professionalsession') sessionEndpoint = true;
  }
  if ((first !== 'stu3' && first !== 'v1') || segments.length < 2) {
    throw new GatewayError('forbidden-path', 'Only e-RS business endpoints under STU3/ or v1/ can be called.');
  }
  if (sessionEndpoint) {
    throw new GatewayError('forbidden-path', 'e-RS session endpoints are managed by the gateway itself.');
  }
  return relative;
}
