/** Wire types of the e-RS Professional Session endpoints (A001, A002, A003). */

export const PROFESSIONAL_SESSION_TYPE_INFO = 'uk.nhs.ers.xapi.dto.v1.session.ProfessionalSession';

export const BUSINESS_FUNCTIONS = [
  'REFERRING_CLINICIAN',
  'REFERRING_CLINICIAN_ADMIN',
  'REFERRING_ADMIN',
  'BMS_HCP_PROXY',
  'BMS_ADMIN',
  'SERVICE_PROVIDER_CLINICIAN',
  'SERVICE_PROVIDER_CLINICIAN_ADMIN',
  'SERVICE_PROVIDER_ADMIN',
  'SERVICE_DEFINER',
  'BOOKING_MANAGER',
  'COMMISSIONER',
  'INFORMATION_ANALYST',
  'ERS_ADMIN',
  'ADDITIONAL_REQUIREMENTS_MANAGER',
  'REFERRER_RIGHTS_MANAGER',
] as const;
export type BusinessFunction = (typeof BUSINESS_FUNCTIONS)[number];

export interface ErsPermission {
  /** One of {@link BUSINESS_FUNCTIONS}; typed as string because e-RS may add new ones. */
  businessFunction: string;
  orgIdentifier: string;
  /** Real data can carry leading spaces: keep it as sent. */
  orgName: string;
}

export interface ErsUser {
  /** 12-digit SDS user id. */
  identifier: string;
  firstName: string;
  lastName: string;
  middleName: string | null;
  permissions: ErsPermission[];
}

/** A001 request body. */
export interface CreateProfessionalSessionRequest {
  typeInfo: typeof PROFESSIONAL_SESSION_TYPE_INFO;
  token: string;
}

/** A002 request body. */
export interface SelectRoleRequest {
  typeInfo: typeof PROFESSIONAL_SESSION_TYPE_INFO;
  token: string;
  permission: { businessFunction: string; orgIdentifier: string };
}

/** A001 (201) and A002 (200) answer. Note e-RS echoes the SSO token back. */
export interface ProfessionalSession {
  typeInfo: typeof PROFESSIONAL_SESSION_TYPE_INFO;
  /** The session key: opaque (seen as `pro-xapi-session_<uuid>` and `pro-api-session:<uuid>`). */
  id: string;
  token: string;
  user: ErsUser;
  permission: ErsPermission | null;
}
