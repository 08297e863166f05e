import type { OutgoingHttpHeaders } from 'node:http';
import { Injectable } from '@nestjs/common';
import { GatewayConfig } from '@libs/config';
import { StoreUnavailableError } from '@libs/session-store';
import { clearingCookie } from '../session/session-cookie';
import { AnswerHeaders, type Exchange } from '../front-door/exchange';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { describe } from '../upstream-close/upstream-close.service';
import { PROBLEMS, PROBLEM_TYPE_BASE, type ProblemCode } from './problem-codes';
import { type ProblemChoice, toProblem } from './to-problem';

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

/** What an answer carries besides the problem itself. */
export interface ProblemExtras {
  /** More headers (e.g. `Allow` on a 405). */
  headers?: OutgoingHttpHeaders;
}

/**
 * The one place problem answers are written: `application/problem+json` with a stable code, on
 * the raw response, after the headers every answer carries (`AnswerHeaders`). The front door's
 * refusals, the proxy's, the Nest routes' (through `ProblemFilter`) and Fastify's own (a URL it
 * cannot read) all come here. e-RS's own answers never do: they pass through unchanged.
 */
@Injectable()
export class ProblemWriter {
  private readonly clearingCookie: string;

  constructor(
    private readonly answerHeaders: AnswerHeaders,
    private readonly metrics: GatewayMetrics,
    @InjectLogger() private readonly logger: GatewayLogger,
    config: GatewayConfig,
  ) {
    this.clearingCookie = clearingCookie(config.cookie);
  }

  /** The answer for an error: counted, logged when it is the gateway's own fault, written. */
  writeError(exchange: Exchange, error: unknown): void {
    const problem = toProblem(error);
    if (problem.code === 'internal-error') {
      this.logger.error({ correlationId: exchange.correlationId, err: describe(error) }, 'unhandled error');
    }
    if (error instanceof StoreUnavailableError) this.metrics.storeErrors.inc();
    this.write(exchange, problem);
  }

  /**
   * Writes the problem. When the head of the answer has already gone (a failure mid-stream),
   * the status cannot change: the connection is cut so the client sees the answer is incomplete.
   */
  write(exchange: Exchange, problem: ProblemChoice, extras: ProblemExtras = {}): void {
    const response = exchange.response;
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const headers = this.answerHeaders.for(exchange);
    if (extras.headers !== undefined) Object.assign(headers, extras.headers);
    if (problem.clearCookie) headers['set-cookie'] = this.clearingCookie;
    if (problem.retryAfterSeconds !== undefined) headers['retry-after'] = String(problem.retryAfterSeconds);
    headers['content-type'] = PROBLEM_CONTENT_TYPE;
    headers['cache-control'] = 'no-store';
    const text = JSON.stringify(problemBody(problem.code, problem.detail, exchange.correlationId));
    headers['content-length'] = Buffer.byteLength(text);
    response.writeHead(PROBLEMS[problem.code].status, headers).end(text);
  }
}
