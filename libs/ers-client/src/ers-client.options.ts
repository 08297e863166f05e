import { Inject } from '@nestjs/common';

/**
 * What the e-RS session client needs, given by the application (from `GatewayConfig`); the library
 * never reads the environment.
 */
export interface ErsClientOptions {
  /** e-RS base, e.g. `https://host/ers-api`, without a trailing slash. */
  baseUrl: string;
  /** Accredited System ID, sent as `XAPI_ASID` on every call. */
  asid: string;
  /** Whole-call deadline of A001/A002/A003 (`ERS_SESSION_TIMEOUT_MS`). */
  timeoutMs: number;
  /**
   * Mutual TLS to e-RS. `ca` replaces the system CAs (trust the NHS Root/Sub CA explicitly).
   * Verification of the server is never turned off.
   */
  tls?: ErsClientTlsOptions | null;
  /** A001/A002 in flight at once, on their own connection pool (16 by default); more wait, then are refused. */
  loginConcurrency?: number;
  /** A003 in flight at once, on their own connection pool (8 by default); more wait. */
  closeConcurrency?: number;
  /**
   * Liveness checks (`checkSession`) in flight at once, on their own pool (4 by default), so a
   * burst of 403s cannot take the sign-ins' slots; more wait a little, then are refused.
   */
  checkConcurrency?: number;
}

/** Absent and null mean the same (so `GatewayConfig.ers.tls` can be passed as it is). */
export interface ErsClientTlsOptions {
  cert?: Buffer | string | null;
  key?: Buffer | string | null;
  ca?: Buffer | string | (Buffer | string)[] | null;
}

/** Nest injection token for {@link ErsClientOptions} (same name: type and token). */
export const ErsClientOptions = Symbol('ErsClientOptions');
export const InjectErsClientOptions = (): PropertyDecorator & ParameterDecorator =>
  Inject(ErsClientOptions);

/** Fails fast on options that would only fail at the first login. */
export function assertErsClientOptions(options: ErsClientOptions): void {
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    throw new Error('ErsClientOptions.baseUrl is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error('ErsClientOptions.baseUrl must be http or https');
  }
  if (options.baseUrl.endsWith('/')) throw new Error('ErsClientOptions.baseUrl must not end with a slash');
  if (!/^\d+$/.test(options.asid)) throw new Error('ErsClientOptions.asid must be digits');
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new Error('ErsClientOptions.timeoutMs must be a positive integer');
  }
  const tls = options.tls;
  if (tls != null && (tls.cert != null || tls.key != null || tls.ca != null) && url.protocol !== 'https:') {
    throw new Error('ErsClientOptions.tls needs an https baseUrl');
  }
  if ((options.tls?.cert == null) !== (options.tls?.key == null)) {
    throw new Error('ErsClientOptions.tls needs cert and key together');
  }
}
