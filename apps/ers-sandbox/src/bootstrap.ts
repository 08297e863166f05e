import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { LogLevel } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { LogController, type FastifyInstance } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import type { SandboxConfig, SandboxLogLevel } from './config/sandbox-config';
import { registerControlCors } from './control/control-cors';
import { registerBodyParsing } from './ers-edge/body-parsing';
import { decodeOperationDollar, ERS_PREFIX } from './ers-edge/ers-route';
import { ErsTraffic } from './ers-edge/ers-traffic';
import { SandboxModule } from './sandbox.module';

/** A listening sandbox. */
export interface RunningSandbox {
  app: NestFastifyApplication;
  /** `http://host:port` (the real port when 0 was asked for). */
  origin: string;
  /** The e-RS base URL a client is configured with: `{origin}/ers-api`. */
  ersBaseUrl: string;
  /** Drains in-flight requests (holds and hangs are cut short), then closes. */
  close(): Promise<void>;
}

/** Nest's own logs are start-up noise at `info`; it speaks only for warnings and worse. */
function nestLogLevels(level: SandboxLogLevel): LogLevel[] | false {
  const levels: Record<SandboxLogLevel, LogLevel[] | false> = {
    silent: false,
    fatal: ['fatal'],
    error: ['fatal', 'error'],
    warn: ['fatal', 'error', 'warn'],
    info: ['fatal', 'error', 'warn'],
    debug: ['fatal', 'error', 'warn', 'log', 'debug'],
    trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
  };
  return levels[level];
}

/**
 * Node's `server.close()` only ends connections idle at that moment; one still answering (a held
 * download, a slow A016) would then sit out its keep-alive timeout after the answer, holding the
 * drain for ~70 s. Once closing, each connection is ended as soon as its answer is complete.
 */
function endConnectionsWhenAnsweredOnClose(fastify: FastifyInstance): void {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  const endAfter = (response: ServerResponse): void => {
    response.shouldKeepAlive = false;
    // The response lets go of its socket when it finishes: keep hold of it now.
    const socket = response.socket;
    // Server sockets allow half-open connections: end, then destroy once our side is flushed.
    response.once('finish', () => socket?.once('finish', () => socket.destroy()).end());
  };
  fastify.addHook('onRequest', (_request, reply, done) => {
    const response = reply.raw;
    inFlight.add(response);
    response.once('close', () => inFlight.delete(response));
    if (closing) endAfter(response);
    done();
  });
  fastify.addHook('preClose', (done) => {
    closing = true;
    for (const response of inFlight) endAfter(response);
    done();
  });
}

/** The one bootstrap: `main.ts` and every test start the sandbox through here. */
export async function createSandboxApp(config: SandboxConfig): Promise<RunningSandbox> {
  const adapter = new FastifyAdapter({
    // Logs go to stderr, so stdout carries only the one start line (scripts wait for it).
    loggerInstance: pino({ level: config.logLevel, base: { app: 'ers-sandbox' } }, pino.destination({ fd: 2, sync: true })),
    // One line per e-RS request is logged by ErsTraffic instead (with the operation id).
    logController: new LogController({ disableRequestLogging: true }),
    // e-RS session keys travel in the A002/A003 path; they are opaque and may be long.
    routerOptions: { maxParamLength: 1000 },
    rewriteUrl: (request: IncomingMessage) => decodeOperationDollar(request.url ?? '/'),
  });
  const app = await NestFactory.create<NestFastifyApplication>(SandboxModule.forRoot(config), adapter, {
    bodyParser: false,
    logger: nestLogLevels(config.logLevel),
  });
  const fastify = app.getHttpAdapter().getInstance();
  endConnectionsWhenAnsweredOnClose(fastify);
  registerBodyParsing(fastify);
  registerControlCors(fastify);
  app.get(ErsTraffic).register(fastify);

  await app.listen({ host: config.host, port: config.port });
  // The configured host (as a client would name it) with the port actually bound (0 = any).
  const { port } = app.getHttpServer().address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const origin = `http://${host}:${port}`;
  return { app, origin, ersBaseUrl: `${origin}/${ERS_PREFIX}`, close: () => app.close() };
}
