import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { GatewayConfig } from '@libs/config';
import { type AnswerWriter, ErsClientError, ErsForwarder, type ForwardSink, type ForwardedHead } from '@libs/ers-client';
import { InjectSessionStore, SessionStore } from '@libs/session-store';
import { ERS_ROUTE } from '../front-door/api-routes';
import { AnswerHeaders, Exchange } from '../front-door/exchange';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { GatewayError } from '../problem/gateway-error';
import { ProblemWriter } from '../problem/problem-writer';
import { SessionCookie } from '../session/session-cookie';
import { SessionService } from '../session/session.service';
import { describe } from '../upstream-close/upstream-close.service';
import { checkedErsPath } from './ers-path';
import { ErsSessionLiveness, type LivenessVerdict } from './ers-session-liveness';

/** An authorisation 403 carries an OperationOutcome of a few hundred bytes; more is not a 403 body. */
const MAX_403_BODY_BYTES = 1024 * 1024;
const PROXY_PATH_PREFIX = '/api/ers';
/** A call refused for too many in flight may try again this much later. */
const TOO_MANY_CALLS_RETRY_S = 1;

class BodyTooLargeError extends Error {}

/** What a proxied call may use: the e-RS session key, and the in-flight mark to clear after. */
export interface ErsCallGrant {
  sessionId: string;
  upstreamId: string;
  sessionKey: string;
  callId: string;
  path: string;
}

/**
 * `ANY /api/ers/*`, the hot path: every click of every clinician. The front door admits the call
 * (anti-forgery, origin, method, declared size) and hands it here; this is the only
 * code that serves proxied calls.
 *
 * One call: the path checked, the cookie into a grant (one store round trip: read the session,
 * slide its idle timeout, count and mark the call in flight), forward to e-RS with the session
 * key, stream the answer straight into the browser's response (the forwarder's undici handler
 * writes into the raw response), and clear the in-flight mark when e-RS has finished answering.
 *
 * A browser that goes away does not abort the e-RS call before e-RS answers: the call is in flight
 * at e-RS either way, so its mark must stay until then. Once e-RS answers, writing to the gone
 * browser fails, which aborts the rest of the answer and releases the mark. An upload whose body
 * stalls is the exception: its connection is closed, which aborts the e-RS request.
 */
@Injectable()
export class ErsProxyService {
  private readonly maxBodyBytes: number;
  private readonly uploadStallMs: number;
  private readonly maxCallsPerSession: number;
  private readonly upstreamBase: string;
  private lastClear: Promise<void> | null = null;

  constructor(
    @Inject(ErsForwarder) private readonly forwarder: ErsForwarder,
    @InjectSessionStore() private readonly store: SessionStore,
    @InjectLogger() private readonly logger: GatewayLogger,
    private readonly sessions: SessionService,
    private readonly liveness: ErsSessionLiveness,
    private readonly cookie: SessionCookie,
    private readonly problems: ProblemWriter,
    readonly answerHeaders: AnswerHeaders,
    readonly metrics: GatewayMetrics,
    config: GatewayConfig,
  ) {
    this.maxBodyBytes = config.http.maxBodyBytes;
    this.uploadStallMs = config.http.uploadStallTimeoutMs;
    this.maxCallsPerSession = config.session.maxCallsPerSession;
    this.upstreamBase = config.ers.baseUrl;
  }

  /** A call as the front door admitted it. */
  call(request: IncomingMessage, response: ServerResponse, correlationId: string, startedAt: number, corsOrigin: string | undefined): ErsCall {
    return new ErsCall(this, request, response, correlationId, startedAt, corsOrigin);
  }

  /** Serves the call to the end: e-RS's answer or a problem is written. Never rejects. */
  async serve(call: ErsCall): Promise<void> {
    let grant: ErsCallGrant;
    try {
      grant = await this.grant(call);
    } catch (error) {
      this.problems.writeError(call, error);
      return;
    }
    call.upstreamId = grant.upstreamId;
    try {
      await this.forward(grant, call);
    } catch (error) {
      this.problems.writeError(call, error);
    }
  }

  /**
   * The cookie into a grant for this one call. The path is checked first, so a refused path costs
   * no store call and marks nothing.
   */
  private async grant(call: ErsCall): Promise<ErsCallGrant> {
    const path = checkedErsPath(call.request.url as string);
    const sessionId = this.cookie.idFrom(call.request.headers.cookie);
    if (sessionId === null) throw new GatewayError('no-session', 'There is no session; sign in with your smartcard.');
    const callId = nextCallId();
    const granted = await this.store.beginCall(sessionId, callId);
    switch (granted.status) {
      case 'ok':
        return { sessionId, upstreamId: granted.upstreamId, sessionKey: granted.sessionKey, callId, path };
      case 'no-session':
        throw new GatewayError('no-session', 'There is no session; sign in with your smartcard.');
      case 'no-role':
        throw new GatewayError('role-not-selected', 'Choose a role before calling e-RS.');
      case 'too-many-calls':
        throw new GatewayError(
          'too-many-calls',
          `This session already has ${this.maxCallsPerSession} e-RS calls in progress; try again when one has finished.`,
          { retryAfterSeconds: TOO_MANY_CALLS_RETRY_S },
        );
    }
  }

  /**
   * Forwards the call and writes e-RS's answer. Throws what the browser must get as a problem
   * (before any byte of the answer is written); a failure after that cuts the answer off.
   */
  private async forward(grant: ErsCallGrant, call: ErsCall): Promise<void> {
    const request = call.request;
    try {
      await this.forwarder.forwardTo(
        {
          method: request.method as string,
          path: grant.path,
          headers: request.headers,
          body: this.requestBody(call),
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
      if (request.destroyed && !request.complete) {
        // The browser's upload stopped (it went away, or stalled and was cut off): the e-RS request
        // was aborted with it, and there is nobody to answer.
        this.logger.warn(
          { event: call.stalled ? 'upload-stalled' : 'upload-abandoned', upstream: grant.upstreamId, correlationId: call.correlationId },
          call.stalled ? 'a proxied upload stalled; its connection was closed' : 'the browser went away during a proxied upload',
        );
        return;
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
    const forbidden = call.forbidden;
    if (forbidden === null) {
      this.release(grant);
      return;
    }
    // A 403 is e-RS's answer to the call or the sign of a dead session, with or without a body:
    // the session is asked (one A002) while this call still counts as in flight on it.
    let verdict: LivenessVerdict;
    try {
      verdict = await this.liveness.check(grant.sessionId, grant.upstreamId);
    } finally {
      this.release(grant);
    }
    if (verdict === 'dead') {
      await this.sessions.end(grant.sessionId, 'session-expired');
      throw new GatewayError('session-expired', 'Your e-RS session has ended; insert your card and sign in again.', { clearCookie: true });
    }
    const body = forbidden.body();
    forbidden.headers['Content-Length'] = String(body.length);
    call.response.writeHead(403, Object.assign(this.answerHeaders.for(call), forbidden.headers)).end(body);
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

  /**
   * The browser's body as a stream, never buffered; refused early when declared too large. While
   * it arrives, its connection may be idle for at most `UPLOAD_STALL_TIMEOUT_MS`.
   */
  private requestBody(call: ErsCall): Readable | null {
    const request = call.request;
    const declared = request.headers['content-length'];
    if (declared !== undefined) {
      if (Number(declared) > this.maxBodyBytes) throw new BodyTooLargeError();
      if (declared === '0') return null;
      call.watchUpload(this.uploadStallMs);
      return request;
    }
    if (request.headers['transfer-encoding'] === undefined) return null;
    call.watchUpload(this.uploadStallMs);
    return limitedBody(request, this.maxBodyBytes);
  }
}

/**
 * One proxied call, and where its answer goes. A 403 is collected (it may mean the e-RS session
 * is dead, which the gateway must then answer itself); any other answer takes over the raw
 * response: the headers every answer carries plus e-RS's allowed ones.
 */
export class ErsCall extends Exchange implements ForwardSink {
  streaming = false;
  stalled = false;
  forbidden: CollectedAnswer | null = null;

  constructor(
    private readonly service: ErsProxyService,
    request: IncomingMessage,
    response: ServerResponse,
    correlationId: string,
    startedAt: number,
    corsOrigin: string | undefined,
  ) {
    super(request, response, correlationId, startedAt, corsOrigin, true);
    this.route = ERS_ROUTE.template;
    this.admitted = ERS_ROUTE.template;
  }

  open(head: ForwardedHead): AnswerWriter {
    const service = this.service;
    service.metrics.proxyUpstreamDuration.observe((performance.now() - this.startedAt) / 1000);
    this.ersTransactionId = head.transactionId;
    const headers = head.headers;
    if (headers.Location !== undefined) headers.Location = service.gatewayLocation(headers.Location);
    if (head.status === 403) {
      this.forbidden = new CollectedAnswer(headers, MAX_403_BODY_BYTES);
      return this.forbidden;
    }
    const response = this.response;
    response.writeHead(head.status, Object.assign(service.answerHeaders.for(this), headers));
    // Only now: an answer whose head could not be written can still get a problem instead.
    this.streaming = true;
    return response;
  }

  /**
   * Closes the connection when the upload is idle for `stallMs` (socket inactivity while the body
   * is still arriving), which aborts the e-RS request; once the body is complete, e-RS may take as
   * long as `ERS_TIMEOUT_MS` to answer, so the watch ends there.
   */
  watchUpload(stallMs: number): void {
    const request = this.request;
    request.setTimeout(stallMs, () => {
      this.stalled = true;
      request.socket.destroy();
    });
    request.once('end', () => request.setTimeout(0));
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

/**
 * A chunked body, cut off at `limit` bytes. Not `pipeline`: on the limit it would destroy the
 * browser's request, and with it the socket the 413 must still be written to. Instead the rest of
 * the body is read and dropped (the stall timeout still bounds it), while a browser that goes away
 * fails the body e-RS is reading rather than leaving it open.
 */
function limitedBody(request: IncomingMessage, limit: number): Readable {
  const limited = new ByteLimit(limit);
  const abandon = (): void => {
    if (!request.complete) limited.destroy(new Error('the browser went away during the upload'));
  };
  request.once('close', abandon);
  limited.once('error', () => {
    request.off('close', abandon);
    request.unpipe(limited);
    request.resume();
  });
  return request.pipe(limited);
}

/**
 * In-flight mark ids: unique across instances (a random prefix per process) and calls (a counter),
 * never secret (they only name a call in Redis). Cheaper than a UUID on every proxied call.
 */
const CALL_ID_PREFIX = randomBytes(12).toString('base64url');
let callCount = 0;

export function nextCallId(): string {
  callCount = callCount === Number.MAX_SAFE_INTEGER ? 1 : callCount + 1;
  return `${CALL_ID_PREFIX}.${callCount.toString(36)}`;
}
