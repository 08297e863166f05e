import { Injectable } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { InjectSessionStore, SessionStore } from '@libs/session-store';
import { GatewayError } from '../problem/gateway-error';
import { SessionCookie } from './session-cookie';
import { type CurrentSession } from './session.service';

/**
 * `ers-session`: the cookie into the gateway session, for `/api/session*`. Reading does not
 * slide the idle timeout (only proxied calls do).
 */
@Injectable()
export class ErsSessionStrategy extends PassportStrategy(Strategy, 'ers-session') {
  constructor(
    @InjectSessionStore() private readonly store: SessionStore,
    private readonly cookie: SessionCookie,
  ) {
    super();
  }

  async validate(request: FastifyRequest): Promise<CurrentSession> {
    const sessionId = this.cookie.read(request);
    const session = sessionId === null ? null : await this.store.get(sessionId);
    if (sessionId === null || session === null) {
      throw new GatewayError('no-session', 'There is no session; sign in with your smartcard.');
    }
    return { sessionId, session };
  }
}

@Injectable()
export class ErsSessionAuthGuard extends AuthGuard('ers-session') {}
