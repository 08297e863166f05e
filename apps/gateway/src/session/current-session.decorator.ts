import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { exchangeOf } from '../front-door/exchange';

/** What the request's passport strategy authenticated: a session, or a grant for one call. */
export const Current = createParamDecorator(
  (_data: unknown, context: ExecutionContext): unknown =>
    context.switchToHttp().getRequest<FastifyRequest & { user?: unknown }>().user,
);

/** The client's address as the front door read it (`TRUST_PROXY` applied): logins are throttled by it. */
export const ClientAddress = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string =>
    exchangeOf(context.switchToHttp().getRequest<FastifyRequest>().raw)?.clientAddress ?? '',
);
