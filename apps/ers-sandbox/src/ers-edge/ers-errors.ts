import { operationOutcome, type OperationOutcome } from '@libs/ers-contract';
import { FHIR_JSON } from './ers-route';

/**
 * An e-RS answer with no body: how e-RS rejects A001-A003 and any call with a dead or unknown
 * session key (historically bare). `reason` is for the sandbox's log only, never sent.
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
  ) {
    super(diagnostics);
    this.name = 'ErsOutcomeError';
    this.outcome = ersOutcome(issueCode, outcomeKey, diagnostics);
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

  static notAuthorised(diagnostics: string): ErsOutcomeError {
    return new ErsOutcomeError(403, 'forbidden', 'NOT_AUTHORISED', diagnostics);
  }
}

/** An eRS-OperationOutcome-1; with no key, its issue has no `details`. */
export function ersOutcome(issueCode: string, outcomeKey: string | null, diagnostics: string): OperationOutcome {
  const outcome = operationOutcome(issueCode, outcomeKey ?? '', diagnostics);
  if (outcomeKey !== null) return outcome;
  return { ...outcome, issue: outcome.issue.map(({ details: _details, ...issue }) => issue) };
}
