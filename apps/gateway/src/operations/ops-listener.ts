import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { GatewayConfig } from '@libs/config';
import { AdminApi } from '../admin/admin-api';
import { AnswerHeaders, CORRELATION_HEADER, Exchange, correlationIdFrom } from '../front-door/exchange';
import { HealthService } from '../health/health.service';
import { GatewayLogger, InjectLogger } from '../logging/logger';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { ProblemWriter } from '../problem/problem-writer';
import { describe } from '../upstream-close/upstream-close.service';

/**
 * The operators' listener (`OPS_PORT`): `GET /metrics` (Prometheus), the health endpoints and, with
 * `ADMIN_TOKEN`, the admin API; never the browser API. `/metrics` is served only here: it counts every session and route of the
 * deployment, which is nobody's business on the public port. Plain `node:http`, no framework: it
 * must answer even when the browser-facing side is busy or draining.
 */
@Injectable()
export class OpsListener implements OnApplicationShutdown {
  private server: Server | null = null;

  constructor(
    private readonly health: HealthService,
    private readonly metrics: GatewayMetrics,
    private readonly answerHeaders: AnswerHeaders,
    private readonly problems: ProblemWriter,
    private readonly admin: AdminApi,
    @InjectLogger() private readonly logger: GatewayLogger,
    private readonly config: GatewayConfig,
  ) {}

  /** Listens on `OPS_PORT` (0: a free port) at `OPS_HOST`; resolves with the port. */
  async listen(): Promise<number> {
    const port = this.config.http.opsPort;
    if (port === null) throw new Error('OPS_PORT is not set');
    const server = createServer({ headersTimeout: this.config.http.headersTimeoutMs, requestTimeout: 10_000 }, (request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.logger.error({ event: 'ops-failed', err: describe(error) }, 'unhandled error');
        response.destroy();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.http.opsHost, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const exchange = new Exchange(request, response, correlationIdFrom(request.headers[CORRELATION_HEADER]), performance.now(), undefined, false);
    const url = request.url ?? '';
    const path = url.split('?')[0] ?? '';
    if (this.admin.handles(path)) {
      await this.admin.serve(exchange, path);
      return;
    }
    exchange.route = path === '/metrics' || path === '/health/live' || path === '/health/ready' ? path : 'unmatched';
    if (exchange.route === 'unmatched') {
      this.problems.write(exchange, { code: 'not-found', detail: 'The operations port serves /metrics, /health/live and /health/ready.', clearCookie: false });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      this.problems.write(exchange, { code: 'method-not-allowed', detail: `${path} answers GET.`, clearCookie: false }, { headers: { allow: 'GET, HEAD' } });
      return;
    }
    const headers = this.answerHeaders.for(exchange);
    headers['cache-control'] = 'no-store';
    let status = 200;
    let body: string;
    if (path === '/metrics') {
      headers['content-type'] = this.metrics.registry.contentType;
      body = await this.metrics.registry.metrics();
    } else {
      headers['content-type'] = 'application/json; charset=utf-8';
      if (path === '/health/live') {
        body = JSON.stringify(this.health.live());
      } else {
        const readiness = await this.health.readiness();
        status = readiness.ready ? 200 : 503;
        body = JSON.stringify(readiness.body);
      }
    }
    headers['content-length'] = Buffer.byteLength(body);
    response.writeHead(status, headers).end(request.method === 'HEAD' ? undefined : body);
  }
}
