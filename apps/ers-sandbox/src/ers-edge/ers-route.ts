import { RouteConfig } from '@nestjs/platform-fastify';
import type { BusinessFunction } from '@libs/ers-contract';

export const ERS_OPERATIONS = [
  'A001', 'A002', 'A003', 'A004', 'A005', 'A006', 'A007', 'A008', 'A010', 'A016', 'A020', 'A029',
] as const;
export type ErsOperationId = (typeof ERS_OPERATIONS)[number];
export type ErsBusinessOperationId = Exclude<ErsOperationId, 'A001' | 'A002' | 'A003'>;
export const ERS_BUSINESS_OPERATIONS = ERS_OPERATIONS.filter(
  (operation): operation is ErsBusinessOperationId => !['A001', 'A002', 'A003'].includes(operation),
);

/** Where e-RS lives below the sandbox's origin; the `/_sandbox` controls are never under it. */
export const ERS_PREFIX = 'ers-api';
export const STU3_PREFIX = `${ERS_PREFIX}/STU3/v1`;

/** STU3 endpoints answer FHIR JSON; the session endpoints plain JSON. */
export const FHIR_JSON = 'application/fhir+json;charset=UTF-8';
export const SESSION_JSON = 'application/json;charset=UTF-8';

const RC = 'REFERRING_CLINICIAN';
const RCA = 'REFERRING_CLINICIAN_ADMIN';
const SPC = 'SERVICE_PROVIDER_CLINICIAN';
const SPA = 'SERVICE_PROVIDER_ADMIN';
const SPCA = 'SERVICE_PROVIDER_CLINICIAN_ADMIN';

/**
 * The business functions that may call each endpoint (any other gets a 403), as the SCAL lists
 * them: sheet "e-RS Provider Requirements" of downloads/agreements/SCAL_vsn2.0.xlsx in
 * nhsconnect/digital-referrals (gh-pages a2183b6, Apache-2.0). REFERRING_ADMIN is in none of them.
 */
export const ENDPOINT_ROLES = {
  A004: [RC, RCA, SPC],
  A005: [RC, RCA, SPC],
  A006: [RC, RCA, SPC],
  // No role list in the SCAL: kept as the sandbox had it (the provider roles).
  A007: [SPC, SPA, SPCA],
  // SCAL: SPC and SPA; the A008 page adds that an SPCA login acts as SPC ("on behalf of").
  A008: [SPC, SPA, SPCA],
  // The A010 user story; A016 as its page says ("Referring Clinician or Referring Clinician Admin").
  A010: [RC, RCA],
  A016: [RC, RCA],
  A020: [RC, RCA, SPC, SPCA],
  A029: [SPC, SPCA],
} as const satisfies Record<ErsBusinessOperationId, readonly BusinessFunction[]>;

/** What the edge (traffic hooks, guard, body parser) knows about a route. */
export interface ErsRouteConfig {
  /** null for the catch-all that answers unknown e-RS paths. */
  operation: ErsOperationId | null;
  /**
   * `session`: A001-A003, which check the session key themselves. `business`: needs a live
   * session with a role among `roles`. `unknown`: only the ASID is checked, then 404.
   */
  kind: 'session' | 'business' | 'unknown';
  roles: readonly string[];
  /** The handler gets the request body as a stream (A020): never parsed, never buffered. */
  streamBody: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    ers?: ErsRouteConfig;
  }
}

const ersRoute = (ers: ErsRouteConfig): MethodDecorator => RouteConfig({ ers });

export const ErsSessionEndpoint = (operation: 'A001' | 'A002' | 'A003'): MethodDecorator =>
  ersRoute({ operation, kind: 'session', roles: [], streamBody: false });

export const ErsBusinessEndpoint = (
  operation: ErsBusinessOperationId,
  roles: readonly string[],
  options: { streamBody?: boolean } = {},
): MethodDecorator => ersRoute({ operation, kind: 'business', roles, streamBody: options.streamBody ?? false });

export const ErsUnknownPath = (): MethodDecorator =>
  ersRoute({ operation: null, kind: 'unknown', roles: [], streamBody: false });

export function isErsPath(url: string): boolean {
  return url === `/${ERS_PREFIX}` || url.startsWith(`/${ERS_PREFIX}/`) || url.startsWith(`/${ERS_PREFIX}?`);
}

/**
 * e-RS operation paths contain `$` (`$ers.fetchworklist`); a client may percent-encode it as
 * `%24`, which a servlet container decodes before matching. Only the path part is touched.
 */
export function decodeOperationDollar(url: string): string {
  if (!isErsPath(url)) return url;
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  return path.replace(/%24/gi, '$') + (queryAt === -1 ? '' : url.slice(queryAt));
}
