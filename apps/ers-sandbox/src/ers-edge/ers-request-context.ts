import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { ERS_SESSION_KEY_HEADER } from '@libs/ers-contract';
import type { ErsSession } from '../state/ers-session-registry';
import { ERS_PREFIX } from './ers-route';
import { exactHeader } from './raw-headers';

/** The session the guard resolved for a business call, keyed by the raw request. */
const sessions = new WeakMap<IncomingMessage, ErsSession>();

export function attachErsSession(request: IncomingMessage, session: ErsSession): void {
  sessions.set(request, session);
}

/** The live e-RS session (with a role) behind a business call; set by `ErsEdgeGuard`. */
export const CurrentErsSession = createParamDecorator((_data: unknown, context: ExecutionContext): ErsSession => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  const session = sessions.get(request.raw);
  if (session === undefined) throw new Error('CurrentErsSession used on a route the ErsEdgeGuard did not check');
  return session;
});

/** The session key exactly as sent in `HTTP_X_SESSION_KEY` (case and underscores), if it was. */
export const ErsSessionKeyHeader = createParamDecorator((_data: unknown, context: ExecutionContext): string | undefined =>
  exactHeader(context.switchToHttp().getRequest<FastifyRequest>().raw.rawHeaders, ERS_SESSION_KEY_HEADER),
);

/**
 * The e-RS base this call was made on (`http://HOST/ers-api`): e-RS names its own CodeSystems and
 * `Location`s by it, so the sandbox does the same with the host it was called on.
 */
export const ErsBase = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  return `http://${request.headers.host ?? 'localhost'}/${ERS_PREFIX}`;
});
