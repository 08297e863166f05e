import { GatewayError } from '../problem/gateway-error';

const PROXY_PREFIX = '/api/ers/';
/**
 * Raw or percent-encoded control characters, raw non-ASCII, encoded `/`, `\` or `%` (a second
 * decoding turns `%252e` into `%2e`), and path parameters: Java servlet containers (e-RS runs on
 * them) cut `;...` from every segment before decoding, so `..;` is `..` and
 * `ProfessionalSession;x=1` is `ProfessionalSession`. One pattern: this runs on every proxied call.
 */
const FORBIDDEN_IN_PATH = /[\u0000-\u001f\u007f-\uffff\\;]|%(?:[01][0-9a-f]|7f|2f|5c|25|3b)/i;
const PATH_PARAMETER = /;|%3b/i;
/** A query is passed on as sent (it may encode `/`), but never with raw control characters. */
const FORBIDDEN_IN_QUERY = /[\u0000-\u001f\u007f]/;

/**
 * The e-RS path of a proxied call, checked. Only business endpoints are reachable: paths under
 * `STU3/` or `v1/`, never the Professional Session endpoints (the gateway alone opens and closes
 * e-RS sessions), no dot or empty segments, no path parameters and nothing encoded that could
 * change the route. Returns the path with its query, as received (never re-encoded): what a
 * servlet container routes on is then exactly the segments checked here, decoded (the property
 * tests hold this against a model of Tomcat, Jetty and Spring: ers-path.property.spec.ts).
 */
export function checkedErsPath(rawUrl: string): string {
  const relative = rawUrl.slice(PROXY_PREFIX.length);
  const queryAt = relative.indexOf('?');
  const path = queryAt === -1 ? relative : relative.slice(0, queryAt);
  const query = queryAt === -1 ? '' : relative.slice(queryAt);
  if (FORBIDDEN_IN_PATH.test(path) || FORBIDDEN_IN_QUERY.test(query) || relative.includes('#')) {
    throw new GatewayError(
      'invalid-path',
      PATH_PARAMETER.test(path) ? 'The path has a ";" (or %3B): path parameters are not allowed.' : 'The path has characters that are not allowed.',
    );
  }
  // Percent-decoding is needed only when the path has a `%` (most calls have none).
  const encoded = path.includes('%');
  let first = '';
  let sessionEndpoint = false;
  // Segment by segment with indexOf, not split: this runs on every proxied call, and only the
  // first three segments are ever needed as strings.
  let count = 0;
  for (let start = 0; start <= path.length; count++) {
    const slash = path.indexOf('/', start);
    const end = slash === -1 ? path.length : slash;
    if (end === start) throw new GatewayError('invalid-path', 'The path has an empty segment.');
    let plain: string | null = null;
    if (encoded) {
      try {
        plain = decodeURIComponent(path.slice(start, end));
      } catch {
        throw new GatewayError('invalid-path', 'The path has a malformed percent-encoding.');
      }
      if (plain === '.' || plain === '..') throw new GatewayError('invalid-path', 'The path has a dot segment.');
    } else if (isDotSegment(path, start, end)) {
      throw new GatewayError('invalid-path', 'The path has a dot segment.');
    }
    if (count <= 2) {
      // e-RS paths are matched case-insensitively here so no spelling reaches the session endpoints.
      const lower = (plain ?? path.slice(start, end)).toLowerCase();
      if (count === 0) first = lower;
      else if (lower === 'professionalsession') sessionEndpoint = true;
    }
    start = end + 1;
  }
  if ((first !== 'stu3' && first !== 'v1') || count < 2) {
    throw new GatewayError('forbidden-path', 'Only e-RS business endpoints under STU3/ or v1/ can be called.');
  }
  if (sessionEndpoint) {
    throw new GatewayError('forbidden-path', 'e-RS session endpoints are managed by the gateway itself.');
  }
  return relative;
}

const DOT = 46;

/** `.` or `..` between `start` and `end`, read in place. */
function isDotSegment(path: string, start: number, end: number): boolean {
  const length = end - start;
  return (length === 1 || length === 2) && path.charCodeAt(start) === DOT && path.charCodeAt(end - 1) === DOT;
}
