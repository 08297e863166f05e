/** The store did not answer in time or could not be reached. The gateway answers 503. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(message = 'the session store is unavailable', options?: { cause?: unknown }) {
    super(message, options);
  }
}
