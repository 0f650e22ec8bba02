/**
 * Engine speed and memory: refit of one series (14 days at 1-minute resolution, from scratch), time per
 * decision on a warm engine, and memory held per workload (the engine's own count and the measured heap
 * growth over many engines). Goal: decision ≪ 1 ms, refit < 100 ms, 10,000 workloads per replica.
 */
import { join } from 'node:path';
import { WorkloadEngine } from '../../runtime/engine/workload-engine.js';
import { readTrace } from '../../runtime/simulation/trace.js';
import { SHARED_DIR } from '../support/paths.js';

const trace = readTrace(join(SHARED_DIR, 'traces', 'nasa-http-1995', 'nasa_http_requests_per_minute.csv'));
const FOURTEEN_DAYS = 14 * 1440;
const rows = trace.rows.slice(0, FOURTEEN_DAYS);

function newEngine(): WorkloadEngine {
  return new WorkloadEngine({ intervalSeconds: 60, capacityPerReplica: 10, leadSeconds: 120 });
}

function refit(): { engine: WorkloadEngine; ms: number } {
  const start = performance.now();
  const engine = newEngine();
  for (const row of rows) engine.observe(row.timestamp, row.demand);
  return { engine, ms: performance.now() - start };
}

// Memory first, before other measurements leave garbage behind: many engines, each fed two days (the
// rings are allocated up front, so how full they are does not matter).
const gc = (globalThis as { gc?: () => void }).gc;
// Several full collections: the trace just read leaves garbage that one pass may not free.
for (let i = 0; i < 4; i++) gc?.();
const before = process.memoryUsage();
const engines: WorkloadEngine[] = [];
const COUNT = 500;
for (let i = 0; i < COUNT; i++) {
  const e = newEngine();
  for (const row of rows.slice(0, 2 * 1440)) e.observe(row.timestamp, row.demand);
  engines.push(e);
}
for (let i = 0; i < 4; i++) gc?.();
const after = process.memoryUsage();
// Divide by engines.length, not COUNT: a last use keeps V8 from collecting the array before `after`.
const measuredKiB =
  (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / engines.length / 1024;

const refits = Array.from({ length: 7 }, () => refit().ms).sort((a, b) => a - b);
const { engine } = refit();

// Decisions: keep stepping the warm engine through the next days of the trace.
const next = trace.rows.slice(FOURTEEN_DAYS, FOURTEEN_DAYS + 20_000);
let start = performance.now();
for (const row of next) engine.step(row.timestamp, row.demand);
const stepMicros = ((performance.now() - start) * 1000) / next.length;
start = performance.now();
const decisions = 100_000;
for (let i = 0; i < decisions; i++) engine.decide();
const decideMicros = ((performance.now() - start) * 1000) / decisions;

console.log(
  `refit, 14 days at 1 min (${rows.length} points): median ${refits[3]?.toFixed(1)} ms, best ${refits[0]?.toFixed(1)} ms`,
);
console.log(`observe + decide, warm:   ${stepMicros.toFixed(2)} µs per point`);
console.log(`decide alone, warm:       ${decideMicros.toFixed(2)} µs per decision`);
console.log(
  `memory per workload:      ${(engine.bytes / 1024).toFixed(1)} KiB counted, ${measuredKiB.toFixed(1)} KiB measured (${COUNT} engines${gc ? '' : ', no --expose-gc'})`,
);
// The arrays are sized by the interval (a day of history, the daily season, the weekly blocks).
const byInterval = [1, 5, 10, 15, 30, 60, 300, 1800].map((intervalSeconds) => {
  const e = new WorkloadEngine({ intervalSeconds, capacityPerReplica: 10, leadSeconds: 120 });
  return `${intervalSeconds} s ${(e.bytes / 1024).toFixed(1)}`;
});
console.log(`memory by interval:       ${byInterval.join(', ')} KiB counted`);
// Time per point grows with the horizon in points (every model forecasts the whole path each point):
// a daily sine with a little noise, at least a day and a half so that the daily models run.
const stepByInterval = [1, 10, 60].map((intervalSeconds) => {
  const e = new WorkloadEngine({ intervalSeconds, capacityPerReplica: 10, leadSeconds: 120 });
  const points = Math.round((1.5 * 86_400) / intervalSeconds) + 20_000;
  const demand = (i: number): number =>
    100 + 50 * Math.sin((2 * Math.PI * i * intervalSeconds) / 86_400) + (i % 7);
  const warm = points - 20_000;
  for (let i = 0; i < warm; i++) e.step(i * intervalSeconds, demand(i));
  const t0 = performance.now();
  for (let i = warm; i < points; i++) e.step(i * intervalSeconds, demand(i));
  const micros = ((performance.now() - t0) * 1000) / 20_000;
  return `${intervalSeconds} s ${micros.toFixed(1)} µs (14 days: ${((micros * 14 * 86_400) / intervalSeconds / 1e6).toFixed(1)} s)`;
});
console.log(`observe and decide by interval (daily models running): ${stepByInterval.join(', ')}`);
console.log(
  `10,000 workloads:         ~${((measuredKiB * 10_000) / 1024).toFixed(0)} MiB, ${((stepMicros * 10_000) / 1000).toFixed(0)} ms of CPU per round of decisions`,
);
