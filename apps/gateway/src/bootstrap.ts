import 'reflect-metadata';
import { type RequestListener, type Server, createServer } from 'node:http';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyStatic from '@fastify/static';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import { GatewayConfig } from '@libs/config';
import { registerCors } from './api-guard/cors';
import { GatewayModule } from './gateway.module';
import { ErsFastPath } from './ers-proxy/ers-fast-path';
import { DrainState } from './health/drain-state';
import { AccessLog } from './logging/access-log';
import { stdoutLineWriter } from './logging/line-writer';
import { type GatewayLogger, NestPinoLogger, createLogger } from './logging/logger';
import { GatewayMetrics } from './metrics/gateway-metrics';
import { buildOpenApiDocument } from './openapi/build-openapi-document';
import { OpenApiDocument } from './openapi/openapi.controller';
import { GatewayError } from './problem/gateway-error';
import { problemBody, sendProblem } from './problem/problem.filter';
import {
  API_CACHE_CONTROL,
  SECURITY_HEADERS,
  correlationIdFrom,
  decorateRequestContext,
  startRequestContext,
} from './request-context/request-context';

export interface GatewayAppOptions {
  /** Where log lines go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
}

export interface GatewayApp {
  app: NestFastifyApplication;
  logger: GatewayLogger;
}

/**
 * Builds the gateway exactly as production runs it; `main.ts` and every test use this one
 * function, so what is tested is what is deployed.
 */
export async function createGatewayApp(config: GatewayConfig, options: GatewayAppOptions = {}): Promise<GatewayApp> {
  const destination = options.logDestination ?? stdoutLineWriter();
  const logger = createLogger(config.log.level, destination);
  const door = new FrontDoor();
  const adapter = new FastifyAdapter({
    serverFactory: door.serverFactory,
    // Fastify takes a hop count here; Nest's adapter type lists only the other forms.
    trustProxy: (config.http.trustProxyHops > 0 ? config.http.trustProxyHops : false) as boolean,
    // SIGTERM: idle keep-alive connections close, requests in flight finish.
    forceCloseConnections: 'idle',
    // Requests arriving while draining get a `draining` problem from our own hook instead.
    return503OnClosing: false,
    requestIdHeader: false,
    // Proxied download/upload may take as long as e-RS may take to answer.
    requestTimeout: 0,
    // Fastify refuses some URLs before routing (bad percent-encoding): answer those as problems too.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const proxied = request.url.startsWith('/api/ers/');
      const code = proxied ? 'invalid-path' : 'invalid-request';
      const body = problemBody(code, 'The request URL could not be read.', correlationIdFrom(request.headers['x-correlation-id']));
      sendProblem(reply.header('x-correlation-id', body.correlationId), body);
      void error;
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(config, logger), adapter, {
    logger: new NestPinoLogger(logger),
    bodyParser: false,
    abortOnError: false,
  });
  const accessLog = new AccessLog(config.log.level, destination);
  await configureApp(app, config, accessLog);
  await app.init();
  app.get(OpenApiDocument).document = buildOpenApiDocument(app, config.cookie.name);
  door.open(app.get(ErsFastPath), accessLog);
  return { app, logger };
}

/**
 * The HTTP server, made here instead of by Fastify so that the proxy's fast path (`ErsFastPath`)
 * sees each request first; whatever it does not take goes to Fastify as before. The server gets
 * the settings Fastify gives the servers it makes itself.
 */
class FrontDoor {
  private fastPath: ErsFastPath | null = null;

  readonly serverFactory = (fastify: RequestListener, options: FastifyServerOptions): Server => {
    const server = createServer((request, response) => {
      const fastPath = this.fastPath;
      if (fastPath === null || !fastPath.take(request, response)) fastify(request, response);
    });
    server.keepAliveTimeout = options.keepAliveTimeout as number;
    server.requestTimeout = options.requestTimeout as number;
    server.setTimeout(options.connectionTimeout);
    if ((options.maxRequestsPerSocket ?? 0) > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket as number;
    return server;
  };

  open(fastPath: ErsFastPath, accessLog: AccessLog): void {
    fastPath.open(accessLog);
    this.fastPath = fastPath;
  }
}

async function configureApp(app: NestFastifyApplication, config: GatewayConfig, accessLog: AccessLog): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  decorateRequestContext(fastify);
  registerCors(fastify, config.http.allowedOrigins);
  registerRequestStart(fastify, app.get(DrainState));
  registerAccessLog(fastify, app.get(GatewayMetrics), accessLog);
  // No body is parsed by Fastify: proxied bodies are streamed to e-RS untouched, and session
  // bodies are read (JSON only, size-capped) by JsonBodyGuard after the anti-forgery checks.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  app.useGlobalPipes(
    new ValidationPipe({
      forbidUnknownValues: true,
      stopAtFirstError: true,
      exceptionFactory: (errors) => {
        const first = errors[0];
        const message = Object.values(first?.constraints ?? {})[0] ?? 'the request body is invalid';
        return new GatewayError('invalid-request', `${message}.`);
      },
    }),
  );
  if (config.http.staticDir !== null) {
    const connectSrc = ["'self'", ...config.http.staticConnectSrc].join(' ');
    const csp =
      `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; ` +
      `connect-src ${connectSrc}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'`;
    await app.register(fastifyStatic, {
      root: config.http.staticDir,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      setHeaders: (response) => {
        response.header('content-security-policy', csp);
      },
    });
  }
}

/**
 * One onRequest hook for what every request needs (one hook, not four: each costs on the hot
 * path): its context, the security headers, and the drain gate. After SIGTERM new requests
 * (health checks excepted) are refused so calls in flight can finish.
 */
function registerRequestStart(fastify: FastifyInstance, drain: DrainState): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    startRequestContext(request, reply);
    for (const [name, value] of SECURITY_HEADERS) reply.header(name, value);
    if (request.url.startsWith('/api/')) reply.header('cache-control', API_CACHE_CONTROL);
    if (drain.draining && !request.url.startsWith('/health/')) {
      const body = problemBody('draining', 'This instance is shutting down; retry on another.', request.correlationId);
      sendProblem(reply.header('connection', 'close').header('retry-after', '1'), body);
      return;
    }
    done();
  });
}

/** One access-log line and the request metrics per answer, by route template (never the id-bearing path). */
function registerAccessLog(fastify: FastifyInstance, metrics: GatewayMetrics, accessLog: AccessLog): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeTemplate ?? request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const seconds = (performance.now() - request.startedAt) / 1000;
    metrics.recordRequest(route, request.method, status, seconds);
    const queryAt = request.url.indexOf('?');
    accessLog.write(route.startsWith('/health') || route === '/metrics' ? 'debug' : 'info', {
      method: request.method,
      path: queryAt === -1 ? request.url : request.url.slice(0, queryAt),
      status,
      ms: Math.round(seconds * 1e4) / 10,
      correlationId: request.correlationId,
      upstream: request.upstreamId,
      ersTransactionId: request.ersTransactionId,
    });
    done();
  });
}
