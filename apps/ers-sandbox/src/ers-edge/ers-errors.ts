import { operationOutcome, type ErsPermission, type OperationOutcome } from '@libs/ers-contract';
import { FHIR_JSON } from './ers-route';

/**
 * An e-RS answer with no body: how e-RS rejects A001-A003, and how it refused business calls
 * before 5 November 2024 (the `legacy403` switch). `reason` is for the sandbox's log only, never sent.
 */
export class ErsBareError extends Error {
  constructor(
    readonly status: 400 | 403,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'ErsBareError';
  }
}

/** An e-RS answer carrying an OperationOutcome (422s, business-endpoint 403s, 404s, 413s…). */
export class ErsOutcomeError extends Error {
  readonly outcome: OperationOutcome;

  constructor(
    readonly status: number,
    issueCode: string,
    readonly outcomeKey: string,
    diagnostics: string,
    readonly contentType: string = FHIR_JSON,
    display?: string,
  ) {
    super(diagnostics);
    this.name = 'ErsOutcomeError';
    const outcome = operationOutcome(issueCode, outcomeKey, diagnostics);
    this.outcome =
      display === undefined
        ? outcome
        : {
            ...outcome,
            issue: outcome.issue.map((issue) => ({
              ...issue,
              details: { coding: (issue.details?.coding ?? []).map((coding) => ({ ...coding, display })) },
            })),
          };
  }

  static notFound(diagnostics: string): ErsOutcomeError {
    return new ErsOutcomeError(404, 'not-found', 'NO_RESOURCE_FOUND', diagnostics);
  }

  static invalid(diagnostics: string, contentType: string = FHIR_JSON): ErsOutcomeError {
    return new ErsOutcomeError(422, 'invalid', 'REQUEST_VALIDATION_ERROR', diagnostics, contentType);
  }

  /**
   * A business-endpoint 403 as e-RS sends it since release APIM-R-1.38 (5 November 2024): issue
   * `forbidden`, coding `FORBIDDEN` "Forbidden", as in e-RS's own example (STU3-Forbidden.json).
   */
  static forbidden(diagnostics: string): ErsOutcomeError {
    return new ErsOutcomeError(403, 'forbidden', 'FORBIDDEN', diagnostics, FHIR_JSON, 'Forbidden');
  }
}

/**
 * Why e-RS refused a business call: the release note says the diagnostics tell which stage of
 * authorisation failed (the user's, or the calling system's), so each cause has its own text.
 */
export type ErsForbiddenCause =
  /** User authorisation: the selected business function may not call this endpoint. */
  | { kind: 'business-function'; businessFunction: string; authorised: readonly string[] }
  /** User authorisation: the user no longer holds the selected role at its organisation. */
  | { kind: 'no-role-at-organisation'; role: ErsPermission }
  /** User authorisation: A001 was made but no role was selected with A002. */
  | { kind: 'no-role-selected' }
  /** System authorisation: no `XAPI_ASID`. */
  | { kind: 'asid-missing' }
  /** System authorisation: an `XAPI_ASID` e-RS does not know (never echoed: it is the caller's input). */
  | { kind: 'asid-unknown' }
  /** System authorisation: the ASID is known but not accredited for this interaction. */
  | { kind: 'interaction-not-allowed'; asid: string; operation: string }
  /** A dead, expired, deleted or unknown session key (the wording is not published; this is ours). */
  | { kind: 'session-not-valid' };

export type ErsForbiddenKind = ErsForbiddenCause['kind'];

/** "SERVICE_PROVIDER_CLINICIAN" → "Service Provider Clinician", as e-RS's pages name business functions. */
function businessFunctionName(businessFunction: string): string {
  return businessFunction
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

function either(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1] ?? ''}`;
}

/**
 * The `diagnostics` text per cause, worded after e-RS's published one (A016 page: "User associated
 * with the API session is not logged in with a Business Function of Referring Clinician or Referring
 * Clinician Admin"). User causes start "User authorisation failed", system causes "System
 * authorisation failed", so a person reading a log can tell them apart; no client should parse them.
 */
export function forbiddenDiagnostics(cause: ErsForbiddenCause): string {
  switch (cause.kind) {
    case 'business-function':
      return (
        `User authorisation failed: the user associated with the API session is logged in with a Business Function of ` +
        `${businessFunctionName(cause.businessFunction)}, not ${either(cause.authorised.map(businessFunctionName))}`
      );
    case 'no-role-at-organisation':
      return (
        `User authorisation failed: the user associated with the API session no longer holds a Business Function of ` +
        `${businessFunctionName(cause.role.businessFunction)} at organisation ${cause.role.orgIdentifier}`
      );
    case 'no-role-selected':
      return 'User authorisation failed: no role profile has been selected for the API session';
    case 'asid-missing':
      return 'System authorisation failed: no ASID was supplied in XAPI_ASID';
    case 'asid-unknown':
      return 'System authorisation failed: the ASID supplied in XAPI_ASID is not a known accredited system';
    case 'interaction-not-allowed':
      return `System authorisation failed: ASID ${cause.asid} is not authorised for this interaction (${cause.operation})`;
    case 'session-not-valid':
      return 'Session not valid: the API session is not known to e-RS, has expired, or has been closed';
  }
}

/**
 * The 403 e-RS answers a business call for this cause: an OperationOutcome (today), or no body at
 * all (`legacy`, e-RS before 5 November 2024, for every cause).
 */
export function ersForbidden(cause: ErsForbiddenCause, legacy: boolean): ErsBareError | ErsOutcomeError {
  const diagnostics = forbiddenDiagnostics(cause);
  return legacy ? new ErsBareError(403, diagnostics) : ErsOutcomeError.forbidden(diagnostics);
}
