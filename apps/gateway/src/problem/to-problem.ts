import { HttpException } from '@nestjs/common';
import {
  ErsBusyError,
  ErsRejectedError,
  ErsTimeoutError,
  ErsTokenRejectedError,
  ErsUnavailableError,
  ErsUnexpectedResponseError,
} from '@libs/ers-client';
import { StoreUnavailableError } from '@libs/session-store';
import { GatewayError } from './gateway-error';
import { type ProblemCode } from './problem-codes';

export interface ProblemChoice {
  code: ProblemCode;
  detail: string;
  clearCookie: boolean;
  /** `Retry-After`, in seconds, when the refusal is a matter of waiting. */
  retryAfterSeconds?: number;
}

const HTTP_STATUS_CODES: Partial<Record<number, ProblemCode>> = {
  400: 'invalid-request',
  404: 'not-found',
  405: 'method-not-allowed',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
};

/**
 * Which problem an error becomes. The one place that knows how domain errors (store, e-RS
 * client, gateway) map to problem codes; used by the exception filter and by services that must
 * add "and the session has ended" to an error.
 */
export function toProblem(error: unknown): ProblemChoice {
  if (error instanceof GatewayError) {
    const choice: ProblemChoice = { code: error.code, detail: error.detail, clearCookie: error.clearCookie };
    if (error.retryAfterSeconds !== undefined) choice.retryAfterSeconds = error.retryAfterSeconds;
    return choice;
  }
  if (error instanceof StoreUnavailableError) {
    return { code: 'store-unavailable', detail: 'The session store did not answer; try again shortly.', clearCookie: false };
  }
  if (error instanceof ErsBusyError) {
    return {
      code: 'too-many-logins',
      detail: 'This gateway instance is handling as many sign-ins as it allows; try again in a moment.',
      clearCookie: false,
      retryAfterSeconds: 1,
    };
  }
  if (error instanceof ErsTokenRejectedError) {
    return { code: 'invalid-token', detail: 'e-RS did not accept the smartcard token.', clearCookie: false };
  }
  if (error instanceof ErsTimeoutError) {
    return { code: 'upstream-timeout', detail: `e-RS did not answer ${error.operation} in time.`, clearCookie: false };
  }
  if (error instanceof ErsUnavailableError) {
    return { code: 'upstream-unavailable', detail: `e-RS could not be reached for ${error.operation}.`, clearCookie: false };
  }
  if (error instanceof ErsUnexpectedResponseError || error instanceof ErsRejectedError) {
    return {
      code: 'upstream-error',
      detail: `e-RS answered ${error.operation} with an unexpected ${error.status}.`,
      clearCookie: false,
    };
  }
  if (error instanceof HttpException) {
    const code = HTTP_STATUS_CODES[error.getStatus()] ?? (error.getStatus() >= 500 ? 'internal-error' : 'invalid-request');
    return { code, detail: code === 'not-found' ? 'There is nothing at this address.' : error.message, clearCookie: false };
  }
  const fastifyStatus = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof fastifyStatus === 'number' && HTTP_STATUS_CODES[fastifyStatus] !== undefined) {
    return { code: HTTP_STATUS_CODES[fastifyStatus], detail: 'The request could not be read.', clearCookie: false };
  }
  return { code: 'internal-error', detail: 'The gateway could not complete the request.', clearCookie: false };
}

/** The same error, now also ending the browser's session (its cookie is cleared). */
export function endingSession(error: unknown): GatewayError {
  const problem = toProblem(error);
  return new GatewayError(problem.code, problem.detail, {
    clearCookie: true,
    ...(problem.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: problem.retryAfterSeconds }),
  });
}
