/**
 * The runtime side of the scaler benchmark, in its own process so its RSS is the runtime's alone:
 * a registry with N demand workloads fed from an in-memory daily pattern (each workload its own phase
 * and scale), and the gRPC scaler on a free loopback port. Prints one JSON line when ready, then serves
 * until killed. Usage: node scaler-target.js N
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startScalerServer } from '../../../runtime/service/grpc/scaler-server.js';
import { RuntimeMetrics } from '../../../runtime/service/metrics.js';
import { WorkloadRegistry } from '../../../runtime/service/workload-registry.js';
import { parseWorkloadSpec } from '../../../runtime/service/workload-spec.js';
import { MemorySource, dailyDemand } from '../../support/memory-source.js';

const count = Number(process.argv[2] ?? 1000);
const source = new MemorySource((t, query) => {
  const k = Number(/app-(\d+)/.exec(query)?.[1] ?? 0);
  return dailyDemand(t + (k % 1440) * 60) * (1 + (k % 17) / 10);
});
// Rings are allocated up front, so a few hours of backfill give the steady-state memory of any history.
const registry = new WorkloadRegistry({
  sources: { prometheus: source },
  historySeconds: 7200,
  settleSeconds: 30,
  refitEpochSeconds: 3600,
  // A short grace keeps the share of workloads holding a second engine (being rebuilt) at 1/60.
  refitGraceSeconds: 60,
  staleAfterSeconds: 300,
});

function workloadMetadata(k: number): Record<string, string> {
  return {
    scalerAddress: 'elasticai-runtime.elasticai-system.svc.cluster.local:9090',
    query: `sum(rate(http_requests_total{app="app-${k}"}[1m]))`,
    capacityPerReplica: String(20 + (k % 30)),
    leadSeconds: '120',
    nodePool: `pool-${k % 4}`,
  };
}

const started = performance.now();
for (let k = 0; k < count; k++) {
  const ref = { namespace: `team-${k % 50}`, name: `app-${k}` };
  await registry.register(ref, parseWorkloadSpec(ref, workloadMetadata(k)));
}
const backfillMs = performance.now() - started;
const metrics = new RuntimeMetrics({ defaultMetrics: false });
const server = await startScalerServer({ registry, metrics, host: '127.0.0.1', port: 0 });
setInterval(() => void registry.tick(), 60_000).unref();
process.stdout.write(`${JSON.stringify({ port: server.port, backfillMs, points: source.queries.length })}\n`);
// On SIGUSR2: the server-side latency histogram of the measured calls (one JSON line), then reset.
process.on('SIGUSR2', () => {
  void metrics.grpcLatency.get().then((h) => {
    const buckets = h.values.filter((v) => v.metricName?.endsWith('_bucket'));
    const loop = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
    process.stdout.write(`${JSON.stringify({ buckets, loop })}\n`);
  });
});
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
process.on('SIGUSR1', () => {
  metrics.grpcLatency.reset();
  loopDelay.reset();
});
process.on('SIGTERM', () => void server.close(1000).then(() => process.exit(0)));
