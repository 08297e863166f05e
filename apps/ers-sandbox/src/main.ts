import { createSandboxApp } from './bootstrap';
import { loadSandboxConfig, SandboxConfigError } from './config/sandbox-config';

/** The only place that reads the environment. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadSandboxConfig(process.env);
  } catch (error) {
    if (!(error instanceof SandboxConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`${problem}\n`);
    process.exit(1);
  }

  const sandbox = await createSandboxApp(config);
  process.stdout.write(`ers-sandbox listening on ${sandbox.ersBaseUrl}\n`);

  // Exit 0 after draining (Nest's enableShutdownHooks would re-raise the signal instead).
  let closing = false;
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    sandbox.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`ers-sandbox: error while closing: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`ers-sandbox failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
