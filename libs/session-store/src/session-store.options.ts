export interface SessionStoreOptions {
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  /** How long an in-flight mark holds if its call never reports back (its instance died). */
  inFlightLeaseMs: number;
}
