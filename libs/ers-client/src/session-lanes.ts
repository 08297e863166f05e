import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { ErsClientOptions } from './ers-client.options';
import { ErsBusyError, ErsTimeoutError, type ErsOperation } from './errors';

export type ErsHttpAgent = HttpAgent | HttpsAgent;

/** Injection token of the session client's lanes. */
export const ERS_SESSION_LANES = Symbol('ErsSessionLanes');

/** How many calls may wait for a login lane's slot, per slot. */
const LOGIN_QUEUE_PER_SLOT = 4;

/**
 * One kind of e-RS session call with its own connection pool and concurrency limit. Calls beyond
 * the limit wait for a slot (first come, first served) until their own deadline; past `maxWaiting`
 * they are refused at once (`ErsBusyError`), nothing sent.
 */
export class ErsLane {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Resolved when the last call in a slot ends (`close`). */
  private readonly whenIdle: (() => void)[] = [];

  constructor(
    readonly agent: ErsHttpAgent,
    readonly limit: number,
    private readonly maxWaiting: number,
  ) {}

  /** Runs `call` in a slot. `deadline` ends the wait too (a call's deadline covers its queueing). */
  async run<T>(operation: ErsOperation, deadline: AbortSignal, timeoutMs: number, call: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await this.slot(operation, deadline, timeoutMs);
    else this.active++;
    try {
      return await call();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.active--;
      else next();
      if (this.active === 0) for (const idle of this.whenIdle.splice(0)) idle();
    }
  }

  get inFlight(): number {
    return this.active;
  }

  destroy(): void {
    this.agent.destroy();
  }

  /** Resolves once no call is in a slot or waiting for one (calls started meanwhile included). */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.whenIdle.push(resolve));
  }

  /**
   * Waits for the calls in flight and those waiting for a slot to end (each bounded by its own
   * deadline), then closes the pool: a call cut at shutdown is a sign-in lost or an A003 sent twice.
   */
  async close(): Promise<void> {
    await this.idle();
    this.agent.destroy();
  }

  /** Waits for a slot handed over by a call that ends (the count stays with the slot). */
  private slot(operation: ErsOperation, deadline: AbortSignal, timeoutMs: number): Promise<void> {
    if (this.waiting.length >= this.maxWaiting) return Promise.reject(new ErsBusyError(operation));
    return new Promise<void>((resolve, reject) => {
      const take = (): void => {
        deadline.removeEventListener('abort', giveUp);
        resolve();
      };
      const giveUp = (): void => {
        const at = this.waiting.indexOf(take);
        if (at !== -1) this.waiting.splice(at, 1);
        reject(new ErsTimeoutError(operation, timeoutMs));
      };
      this.waiting.push(take);
      deadline.addEventListener('abort', giveUp, { once: true });
    });
  }
}

/**
 * The session client's lanes: A001/A002 (`logins`), A003 (`closes`) and the liveness checks'
 * A002 (`checks`), each with its own connection pool and limit, so a flood of sign-ins cannot
 * hold the sockets the closes need, a burst of 403s cannot hold the sign-ins' (and none shares
 * the proxy's pool).
 */
export interface ErsSessionLanes {
  logins: ErsLane;
  closes: ErsLane;
  checks: ErsLane;
}

export function createErsSessionLanes(options: ErsClientOptions): ErsSessionLanes {
  const logins = options.loginConcurrency ?? 16;
  const closes = options.closeConcurrency ?? 8;
  const checks = options.checkConcurrency ?? 4;
  return {
    logins: new ErsLane(createErsHttpAgent(options, logins), logins, logins * LOGIN_QUEUE_PER_SLOT),
    // Closes come from the close worker, a few at a time: they wait rather than fail.
    closes: new ErsLane(createErsHttpAgent(options, closes), closes, Number.MAX_SAFE_INTEGER),
    checks: new ErsLane(createErsHttpAgent(options, checks), checks, checks * LOGIN_QUEUE_PER_SLOT),
  };
}

/**
 * A lane's connection pool: keep-alive (a login is A001 then A002 on the same host), mutual TLS
 * when configured, and server verification always on.
 */
function createErsHttpAgent(options: ErsClientOptions, maxSockets: number): ErsHttpAgent {
  const common = { keepAlive: true, maxSockets };
  if (new URL(options.baseUrl).protocol === 'http:') return new HttpAgent(common);
  const tls = options.tls ?? {};
  return new HttpsAgent({
    ...common,
    ...(tls.cert == null ? {} : { cert: tls.cert }),
    ...(tls.key == null ? {} : { key: tls.key }),
    ...(tls.ca == null ? {} : { ca: tls.ca }),
    // e-RS is reached over HSCN with mutual TLS; never accept an unverified server.
    rejectUnauthorized: true,
  });
}
