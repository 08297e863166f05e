import type { IncomingHttpHeaders } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { type Dispatcher, Pool, errors as undiciErrors } from 'undici';
import { ErsTimeoutError, ErsUnavailableError } from '../errors';
import { passedBackResponseHeaders, upstreamRequestHeaders } from './forwarding-headers';

export interface ErsForwarderOptions {
  /** e.g. `https://host/ers-api`, no trailing slash. */
  baseUrl: string;
  asid: string;
  /** No answer (headers) within this, or a body stalled this long: `ErsTimeoutError`. */
  timeoutMs: number;
  /** Upper bound of open connections to e-RS. */
  maxConnections: number;
  tls?: { cert?: Buffer | string; key?: Buffer | string; ca?: Buffer | string } | null;
}

export interface ForwardRequest {
  method: string;
  /** Already checked path below the base, with its query: `STU3/v1/ReferralRequest/1?x=y`. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Readable | null;
  sessionKey: string;
  correlationId: string;
  signal?: AbortSignal;
}

/** e-RS's answer, before its body. */
export interface ForwardedHead {
  status: number;
  /** Only the headers a browser may see, canonical names. */
  headers: Record<string, string>;
  /** e-RS's `X_ERS_TRANSACTION_ID`, for the access log. */
  transactionId: string | undefined;
}

/**
 * Where one call's answer goes: `open` is called once, when e-RS's answer head has arrived, and
 * returns the stream its body is written into (with backpressure); it is ended when e-RS's body
 * ends, and destroyed if the body fails. One object per call and no closures: the hot path.
 */
export interface ForwardSink {
  open(head: ForwardedHead): Writable;
}

/**
 * Forwards a browser's call to e-RS over a bounded keep-alive pool (undici), streaming bodies
 * both ways. Never retries: e-RS calls such as booking are not idempotent.
 */
export class ErsForwarder {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly asid: string;
  private readonly timeoutMs: number;

  constructor(options: ErsForwarderOptions) {
    const base = new URL(options.baseUrl);
    this.basePath = base.pathname.replace(/\/$/, '');
    this.asid = options.asid;
    this.timeoutMs = options.timeoutMs;
    this.pool = new Pool(base.origin, {
      connections: options.maxConnections,
      pipelining: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 30_000,
      connect: {
        // Mutual TLS to e-RS when configured; certificate verification is never turned off.
        rejectUnauthorized: true,
        ...(options.tls?.cert === undefined ? {} : { cert: options.tls.cert }),
        ...(options.tls?.key === undefined ? {} : { key: options.tls.key }),
        ...(options.tls?.ca === undefined ? {} : { ca: options.tls.ca }),
      },
    });
  }

  /**
   * Sends the call and streams e-RS's answer into what `sink.open` returns (undici `stream`: no
   * intermediate Readable). Settles when the answer's body has been written out; rejects with
   * `ErsTimeoutError`/`ErsUnavailableError` when e-RS cannot be reached or stalls. When the
   * failure comes after `open`, the sink's stream has been destroyed with it.
   */
  async forwardTo(request: ForwardRequest, sink: ForwardSink): Promise<void> {
    try {
      await this.pool.stream(
        {
          method: request.method,
          path: `${this.basePath}/${request.path}`,
          headers: upstreamRequestHeaders(request.headers, this.asid, request.sessionKey, request.correlationId),
          body: request.body,
          signal: request.signal,
          opaque: sink,
        },
        openSink,
      );
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** Maps a transport failure to the client's errors; anything else (an aborted body) as is. */
  translate(error: unknown): unknown {
    if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
      return new ErsTimeoutError('proxy', this.timeoutMs);
    }
    if (error instanceof undiciErrors.ConnectTimeoutError || error instanceof undiciErrors.SocketError) {
      return new ErsUnavailableError('proxy', sanitise(error));
    }
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && TRANSPORT_ERROR_CODES.has(code)) {
      return new ErsUnavailableError('proxy', sanitise(error));
    }
    return error;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** undici's stream factory: one function for every call (the sink travels as `opaque`). */
function openSink({ statusCode, headers, opaque }: Dispatcher.StreamFactoryData<ForwardSink>): Writable {
  const transactionId = headers['x_ers_transaction_id'];
  return (opaque).open({
    status: statusCode,
    headers: passedBackResponseHeaders(headers),
    transactionId: typeof transactionId === 'string' ? transactionId : undefined,
  });
}

const TRANSPORT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
]);

/** Keeps only a code and message: never the request (its headers carry the session key). */
function sanitise(error: unknown): { code: string | undefined; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    code: typeof code === 'string' ? code : undefined,
    message: error instanceof Error ? error.message : String(error),
  };
}
