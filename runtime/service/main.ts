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
  let config;
  try {
    config = loadRuntimeConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`elasticai-runtime: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const serve = drainOnSignal({ name: 'elasticai-runtime', graceMs: config.shutdownGraceMs });
  serve(await startRuntime(config));
}

main().catch((error: unknown) => {
  process.stderr.write(`elasticai-runtime: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
