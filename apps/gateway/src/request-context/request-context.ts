import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CORRELATION_ID_HEADER } from '@libs/ers-contract';

declare module 'fastify' {
  interface FastifyRequest {
    /** From the client's `X-Correlation-ID` when well-formed, else generated. */
    correlationId: string;
    /** `performance.now()` at arrival, for the access log and the latency histogram. */
    startedAt: number;
    /** Short, non-secret id of the upstream e-RS session a call used (for the access log). */
    upstreamId: string | undefined;
    /** e-RS's `X_ERS_TRANSACTION_ID` for the access log (support asks for it). */
    ersTransactionId: string | undefined;
    /**
     * The route template for the log and the metrics when a handler already knows it (the proxy):
     * Fastify's `routeOptions` getter builds a dozen-field object on every read.
     */
    routeTemplate: string | undefined;
  }
}

const CORRELATION_HEADER_LOWER = CORRELATION_ID_HEADER.toLowerCase();
/** Accept a client's correlation id only if it is short and plain, so it is safe to log and forward. */
const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function correlationIdFrom(value: string | string[] | undefined): string {
  return typeof value === 'string' && CORRELATION_ID_PATTERN.test(value) ? value : randomUUID();
}

/**
 * What every answer carries after its correlation id (a page of ours must not be framed, sniffed
 * or leak its address). `/api` answers also carry `cache-control: no-store`: they hold sessions or
 * patient data, which no browser or proxy may keep.
 */
export const SECURITY_HEADERS: readonly (readonly [name: string, value: string])[] = [
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
  ['x-frame-options', 'DENY'],
];
export const API_CACHE_CONTROL = 'no-store';

/** The correlation id's response header, as Fastify writes it (lower case). */
export const CORRELATION_RESPONSE_HEADER = CORRELATION_HEADER_LOWER;

/** Declares the per-request context fields (so every request object has the same shape). */
export function decorateRequestContext(fastify: FastifyInstance): void {
  fastify.decorateRequest('correlationId', '');
  fastify.decorateRequest('startedAt', 0);
  fastify.decorateRequest('upstreamId', undefined);
  fastify.decorateRequest('ersTransactionId', undefined);
  fastify.decorateRequest('routeTemplate', undefined);
  fastify.decorateRequest('ersGrant', undefined);
}

/** Starts a request's context: correlation id (echoed on every answer) and start time. */
export function startRequestContext(request: FastifyRequest, reply: FastifyReply): void {
  request.startedAt = performance.now();
  request.correlationId = correlationIdFrom(request.headers[CORRELATION_HEADER_LOWER]);
  reply.header(CORRELATION_ID_HEADER, request.correlationId);
}
