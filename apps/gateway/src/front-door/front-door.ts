import type { IncomingMessage, OutgoingHttpHeaders, RequestListener, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { GatewayConfig } from '@libs/config';
import {
  CORRELATION_ID_HEADER,
  ERS_COMM_RULE_ORG_HEADER,
  ERS_FILE_NAME_HEADER,
  ERS_INTENDED_UBRN_HEADER,
} from '@libs/ers-contract';
import { type ErsCall, ErsProxyService } from '../ers-proxy/ers-proxy.service';
import { DrainState } from '../health/drain-state';
import { type AccessLog } from '../logging/access-log';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { type ProblemCode } from '../problem/problem-codes';
import { ProblemWriter } from '../problem/problem-writer';
import { describe } from '../upstream-close/upstream-close.service';
import { API_METHODS, type ApiRoute, ERS_ROUTE, MAX_SESSION_BODY_BYTES } from './api-routes';
import { AnswerHeaders, CORRELATION_HEADER, EXCHANGE, Exchange, correlationIdFrom } from './exchange';
import { clientAddress } from './client-address';
import { ownOrigin } from './own-origin';
import { classifyTarget } from './request-target';

/** Request headers a CORS preflight may ask for: those an SPA sends to `/api` (and the proxy forwards). */
const PREFLIGHT_ALLOWED_HEADERS = [
  'Accept',
  'Content-Type',
  'If-Match',
  'If-None-Match',
  'X-CSRF',
  CORRELATION_ID_HEADER,
  ERS_COMM_RULE_ORG_HEADER,
  ERS_FILE_NAME_HEADER,
  ERS_INTENDED_UBRN_HEADER,
].join(', ');
const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

interface Refusal {
  code: ProblemCode;
  detail: string;
  headers?: OutgoingHttpHeaders;
}

const CSRF: Refusal = { code: 'csrf', detail: 'Every /api request must carry the header X-CSRF: 1.' };
const ORIGIN: Refusal = { code: 'origin', detail: 'Requests from this origin are not allowed.' };
const NO_ROUTE: Refusal = { code: 'not-found', detail: 'There is nothing at this address.' };

/**
 * The front door: the public listener's one request handler. Every request meets it before any
 * router, and every `/api` request is admitted here or nowhere, in this order, each rule written
 * once:
 *
 * 1. the target: a plain path, and `/api` spelled plainly (`classifyTarget`), else `400`;
 * 2. CORS preflights (for `ALLOWED_ORIGINS` only);
 * 3. `X-CSRF: 1` (`403 csrf`) and the `Origin`, when sent (`403 origin`);
 * 4. the route, by its raw path (`404`), its methods (`405`), its declared body size (`413`) and,
 *    for a session route with a body, JSON (`415`).
 *
 * An admitted proxied call is served right here by `ErsProxyService` (the only implementation of
 * `/api/ers/*`); an admitted session call goes on to Fastify and the Nest controller, marked with
 * the route it was admitted for, which the Nest routes check (`AdmittedGuard`). Requests outside
 * `/api` go to Fastify as they are. Throttles and caps that need the session store live where the
 * store is asked anyway: logins in `LoginThrottle`, calls per session in the hot path's script.
 *
 * Each answer's access line and request metrics are written here too, once per request.
 */
@Injectable()
export class FrontDoor {
  private readonly allowedOrigins: ReadonlySet<string>;
  private readonly trustProxyHops: number;
  private readonly maxBodyBytes: number;
  private readonly sessionBodyTimeoutMs: number;
  private fastify: RequestListener | null = null;
  private accessLog: AccessLog | null = null;

  constructor(
    private readonly proxy: ErsProxyService,
    private readonly drain: DrainState,
    private readonly problems: ProblemWriter,
    private readonly answerHeaders: AnswerHeaders,
    private readonly metrics: GatewayMetrics,
    @InjectLogger() private readonly logger: GatewayLogger,
    config: GatewayConfig,
  ) {
    this.allowedOrigins = new Set(config.http.allowedOrigins);
    this.trustProxyHops = config.http.trustProxyHops;
    this.maxBodyBytes = config.http.maxBodyBytes;
    this.sessionBodyTimeoutMs = config.http.sessionBodyTimeoutMs;
  }

  /** Starts answering: `fastify` gets what the door does not answer itself. */
  open(fastify: RequestListener, accessLog: AccessLog): void {
    this.fastify = fastify;
    this.accessLog = accessLog;
  }

  /** The public listener's request handler. */
  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    const fastify = this.fastify;
    if (fastify === null) {
      response.writeHead(503, { connection: 'close' }).end();
      return;
    }
    const startedAt = performance.now();
    // Draining (SIGTERM): still served, but the connection ends with this answer, so that none is
    // left open when the listener closes (drain/drain.ts).
    if (this.drain.draining) response.setHeader('connection', 'close');
    const headers = request.headers;
    const correlationId = correlationIdFrom(headers[CORRELATION_HEADER]);
    const target = classifyTarget(request.url as string);
    if (target.kind === 'other') {
      this.toFastify(new Exchange(request, response, correlationId, startedAt, undefined, false), fastify);
      return;
    }
    if (target.kind === 'refused') {
      this.refuse(new Exchange(request, response, correlationId, startedAt, undefined, true), {
        code: 'invalid-request',
        detail: target.detail,
      });
      return;
    }
    const origin = headers.origin;
    const corsOrigin = origin !== undefined && this.allowedOrigins.has(origin) ? origin : undefined;
    const route = target.route;
    const exchange =
      route === ERS_ROUTE
        ? this.proxy.call(request, response, correlationId, startedAt, corsOrigin)
        : new Exchange(request, response, correlationId, startedAt, corsOrigin, true);
    if (route !== undefined) exchange.route = route.template;
    const refusal = this.admit(exchange, route);
    if (refusal === 'answered') {
      this.finish(exchange);
      return;
    }
    if (refusal !== null) {
      this.refuse(exchange, refusal);
      return;
    }
    const admitted = route as ApiRoute;
    exchange.admitted = admitted.template;
    if (admitted === ERS_ROUTE) {
      this.proxy.serve(exchange as ErsCall).then(() => this.finish(exchange), this.lostCall);
      return;
    }
    exchange.clientAddress = clientAddress(request, this.trustProxyHops);
    this.limitSessionBody(exchange);
    this.toFastify(exchange, fastify);
  };

  /**
   * The admission rules of every `/api` request, in order; null when it may go on. `answered`:
   * a CORS preflight, answered here.
   */
  private admit(exchange: Exchange, route: ApiRoute | undefined): Refusal | 'answered' | null {
    const request = exchange.request;
    const headers = request.headers;
    const method = request.method as string;
    const origin = headers.origin;
    if (method === 'OPTIONS' && origin !== undefined && headers['access-control-request-method'] !== undefined) {
      if (exchange.corsOrigin === undefined) return ORIGIN;
      this.answerPreflight(exchange);
      return 'answered';
    }
    if (headers['x-csrf'] !== '1') return CSRF;
    if (origin !== undefined && exchange.corsOrigin === undefined && origin !== ownOrigin(request, this.trustProxyHops)) return ORIGIN;
    if (route === undefined) return NO_ROUTE;
    if (!route.methods.has(method)) {
      return { code: 'method-not-allowed', detail: `${route.template} answers ${route.allow}.`, headers: { allow: route.allow } };
    }
    const limit = route.body === 'json' ? MAX_SESSION_BODY_BYTES : this.maxBodyBytes;
    const declared = headers['content-length'];
    if (declared !== undefined && !(Number(declared) <= limit)) {
      return { code: 'payload-too-large', detail: `Request bodies here are at most ${limit} bytes.` };
    }
    if (route.body === 'json' && hasBody(request) && !JSON_MEDIA_TYPE.test(headers['content-type'] ?? '')) {
      return { code: 'unsupported-media-type', detail: 'Send the body as application/json.' };
    }
    return null;
  }

  /** A preflight from an allowed origin: what the browser may send to `/api`. */
  private answerPreflight(exchange: Exchange): void {
    const headers = this.answerHeaders.for(exchange);
    headers['access-control-allow-methods'] = API_METHODS;
    headers['access-control-allow-headers'] = PREFLIGHT_ALLOWED_HEADERS;
    headers['access-control-max-age'] = '600';
    headers['content-length'] = 0;
    exchange.route = 'preflight';
    exchange.response.writeHead(204, headers).end();
  }

  private refuse(exchange: Exchange, refusal: Refusal): void {
    this.problems.write(
      exchange,
      { code: refusal.code, detail: refusal.detail, clearCookie: false },
      refusal.headers === undefined ? {} : { headers: refusal.headers },
    );
    this.finish(exchange);
  }

  /**
   * A session route's body must arrive whole within `SESSION_BODY_TIMEOUT_MS`: a client that
   * declares a body and sends it slowly (or never) holds a connection and a request for nothing.
   */
  private limitSessionBody(exchange: Exchange): void {
    const request = exchange.request;
    if (!hasBody(request)) return;
    const timer = setTimeout(() => {
      if (request.complete) return;
      this.logger.warn(
        { event: 'session-body-timeout', correlationId: exchange.correlationId, path: exchange.route },
        'a session request body did not arrive in time; its connection was closed',
      );
      request.socket.destroy();
    }, this.sessionBodyTimeoutMs);
    timer.unref();
    const stop = (): void => clearTimeout(timer);
    request.once('end', stop);
    exchange.response.once('close', stop);
  }

  private toFastify(exchange: Exchange, fastify: RequestListener): void {
    const { request, response } = exchange;
    request[EXCHANGE] = exchange;
    this.answerHeaders.apply(exchange);
    response.once('close', () => this.finish(exchange));
    fastify(request, response);
  }

  /** The access line and the request metrics, once per request, by route template. */
  private finish(exchange: Exchange): void {
    const request = exchange.request;
    const status = exchange.response.statusCode;
    const seconds = (performance.now() - exchange.startedAt) / 1000;
    const method = request.method as string;
    const route = exchange.route;
    this.metrics.recordRequest(route, method, status, seconds);
    const url = request.url as string;
    const queryAt = url.indexOf('?');
    (this.accessLog as AccessLog).write(route.startsWith('/health') ? 'debug' : 'info', {
      method,
      path: queryAt === -1 ? url : url.slice(0, queryAt),
      status,
      ms: Math.round(seconds * 1e4) / 10,
      correlationId: exchange.correlationId,
      upstream: exchange.upstreamId,
      ersTransactionId: exchange.ersTransactionId,
    });
  }

  /** Only a bug gets here (`serve` answers every error itself); the call must not take the process down. */
  private readonly lostCall = (error: unknown): void => {
    this.logger.error({ event: 'proxy-failed', err: describe(error) }, 'unhandled error');
  };
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}
