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
  /**
   * Is this e-RS session still alive? Asked when a business endpoint answers 403, which since
   * 5 November 2024 carries an OperationOutcome whether the session died or the role may not make
   * the call. Sends A002 again with the role already selected: a live session refuses a second
   * role (400, SCAL A002-03), a dead one is refused (403). Never changes the session.
   * Throws an `ErsClientError` when the answer tells neither (timeout, 5xx, lane full).
   */
  checkSession(
    sessionKey: string,
    ssoToken: string,
    role: { businessFunction: string; orgIdentifier: string },
  ): Promise<SessionLiveness>;
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

/** What `checkSession` found: the e-RS session answers, or e-RS no longer knows it. */
export type SessionLiveness = 'live' | 'dead';

export interface RoleSelected {
  sessionKey: string;
  permission: ErsPermission;
}
