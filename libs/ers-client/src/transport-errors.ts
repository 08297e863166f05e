import { isAxiosError } from 'axios';
import {
  ErsTimeoutError,
  ErsUnavailableError,
  ErsUnexpectedResponseError,
  type ErsClientError,
  type ErsOperation,
} from './errors';

/**
 * What is kept of a transport error: its code and a scrubbed message. Axios errors carry the
 * request config (headers with the session key, the body with the token), so they are never kept
 * or attached as `cause` themselves.
 */
export interface ErsTransportFailure {
  code: string | null;
  message: string;
}

/** Codes of "could not reach e-RS": refused, reset, DNS, routing, and TLS failures. */
const NETWORK_CODE =
  /^(E(?!RR_)[A-Z_]+|ERR_(TLS|SSL|SOCKET)_[A-Z0-9_]+|CERT_[A-Z_]+|UNABLE_TO_[A-Z_]+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)$/;
/** Axios's own timeout (`ECONNABORTED`, or `ETIMEDOUT` with `clarifyTimeoutError`). */
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT']);

export function describeFailure(error: unknown, secrets: readonly string[]): ErsTransportFailure {
  const code =
    typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
      ? (error as { code: string }).code
      : null;
  let message = error instanceof Error ? error.message : 'unknown error';
  for (const secret of secrets) {
    if (secret === '') continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) message = message.split(form).join('[redacted]');
  }
  return { code, message: message.slice(0, 300) };
}

/** Turns whatever the HTTP call threw into one of the client's named errors. */
export function toClientError(
  operation: ErsOperation,
  error: unknown,
  timeoutMs: number,
  deadline: AbortSignal,
  secrets: readonly string[],
): ErsClientError {
  const failure = describeFailure(error, secrets);
  if (deadline.aborted || (failure.code !== null && TIMEOUT_CODES.has(failure.code))) {
    return new ErsTimeoutError(operation, timeoutMs);
  }
  if (failure.code !== null && NETWORK_CODE.test(failure.code)) {
    return new ErsUnavailableError(operation, failure);
  }
  const status = isAxiosError(error) ? (error.response?.status ?? 0) : 0;
  return new ErsUnexpectedResponseError(
    operation,
    status,
    `e-RS call ${operation} failed: ${failure.code ?? failure.message}`,
  );
}
