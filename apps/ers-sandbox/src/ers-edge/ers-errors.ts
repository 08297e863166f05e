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

/**
 * The OutcomeKeys the sandbox answers with, each one listed for the endpoint that uses it on that
 * endpoint's page of the e-RS API docs (nhsconnect/digital-referrals, pages/endpoints), or, where
 * that page lists none for the case, in the e-RS FHIR API's specification of the same operation
 * (NHSDigital/e-referrals-service-api, specification/components/stu3/schemas/responses), which
 * runs on the same backend. The FHIR issue code beside each is the sandbox's choice: the docs give
 * only the key.
 */
export const OUTCOME_KEYS = {
  /** A008, A016, A020 pages; A010: FHIR API patientServiceSearch (and the A011 page, same criteria). */
  MISSING_VALUE: 'required',
  /** A008, A016, A020, A029 pages; A010: FHIR API patientServiceSearch. */
  INVALID_VALUE: 'value',
  /** A029 page. */
  MISSING_PARAMETER: 'required',
  /** A029 page: "The Referral does not exist". */
  REFERENCE_NOT_FOUND: 'not-found',
  /** A029 page: "Only the current version of the UBRN is permissible". */
  HISTORY_NOT_SUPPORTED: 'not-supported',
  /** A005 and A007 pages: "A referral with the specified UBRN does not exist". */
  NO_SUCH_REQUEST: 'not-found',
  /** A020 page: "The file is too large; the max size is 5MB". */
  FILE_SIZE_ERROR: 'too-long',
  /** FHIR API ServiceUnavailable (503). */
  SYSTEM_UNAVAILABLE: 'transient',
} as const;
export type OutcomeKey = keyof typeof OUTCOME_KEYS;

/** An e-RS answer carrying an OperationOutcome (422s, business-endpoint 403s, 404s…). */
export class ErsOutcomeError extends Error {
  readonly outcome: OperationOutcome;

  /** `outcomeKey` null: the docs give this answer no OutcomeKey, so the outcome carries none. */
  constructor(
    readonly status: number,
    issueCode: string,
    readonly outcomeKey: string | null,
    diagnostics: string,
    readonly contentType: string = FHIR_JSON,
    display?: string,
  ) {
    super(diagnostics);
    this.name = 'ErsOutcomeError';
    const outcome = ersOutcome(issueCode, outcomeKey, diagnostics);
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

  /** 422 with an OutcomeKey the endpoint's page lists (see OUTCOME_KEYS). */
  static unprocessable(outcomeKey: OutcomeKey, diagnostics: string, contentType: string = FHIR_JSON): ErsOutcomeError {
    return new ErsOutcomeError(422, OUTCOME_KEYS[outcomeKey], outcomeKey, diagnostics, contentType);
  }

  /** A 400 with an OutcomeKey: the e-RS FHIR API specifies A029's query errors as 400s. */
  static badRequest(outcomeKey: OutcomeKey, diagnostics: string): ErsOutcomeError {
    return new ErsOutcomeError(400, OUTCOME_KEYS[outcomeKey], outcomeKey, diagnostics);
  }

  /**
   * A 422 for which the endpoint's page lists no OutcomeKey (A001, A002 and A004 list none): an
   * OperationOutcome without one, rather than a key the sandbox would have to make up.
   */
  static unprocessableWithoutKey(diagnostics: string, contentType: string = FHIR_JSON): ErsOutcomeError {
    return new ErsOutcomeError(422, 'invalid', null, diagnostics, contentType);
  }

  /** The docs give 404 ("resource not found") but no OutcomeKey for it: the outcome carries none. */
  static notFound(diagnostics: string): ErsOutcomeError {
    return new ErsOutcomeError(404, 'not-found', null, diagnostics);
  }

  /**
   * A business-endpoint 403 as e-RS sends it since release APIM-R-1.38 (5 November 2024): issue
   * `forbidden`, coding `FORBIDDEN` "Forbidden", as in e-RS's own example (STU3-Forbidden.json).
   */
  static forbidden(diagnostics: string): ErsOutcomeError {
    return new ErsOutcomeError(403, 'forbidden', 'FORBIDDEN', diagnostics, FHIR_JSON, 'Forbidden');
  }
}

/** An eRS-OperationOutcome-1; with no key, its issue has no `details`. */
export function ersOutcome(issueCode: string, outcomeKey: string | null, diagnostics: string): OperationOutcome {
  const outcome = operationOutcome(issueCode, outcomeKey ?? '', diagnostics);
  if (outcomeKey !== null) return outcome;
  return { ...outcome, issue: outcome.issue.map(({ details: _details, ...issue }) => issue) };
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
