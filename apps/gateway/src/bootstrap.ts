import 'reflect-metadata';
import { type RequestListener, type Server, createServer } from 'node:http';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyStatic from '@fastify/static';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import { GatewayConfig } from '@libs/config';
import { exchangeOf } from './front-door/exchange';
import { FrontDoor } from './front-door/front-door';
import { GatewayModule } from './gateway.module';
import { AccessLog } from './logging/access-log';
import { stdoutLineWriter } from './logging/line-writer';
import { type GatewayLogger, NestPinoLogger, createLogger } from './logging/logger';
import { OpsListener } from './operations/ops-listener';
import { buildOpenApiDocument } from './openapi/build-openapi-document';
import { OpenApiDocument } from './openapi/openapi.controller';
import { GatewayError } from './problem/gateway-error';
import { ProblemWriter } from './problem/problem-writer';

export interface GatewayAppOptions {
  /** Where log lines go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
}

export interface GatewayApp {
  app: NestFastifyApplication;
  logger: GatewayLogger;
  /** The operators' listener (`OPS_PORT`): `/metrics` and the health endpoints; null when unset. */
  ops: OpsListener | null;
}

/**
 * Builds the gateway exactly as production runs it; `main.ts` and every test use this one
 * function, so what is tested is what is deployed.
 */
export async function createGatewayApp(config: GatewayConfig, options: GatewayAppOptions = {}): Promise<GatewayApp> {
  const destination = options.logDestination ?? stdoutLineWriter();
  const logger = createLogger(config.log.level, destination);
  const listener = new PublicListener(config);
  const adapter = new FastifyAdapter({
    serverFactory: listener.serverFactory,
    // The front door reads X-Forwarded-* itself (TRUST_PROXY), for the origin and the client address.
    trustProxy: false,
    // SIGTERM (drain/drain.ts): idle keep-alive connections close, requests in flight finish.
    forceCloseConnections: 'idle',
    // A request arriving while draining is served (with `Connection: close`), never refused.
    return503OnClosing: false,
    requestIdHeader: false,
    // Fastify refuses some URLs before routing (bad percent-encoding outside /api): a problem too.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => listener.frameworkError(error, request, reply),
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(config, logger), adapter, {
    logger: new NestPinoLogger(logger),
    bodyParser: false,
    abortOnError: false,
  });
  const accessLog = new AccessLog(config.log.level, destination);
  await configureApp(app, config);
  await app.init();
  app.get(OpenApiDocument).document = buildOpenApiDocument(app, config.cookie.name);
  listener.open(app.get(FrontDoor), app.get(ProblemWriter), accessLog);
  const ops = config.http.opsPort === null ? null : app.get(OpsListener);
  return { app, logger, ops };
}

/**
 * The public HTTP server, made here instead of by Fastify so that the front door sees each
 * request first, with the connection limits of `HttpConfig`: headers must arrive within
 * `HEADERS_TIMEOUT_MS`, idle keep-alive connections close after `KEEP_ALIVE_TIMEOUT_MS`, and at
 * most `MAX_CONNECTIONS` are open. There is no whole-request timeout: a proxied call may take
 * `ERS_TIMEOUT_MS`, and slow bodies are cut by the front door and the proxy (per route).
 */
class PublicListener {
  private door: FrontDoor | null = null;
  private problems: ProblemWriter | null = null;
  /** Fastify's own request handler: what the front door hands requests on to. */
  private fastify: RequestListener | null = null;

  constructor(private readonly config: GatewayConfig) {}

  readonly serverFactory = (fastify: RequestListener): Server => {
    this.fastify = fastify;
    const http = this.config.http;
    const server = createServer(
      {
        headersTimeout: http.headersTimeoutMs,
        requestTimeout: 0,
        keepAliveTimeout: http.keepAliveTimeoutMs,
        // How often Node looks for connections past headersTimeout (its default, 30 s, would let
        // a slow-headers connection live up to 40 s instead of 10).
        connectionsCheckingInterval: Math.min(1000, http.headersTimeoutMs),
      },
      (request, response) => {
        const door = this.door;
        if (door === null) response.writeHead(503, { connection: 'close' }).end();
        else door.handle(request, response);
      },
    );
    server.setTimeout(0);
    if (http.maxConnections !== null) server.maxConnections = http.maxConnections;
    return server;
  };

  open(door: FrontDoor, problems: ProblemWriter, accessLog: AccessLog): void {
    if (this.fastify === null) throw new Error('Fastify did not create its server through the gateway');
    door.open(this.fastify, accessLog);
    this.problems = problems;
    this.door = door;
  }

  frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    const exchange = exchangeOf(request.raw);
    if (exchange === null || this.problems === null) {
      reply.raw.destroy();
      return;
    }
    reply.hijack();
    this.problems.writeError(exchange, new GatewayError('invalid-request', 'The request URL could not be read.'));
    void error;
  }
}

async function configureApp(app: NestFastifyApplication, config: GatewayConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  registerRouteNames(fastify);
  // No body is parsed by Fastify: proxied bodies never reach it, and session bodies are read
  // (JSON only, size-capped) by JsonBodyGuard after the front door has admitted the request.
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
        // A page of ours keeps its own browsing context group (ASVS 5.0 3.4.8).
        response.header('cross-origin-opener-policy', 'same-origin');
      },
    });
  }
}

/** What Fastify routed a request to, for its access line and metrics (never an id-bearing path). */
function registerRouteNames(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const exchange = exchangeOf(request.raw);
    if (exchange !== null) exchange.route = request.routeOptions.url ?? 'unmatched';
    done();
  });
}
