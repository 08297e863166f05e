import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { SessionCookie } from '../session/session-cookie';
import { describe } from '../upstream-close/upstream-close.service';
import { PROBLEMS, PROBLEM_TYPE_BASE, type ProblemCode } from './problem-codes';
import { toProblem } from './to-problem';
import { StoreUnavailableError } from '@libs/session-store';

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
    .header('content-type', 'application/problem+json; charset=utf-8')
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
    const problem = toProblem(error);
    if (problem.code === 'internal-error') {
      this.logger.error({ correlationId: request.correlationId, err: describe(error) }, 'unhandled error');
    }
    if (error instanceof StoreUnavailableError) this.metrics.storeErrors.inc();
    if (reply.sent || reply.raw.headersSent) {
      // Mid-stream failure: the status is gone; cut the connection so the client sees it.
      reply.raw.destroy();
      return;
    }
    if (problem.clearCookie) this.cookie.clear(reply);
    sendProblem(reply, problemBody(problem.code, problem.detail, request.correlationId));
  }
}
