import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ERS_ASID_HEADER, ERS_SESSION_KEY_HEADER } from '@libs/ers-contract';
import { InjectSandboxConfig, type SandboxConfig } from '../config/sandbox-config';
import { ErsSessionRegistry } from '../state/ers-session-registry';
import { ErsBareError, ErsOutcomeError } from './ers-errors';
import { attachErsSession } from './ers-request-context';
import { exactHeader } from './raw-headers';

/** What e-RS checks before any endpoint runs: the ASID, then (business calls) session and role. */
@Injectable()
export class ErsEdgeGuard implements CanActivate {
  constructor(
    @InjectSandboxConfig() private readonly config: SandboxConfig,
    private readonly sessions: ErsSessionRegistry,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const ers = request.routeOptions.config.ers;
    if (ers === undefined) return true;
    const rawHeaders = request.raw.rawHeaders;

    // e-RS refuses a caller without its accredited system id outright, with no body.
    if (exactHeader(rawHeaders, ERS_ASID_HEADER) !== this.config.asid) {
      throw new ErsBareError(403, 'missing or unknown XAPI_ASID');
    }
    if (ers.kind !== 'business') return true;

    // A dead, expired or unknown key is a bare 403 (never 401): the only sign a client gets.
    const key = exactHeader(rawHeaders, ERS_SESSION_KEY_HEADER);
    const session = key === undefined ? undefined : this.sessions.findLive(key);
    if (session === undefined) throw new ErsBareError(403, 'unknown or dead session key');
    // The session is unusable until A002 has selected a role.
    if (session.role === null) throw new ErsBareError(403, 'no role selected on this session');
    // Since late 2024 e-RS explains a wrong-role 403 with an OperationOutcome.
    if (!ers.roles.includes(session.role.businessFunction)) {
      throw ErsOutcomeError.notAuthorised(
        `The ${session.role.businessFunction} business function is not authorised for ${ers.operation ?? 'this call'}`,
      );
    }
    attachErsSession(request.raw, session);
    return true;
  }
}
