import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ERS_ASID_HEADER, ERS_SESSION_KEY_HEADER } from '@libs/ers-contract';
import { InjectSandboxConfig, type SandboxConfig } from '../config/sandbox-config';
import { ErsSessionRegistry, type ErsSession } from '../state/ers-session-registry';
import { Switches } from '../state/switches';
import { ErsBareError, ersForbidden, type ErsForbiddenCause } from './ers-errors';
import { attachErsSession } from './ers-request-context';
import type { ErsRouteConfig } from './ers-route';
import { exactHeader } from './raw-headers';

/**
 * What e-RS checks before any endpoint runs: the calling system (ASID), then, for business calls,
 * the session and the user's role. Every business 403 is built here, from its cause.
 */
@Injectable()
export class ErsEdgeGuard implements CanActivate {
  constructor(
    @InjectSandboxConfig() private readonly config: SandboxConfig,
    private readonly sessions: ErsSessionRegistry,
    private readonly switches: Switches,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const ers = request.routeOptions.config.ers;
    if (ers === undefined) return true;
    const rawHeaders = request.raw.rawHeaders;
    const asid = exactHeader(rawHeaders, ERS_ASID_HEADER);

    if (ers.kind !== 'business') {
      // A001-A003 kept their bare 403 through the November 2024 change (unknown paths too).
      if (asid !== this.config.asid) throw new ErsBareError(403, 'missing or unknown XAPI_ASID');
      return true;
    }
    const checked = this.authorise(ers, asid, exactHeader(rawHeaders, ERS_SESSION_KEY_HEADER));
    if ('kind' in checked) throw ersForbidden(checked, this.switches.legacy403);
    attachErsSession(request.raw, checked);
    return true;
  }

  /** The session the call may use, or the first authorisation stage that fails, in e-RS's order: system, session, user. */
  private authorise(ers: ErsRouteConfig, asid: string | undefined, key: string | undefined): ErsSession | ErsForbiddenCause {
    if (asid === undefined) return { kind: 'asid-missing' };
    if (asid !== this.config.asid) return { kind: 'asid-unknown' };
    // Spine accredits a system per interaction: a known ASID may still not be allowed this one.
    if (ers.operation !== null && !this.switches.isInteractionAllowed(ers.operation)) {
      return { kind: 'interaction-not-allowed', asid, operation: ers.operation };
    }

    // A dead, expired or unknown key is a 403 (never 401): the only sign a client gets.
    const session = key === undefined ? undefined : this.sessions.findLive(key);
    if (session === undefined) return { kind: 'session-not-valid' };
    // The session is unusable until A002 has selected a role.
    if (session.role === null) return { kind: 'no-role-selected' };
    // The user's role was withdrawn (RBAC changed) after A002: the session lives, the role does not.
    if (this.sessions.isRoleWithdrawn(session.card, session.role)) return { kind: 'no-role-at-organisation', role: session.role };
    if (!ers.roles.includes(session.role.businessFunction)) {
      return { kind: 'business-function', businessFunction: session.role.businessFunction, authorised: ers.roles };
    }
    return session;
  }
}
