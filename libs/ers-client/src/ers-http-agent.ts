import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { ErsClientOptions } from './ers-client.options';

export type ErsHttpAgent = HttpAgent | HttpsAgent;

/** Injection token of the agent the session client's axios instance uses. */
export const ERS_HTTP_AGENT = Symbol('ErsHttpAgent');

const DEFAULT_MAX_SOCKETS = 32;

/**
 * The connection pool of the session calls: keep-alive (a login is A001 then A002 on the same
 * host), mutual TLS when configured, and server verification always on.
 */
export function createErsHttpAgent(options: ErsClientOptions): ErsHttpAgent {
  const common = { keepAlive: true, maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS };
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
