/**
 * The runtime side of the scaler benchmark, in its own process so its RSS is the runtime's alone:
 * a registry with N demand workloads fed from an in-memory daily pattern (each workload its own phase
 * and scale), its metrics, ticks every 5 s, and the gRPC scaler on a free loopback port. Prints one JSON line when ready, then serves
 * until killed. Usage: node scaler-target.js N
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startScalerServer } from '../../../runtime/service/grpc/scaler-server.js';
import { registryBackend } from '../../../runtime/service/grpc/scaler-backend.js';
import { startScalerThread } from '../../../runtime/service/grpc/scaler-thread.js';
import { MemoryGuard, cgroupMemory, processChargedBytes } from '../../../runtime/service/memory-guard.js';
import { RuntimeMetrics } from '../../../runtime/service/metrics.js';
import { NotReadyError, WorkloadRegistry } from '../../../runtime/service/workload-registry.js';
import { parseWorkloadSpec } from '../../../runtime/service/workload-spec.js';
import { MemorySource, dailyDemand } from '../../support/memory-source.js';
import { scaledObjectRef } from './scaler-load.js';

const count = Number(process.argv[2] ?? 1000);
const source = new MemorySource((t, query) => {
  const k = Number(/app-(\d+)/.exec(query)?.[1] ?? 0);
  return dailyDemand(t + (k % 1440) * 60) * (1 + (k % 17) / 10);
});
// Counted, not kept: 11,000 ten-second workloads would add ~3.3 MB of query objects a minute to
// the heap the memory guard measures (found in stop 21 as "growth" after admission).
source.recordQueries = false;
// The runtime's metrics, as it keeps them: per-workload gauges published with every decision.
const metrics = new RuntimeMetrics();
// Admission by memory, as the runtime does it: against the cgroup's limit (SCALER_MEMORY_MIB).
const container = cgroupMemory();
const limit = container?.limitBytes;
/** Memory in use as admission counts it: the cgroup's working set, or this process's charge. */
const usedMiB = (): number => (container?.usedBytes ?? processChargedBytes)() / 2 ** 20;
// Rings are allocated up front, so a few hours of backfill give the steady-state memory of any history.
const registry = new WorkloadRegistry({
  metrics,
  sources: { prometheus: source },
  historySeconds: 7200,
  settleSeconds: 30,
  refitEpochSeconds: 3600,
  // A short grace keeps the share of workloads holding a second engine (being rebuilt) at 1/60.
  refitGraceSeconds: 60,
  staleAfterSeconds: 300,
  ...(container ? { memory: new MemoryGuard(container) } : {}),
});

// As the runtime runs it: in a thread of its own (SCALER_IN_MAIN_THREAD=1: in this thread, as before),
// started before the workloads register, as the runtime starts it before discovering ScaledObjects (so
// the memory guard sees the thread's own memory when it admits them).
const server = process.env.SCALER_IN_MAIN_THREAD
  ? await startScalerServer({ backend: registryBackend(registry), metrics, host: '127.0.0.1', port: 0 })
  : await startScalerThread({ registry, metrics, host: '127.0.0.1', port: 0 });
const started = performance.now();
let refused = 0;
for (let k = 0; k < count; k++) {
  const { namespace, name, scalerMetadata } = scaledObjectRef(k);
  const ref = { namespace, name };
  try {
    await registry.register(ref, parseWorkloadSpec(ref, scalerMetadata));
  } catch (error) {
    if (!(error instanceof NotReadyError)) throw error;
    refused++;
  }
}
const backfillMs = performance.now() - started;
// Ticks as the runtime ticks (every 5 s, never two at once): each minute a settled point reaches every
// engine, and the workloads whose epoch turns rebuild their next engine from a backfill.
let ticking = false;
setInterval(() => {
  if (ticking) return;
  ticking = true;
  void registry.tick().finally(() => (ticking = false));
}, 5_000).unref();
process.stdout.write(
  `${JSON.stringify({ port: server.port, backfillMs, points: source.queryCount, refused, limit: limit ?? null, usedMiB: usedMiB() })}\n`,
);
/** The gRPC histogram's cumulative bucket counts by label set, from the exposition text. */
async function latencyBuckets(): Promise<Map<string, { le: string; value: number }>> {
  const buckets = new Map<string, { le: string; value: number }>();
  for (const line of (await metrics.grpcLatencyText()).split('\n')) {
    const match = /^elasticai_grpc_request_duration_seconds_bucket\{(.*)\} (\S+)$/.exec(line);
    const le = match && /le="([^"]+)"/.exec(match[1] as string)?.[1];
    if (match && le) buckets.set(match[1] as string, { le, value: Number(match[2]) });
  }
  return buckets;
}
let measuredFrom = new Map<string, { le: string; value: number }>();
// On SIGUSR2: the server-side latency histogram of the calls since SIGUSR1 (one JSON line).
process.on('SIGUSR2', () => {
  // The main thread's event loop (ticks, backfills); the scaler thread answers without it.
  const loop = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
  void latencyBuckets().then((now) => {
    const buckets = [...now].map(([labels, { le, value }]) => ({
      labels: { le },
      value: value - (measuredFrom.get(labels)?.value ?? 0),
    }));
    process.stdout.write(`${JSON.stringify({ buckets, loop, usedMiB: usedMiB() })}\n`);
  });
});
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
// SCALER_PROFILE_DIR: a CPU profile and a sampling heap profile of the measured part only.
const profileDir = process.env.SCALER_PROFILE_DIR;
const session = profileDir ? new Session() : undefined;
session?.connect();
process.on('SIGUSR1', () => {
  void latencyBuckets().then((now) => (measuredFrom = now));
  loopDelay.reset();
  if (session) {
    void session.post('Profiler.enable').then(() => session.post('Profiler.start'));
    void session.post('HeapProfiler.startSampling', {
      samplingInterval: 16384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
});
process.on('SIGUSR2', () => {
  if (!session || !profileDir) return;
  void (async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(`${profileDir}/scaler-${count}.cpuprofile`, JSON.stringify(profile));
    const heap = await session.post('HeapProfiler.stopSampling');
    writeFileSync(`${profileDir}/scaler-${count}.heapprofile`, JSON.stringify(heap.profile));
  })();
});
process.on('SIGTERM', () => void server.close(1000).then(() => process.exit(0)));
