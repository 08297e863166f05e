import type { IncomingHttpHeaders } from 'node:http';
import {
  CORRELATION_ID_HEADER,
  ERS_ASID_HEADER,
  ERS_COMM_RULE_ORG_HEADER,
  ERS_FILE_NAME_HEADER,
  ERS_INTENDED_UBRN_HEADER,
  ERS_SESSION_KEY_HEADER,
  ERS_TRANSACTION_ID_HEADER,
} from '@libs/ers-contract';

/**
 * Request headers a browser may send on to e-RS, each by name (no prefix or wildcard), under the
 * spelling e-RS documents (`node:http` gives them lower case). Everything else (Cookie,
 * Authorization, forwarding headers, any other `X-ERS-*`, and any client copy of XAPI_ASID or
 * HTTP_X_SESSION_KEY in any spelling) is dropped; the gateway then sets its own XAPI_ASID and
 * HTTP_X_SESSION_KEY. The e-RS headers and their sources are in `@libs/ers-contract` (headers.ts)
 * and the README.
 */
const FORWARDED_REQUEST_HEADERS: ReadonlyMap<string, string> = new Map(
  [
    'Accept',
    'Content-Type',
    'Content-Length',
    'If-Match',
    'If-None-Match',
    ERS_COMM_RULE_ORG_HEADER,
    ERS_FILE_NAME_HEADER,
    ERS_INTENDED_UBRN_HEADER,
  ].map((name) => [name.toLowerCase(), name]),
);

/** Response headers passed back to the browser. Never Set-Cookie. */
const PASSED_BACK_RESPONSE_HEADERS: ReadonlyMap<string, string> = new Map(
  [
    'Content-Type',
    'Content-Length',
    'Content-Disposition',
    'ETag',
    'Location',
    'Retry-After',
    ERS_TRANSACTION_ID_HEADER,
  ].map((name) => [name.toLowerCase(), name]),
);

/**
 * The headers for e-RS: the allowed client headers, `X-Correlation-ID`, then `XAPI_ASID` and
 * `HTTP_X_SESSION_KEY` with exactly these spellings (e-RS documents them with underscores; the
 * names are written to the wire as given here).
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  asid: string,
  sessionKey: string,
  correlationId: string,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name in incoming) {
    const canonical = FORWARDED_REQUEST_HEADERS.get(name);
    if (canonical !== undefined) {
      const value = incoming[name];
      if (typeof value === 'string') headers[canonical] = value;
    }
  }
  headers[CORRELATION_ID_HEADER] = correlationId;
  headers[ERS_ASID_HEADER] = asid;
  headers[ERS_SESSION_KEY_HEADER] = sessionKey;
  return headers;
}

/** `PASSED_BACK_RESPONSE_HEADERS` by name length: most of an answer's header names are skipped unread. */
const PASSED_BACK_LENGTHS: readonly boolean[] = (() => {
  const lengths: boolean[] = [];
  for (const name of PASSED_BACK_RESPONSE_HEADERS.keys()) lengths[name.length] = true;
  return lengths;
})();

/**
 * The e-RS answer's headers a browser may see, under their canonical names, read straight from
 * the raw header list (name, value, name, value, ...). Values are decoded as latin1, byte for
 * byte, as `node:http` writes them back. A header e-RS sends twice is dropped: a browser must not
 * get two `Content-Length`s, and the gateway cannot tell which one is meant.
 */
export function passedBackResponseHeaders(raw: readonly Buffer[]): Record<string, string> {
  const headers: Record<string, string> = {};
  let repeated = null as Set<string> | null;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index] as Buffer;
    if (PASSED_BACK_LENGTHS[name.length] !== true) continue;
    const canonical = PASSED_BACK_RESPONSE_HEADERS.get(name.toString('latin1').toLowerCase());
    if (canonical === undefined || repeated?.has(canonical) === true) continue;
    if (headers[canonical] !== undefined) {
      delete headers[canonical];
      (repeated ??= new Set()).add(canonical);
      continue;
    }
    headers[canonical] = (raw[index + 1] as Buffer).toString('latin1');
  }
  return headers;
}
