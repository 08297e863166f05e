import { Injectable } from '@nestjs/common';
import { InjectSessionStore, SessionStore, type UserSessionSummary } from '@libs/session-store';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { UpstreamCloseService } from '../upstream-close/upstream-close.service';

/**
 * What operators may do to a user's sessions: see them, end one, end all. Ending goes through the
 * store's end step (the session goes at once, its A003 is queued once) and the close worker,
 * exactly as a logout does.
 */
@Injectable()
export class AdminSessionsService {
  constructor(
    @InjectSessionStore() private readonly store: SessionStore,
    private readonly closes: UpstreamCloseService,
    @InjectLogger() private readonly logger: GatewayLogger,
  ) {}

  list(userId: string): Promise<UserSessionSummary[]> {
    return this.store.listUserSessions(userId);
  }

  /** False when the user has no live session with that hashed id. */
  async endOne(userId: string, hashedId: string): Promise<boolean> {
    const ended = await this.store.endUserSession(userId, hashedId, 'admin');
    if (ended === null) return false;
    this.closes.recordEnded(ended);
    this.logger.info({ event: 'admin-sessions-ended', sessions: 1 }, 'an operator ended a session');
    return true;
  }

  /** How many sessions it ended. */
  async endAll(userId: string): Promise<number> {
    const ended = await this.store.endUserSessions(userId, 'admin');
    for (const session of ended) this.closes.recordEnded(session);
    this.logger.info({ event: 'admin-sessions-ended', sessions: ended.length }, 'an operator ended all sessions of a user');
    return ended.length;
  }
}
