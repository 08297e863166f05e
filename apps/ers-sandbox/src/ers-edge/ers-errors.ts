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

/** An e-RS answer carrying an OperationOutcome (422s, business-endpoint 403s, 404s, 413s…). */
export class ErsOutcomeError extends Error {
  readonly outcome: OperationOutcome;

  constructor(
    readonly status: number,
    issueCode: string,
    readonly outcomeKey: string,
    diagnostics: string,
    readonly contentType: string = FHIR_JSON,
  ) {
    super(diagnostics);
    this.name = 'ErsOutcomeError';
    this.outcome = operationOutcome(issueCode, outcomeKey, diagnostics);
  }

  static notFound(diagnostics: string): ErsOutcomeError {
    return new ErsOutcomeError(404, 'not-found', 'NO_RESOURCE_FOUND', diagnostics);
  }

  static invalid(diagnostics: string, contentType: string = FHIR_JSON): ErsOutcomeError {
    return new ErsOutcomeError(422, 'invalid', 'REQUEST_VALIDATION_ERROR', diagnostics, contentType);
  }

  static notAuthorised(diagnostics: string): ErsOutcomeError {
    return new ErsOutcomeError(403, 'forbidden', 'NOT_AUTHORISED', diagnostics);
  }
}
