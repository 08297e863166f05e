import { Inject } from '@nestjs/common';
import type { ErsPermission, ErsUser } from '@libs/ers-contract';

/**
 * How an upstream e-RS session is opened, given a role and closed. Today: the Professional
 * Session endpoints (A001, A002, A003) with a smartcard SSO token. Kept behind this port so a FHIR
 * (CIS2 bearer token) mode can be added beside it without touching the browser API.
 *
 * Implementations throw the error classes in `errors.ts`, never transport errors.
 */
export interface ErsSessionClient {
  /** A001. Throws `ErsTokenRejectedError` on e-RS 403. */
  createSession(ssoToken: string): Promise<OpenedUpstreamSession>;
  /**
   * A002. Returns the session key to use from now on (e-RS can answer with a different `id`).
   * Throws `ErsRoleRejectedError` on 403, `ErsRoleAlreadySelectedError` on 400.
   */
  selectRole(
    sessionKey: string,
    ssoToken: string,
    role: { businessFunction: string; orgIdentifier: string },
  ): Promise<RoleSelected>;
  /** A003. e-RS 403 means the session was already dead: that is `already-ended`, not an error. */
  deleteSession(sessionKey: string): Promise<'deleted' | 'already-ended'>;
}

export const ErsSessionClient = Symbol('ErsSessionClient');
export const InjectErsSessionClient = (): PropertyDecorator & ParameterDecorator =>
  Inject(ErsSessionClient);

export interface OpenedUpstreamSession {
  sessionKey: string;
  user: Omit<ErsUser, 'permissions'>;
  permissions: ErsPermission[];
}

export interface RoleSelected {
  sessionKey: string;
  permission: ErsPermission;
}
