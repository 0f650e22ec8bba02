#!/usr/bin/env node
/**
 * Container entry point of the decision runtime: reads the configuration from the environment, starts
 * the KEDA scaler and the HTTP API, and drains both on SIGTERM (Kubernetes' pod termination) or SIGINT.
 * A bad configuration exits with status 2 and one line naming the variable.
 */
import { ConfigError, loadRuntimeConfig } from './config.js';
import { startRuntime } from './runtime.js';
import { drainOnSignal } from './signals.js';

async function main(): Promise<void> {
  try {
    const config = loadRuntimeConfig(process.env);
    const serve = drainOnSignal({ name: 'elasticai-runtime', graceMs: config.shutdownGraceMs });
    // Start-up finds what the environment alone cannot show (an unreadable mount, a host that is not
    // this machine's): ConfigError too.
    serve(await startRuntime(config));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`elasticai-runtime: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`elasticai-runtime: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
