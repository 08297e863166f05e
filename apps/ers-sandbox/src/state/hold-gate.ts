import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';

/** A held download resumes by itself after this, so a forgotten release never wedges a test run. */
export const HOLD_SAFETY_TIMEOUT_MS = 30_000;

/** Where `att-hold` downloads wait until `POST /_sandbox/holds/release`. */
@Injectable()
export class HoldGate implements BeforeApplicationShutdown {
  private readonly waiters = new Set<() => void>();

  wait(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, HOLD_SAFETY_TIMEOUT_MS);
      timer.unref();
      this.waiters.add(done);
    });
  }

  get waiting(): number {
    return this.waiters.size;
  }

  release(): number {
    const released = [...this.waiters];
    for (const done of released) done();
    return released.length;
  }

  /** Before the server drains: a held download must finish for the drain to end. */
  beforeApplicationShutdown(): void {
    this.release();
  }
}
