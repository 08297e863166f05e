import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { GatewayConfig } from '@libs/config';
import { GatewayError } from '../problem/gateway-error';
import { ownOrigin } from './own-origin';

/**
 * Anti-forgery for every `/api` call, before anything else runs: the `X-CSRF: 1` header (a
 * cross-site form or image cannot set it, and a cross-site script cannot without a CORS
 * preflight that we refuse), then an exact `Origin` check when the browser sends one.
 */
@Injectable()
export class ApiRequestGuard implements CanActivate {
  private readonly allowedOrigins: ReadonlySet<string>;
  private readonly trustProxyHops: number;

  constructor(config: GatewayConfig) {
    this.allowedOrigins = new Set(config.http.allowedOrigins);
    this.trustProxyHops = config.http.trustProxyHops;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!request.url.startsWith('/api/')) return true;
    if (request.headers['x-csrf'] !== '1') {
      throw new GatewayError('csrf', 'Every /api request must carry the header X-CSRF: 1.');
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !this.isAllowed(origin, request)) {
      throw new GatewayError('origin', 'Requests from this origin are not allowed.');
    }
    return true;
  }

  isAllowed(origin: string, request: FastifyRequest): boolean {
    return this.allowedOrigins.has(origin) || origin === ownOrigin(request.raw, this.trustProxyHops);
  }
}
