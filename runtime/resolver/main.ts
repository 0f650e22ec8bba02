#!/usr/bin/env node
/**
 * Entry point of the scale-to-zero resolver, the second mode of the runtime image
 * (`node /app/build/resolver/main.js`): reads the configuration from the environment, starts the
 * resolver, and drains it on SIGTERM or SIGINT. A bad configuration exits with status 2 and one line
 * naming the variable; no Kubernetes API (outside a pod, no `ELASTICAI_KUBE_API_URL`) also exits 2.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient, SERVICE_ACCOUNT_DIR } from '../service/kube/kube-client.js';
import { drainOnSignal } from '../service/signals.js';
import type { ResolverConfig } from './config.js';
import { listenFailure } from '../service/config.js';
import { checkResolverFiles, ConfigError, loadResolverConfig, RESOLVER_ENV } from './config.js';
import { startResolver } from './resolver.js';

function kubeClient(url: string | undefined, tokenFileOverride: string | undefined): KubeClient | undefined {
  if (url === undefined) return KubeClient.inCluster();
  const tokenFile = tokenFileOverride ?? join(SERVICE_ACCOUNT_DIR, 'token');
  const caFile = join(SERVICE_ACCOUNT_DIR, 'ca.crt');
  return new KubeClient({
    url,
    ...(existsSync(tokenFile) ? { tokenFile } : {}),
    ...(existsSync(caFile) ? { ca: readFileSync(caFile) } : {}),
  });
}

/** A failure to listen, as the host or the port variable at fault (the port is the error's own). */
function listenError(error: unknown, config: ResolverConfig): unknown {
  const { port } = error as { port?: number };
  const variable = port === config.adminPort ? RESOLVER_ENV.adminPort : RESOLVER_ENV.proxyPort;
  return listenFailure(
    error,
    { variable: RESOLVER_ENV.listenHost, value: config.listenHost },
    { variable, value: port ?? config.proxyPort },
  );
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadResolverConfig(process.env);
    checkResolverFiles(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`elasticai-resolver: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const kube = kubeClient(config.kubeApiUrl, config.kubeTokenFile);
  if (!kube) {
    process.stderr.write(
      `elasticai-resolver: ${RESOLVER_ENV.kubeApiUrl}: the resolver watches EndpointSlices and needs the Kubernetes API (not in a pod and no URL given)\n`,
    );
    process.exit(2);
  }
  const serve = drainOnSignal({
    name: 'elasticai-resolver',
    graceMs: config.drainDelayMs + config.shutdownGraceMs,
    afterDrain: () => kube.close(),
  });
  let resolver;
  try {
    resolver = await startResolver(config, { kube });
  } catch (error) {
    const failure = listenError(error, config);
    if (failure instanceof ConfigError) {
      process.stderr.write(`elasticai-resolver: ${failure.message}\n`);
      process.exit(2);
    }
    throw failure;
  }
  serve(resolver);
}

main().catch((error: unknown) => {
  process.stderr.write(`elasticai-resolver: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
