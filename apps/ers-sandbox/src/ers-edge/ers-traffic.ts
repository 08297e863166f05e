import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { Transform, pipeline, type Readable } from 'node:stream';
import {
  CORRELATION_ID_HEADER,
  ERS_ASID_HEADER,
  ERS_SESSION_KEY_HEADER,
  ERS_TRANSACTION_ID_HEADER,
} from '@libs/ers-contract';
import { Delays } from '../state/delays';
import { ErsSessionRegistry } from '../state/ers-session-registry';
import { RequestLog, type RecordedRequest } from '../state/request-log';
import { Switches, type ErrorSwitchStatus } from '../state/switches';
import { ersOutcome, type OutcomeKey } from './ers-errors';
import { FHIR_JSON, isErsPath } from './ers-route';
import { exactHeader, headerPairs } from './raw-headers';

const SESSION_OPERATIONS: ReadonlySet<string> = new Set(['A001', 'A002', 'A003']);

/**
 * The fault switches' answers. Only 503 has a published OutcomeKey (SYSTEM_UNAVAILABLE, in the e-RS
 * FHIR API's ServiceUnavailable response); the docs give the other statuses none, so none is sent.
 */
const FAULT_OUTCOMES: Record<ErrorSwitchStatus, { issue: string; key: OutcomeKey | null; text: string }> = {
  429: { issue: 'throttled', key: null, text: 'Too many requests' },
  500: { issue: 'exception', key: null, text: 'Internal server error (sandbox error switch)' },
  502: { issue: 'exception', key: null, text: 'Error from a downstream system (sandbox error switch)' },
  503: { issue: 'transient', key: 'SYSTEM_UNAVAILABLE', text: 'Service unavailable (sandbox error switch)' },
  504: { issue: 'timeout', key: null, text: 'Downstream timeout (sandbox error switch)' },
};

/**
 * What happens to every request before Nest routes it: it is recorded as received (raw header
 * names, body hash), e-RS answers get their transaction id, and the switches add latency or
 * take the request (error answer, dropped connection, hang). The `/_sandbox` controls are
 * never recorded nor faulted.
 */
@Injectable()
export class ErsTraffic implements BeforeApplicationShutdown {
  private readonly hungSockets = new Set<Socket>();
  private readonly records = new WeakMap<FastifyRequest, RecordedRequest>();
  private log: FastifyBaseLogger | undefined;

  constructor(
    private readonly requests: RequestLog,
    private readonly sessions: ErsSessionRegistry,
    private readonly switches: Switches,
    private readonly delays: Delays,
  ) {}

  register(fastify: FastifyInstance): void {
    this.log = fastify.log;
    fastify.addHook('onRequest', async (request, reply) => this.onRequest(request, reply));
    fastify.addHook('preParsing', async (request, reply, payload) => this.tapBody(request, reply, payload));
  }

  /** Hung requests would hold the drain for ever: their sockets go at shutdown. */
  beforeApplicationShutdown(): void {
    for (const socket of this.hungSockets) socket.destroy();
    this.hungSockets.clear();
  }

  /** Resolves to the reply when a fault switch answered (Fastify's way to end a request early). */
  private async onRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const url = request.raw.url ?? request.url;
    if (url.startsWith('/_sandbox')) return undefined;
    // Recorded as sent (before `%24` → `$`), so tests see exactly what the client wrote.
    const record = this.record(request, reply, request.originalUrl);
    if (!isErsPath(url)) return undefined;

    // e-RS answers every call with a transaction id (support asks for it), a UUID with a `-1`
    // suffix in the endpoint pages' example headers ("bfa90094-981a-4d2a-ad56-a17429865241-1").
    // Set on the Node response so the name keeps its exact spelling on the wire (Fastify's
    // own header store lower-cases names); Fastify merges it into whatever answer follows.
    reply.raw.setHeader(ERS_TRANSACTION_ID_HEADER, `${randomUUID()}-1`);
    const correlationId = request.headers['x-correlation-id'];
    if (typeof correlationId === 'string') reply.header(CORRELATION_ID_HEADER, correlationId);

    if (record.sessionKey !== null) this.sessions.noteCall(record.sessionKey);
    const ers = request.routeOptions.config.ers;
    if (record.sessionKey !== null && ers?.operation !== 'A003') {
      // In flight until its answer has been written (or the connection is gone).
      const key = record.sessionKey;
      this.sessions.callStarted(key);
      reply.raw.once('close', () => this.sessions.callEnded(key));
    }
    if (ers?.operation === 'A003') {
      // Every A003 counts, whatever it is answered: "exactly one A003 per session" is checked on this.
      const { id } = request.params as { id?: string };
      if (id !== undefined) this.sessions.noteA003Attempt(id);
    }

    await this.delays.sleep(this.switches.latencyMs);
    const fault = this.switches.takeFault(url, request.method);
    if (fault === null) return undefined;
    if (fault.kind === 'drop') {
      record.outcome = 'dropped';
      reply.hijack();
      request.raw.socket.destroy();
      return undefined;
    }
    if (fault.kind === 'hang') {
      record.outcome = 'hung';
      reply.hijack();
      const socket = request.raw.socket;
      this.hungSockets.add(socket);
      socket.once('close', () => this.hungSockets.delete(socket));
      return undefined;
    }
    const outcome = FAULT_OUTCOMES[fault.status];
    if (fault.status === 429) reply.header('Retry-After', '1');
    return reply
      .code(fault.status)
      .header('Content-Type', FHIR_JSON)
      .send(JSON.stringify(ersOutcome(outcome.issue, outcome.key, outcome.text)));
  }

  private record(request: FastifyRequest, reply: FastifyReply, url: string): RecordedRequest {
    const rawHeaders = request.raw.rawHeaders;
    const startedAt = performance.now();
    const record = this.requests.open({
      at: new Date().toISOString(),
      method: request.method,
      path: url,
      rawHeaderNames: rawHeaders.filter((_, index) => index % 2 === 0),
      headers: headerPairs(rawHeaders),
      sessionKey: exactHeader(rawHeaders, ERS_SESSION_KEY_HEADER) ?? null,
      asid: exactHeader(rawHeaders, ERS_ASID_HEADER) ?? null,
      status: null,
      operation: request.routeOptions.config.ers?.operation ?? null,
      bodyBytes: 0,
      bodySha256: null,
      outcome: 'pending',
      durationMs: null,
    });
    this.records.set(request, record);
    reply.raw.once('close', () => {
      record.durationMs = Math.round(performance.now() - startedAt);
      if (record.outcome === 'pending') {
        record.outcome = reply.raw.writableFinished ? 'answered' : 'aborted';
        if (reply.raw.headersSent) record.status = reply.raw.statusCode;
      }
      const operation = record.operation;
      if (record.status === 403 && record.sessionKey !== null && operation !== null && !SESSION_OPERATIONS.has(operation)) {
        this.sessions.noteForbidden(record.sessionKey);
      }
      this.log?.info(
        { seq: record.seq, operation: record.operation, method: record.method, status: record.status, outcome: record.outcome, ms: record.durationMs },
        `e-RS ${record.method} ${request.routeOptions.url ?? 'unmatched'}`,
      );
    });
    return record;
  }

  /** Counts and hashes the body as the handler (or parser) reads it; nothing is buffered here. */
  private tapBody(request: FastifyRequest, reply: FastifyReply, payload: Readable): Readable {
    const record = this.records.get(request);
    if (record === undefined) return payload;
    const hash = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        record.bodyBytes += chunk.length;
        callback(null, chunk);
      },
      flush(callback) {
        if (record.bodyBytes > 0) record.bodySha256 = hash.digest('hex');
        callback();
      },
    });
    pipeline(payload, tap, () => undefined);
    // A body nobody read (e.g. an upload refused with a 403) is drained once the answer is out,
    // as Node does for unread bodies, so the client can finish sending and the connection lives on.
    reply.raw.once('finish', () => {
      if (!tap.readableEnded) tap.resume();
    });
    return tap;
  }
}
