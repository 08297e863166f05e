import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../problem/gateway-error';
import { exchangeOf } from './exchange';

/**
 * Every Nest route under `/api` runs only for a request the front door admitted for that very
 * route. The door is the only way in, so this never refuses a request in normal operation; it is
 * what makes "a route added later cannot skip the door's rules" hold by construction: a route the
 * door does not know is a route no request can reach.
 */
@Injectable()
export class AdmittedGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const route = request.routeOptions.url ?? '';
    if (route !== '/api' && !route.startsWith('/api/')) return true;
    if (exchangeOf(request.raw)?.admitted === route) return true;
    throw new GatewayError('invalid-request', 'This request was not admitted for this route.');
  }
}
