import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { SessionCookie } from '../session/session-cookie';
import { describe } from '../upstream-close/upstream-close.service';
import { PROBLEMS, PROBLEM_TYPE_BASE, type ProblemCode } from './problem-codes';
import { type ProblemChoice, toProblem } from './to-problem';
import { StoreUnavailableError } from '@libs/session-store';

const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  correlationId: string;
}

export function problemBody(code: ProblemCode, detail: string, correlationId: string): ProblemBody {
  const { status, title } = PROBLEMS[code];
  return { type: PROBLEM_TYPE_BASE + code, title, status, detail, code, correlationId };
}

/** Writes a problem answer (also used by the two Fastify hooks that answer before Nest runs). */
export function sendProblem(reply: FastifyReply, body: ProblemBody): void {
  void reply
    .code(body.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .header('cache-control', 'no-store')
    .send(JSON.stringify(body));
}

/**
 * The one place errors become HTTP answers: `application/problem+json` with a stable code.
 * e-RS's own answers never come through here (they pass through unchanged).
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(
    private readonly cookie: SessionCookie,
    private readonly metrics: GatewayMetrics,
    @InjectLogger() private readonly logger: GatewayLogger,
  ) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const problem = noteProblem(error, request.correlationId, this.metrics, this.logger);
    if (reply.sent || reply.raw.headersSent) {
      // Mid-stream failure: the status is gone; cut the connection so the client sees it.
      reply.raw.destroy();
      return;
    }
    if (problem.clearCookie) this.cookie.clear(reply);
    sendProblem(reply, problemBody(problem.code, problem.detail, request.correlationId));
  }
}

/**
 * Which problem an error becomes, counted and (when it is our own fault) logged: shared by the
 * filter and the proxy's fast path, so an error reads the same whichever way its call came.
 */
export function noteProblem(error: unknown, correlationId: string, metrics: GatewayMetrics, logger: GatewayLogger): ProblemChoice {
  const problem = toProblem(error);
  if (problem.code === 'internal-error') {
    logger.error({ correlationId, err: describe(error) }, 'unhandled error');
  }
  if (error instanceof StoreUnavailableError) metrics.storeErrors.inc();
  return problem;
}

/**
 * Writes a problem answer on a raw response (the fast path's way of `sendProblem`): the same
 * headers and body. `headers` are the answer's so far (security, correlation id, CORS).
 */
export function writeProblem(
  response: ServerResponse,
  headers: OutgoingHttpHeaders,
  body: ProblemBody,
  clearingCookie: string | null,
): void {
  if (clearingCookie !== null) headers['set-cookie'] = clearingCookie;
  headers['content-type'] = PROBLEM_CONTENT_TYPE;
  headers['cache-control'] = 'no-store';
  const text = JSON.stringify(body);
  headers['content-length'] = Buffer.byteLength(text);
  response.writeHead(body.status, headers).end(text);
}
