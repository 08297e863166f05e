import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionContext } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../problem/gateway-error';
import { AdmittedGuard } from './admitted.guard';
import { EXCHANGE, Exchange } from './exchange';

/** A Nest route reached with this raw request (as Fastify hands it to the guards). */
function context(route: string, admitted: string | undefined | null): ExecutionContext {
  const raw = {} as IncomingMessage;
  if (admitted !== null) {
    const exchange = new Exchange(raw, {} as ServerResponse, 'c', 0, undefined, true);
    exchange.admitted = admitted;
    raw[EXCHANGE] = exchange;
  }
  const request = { raw, routeOptions: { url: route } };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

describe('AdmittedGuard: a Nest /api route runs only for a request the front door admitted for it', () => {
  const guard = new AdmittedGuard();

  it('lets through a request admitted for this very route', () => {
    expect(guard.canActivate(context('/api/session', '/api/session'))).toBe(true);
    expect(guard.canActivate(context('/api/session/role', '/api/session/role'))).toBe(true);
  });

  it.each([
    ['not admitted at all (it did not come through the door)', '/api/session', null],
    ['admitted for nothing', '/api/session', undefined],
    ['admitted for another route (a respelling routed elsewhere)', '/api/session/role', '/api/session'],
    ['a route the door does not know', '/api/new-route', '/api/session'],
  ] as const)('refuses a request %s', (_why, route, admitted) => {
    expect(() => guard.canActivate(context(route, admitted))).toThrow(GatewayError);
  });

  it('leaves routes outside /api alone (health, the OpenAPI document)', () => {
    expect(guard.canActivate(context('/health/ready', null))).toBe(true);
    expect(guard.canActivate(context('/openapi.json', null))).toBe(true);
  });
});
