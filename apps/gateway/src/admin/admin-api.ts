import { Injectable } from '@nestjs/common';
import { GatewayConfig } from '@libs/config';
import { StoreUnavailableError, type UserSessionSummary } from '@libs/session-store';
import { AnswerHeaders, type Exchange } from '../front-door/exchange';
import { ProblemWriter } from '../problem/problem-writer';
import { AdminSessionsService } from './admin-sessions.service';
import { AdminToken } from './admin-token';

/** The SDS user id as e-RS gives it (digits today); anything else names nobody. */
const USER_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** A session's hashed id as the list gives it: base64url of a SHA-256. */
const HASHED_ID = /^[A-Za-z0-9_-]{43}$/;
const ROUTE = /^\/admin\/users\/([^/]+)\/sessions(?:\/([^/]+))?$/;

/**
 * The admin API, served by the operators' listener only (never the public port):
 * `GET /admin/users/:userId/sessions`, `DELETE /admin/users/:userId/sessions/:hashedId` and
 * `DELETE /admin/users/:userId/sessions`, behind `Authorization: Bearer <ADMIN_TOKEN>`.
 * Without `ADMIN_TOKEN` it does not exist: every `/admin` path answers 404 like any unknown path.
 */
@Injectable()
export class AdminApi {
  private readonly token: AdminToken | null;

  constructor(
    private readonly sessions: AdminSessionsService,
    private readonly answerHeaders: AnswerHeaders,
    private readonly problems: ProblemWriter,
    config: GatewayConfig,
  ) {
    this.token = config.admin.token === null ? null : new AdminToken(config.admin.token);
  }

  /** Whether the path is the admin API's to answer (false when it is off). */
  handles(path: string): boolean {
    return this.token !== null && (path === '/admin' || path.startsWith('/admin/'));
  }

  async serve(exchange: Exchange, path: string): Promise<void> {
    const { request } = exchange;
    const match = ROUTE.exec(path);
    exchange.route = match === null ? 'unmatched' : match[2] === undefined ? '/admin/users/:userId/sessions' : '/admin/users/:userId/sessions/:hashedId';
    // The token first: without it, nothing about the routes or the users is answered.
    if (!this.token?.admits(request.headers.authorization)) {
      this.problems.write(
        exchange,
        { code: 'admin-unauthorized', detail: 'The admin API needs Authorization: Bearer <ADMIN_TOKEN>.', clearCookie: false },
        { headers: { 'www-authenticate': 'Bearer' } },
      );
      return;
    }
    if (match === null) {
      this.problems.write(exchange, { code: 'not-found', detail: 'The admin API serves /admin/users/:userId/sessions.', clearCookie: false });
      return;
    }
    const userId = decoded(match[1] ?? '');
    if (userId === null || !USER_ID.test(userId)) {
      this.problems.write(exchange, { code: 'invalid-request', detail: 'The user id is not an SDS user id.', clearCookie: false });
      return;
    }
    const hashedId = match[2] === undefined ? null : decoded(match[2]);
    const allowed = hashedId === null ? 'GET, HEAD, DELETE' : 'DELETE';
    if (!allowed.split(', ').includes(request.method ?? '')) {
      this.problems.write(
        exchange,
        { code: 'method-not-allowed', detail: `${exchange.route} answers ${allowed}.`, clearCookie: false },
        { headers: { allow: allowed } },
      );
      return;
    }
    try {
      if (hashedId !== null) {
        const ended = HASHED_ID.test(hashedId) && (await this.sessions.endOne(userId, hashedId));
        if (!ended) {
          this.problems.write(exchange, { code: 'not-found', detail: 'This user has no live session with that id.', clearCookie: false });
          return;
        }
        this.answer(exchange, 204, null);
      } else if (request.method === 'DELETE') {
        this.answer(exchange, 200, { ended: await this.sessions.endAll(userId) });
      } else {
        this.answer(exchange, 200, { sessions: (await this.sessions.list(userId)).map(toView) });
      }
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      this.problems.write(exchange, { code: 'store-unavailable', detail: 'The session store did not answer.', clearCookie: false });
    }
  }

  private answer(exchange: Exchange, status: number, body: unknown): void {
    const headers = this.answerHeaders.for(exchange);
    headers['cache-control'] = 'no-store';
    if (body === null) {
      exchange.response.writeHead(status, headers).end();
      return;
    }
    const text = JSON.stringify(body);
    headers['content-type'] = 'application/json; charset=utf-8';
    headers['content-length'] = Buffer.byteLength(text);
    exchange.response.writeHead(status, headers).end(exchange.request.method === 'HEAD' ? undefined : text);
  }
}

/** What an operator sees of a session: never the cookie, the store's key or the e-RS key. */
function toView(session: UserSessionSummary): Record<string, unknown> {
  return {
    id: session.hashedId,
    role: session.role,
    createdAt: new Date(session.createdAtMs).toISOString(),
    lastSeenAt: new Date(session.lastSeenAtMs).toISOString(),
    idleExpiresAt: new Date(session.idleExpiresAtMs).toISOString(),
    absoluteExpiresAt: new Date(session.absoluteExpiresAtMs).toISOString(),
  };
}

function decoded(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
