import { Injectable } from '@nestjs/common';

/** Set when SIGTERM arrives: readiness turns 503 so the load balancer stops sending traffic. */
@Injectable()
export class DrainState {
  draining = false;
}
