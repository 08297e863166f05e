import { expect } from 'vitest';
import type { HttpAnswer } from './sandbox-harness';

/** The STU3 OperationOutcome e-RS sends with a business-endpoint 403 (e-RS's STU3-Forbidden.json). */
export interface ForbiddenOutcome {
  resourceType: 'OperationOutcome';
  meta: { profile: string[] };
  issue: {
    severity: string;
    code: string;
    details: { coding: { system: string; code: string; display?: string }[] };
    diagnostics: string;
  }[];
}

/** Diagnostics prefixes per authorisation stage (the sandbox's wording; only tests read them). */
export const USER_AUTHORISATION = /^User authorisation failed: /;
export const SYSTEM_AUTHORISATION = /^System authorisation failed: /;
export const SESSION_NOT_VALID = /^Session not valid: /;

/**
 * Checks that `answer` is a 403 as e-RS sends it since 5 November 2024 (FHIR JSON, one issue
 * `forbidden` / `FORBIDDEN`) and returns its diagnostics.
 */
export function forbiddenDiagnostics(answer: HttpAnswer): string {
  expect(answer.status).toBe(403);
  expect(answer.headers['content-type']).toBe('application/fhir+json;charset=UTF-8');
  const outcome = answer.json<ForbiddenOutcome>();
  expect(outcome).toEqual({
    resourceType: 'OperationOutcome',
    meta: { profile: ['https://fhir.nhs.uk/STU3/StructureDefinition/eRS-OperationOutcome-1'] },
    issue: [
      {
        severity: 'error',
        code: 'forbidden',
        details: {
          coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-APIErrorCode-1', code: 'FORBIDDEN', display: 'Forbidden' }],
        },
        diagnostics: expect.any(String),
      },
    ],
  });
  return outcome.issue[0]?.diagnostics ?? '';
}

/** A 403 OperationOutcome saying the session is not valid (dead, expired or unknown key). */
export function expectSessionNotValid(answer: HttpAnswer): void {
  expect(forbiddenDiagnostics(answer)).toMatch(SESSION_NOT_VALID);
}

/** A 403 with no body: A001-A003 today, and business calls with `legacy403` (no content type either). */
export function expectBare403(answer: HttpAnswer, { business = true } = {}): void {
  expect(answer.status).toBe(403);
  expect(answer.text).toBe('');
  if (business) expect(answer.headers['content-type']).toBeUndefined();
}
