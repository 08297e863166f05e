import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { GatewayConfig } from '@libs/config';
import { InjectSessionStore, SessionStore } from '@libs/session-store';
import { corsAnswerHeaders } from '../api-guard/cors';
import { ownOrigin } from '../api-guard/own-origin';
import { DrainState } from '../health/drain-state';
import { type AccessLog } from '../logging/access-log';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { noteProblem, problemBody, writeProblem } from '../problem/problem.filter';
import {
  API_CACHE_CONTROL,
  CORRELATION_RESPONSE_HEADER,
  SECURITY_HEADERS,
  correlationIdFrom,
} from '../request-context/request-context';
import { SessionCookie } from '../session/session-cookie';
import { describe } from '../upstream-close/upstream-close.service';
import { type ErsCallGrant, nextCallId, refusal } from './ers-call.strategy';
import { ERS_PROXY_ROUTE } from './ers-proxy.controller';
import { ErsProxyService, ProxyCall } from './ers-proxy.service';
import { checkedErsPath } from './ers-path';

const PROXY_PREFIX = '/api/ers/';
/** The methods e-RS's API uses; anything else (OPTIONS: CORS preflights) goes the long way. */
const FAST_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The hot path: a proxied call served on the raw node:http request, before Fastify routes it and
 * Nest runs its guards. Every click of every clinician is one of these, and Fastify's and Nest's
 * per-request work was most of the gateway's cost over the Node floor (see the README).
 *
 * It takes a call only when every check the Nest route makes up front already passes, read
 * straight off the request: not draining, `X-CSRF: 1`, no `Origin`, a listed one or the gateway's
 * own (`ownOrigin`, the guard's own test), one of the
 * API's methods, a body within `MAX_BODY_BYTES` as declared, a cookie of the right shape and an
 * allowed path. Anything else is handed to Fastify untouched (nothing read, written or stored), and
 * the guards and the problem filter answer it as they always did. A call it takes it answers in
 * full, with the same functions the Nest route uses: the store's `beginCall`, `ErsProxyService`,
 * the problem codes, the access log line and the metrics. The system tests' proxied calls come
 * through here, and `fast-path.test.ts` checks against a gateway with `PROXY_FAST_PATH=false`
 * that both ways give the same answers. The metric `ersgw_proxy_fast_path_total` counts the
 * calls it took.
 */
@Injectable()
export class ErsFastPath {
  private readonly allowedOrigins: ReadonlySet<string>;
  private readonly trustProxyHops: number;
  private readonly maxBodyBytes: number;
  private readonly enabled: boolean;
  private accessLog: AccessLog | null = null;

  constructor(
    @InjectSessionStore() private readonly store: SessionStore,
    private readonly cookie: SessionCookie,
    private readonly proxy: ErsProxyService,
    private readonly drain: DrainState,
    private readonly metrics: GatewayMetrics,
    @InjectLogger() private readonly logger: GatewayLogger,
    config: GatewayConfig,
  ) {
    this.allowedOrigins = new Set(config.http.allowedOrigins);
    this.trustProxyHops = config.http.trustProxyHops;
    this.maxBodyBytes = config.http.maxBodyBytes;
    this.enabled = config.http.proxyFastPath;
  }

  /**
   * Starts taking calls; before this every request goes through Fastify. With
   * `PROXY_FAST_PATH=false` it never starts, and every call takes the Nest route.
   */
  open(accessLog: AccessLog): void {
    if (this.enabled) this.accessLog = accessLog;
  }

  /** True when it has taken the request (and will answer it); false: Fastify's, untouched. */
  take(request: IncomingMessage, response: ServerResponse): boolean {
    const url = request.url as string;
    if (this.accessLog === null || !url.startsWith(PROXY_PREFIX) || this.drain.draining) return false;
    const headers = request.headers;
    if (headers['x-csrf'] !== '1' || !FAST_METHODS.has(request.method as string)) return false;
    const origin = headers.origin;
    // CORS headers go only to a listed origin, as the Nest route's hook adds them.
    let corsOrigin: string | undefined;
    if (origin !== undefined) {
      if (this.allowedOrigins.has(origin)) corsOrigin = origin;
      else if (origin !== ownOrigin(request, this.trustProxyHops)) return false;
    }
    const declared = headers['content-length'];
    if (declared !== undefined && !(Number(declared) <= this.maxBodyBytes)) return false;
    const sessionId = this.cookie.idFrom(headers.cookie);
    if (sessionId === null) return false;
    let path: string;
    try {
      path = checkedErsPath(url);
    } catch {
      return false;
    }
    this.metrics.proxyFastPath.inc();
    const call = new FastCall(this.proxy, request, response, correlationIdFrom(headers[CORRELATION_RESPONSE_HEADER]), corsOrigin);
    this.serve(call, sessionId, path).catch(this.lostCall);
    return true;
  }

  private async serve(call: FastCall, sessionId: string, path: string): Promise<void> {
    const callId = nextCallId();
    let grant: ErsCallGrant;
    try {
      const granted = await this.store.beginCall(sessionId, callId);
      if (granted.status !== 'ok') throw refusal(granted.status);
      grant = { sessionId, upstreamId: granted.upstreamId, sessionKey: granted.sessionKey, callId, path };
    } catch (error) {
      this.fail(call, error);
      this.finish(call);
      return;
    }
    call.upstreamId = grant.upstreamId;
    try {
      await this.proxy.forward(grant, call);
    } catch (error) {
      this.fail(call, error);
    }
    this.finish(call);
  }

  /** Only a bug gets here (`serve` answers every error itself); the call must not take the process down. */
  private readonly lostCall = (error: unknown): void => {
    this.logger.error({ event: 'fast-path-failed', err: describe(error) }, 'unhandled error');
  };

  /** The answer for an error, as the problem filter gives it. */
  private fail(call: FastCall, error: unknown): void {
    const problem = noteProblem(error, call.correlationId, this.metrics, this.logger);
    const response = call.response;
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const body = problemBody(problem.code, problem.detail, call.correlationId);
    writeProblem(response, call.takeOver(), body, problem.clearCookie ? this.cookie.clearing : null);
  }

  /** The access log line and the request metrics, as the onResponse hook writes them for the rest. */
  private finish(call: FastCall): void {
    const request = call.request;
    const status = call.response.statusCode;
    const seconds = (performance.now() - call.startedAt) / 1000;
    const method = request.method as string;
    this.metrics.recordRequest(ERS_PROXY_ROUTE, method, status, seconds);
    const url = request.url as string;
    const queryAt = url.indexOf('?');
    (this.accessLog as AccessLog).write('info', {
      method,
      path: queryAt === -1 ? url : url.slice(0, queryAt),
      status,
      ms: Math.round(seconds * 1e4) / 10,
      correlationId: call.correlationId,
      upstream: call.upstreamId,
      ersTransactionId: call.ersTransactionId,
    });
  }
}

/** A call on the fast path: its answer's headers are built here rather than by Fastify's hooks. */
class FastCall extends ProxyCall {
  upstreamId: string | undefined = undefined;
  ersTransactionId: string | undefined = undefined;

  constructor(
    service: ErsProxyService,
    request: IncomingMessage,
    response: ServerResponse,
    correlationId: string,
    /** A listed `Origin`, which gets CORS headers; undefined for none or the gateway's own. */
    private readonly corsOrigin: string | undefined,
  ) {
    super(service, request, response, correlationId, performance.now());
  }

  /** The headers Fastify's onRequest hooks would have set, in their order: CORS, then ours. */
  takeOver(): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = this.corsOrigin === undefined ? {} : corsAnswerHeaders(this.corsOrigin, {});
    headers[CORRELATION_RESPONSE_HEADER] = this.correlationId;
    for (let index = 0; index < SECURITY_HEADERS.length; index++) {
      const [name, value] = SECURITY_HEADERS[index] as readonly [string, string];
      headers[name] = value;
    }
    headers['cache-control'] = API_CACHE_CONTROL;
    return headers;
  }

  noteTransaction(id: string | undefined): void {
    this.ersTransactionId = id;
  }
}
