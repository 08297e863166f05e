import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Pool, errors as undiciErrors } from 'undici';
import { ERS_TRANSACTION_ID_HEADER } from '@libs/ers-contract';
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
 * Where an answer's body is written: the browser's `ServerResponse`, or a collector. `write`
 * returning false means "wait for `drain`"; `close` ends the writer's life (for a response: the
 * answer was sent, or the browser went away).
 */
export interface AnswerWriter {
  readonly destroyed: boolean;
  write(chunk: Buffer): boolean;
  end(): void;
  destroy(error?: Error): void;
  on(event: 'close' | 'drain', listener: () => void): unknown;
}

/**
 * Where one call's answer goes: `open` is called once, when e-RS's answer head has arrived, and
 * returns the writer its body goes into (with backpressure); the writer is ended when e-RS's body
 * ends, and destroyed if the body fails. One object per call: the hot path.
 */
export interface ForwardSink {
  open(head: ForwardedHead): AnswerWriter;
}

/** The browser went away before e-RS's answer ended: the rest of the e-RS call is cut off. */
export class AnswerAbandonedError extends Error {
  override readonly name = 'AnswerAbandonedError';

  constructor() {
    super('the browser closed the connection before the answer ended');
  }
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
   * Sends the call and streams e-RS's answer into what `sink.open` returns. Settles when e-RS's
   * answer has ended (the last bytes handed to the writer); rejects with
   * `ErsTimeoutError`/`ErsUnavailableError` when e-RS cannot be reached or stalls, and with
   * `AnswerAbandonedError` when the browser goes away first. When the failure comes after
   * `open`, the writer has been destroyed with it.
   *
   * A dispatch handler of our own rather than undici's `stream()`: `stream()` parses every
   * header of the answer into an object, registers several listeners on each response through
   * `finished()`, and destroys each response after it has finished (which, the socket being
   * gone by then, adds one more listener); this handler reads only the headers it passes back
   * and listens for `close`, and for `drain` once the browser is slower than e-RS. Counted by
   * callgrind in the README (Performance).
   */
  forwardTo(request: ForwardRequest, sink: ForwardSink): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pool.dispatch(
        {
          method: request.method,
          path: `${this.basePath}/${request.path}`,
          headers: upstreamRequestHeaders(request.headers, this.asid, request.sessionKey, request.correlationId),
          body: request.body,
        },
        new ForwardHandler(this, sink, resolve, reject),
      );
    });
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

/**
 * One call's undici dispatch handler (undici's handler interface as its own `stream()` and
 * `request()` use it). It settles once: on the end of e-RS's answer, or on the first error.
 *
 * undici 7's types mark these methods (`onConnect`, `onHeaders`, `onData`, `onComplete`,
 * `onError`) deprecated in favour of `onRequestStart`/`onResponseStart`/...; the newer interface
 * goes through undici's `UnwrapHandler`, which parses every header into an object again, the
 * cost this handler exists to avoid. undici stays on 7 (`^7`: undici 8 needs Node 22, STYLE.md);
 * a move to 8 must port this class (`ers-forwarder.spec.ts` says what it has to keep doing).
 */
class ForwardHandler {
  private abort: ((error?: Error) => void) | null = null;
  private resume: (() => void) | null = null;
  private writer: AnswerWriter | null = null;
  private waitingForDrain = false;
  private ended = false;
  private settled = false;

  constructor(
    private readonly forwarder: ErsForwarder,
    private readonly sink: ForwardSink,
    private readonly resolve: () => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  onConnect(abort: (error?: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx (e.g. 100 Continue) are not the answer.
    if (statusCode < 200) return true;
    const headers = passedBackResponseHeaders(rawHeaders);
    const writer = this.sink.open({ status: statusCode, headers, transactionId: headers[ERS_TRANSACTION_ID_HEADER] });
    this.writer = writer;
    this.resume = resume;
    writer.on('close', () => this.writerClosed());
    // Gone before e-RS answered: its `close` has been and will not come again. Cut the call off
    // after undici has finished with this head.
    if (writer.destroyed) queueMicrotask(() => this.writerClosed());
    return true;
  }

  onData(chunk: Buffer): boolean {
    const writer = this.writer as AnswerWriter;
    if (writer.write(chunk)) return true;
    // A destroyed writer never drains; its `close` cuts the call off.
    if (!this.waitingForDrain && !writer.destroyed) {
      this.waitingForDrain = true;
      writer.on('drain', this.resume as () => void);
    }
    return false;
  }

  onComplete(): void {
    this.ended = true;
    this.writer?.end();
    this.settle(null);
  }

  onError(error: Error): void {
    if (this.writer !== null && !this.ended && !this.writer.destroyed) this.writer.destroy(error);
    this.settle(error);
  }

  /** The writer closed: after the answer ended, its normal end; before, the browser went away. */
  private writerClosed(): void {
    if (this.ended || this.settled) return;
    const error = new AnswerAbandonedError();
    if (this.abort === null) this.settle(error);
    else this.abort(error);
  }

  private settle(error: Error | null): void {
    if (this.settled) return;
    this.settled = true;
    if (error === null) this.resolve();
    else this.reject(this.forwarder.translate(error));
  }
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
