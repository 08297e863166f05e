import { Injectable } from '@nestjs/common';
import { InjectSessionStore, SessionStore } from '@libs/session-store';
import { DrainState } from './drain-state';

export interface Readiness {
  ready: boolean;
  body: { status: 'ok' | 'unavailable'; store: 'up' | 'down'; draining: boolean };
}

/** Liveness and readiness, answered the same on the public port and on `OPS_PORT`. */
@Injectable()
export class HealthService {
  constructor(
    @InjectSessionStore() private readonly store: SessionStore,
    private readonly drain: DrainState,
  ) {}

  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready when the session store answers and the process is not draining. */
  async readiness(): Promise<Readiness> {
    const store = await this.store.ping().then(
      () => 'up' as const,
      () => 'down' as const,
    );
    const ready = store === 'up' && !this.drain.draining;
    return { ready, body: { status: ready ? 'ok' : 'unavailable', store, draining: this.drain.draining } };
  }
}
