/**
 * The resolver in its own process, configured from the environment like `resolver/main.js`, plus a
 * line protocol on stdin for the benchmark: `memory` answers one JSON line on stdout with
 * `process.memoryUsage()` after a full garbage collection (run it with `--expose-gc`), `held` with the
 * number of requests held. The first stdout line is `{"ready":true,…}` once the resolver listens.
 */
import { createInterface } from 'node:readline';
import { loadResolverConfig } from '../../../../runtime/resolver/config.js';
import { startResolver } from '../../../../runtime/resolver/resolver.js';
import { KubeClient } from '../../../../runtime/service/kube/kube-client.js';

const config = loadResolverConfig(process.env);
const resolver = await startResolver(config, {
  kube: new KubeClient({ url: config.kubeApiUrl as string, tokenFile: config.kubeTokenFile as string }),
  log: () => undefined,
});
const out = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
out({ ready: true, proxyPort: resolver.proxyPort, adminPort: resolver.adminPort });
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'memory') {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    out({ memory: process.memoryUsage(), gc: gc !== undefined });
  } else if (line === 'held') {
    out({ held: [...resolver.targets.values()].reduce((n, t) => n + t.heldRequests, 0) });
  }
});
process.on('SIGTERM', () => {
  void resolver.shutdown().then(() => process.exit(0));
});
