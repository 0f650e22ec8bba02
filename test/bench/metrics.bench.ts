/**
 * `/metrics` at 10,000 workloads: the main-thread time to print the exposition text with the six
 * per-workload gauges full (60,000 series), through `RuntimeMetrics.text()` (what the endpoint sends)
 * and through prom-client's own `registry.metrics()` for comparison; both must print the same text.
 *
 * `node build/test/bench/metrics.bench.js`, part of `npm run bench`.
 */
import { RuntimeMetrics } from '../../runtime/service/metrics.js';

const WORKLOADS = Number(process.env.METRICS_WORKLOADS ?? 10_000);
const RUNS = 7;

const metrics = new RuntimeMetrics();
for (let i = 0; i < WORKLOADS; i++) {
  const ref = { namespace: `team-${i % 50}`, name: `workload-${i}` };
  metrics.desiredReplicas.set(ref, 3 + (i % 7));
  metrics.predictedDemand.set(ref, 123.456 + i);
  metrics.observedDemand.set(ref, 100 + i * 0.5);
  metrics.forecastError.set(ref, 0.0123 * (i % 9));
  metrics.anomalyScore.set({ ...ref, state: 'normal' }, 0.5 + (i % 10) / 100);
  metrics.degraded.set({ ...ref, state: 'stale' }, i % 2);
}

async function timed(render: () => Promise<string>): Promise<{ median: number; best: number; text: string }> {
  const times: number[] = [];
  let text = '';
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    text = await render();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { median: times[RUNS >> 1] ?? Number.NaN, best: times[0] ?? Number.NaN, text };
}

const direct = await timed(() => metrics.text());
const registry = await timed(() => metrics.registry.metrics());
// Default metrics (process CPU, heap) differ between two reads; compare the per-workload part.
const workloadPart = (text: string): string =>
  text
    .split('\n')
    .filter((line) =>
      /^(# (HELP|TYPE) )?elasticai_(desired|predicted|observed|forecast|anomaly|degraded)/.test(line),
    )
    .join('\n');
if (workloadPart(direct.text) !== workloadPart(registry.text)) {
  console.error('metrics.text() and registry.metrics() printed different per-workload series');
  process.exit(1);
}
const mb = (direct.text.length / 1e6).toFixed(2);
console.log(
  `/metrics at ${WORKLOADS} workloads (${6 * WORKLOADS} per-workload series, ${mb} MB), ${RUNS} runs:`,
);
console.log(
  `  RuntimeMetrics.text():       median ${direct.median.toFixed(0)} ms, best ${direct.best.toFixed(0)} ms`,
);
console.log(
  `  prom-client registry only:   median ${registry.median.toFixed(0)} ms, best ${registry.best.toFixed(0)} ms`,
);
