import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayConfig } from '@libs/config';
import { type AnswerWriter, ErsClientError, ErsForwarder, type ForwardSink, type ForwardedHead } from '@libs/ers-client';
import { InjectSessionStore, SessionStore } from '@libs/session-store';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { GatewayError } from '../problem/gateway-error';
import { describe } from '../upstream-close/upstream-close.service';
import { SessionService } from '../session/session.service';
import { type ErsCallGrant } from './ers-call.strategy';

/** An authorisation 403 carries an OperationOutcome of a few hundred bytes; more is not a 403 body. */
const MAX_403_BODY_BYTES = 1024 * 1024;
const PROXY_PATH_PREFIX = '/api/ers';

class BodyTooLargeError extends Error {}

/**
 * One proxied call: forward to e-RS with the session key, stream the answer straight into the
 * browser's response (the forwarder's undici handler writes into the raw response: no
 * intermediate stream, no Fastify send pipeline), and clear the in-flight mark when e-RS has
 * finished answering.
 *
 * A browser that goes away does not abort the e-RS call before e-RS answers: the call is in flight
 * at e-RS either way, so its mark must stay until then. Once e-RS answers, writing to the gone
 * browser fails, which aborts the rest of the answer and releases the mark.
 */
@Injectable()
export class ErsProxyService {
  private readonly maxBodyBytes: number;
  private readonly upstreamBase: string;
  private lastClear: Promise<void> | null = null;

  constructor(
    @Inject(ErsForwarder) private readonly forwarder: ErsForwarder,
    @InjectSessionStore() private readonly store: SessionStore,
    @InjectLogger() private readonly logger: GatewayLogger,
    private readonly sessions: SessionService,
    readonly metrics: GatewayMetrics,
    config: GatewayConfig,
  ) {
    this.maxBodyBytes = config.http.maxBodyBytes;
    this.upstreamBase = config.ers.baseUrl;
  }

  /**
   * Forwards the call and writes e-RS's answer. Throws what the browser must get as a problem
   * (before any byte of the answer is written); a failure after that cuts the answer off.
   */
  async forward(grant: ErsCallGrant, call: ProxyCall): Promise<void> {
    const request = call.request;
    try {
      await this.forwarder.forwardTo(
        {
          method: request.method as string,
          path: grant.path,
          headers: request.headers,
          body: this.requestBody(request),
          sessionKey: grant.sessionKey,
          correlationId: call.correlationId,
        },
        call,
      );
    } catch (error) {
      this.release(grant);
      if (error instanceof ErsClientError) {
        this.metrics.upstreamErrors.inc({ operation: 'proxy', kind: error.name });
      }
      if (call.streaming) {
        // The answer had started: undici has destroyed the response, the browser sees it cut off.
        this.logger.warn(
          { event: 'proxied-answer-cut', upstream: grant.upstreamId, correlationId: call.correlationId, err: describe(error) },
          'a proxied answer was cut short',
        );
        return;
      }
      if (error instanceof BodyTooLargeError) {
        throw new GatewayError('payload-too-large', `Request bodies are at most ${this.maxBodyBytes} bytes.`);
      }
      throw error;
    }
    this.release(grant);
    const forbidden = call.forbidden;
    if (forbidden !== null) {
      const body = forbidden.body();
      if (body.length === 0) {
        // e-RS answers a dead, expired or unknown session key with a bare 403 (no body).
        await this.sessions.end(grant.sessionId, 'session-expired');
        throw new GatewayError('session-expired', 'Your e-RS session has ended; insert your card and sign in again.', true);
      }
      forbidden.headers['Content-Length'] = String(body.length);
      call.response.writeHead(403, Object.assign(call.takeOver(), forbidden.headers)).end(body);
    }
  }

  /** e-RS's `Location` points into e-RS; the browser needs the same resource through us. */
  gatewayLocation(location: string): string {
    return location.startsWith(this.upstreamBase)
      ? PROXY_PATH_PREFIX + location.slice(this.upstreamBase.length)
      : location;
  }

  /**
   * Clears the call's in-flight mark. The store clears the marks of calls that end together in one
   * command and hands them one promise, so one failure handler (a bound method, not a closure per
   * call) is attached per batch, and a failed batch is logged once.
   */
  private release(grant: ErsCallGrant): void {
    const cleared = this.store.endCall(grant.upstreamId, grant.callId);
    if (cleared === this.lastClear) return;
    this.lastClear = cleared;
    cleared.catch(this.logClearFailure);
  }

  private readonly logClearFailure = (error: unknown): void => {
    this.logger.warn({ event: 'in-flight-clear-failed', err: describe(error) }, 'could not clear in-flight marks; their leases will');
  };

  /** The browser's body as a stream, never buffered; refused early when declared too large. */
  private requestBody(request: IncomingMessage): Readable | null {
    const declared = request.headers['content-length'];
    if (declared !== undefined) {
      if (Number(declared) > this.maxBodyBytes) {
        throw new BodyTooLargeError();
      }
      return declared === '0' ? null : request;
    }
    if (request.headers['transfer-encoding'] === undefined) return null;
    return request.pipe(new ByteLimit(this.maxBodyBytes));
  }
}

/**
 * One proxied call, and where its answer goes. A 403 is collected (a bare 403 means the e-RS
 * session is dead, which the gateway must answer itself); any other answer takes over the raw
 * response: the headers every answer carries (security, correlation id, CORS) plus e-RS's allowed
 * ones. Subclassed by the two ways a call arrives: through Fastify and Nest, or on the fast path.
 */
export abstract class ProxyCall implements ForwardSink {
  streaming = false;
  forbidden: CollectedAnswer | null = null;

  constructor(
    readonly service: ErsProxyService,
    readonly request: IncomingMessage,
    readonly response: ServerResponse,
    readonly correlationId: string,
    readonly startedAt: number,
  ) {}

  /** The headers this answer carries so far; from here on the call writes `response` itself. */
  abstract takeOver(): OutgoingHttpHeaders;

  /** e-RS's transaction id, for the access log. */
  abstract noteTransaction(id: string | undefined): void;

  open(head: ForwardedHead): AnswerWriter {
    this.service.metrics.proxyUpstreamDuration.observe((performance.now() - this.startedAt) / 1000);
    this.noteTransaction(head.transactionId);
    const headers = head.headers;
    if (headers.Location !== undefined) headers.Location = this.service.gatewayLocation(headers.Location);
    if (head.status === 403) {
      this.forbidden = new CollectedAnswer(headers, MAX_403_BODY_BYTES);
      return this.forbidden;
    }
    const response = this.response;
    response.writeHead(head.status, Object.assign(this.takeOver(), headers));
    // Only now: an answer whose head could not be written can still get a problem instead.
    this.streaming = true;
    return response;
  }
}

/** A call that came through Fastify and Nest (the guards ran; the problem filter answers errors). */
export class FastifyProxyCall extends ProxyCall {
  constructor(
    service: ErsProxyService,
    private readonly fastifyRequest: FastifyRequest,
    private readonly reply: FastifyReply,
  ) {
    super(service, fastifyRequest.raw, reply.raw, fastifyRequest.correlationId, fastifyRequest.startedAt);
  }

  takeOver(): OutgoingHttpHeaders {
    return this.reply.hijack().getHeaders() as OutgoingHttpHeaders;
  }

  noteTransaction(id: string | undefined): void {
    this.fastifyRequest.ersTransactionId = id;
  }
}

/** Collects a small answer (a 403's OperationOutcome); past `limit` the call fails. */
class CollectedAnswer implements AnswerWriter {
  destroyed = false;
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(
    readonly headers: Record<string, string>,
    private readonly limit: number,
  ) {}

  /** Throwing here makes undici abort the call with this error. */
  write(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.limit) throw new Error('403 body too large');
    this.chunks.push(chunk);
    return true;
  }

  end(): void {}

  destroy(): void {
    this.destroyed = true;
  }

  /** Never closes by itself and never needs draining. */
  on(): this {
    return this;
  }

  body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Passes bytes through until `limit`, then fails the stream (a chunked body that is too large). */
class ByteLimit extends Transform {
  private seen = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) callback(new BodyTooLargeError());
    else callback(null, chunk);
  }
}
