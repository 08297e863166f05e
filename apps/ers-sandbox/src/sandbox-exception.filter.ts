import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ControlError } from './control/control-errors';
import { ErsBareError, ErsOutcomeError, ersOutcome } from './ers-edge/ers-errors';
import { FHIR_JSON, isErsPath } from './ers-edge/ers-route';

/**
 * FHIR issue codes for statuses the framework itself produces. The e-RS docs list these statuses
 * (explore_error_messages) but no OutcomeKey for them, so the OperationOutcome carries none.
 */
const GENERIC_ISSUES: Record<number, string> = {
  400: 'structure',
  404: 'not-found',
  405: 'not-supported',
  413: 'too-long',
  415: 'not-supported',
};

/**
 * The one place errors become HTTP: e-RS answers (bare, or an OperationOutcome) under
 * `/ers-api`, `{ error, message }` under `/_sandbox`.
 */
@Catch()
export class SandboxExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ers-sandbox');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    // A client that went away (e.g. mid-upload) can no longer be answered.
    if (reply.sent || reply.raw.destroyed) return;

    if (exception instanceof ErsBareError) {
      void reply.code(exception.status).send();
      return;
    }
    if (exception instanceof ErsOutcomeError) {
      void reply.code(exception.status).header('Content-Type', exception.contentType).send(JSON.stringify(exception.outcome));
      return;
    }
    if (exception instanceof ControlError) {
      void reply.code(exception.status).send({ error: exception.code, message: exception.message });
      return;
    }

    const status = statusOf(exception);
    const message = status === 500 ? 'Internal error' : exception instanceof Error ? exception.message : String(exception);
    if (status === 500) this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    if (isErsPath(request.url)) {
      const issue = GENERIC_ISSUES[status] ?? 'exception';
      void reply.code(status).header('Content-Type', FHIR_JSON).send(JSON.stringify(ersOutcome(issue, null, message)));
      return;
    }
    void reply.code(status).send({ error: status === 404 ? 'not-found' : 'error', message });
  }
}

function statusOf(exception: unknown): number {
  if (exception instanceof HttpException) return exception.getStatus();
  const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 600 ? statusCode : 500;
}
