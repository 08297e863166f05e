/**
 * e-RS header names, spelled once. e-RS documents (and real clients send) these literally,
 * with underscores and the `HTTP_` prefix: send exactly these bytes on the wire.
 */
export const ERS_ASID_HEADER = 'XAPI_ASID';
export const ERS_SESSION_KEY_HEADER = 'HTTP_X_SESSION_KEY';
/** Returned by e-RS on every answer; support asks for it, so it is logged and passed back. */
export const ERS_TRANSACTION_ID_HEADER = 'X_ERS_TRANSACTION_ID';
export const CORRELATION_ID_HEADER = 'X-Correlation-ID';
/** Prefix of the metadata headers of A015/A020 (e.g. `X-ERS-XAPI-META-FILE_NAME`). */
export const ERS_XAPI_HEADER_PREFIX = 'x-ers-xapi-';

/**
 * A header name folded for comparison: lower case with `-` and `_` treated alike, so that a
 * client's `xapi-asid`, `Http-X-Session-Key` or `HTTP_X_SESSION_KEY` are all recognised as the
 * gateway's own headers.
 */
export function foldHeaderName(name: string): string {
  return name.toLowerCase().replace(/-/g, '_');
}

export const FOLDED_ERS_ASID_HEADER = foldHeaderName(ERS_ASID_HEADER);
export const FOLDED_ERS_SESSION_KEY_HEADER = foldHeaderName(ERS_SESSION_KEY_HEADER);
