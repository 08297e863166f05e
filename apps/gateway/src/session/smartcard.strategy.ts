import { Injectable } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { exchangeOf } from '../front-door/exchange';
import { LoginDto } from './dto/login.dto';
import { validateDto } from './dto/validate-dto';
import { SessionCookie } from './session-cookie';
import { type CurrentSession, SessionService } from './session.service';

/**
 * `smartcard`: the SSO token in, A001, a gateway session out. The token is validated before any
 * upstream call; a token e-RS refuses becomes `invalid-token`.
 */
@Injectable()
export class SmartcardStrategy extends PassportStrategy(Strategy, 'smartcard') {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookie: SessionCookie,
  ) {
    super();
  }

  async validate(request: FastifyRequest): Promise<CurrentSession> {
    const { token } = validateDto(LoginDto, request.body ?? {});
    return this.sessions.login(token, this.cookie.read(request), exchangeOf(request.raw)?.clientAddress ?? '');
  }
}

@Injectable()
export class SmartcardAuthGuard extends AuthGuard('smartcard') {}
