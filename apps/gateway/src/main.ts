// First: before any other module has run (see the module).
import './runtime/keep-tick-shape';
import 'reflect-metadata';
import type { Server } from 'node:http';
import { ConfigError, loadGatewayConfig } from '@libs/config';
import { createGatewayApp } from './bootstrap';
import { DrainState } from './health/drain-state';
import { GatewayMetrics } from './metrics/gateway-metrics';

async function main(): Promise<void> {
  let config;
  try {
    config = loadGatewayConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.problems) process.stderr.write(`ers-gateway: configuration error: ${line}\n`);
      process.exit(1);
    }
    throw error;
  }
  const { app, logger, ops } = await createGatewayApp(config);
  await app.listen({ port: config.http.port, host: config.http.host });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address !== null ? address.port : config.http.port;
  const opsPort = ops === null ? null : await ops.listen();
  logger.info(
    { event: 'listening', host: config.http.host, port, opsPort, store: config.store.kind, ers: config.ers.baseUrl },
    `ers-gateway listening on http://${config.http.host}:${port}` + (opsPort === null ? '' : `, operations on port ${opsPort}`),
  );

  let draining = false;
  const drain = (signal: string): void => {
    if (draining) return;
    draining = true;
    logger.info({ event: 'draining', signal }, 'draining: readiness 503, finishing calls in flight');
    app.get(DrainState).draining = true;
    app.get(GatewayMetrics).draining.set(1);
    // A keep-alive connection whose answer had started before SIGTERM would hold the close until
    // its client or the keep-alive timeout ends it: close connections as soon as they go idle.
    const server: Server = app.getHttpServer();
    setInterval(() => server.closeIdleConnections(), 250).unref();
    // In-flight calls get as long as e-RS may take to answer, then the process goes anyway.
    setTimeout(() => {
      logger.warn({ event: 'drain-timeout' }, 'calls still in flight after ERS_TIMEOUT_MS; exiting');
      logger.flush();
      process.exit(0);
    }, config.ers.timeoutMs + 5_000).unref();
    app.close().then(
      () => {
        logger.info({ event: 'stopped' }, 'stopped');
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ event: 'stop-failed', err: String(error) }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => drain('SIGTERM'));
  process.once('SIGINT', () => drain('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`ers-gateway: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
