import { Injectable } from '@nestjs/common';

/** Set when SIGTERM arrives: readiness turns 503 so the load balancer stops sending traffic (drain/drain.ts). */
@Injectable()
export class DrainState {
  draining = false;
}
