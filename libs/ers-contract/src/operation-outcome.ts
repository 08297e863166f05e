/** e-RS error body (422, and most business-endpoint 403s since late 2024; never A001-A003). */
export const ERS_OPERATION_OUTCOME_PROFILE =
  'https://fhir.nhs.uk/STU3/StructureDefinition/eRS-OperationOutcome-1';
export const ERS_API_ERROR_CODE_SYSTEM = 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-APIErrorCode-1';

export interface OperationOutcomeIssue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: string;
  details?: { coding: { system: string; code: string; display?: string }[] };
  diagnostics?: string;
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  meta: { profile: string[] };
  issue: OperationOutcomeIssue[];
}

export function operationOutcome(
  issueCode: string,
  outcomeKey: string,
  diagnostics: string,
): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    meta: { profile: [ERS_OPERATION_OUTCOME_PROFILE] },
    issue: [
      {
        severity: 'error',
        code: issueCode,
        details: { coding: [{ system: ERS_API_ERROR_CODE_SYSTEM, code: outcomeKey }] },
        diagnostics,
      },
    ],
  };
}
