import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayConfig } from '@libs/config';
import { ErsClientError, ErsForwarder } from '@libs/ers-client';
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
 * One proxied call: forward to e-RS with the session key, stream the answer back, and clear the
 * in-flight mark when e-RS has finished answering (off the response's critical path).
 *
 * A browser that goes away does not abort the e-RS call before e-RS answers: the call is in flight
 * at e-RS either way, so its mark must stay until then (and Fastify destroys the answer's stream
 * when it cannot be delivered, which releases the mark).
 */
@Injectable()
export class ErsProxyService {
  private readonly maxBodyBytes: number;
  private readonly upstreamBase: string;

  constructor(
    @Inject(ErsForwarder) private readonly forwarder: ErsForwarder,
    @InjectSessionStore() private readonly store: SessionStore,
    @InjectLogger() private readonly logger: GatewayLogger,
    private readonly sessions: SessionService,
    private readonly metrics: GatewayMetrics,
    config: GatewayConfig,
  ) {
    this.maxBodyBytes = config.http.maxBodyBytes;
    this.upstreamBase = config.ers.baseUrl;
  }

  async forward(grant: ErsCallGrant, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.store.endCall(grant.upstreamId, grant.callId).catch((error: unknown) => {
        this.logger.warn({ event: 'in-flight-clear-failed', upstream: grant.upstreamId, err: describe(error) }, 'could not clear an in-flight mark; its lease will');
      });
    };
    const started = performance.now();
    try {
      const upstream = await this.forwarder.forward({
        method: request.method,
        path: grant.path,
        headers: request.headers,
        body: this.requestBody(request),
        sessionKey: grant.sessionKey,
        correlationId: request.correlationId,
      });
      this.metrics.proxyUpstreamDuration.observe((performance.now() - started) / 1000);
      request.ersTransactionId = upstream.transactionId;
      upstream.body.once('close', release);
      if (upstream.headers.Location !== undefined) {
        upstream.headers.Location = this.gatewayLocation(upstream.headers.Location);
      }
      if (upstream.status === 403) {
        const body = await readAtMost(upstream.body, MAX_403_BODY_BYTES);
        if (body.length === 0) {
          // e-RS answers a dead, expired or unknown session key with a bare 403 (no body).
          release();
          await this.sessions.end(grant.sessionId, 'session-expired');
          throw new GatewayError('session-expired', 'Your e-RS session has ended; insert your card and sign in again.', true);
        }
        return reply.code(403).headers(upstream.headers).send(body);
      }
      return reply.code(upstream.status).headers(upstream.headers).send(upstream.body);
    } catch (error) {
      release();
      if (error instanceof ErsClientError) {
        this.metrics.upstreamErrors.inc({ operation: 'proxy', kind: error.name });
      }
      if (error instanceof BodyTooLargeError) {
        throw new GatewayError('payload-too-large', `Request bodies are at most ${this.maxBodyBytes} bytes.`);
      }
      throw error;
    }
  }

  /** The browser's body as a stream, never buffered; refused early when declared too large. */
  private requestBody(request: FastifyRequest): Readable | null {
    const declared = request.headers['content-length'];
    if (declared !== undefined) {
      if (Number(declared) > this.maxBodyBytes) {
        throw new BodyTooLargeError();
      }
      return declared === '0' ? null : request.raw;
    }
    if (request.headers['transfer-encoding'] === undefined) return null;
    return request.raw.pipe(new ByteLimit(this.maxBodyBytes));
  }

  /** e-RS's `Location` points into e-RS; the browser needs the same resource through us. */
  private gatewayLocation(location: string): string {
    return location.startsWith(this.upstreamBase)
      ? PROXY_PATH_PREFIX + location.slice(this.upstreamBase.length)
      : location;
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

async function readAtMost(body: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new Error('403 body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
