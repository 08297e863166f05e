export interface SessionStoreOptions {
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  /** How long an in-flight mark holds if its call never reports back (its instance died). */
  inFlightLeaseMs: number;
  /**
   * Proxied calls one session may have in flight: `beginCall` refuses the next one
   * (`too-many-calls`). Unlimited when absent.
   */
  maxCallsPerSession?: number;
  /**
   * Live sessions one user may hold: a new one ends the oldest past it (`session-limit`).
   * Unlimited when absent.
   */
  maxSessionsPerUser?: number;
}
