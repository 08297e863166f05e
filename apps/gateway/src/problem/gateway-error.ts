import { type ProblemCode } from './problem-codes';

export interface GatewayErrorOptions {
  /** The answer must also clear the session cookie (the session was ended). */
  clearCookie?: boolean;
  /** Sent as `Retry-After` (seconds): when a refused request may be tried again. */
  retryAfterSeconds?: number;
}

/**
 * A refusal the gateway decides on itself, with its stable problem code. Thrown by services,
 * guards and strategies; turned into problem+json by the one problem writer. The detail is
 * shown to users: it must never carry a token, a session key or a cookie value.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly clearCookie: boolean;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    options: GatewayErrorOptions = {},
  ) {
    super(`${code}: ${detail}`);
    this.clearCookie = options.clearCookie ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
