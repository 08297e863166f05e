import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { exchangeOf } from '../front-door/exchange';
import { ProblemWriter } from './problem-writer';

/**
 * Errors of the Nest routes (session calls, health, the OpenAPI document, unknown paths) become
 * problem answers through the one problem writer. The reply is taken from Fastify (`hijack`) so
 * the writer's answer is the only one written.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly problems: ProblemWriter) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const exchange = exchangeOf(http.getRequest<FastifyRequest>().raw);
    if (exchange === null) {
      // Every request on the public listener has come through the front door; this is a bug.
      reply.raw.destroy();
      return;
    }
    if (!reply.sent) reply.hijack();
    this.problems.writeError(exchange, error);
  }
}
