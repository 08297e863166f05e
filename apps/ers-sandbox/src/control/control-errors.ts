/** An error of the `/_sandbox` control API, answered as `{ "error": code, "message" }`. */
export class ControlError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }

  static notFound(message: string): ControlError {
    return new ControlError(404, 'not-found', message);
  }

  static invalid(message: string): ControlError {
    return new ControlError(400, 'invalid-request', message);
  }

  static conflict(code: string, message: string): ControlError {
    return new ControlError(409, code, message);
  }
}
