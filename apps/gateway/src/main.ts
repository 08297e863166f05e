// First: before any other module has run (see the module).
import './runtime/keep-tick-shape';
import 'reflect-metadata';
import { ConfigError, loadGatewayConfig } from '@libs/config';
import { createGatewayApp } from './bootstrap';
import { Drain } from './drain/drain';

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
    // Work still running then is left: its in-flight marks and held closes are taken over by
    // another instance when their leases run out, as after a kill -9.
    setTimeout(() => {
      logger.warn({ event: 'drain-timeout' }, 'work still in flight after SHUTDOWN_TIMEOUT_MS; exiting');
      logger.flush();
      process.exit(0);
    }, config.http.shutdownTimeoutMs).unref();
    app
      .get(Drain)
      .run(app.getHttpServer(), signal)
      // Nest closes the modules: the session store, the proxy's pool and the e-RS session pools.
      .then(() => app.close())
      .then(
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
