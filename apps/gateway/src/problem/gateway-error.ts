import { type ProblemCode } from './problem-codes';

/**
 * A refusal the gateway decides on itself, with its stable problem code. Thrown by services,
 * guards and strategies; turned into problem+json by the one exception filter. The detail is
 * shown to users: it must never carry a token, a session key or a cookie value.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    /** Set when the answer must also clear the session cookie (the session was ended). */
    readonly clearCookie = false,
  ) {
    super(`${code}: ${detail}`);
  }
}
