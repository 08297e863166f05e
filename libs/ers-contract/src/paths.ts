/** Paths below the e-RS base URL (which itself ends in `/ers-api`). */
export const PROFESSIONAL_SESSION_PATH = '/v1/ProfessionalSession';

/** A002/A003 path; the session key is opaque and may contain `:` so it is always encoded. */
export function professionalSessionPath(sessionKey: string): string {
  return `${PROFESSIONAL_SESSION_PATH}/${encodeURIComponent(sessionKey)}`;
}

/** Business endpoints live under these prefixes (STU3 FHIR, and the older DSTU2 `v1/`). */
export const BUSINESS_PATH_PREFIXES = ['STU3/', 'v1/'] as const;
/** Session endpoints are the gateway's own business: a browser may never reach them. */
export const SESSION_PATH_PREFIX = 'v1/ProfessionalSession';

export const ERS_BASE_SUFFIX = '/ers-api';
