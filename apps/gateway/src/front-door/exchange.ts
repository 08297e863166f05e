import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { CORRELATION_ID_HEADER, ERS_TRANSACTION_ID_HEADER } from '@libs/ers-contract';

/** The correlation id's response header, lower case as `node:http` keeps names. */
export const CORRELATION_HEADER = CORRELATION_ID_HEADER.toLowerCase();
/** Accept a client's correlation id only if it is short and plain, so it is safe to log and forward. */
const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function correlationIdFrom(value: string | string[] | undefined): string {
  return typeof value === 'string' && CORRELATION_ID_PATTERN.test(value) ? value : randomUUID();
}

/** Where the front door leaves a request's exchange for the Fastify and Nest code behind it. */
export const EXCHANGE = Symbol('ersgw.exchange');

declare module 'node:http' {
  interface IncomingMessage {
    [EXCHANGE]?: Exchange;
  }
}

/**
 * One request and its answer, from the moment the front door sees it: its correlation id (echoed
 * on every answer, sent to e-RS, in every log line), when it arrived, the route it was admitted
 * for, and what the access log records. Made by the front door for every request on the public
 * listener; a proxied call is one of these (`ErsCall`).
 */
export class Exchange {
  /** The route template for the log and the metrics (never an id-bearing path). */
  route = 'unmatched';
  /** The route the front door admitted this request for; the Nest routes check it is theirs. */
  admitted: string | undefined = undefined;
  /** Short, non-secret id of the e-RS session the request used (for the access log). */
  upstreamId: string | undefined = undefined;
  /** e-RS's `X_ERS_TRANSACTION_ID` for the access log (support asks for it). */
  ersTransactionId: string | undefined = undefined;
  /** The client's address (`TRUST_PROXY` applied), set for the session routes: logins are throttled by it. */
  clientAddress = '';

  constructor(
    readonly request: IncomingMessage,
    readonly response: ServerResponse,
    readonly correlationId: string,
    readonly startedAt: number,
    /** An allowed cross-origin `Origin` (from `ALLOWED_ORIGINS`): its answers carry CORS headers. */
    readonly corsOrigin: string | undefined,
    /** Under `/api`: answers also carry `Cache-Control: no-store`. */
    readonly api: boolean,
  ) {}
}

const EXPOSED_HEADERS = ['Content-Disposition', 'ETag', 'Location', 'Retry-After', ERS_TRANSACTION_ID_HEADER, CORRELATION_ID_HEADER].join(
  ', ',
);

/** `/api` answers hold sessions or patient data, which no browser or proxy may keep. */
export const API_CACHE_CONTROL = 'no-store';

/**
 * The headers every answer starts with, written in one place: the correlation id, CORS for an
 * allowed origin, the security headers (HSTS when the cookie is Secure, i.e. the gateway is
 * served over HTTPS), and `no-store` under `/api`. The front door, the proxy, the problem writer
 * and the operations listener all start their answers from `for(exchange)`.
 */
export class AnswerHeaders {
  private readonly security: readonly (readonly [name: string, value: string])[];

  constructor(hsts: boolean) {
    this.security = [
      ['x-content-type-options', 'nosniff'],
      ['referrer-policy', 'no-referrer'],
      ['x-frame-options', 'DENY'],
      // Nothing the gateway answers is a page to render (static pages get their own policy): e-RS
      // content (attachments, PDFs) and problems load nothing, run nothing and are never framed.
      ['content-security-policy', "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; sandbox"],
      // One year, subdomains of the gateway's own host included (ASVS 5.0 3.4.1). Only when the
      // gateway is served over HTTPS: over plain HTTP browsers ignore it anyway.
      ...(hsts ? [['strict-transport-security', 'max-age=31536000; includeSubDomains'] as const] : []),
    ];
  }

  for(exchange: Exchange): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {};
    headers[CORRELATION_HEADER] = exchange.correlationId;
    const origin = exchange.corsOrigin;
    if (origin !== undefined) {
      headers['access-control-allow-origin'] = origin;
      headers['access-control-allow-credentials'] = 'true';
      headers.vary = 'Origin';
      headers['access-control-expose-headers'] = EXPOSED_HEADERS;
    }
    const security = this.security;
    for (let index = 0; index < security.length; index++) {
      const [name, value] = security[index] as readonly [string, string];
      headers[name] = value;
    }
    if (exchange.api) headers['cache-control'] = API_CACHE_CONTROL;
    return headers;
  }

  /** The same headers set on a response that someone else (Fastify) will write the head of. */
  apply(exchange: Exchange): void {
    const headers = this.for(exchange);
    for (const name in headers) exchange.response.setHeader(name, headers[name] as string);
  }
}

/** The request an exchange belongs to, or null (a request that did not come through the door). */
export function exchangeOf(request: IncomingMessage): Exchange | null {
  return request[EXCHANGE] ?? null;
}
