import { randomBytes } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { InjectSessionStore, SessionStore } from '@libs/session-store';
import { GatewayError } from '../problem/gateway-error';
import { SessionCookie } from '../session/session-cookie';
import { checkedErsPath } from './ers-path';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `ErsCallAuthGuard` on `/api/ers/*`: what this one proxied call may use. */
    ersGrant: ErsCallGrant | undefined;
  }
}

/** What a proxied call may use: the e-RS session key, and the in-flight mark to clear after. */
export interface ErsCallGrant {
  sessionId: string;
  upstreamId: string;
  sessionKey: string;
  callId: string;
  path: string;
}

/**
 * `ers-call`: the cookie into a grant for one proxied call. One store round trip: read the
 * session, slide its idle timeout and mark the call in flight, in one script. The path is
 * checked first, so a refused path costs no store call and marks nothing.
 */
@Injectable()
export class ErsCallStrategy extends PassportStrategy(Strategy, 'ers-call') {
  constructor(
    @InjectSessionStore() private readonly store: SessionStore,
    private readonly cookie: SessionCookie,
  ) {
    super();
  }

  async validate(request: FastifyRequest): Promise<ErsCallGrant> {
    const path = checkedErsPath(request.url);
    const sessionId = this.cookie.read(request);
    if (sessionId === null) throw new GatewayError('no-session', 'There is no session; sign in with your smartcard.');
    const callId = nextCallId();
    const grant = await this.store.beginCall(sessionId, callId);
    if (grant.status !== 'ok') throw refusal(grant.status);
    request.upstreamId = grant.upstreamId;
    const granted: ErsCallGrant = { sessionId, upstreamId: grant.upstreamId, sessionKey: grant.sessionKey, callId, path };
    request.ersGrant = granted;
    return granted;
  }
}

/**
 * In-flight mark ids: unique across instances (a random prefix per process) and calls (a counter),
 * never secret (they only name a call in Redis). Cheaper than a UUID on every proxied call.
 */
const CALL_ID_PREFIX = randomBytes(12).toString('base64url');
let callCount = 0;

export function nextCallId(): string {
  callCount = callCount === Number.MAX_SAFE_INTEGER ? 1 : callCount + 1;
  return `${CALL_ID_PREFIX}.${callCount.toString(36)}`;
}

/** Why the store granted no call, as the browser is told. */
export function refusal(status: 'no-session' | 'no-role'): GatewayError {
  return status === 'no-session'
    ? new GatewayError('no-session', 'There is no session; sign in with your smartcard.')
    : new GatewayError('role-not-selected', 'Choose a role before calling e-RS.');
}

const allowed = (): true => true;

/**
 * The hot path's guard runs the `ers-call` strategy itself instead of going through
 * `passport.authenticate`: the strategy (and its one store round trip) is the same, but passport's
 * per-request wrapping (a strategy clone, closures, a promise) was measurable on every proxied
 * call. `/api/session*` use passport's AuthGuard as usual.
 */
@Injectable()
export class ErsCallAuthGuard implements CanActivate {
  constructor(private readonly strategy: ErsCallStrategy) {}

  canActivate(context: ExecutionContext): Promise<boolean> {
    // The strategy leaves the grant on the request (`ersGrant`); no async frame of our own here.
    return this.strategy.validate(context.switchToHttp().getRequest<FastifyRequest>()).then(allowed);
  }
}
