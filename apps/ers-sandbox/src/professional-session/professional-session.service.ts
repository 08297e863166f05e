import { Injectable } from '@nestjs/common';
import { PROFESSIONAL_SESSION_TYPE_INFO, type ProfessionalSession } from '@libs/ers-contract';
import { cardByToken } from '../fixtures/cards';
import { ErsBareError } from '../ers-edge/ers-errors';
import { ErsSessionRegistry, type ErsSession } from '../state/ers-session-registry';
import type { PermissionChoiceDto } from './dto/professional-session.dto';

/** A001-A003 as e-RS does them, awkward parts included (bare 403s, 400 on a second A002). */
@Injectable()
export class ProfessionalSessionService {
  constructor(private readonly sessions: ErsSessionRegistry) {}

  create(token: string): ProfessionalSession {
    const card = cardByToken(token);
    // Spine does not know the token (invalid card, or a card taken out of its reader): bare 403.
    if (card === undefined || !card.valid || this.sessions.isCardRemoved(card)) {
      throw new ErsBareError(403, 'SSO token not valid');
    }
    return toProfessionalSession(this.sessions.create(card));
  }

  selectRole(pathKey: string, headerKey: string | undefined, token: string, choice: PermissionChoiceDto): ProfessionalSession {
    const session = this.liveSession(pathKey, headerKey);
    session.a002Count += 1;
    if (token !== session.card.token) throw new ErsBareError(403, 'token does not belong to this session');
    // e-RS allows one role per session: changing role means A003, A001, A002 again.
    if (session.role !== null) throw new ErsBareError(400, 'a role is already selected on this session');
    const permission = session.card.permissions.find(
      (p) => p.businessFunction === choice.businessFunction && p.orgIdentifier === choice.orgIdentifier,
    );
    if (permission === undefined) throw new ErsBareError(403, 'role not among the user’s permissions');
    session.role = { ...permission };
    session.state = 'active';
    return toProfessionalSession(session);
  }

  delete(pathKey: string, headerKey: string | undefined): void {
    this.sessions.end(this.liveSession(pathKey, headerKey), 'deleted');
  }

  /** The key travels in the path and in HTTP_X_SESSION_KEY; a mismatch is treated as unknown. */
  private liveSession(pathKey: string, headerKey: string | undefined): ErsSession {
    if (headerKey !== pathKey) throw new ErsBareError(403, 'HTTP_X_SESSION_KEY missing or not the path id');
    const session = this.sessions.findLive(pathKey);
    if (session === undefined) throw new ErsBareError(403, 'unknown or dead session key');
    return session;
  }
}

/** The wire shape; note e-RS echoes the SSO token back in it. */
function toProfessionalSession(session: ErsSession): ProfessionalSession {
  const { card } = session;
  return {
    typeInfo: PROFESSIONAL_SESSION_TYPE_INFO,
    id: session.key,
    token: card.token,
    user: { ...card.user, permissions: card.permissions.map((permission) => ({ ...permission })) },
    permission: session.role === null ? null : { ...session.role },
  };
}
