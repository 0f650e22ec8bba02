#!/usr/bin/env node
/**
 * Container entry point of the decision runtime: reads the configuration from the environment, starts
 * the KEDA scaler and the HTTP API, and drains both on SIGTERM (Kubernetes' pod termination) or SIGINT.
 * A bad configuration exits with status 2 and one line naming the variable.
 */
import { ConfigError, loadRuntimeConfig } from './config.js';
import { startRuntime } from './runtime.js';

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
  // Signals are taken from the start: one that arrives while the servers are still starting (a pod
  // deleted right after it was scheduled) is held and drains them as soon as they are up, instead of
  // killing the process the default way.
  const state: { runtime?: Awaited<ReturnType<typeof startRuntime>>; received?: string } = {};
  const stop = (signal: string): void => {
    if (state.received !== undefined) return;
    state.received = signal;
    if (state.runtime) drain(state.runtime, signal, config.shutdownGraceMs);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  state.runtime = await startRuntime(config);
  if (state.received !== undefined) drain(state.runtime, state.received, config.shutdownGraceMs);
}

function drain(runtime: { shutdown(): Promise<void> }, signal: string, graceMs: number): void {
  process.stderr.write(`elasticai-runtime: ${signal}: draining (up to ${graceMs} ms)\n`);
  runtime.shutdown().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`elasticai-runtime: shutdown failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`elasticai-runtime: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
