/**
 * KEDA external-scaler load: the runtime (its own process) holds N ScaledObjects and a load generator
 * on loopback polls them at KEDA's rates — GetMetrics on every HPA sync (15 s) plus GetMetrics and
 * IsActive every pollingInterval (30 s): N × 0.133 calls per second. Prints client-side latency p50/p99
 * and the runtime's RSS. Goal: p99 ≤ 5 ms and ≤ 512 MiB at 10,000.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KedaClient } from '../support/keda-client.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Node flags of the runtime process (the container sets the same through NODE_OPTIONS). */
const RUNTIME_NODE_OPTIONS = (process.env.RUNTIME_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
const SECONDS = 20;
/** Calls at the same rate before measuring (JIT, channel set-up). */
const WARMUP_SECONDS = 3;

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** The upper bound of the histogram bucket holding quantile q (server-side handler time, all methods). */
function serverQuantile(buckets: { labels: { le: number | string }; value: number }[], q: number): string {
  const byLe = new Map<number, number>();
  for (const b of buckets) {
    const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + b.value);
  }
  const sorted = [...byLe.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  const hit = sorted.find(([, cumulative]) => cumulative >= q * total);
  return hit ? (hit[0] === Infinity ? '> 2 s' : `${hit[0] * 1000} ms`) : 'n/a';
}

async function run(count: number): Promise<void> {
  const child = spawn(
    process.execPath,
    [...RUNTIME_NODE_OPTIONS, join(here, 'support', 'scaler-target.js'), String(count)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const nextLine = (): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`runtime exited with ${code}`)));
    });
  const first = await nextLine();
  const ready = JSON.parse(first) as { port: number; backfillMs: number };
  const client = new KedaClient(`127.0.0.1:${ready.port}`);
  const refOf = (k: number) => ({
    namespace: `team-${k % 50}`,
    name: `app-${k}`,
    scalerMetadata: {
      scalerAddress: 'elasticai-runtime.elasticai-system.svc.cluster.local:9090',
      query: `sum(rate(http_requests_total{app="app-${k}"}[1m]))`,
      capacityPerReplica: String(20 + (k % 30)),
      leadSeconds: '120',
      nodePool: `pool-${k % 4}`,
    },
  });
  // Warm-up: KEDA's first GetMetricSpec for every ScaledObject.
  for (let k = 0; k < count; k++) await client.getMetricSpec(refOf(k));

  const ratePerSecond = count * (1 / 15 + 2 / 30);
  const warmup = Math.round(ratePerSecond * WARMUP_SECONDS);
  const total = Math.round(ratePerSecond * SECONDS) + warmup;
  const latencies: number[] = [];
  const clientLoop = monitorEventLoopDelay({ resolution: 1 });
  let errors = 0;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i / ratePerSecond) * 1000;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    if (i === warmup) {
      child.kill('SIGUSR1');
      clientLoop.enable();
    }
    const k = (i * 7919) % count;
    const t = performance.now();
    const call = i % 4 === 3 ? client.isActive(refOf(k)) : client.getMetrics(refOf(k));
    inFlight.push(
      call.then(
        () => void (i >= warmup && latencies.push(performance.now() - t)),
        () => void errors++,
      ),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000 - WARMUP_SECONDS;
  clientLoop.disable();
  const memory = rssMiB(child.pid as number);
  child.kill('SIGUSR2');
  const report = JSON.parse(await nextLine()) as {
    buckets: { labels: { le: number | string }; value: number }[];
    loop: { p99: number; max: number };
  };
  const server = serverQuantile(report.buckets, 0.99);
  client.close();
  child.kill('SIGTERM');
  latencies.sort((a, b) => a - b);
  console.log(
    `${String(count).padStart(6)} ScaledObjects: ${total - warmup} calls in ${elapsed.toFixed(1)} s ` +
      `(${((total - warmup) / elapsed).toFixed(0)}/s), GetMetrics/IsActive p50 ${percentile(latencies, 0.5).toFixed(2)} ms, ` +
      `p99 ${percentile(latencies, 0.99).toFixed(2)} ms, errors ${errors}; runtime RSS ${memory.rss.toFixed(0)} MiB ` +
      `(peak ${memory.peak.toFixed(0)} MiB); server-side p99 ≤ ${server}, event-loop delay p99 / max: runtime ${report.loop.p99.toFixed(1)} / ${report.loop.max.toFixed(0)} ms, load generator ${(clientLoop.percentile(99) / 1e6).toFixed(1)} / ${(clientLoop.max / 1e6).toFixed(0)} ms; backfill ${(ready.backfillMs / count).toFixed(1)} ms per workload`,
  );
}

console.log('KEDA external scaler under KEDA polling rates (loopback, runtime in its own process)');
for (const count of (process.env.SCALER_COUNTS ?? '1000,10000').split(',').map(Number)) await run(count);
console.log('Goal: p99 ≤ 5 ms and ≤ 512 MiB RSS at 10,000 ScaledObjects.');
