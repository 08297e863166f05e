/**
 * e-RS header names, spelled once. e-RS documents (and real clients send) these literally,
 * with underscores and the `HTTP_` prefix: send exactly these bytes on the wire.
 */
export const ERS_ASID_HEADER = 'XAPI_ASID';
export const ERS_SESSION_KEY_HEADER = 'HTTP_X_SESSION_KEY';
/** Returned by e-RS on every answer; support asks for it, so it is logged and passed back. */
export const ERS_TRANSACTION_ID_HEADER = 'X_ERS_TRANSACTION_ID';
export const CORRELATION_ID_HEADER = 'X-Correlation-ID';
/**
 * The e-RS request headers a browser may send through the gateway besides the standard ones
 * (`nhsconnect/digital-referrals`, the e-RS API documentation; the e-RS FHIR API's proxy,
 * `NHSDigital/e-referrals-service-api`, maps its own headers onto exactly these names):
 * - A015 Retrieve appointment slots: the commissioning organisation's ODS code
 *   (pages/endpoints/explore_endpoint_a015.md; proxies/live/apiproxy/policies/AssignMessage.Swap.nhsd-ers-comm-rule-org.xml);
 * - A020 Upload file: the file's name, and the UBRN it is meant for
 *   (pages/endpoints/explore_endpoint_A020.md; AssignMessage.Swap.nhsd-ers-file-name.xml and .nhsd-ers-referral-id.xml).
 * Values are forwarded as sent (a file name may hold commas).
 */
export const ERS_COMM_RULE_ORG_HEADER = 'X-ERS-XAPI-COMM-RULE-ORG';
export const ERS_FILE_NAME_HEADER = 'X-ERS-XAPI-META-FILE_NAME';
export const ERS_INTENDED_UBRN_HEADER = 'X-ERS-XAPI-META-INTENDED_UBRN';

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
