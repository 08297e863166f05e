/** Which e-RS call failed; part of every error so logs say where without any secret. */
export type ErsOperation = 'A001' | 'A002' | 'A003' | 'proxy';

/** Base of every error the e-RS client throws. Never carries a token or session key. */
export abstract class ErsClientError extends Error {
  abstract readonly operation: ErsOperation;
}

/** e-RS answered a session call with a 4xx that means "no": the status says which. */
export class ErsRejectedError extends ErsClientError {
  override readonly name: string = 'ErsRejectedError';
  constructor(
    readonly operation: ErsOperation,
    readonly status: number,
    message = `e-RS rejected ${operation} with ${status}`,
  ) {
    super(message);
  }
}

/** A001 answered 403: the SSO token is invalid or its smartcard session has ended. */
export class ErsTokenRejectedError extends ErsRejectedError {
  override readonly name = 'ErsTokenRejectedError';
  constructor() {
    super('A001', 403, 'e-RS rejected the smartcard token');
  }
}

/**
 * A002 answered 403. The gateway only asks for roles the user holds, so this means the e-RS
 * session is dead (card removed) or out of order: e-RS does not say which.
 */
export class ErsRoleRejectedError extends ErsRejectedError {
  override readonly name = 'ErsRoleRejectedError';
  constructor() {
    super('A002', 403, 'e-RS rejected the role selection');
  }
}

/** A002 answered 400: a role was already selected on this e-RS session (e-RS allows one). */
export class ErsRoleAlreadySelectedError extends ErsRejectedError {
  override readonly name = 'ErsRoleAlreadySelectedError';
  constructor() {
    super('A002', 400, 'e-RS says a role is already selected on this session');
  }
}

/** Connection refused, reset, or a TLS failure: e-RS could not be reached. */
export class ErsUnavailableError extends ErsClientError {
  override readonly name = 'ErsUnavailableError';
  constructor(
    readonly operation: ErsOperation,
    override readonly cause: unknown,
    message = `e-RS could not be reached for ${operation}`,
  ) {
    super(message);
  }
}

/** No answer within the configured timeout. */
export class ErsTimeoutError extends ErsClientError {
  override readonly name = 'ErsTimeoutError';
  constructor(
    readonly operation: ErsOperation,
    readonly timeoutMs: number,
  ) {
    super(`e-RS did not answer ${operation} within ${timeoutMs} ms`);
  }
}

/** e-RS answered with a status or body this client does not understand (e.g. 500, bad JSON). */
export class ErsUnexpectedResponseError extends ErsClientError {
  override readonly name = 'ErsUnexpectedResponseError';
  constructor(
    readonly operation: ErsOperation,
    readonly status: number,
    message = `e-RS answered ${operation} with an unexpected ${status}`,
  ) {
    super(message);
  }
}

/**
 * The instance already has as many A001/A002 calls in flight and waiting as it allows
 * (`ERS_LOGIN_CONCURRENCY`): nothing was sent. Sign-ins may be tried again shortly.
 */
export class ErsBusyError extends ErsClientError {
  override readonly name = 'ErsBusyError';
  constructor(readonly operation: ErsOperation) {
    super(`too many e-RS session calls in flight for ${operation}`);
  }
}
