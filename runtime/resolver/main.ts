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

/**
 * A server's failure to listen as the setting at fault: the host (cannot be resolved or is not this
 * machine's) or a port (taken, or privileged). Anything else is returned as it is.
 */
function listenFailure(error: unknown, config: ResolverConfig): unknown {
  const { code, message, port } = error as NodeJS.ErrnoException & { port?: number };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EADDRNOTAVAIL' || code === 'EAI_FAIL') {
    return new ConfigError(RESOLVER_ENV.listenHost, config.listenHost, `cannot listen there (${message})`);
  }
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    const variable = port === config.adminPort ? RESOLVER_ENV.adminPort : RESOLVER_ENV.proxyPort;
    return new ConfigError(variable, String(port), `cannot listen there (${message})`);
  }
  return error;
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
    const failure = listenFailure(error, config);
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
