import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';

/**
 * Every deliberate wait of the sandbox (latency switch, A016's booking time) goes through here,
 * so that shutdown cuts them short instead of holding the drain for minutes.
 */
@Injectable()
export class Delays implements BeforeApplicationShutdown {
  private readonly pending = new Set<() => void>();
  private shuttingDown = false;

  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.shuttingDown) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.pending.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pending.add(done);
    });
  }

  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
    for (const done of [...this.pending]) done();
  }
}
