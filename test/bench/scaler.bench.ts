/**
 * KEDA external-scaler load: the runtime (its own process) holds N ScaledObjects and load generators
 * (their own processes, one gRPC connection each) on loopback poll them at KEDA's rates — GetMetrics on
 * every HPA sync (15 s) plus GetMetrics and IsActive every pollingInterval (30 s): N × 0.133 calls per
 * second. The runtime ticks as in production (every 5 s), so the measured minute holds one settled
 * point for every engine and the refits that fall in it. Prints client-side latency p50/p99/max of
 * every measured call, the runtime's RSS, its handler time and event-loop delay, the generators' own
 * event-loop delay (a stalled generator inflates the client-side tail), and the machine's load
 * average (this machine is shared). Goal: p99 ≤ 5 ms and ≤ 512 MiB at 10,000.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { once } from 'node:events';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execForm, last, parseDockerfile } from '../runtime/container/dockerfile.js';
import { RUNTIME_DEFAULT_MEMORY_MIB } from '../../constructs/k8s/decision-runtime.js';
import { KedaClient } from '../support/keda-client.js';
import { REPO_ROOT } from '../support/paths.js';
import type { LoadOptions, LoadResult } from './support/scaler-load.js';
import { CALLS_PER_OBJECT_PER_SECOND, scaledObjectRef } from './support/scaler-load.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The DecisionRuntime container's memory limit. */
const CONTAINER_MEMORY_MIB = Number(process.env.SCALER_MEMORY_MIB ?? RUNTIME_DEFAULT_MEMORY_MIB);
const CONTAINER_MEMORY = CONTAINER_MEMORY_MIB * 1024 * 1024;
/**
 * The runtime runs as in its container: in a memory cgroup of the DecisionRuntime's default memory
 * limit (SCALER_MEMORY_MIB: another) when this machine lets us make one (root and cgroup v1's memory
 * controller). There Node sizes V8's heap from the limit (half of it for the old generation, 1 MiB
 * semi-spaces for the main thread) and going over the limit gets it killed (SCALER_CGROUP=0: no
 * cgroup). Elsewhere the same main-thread limits come from flags, which also bind the scaler thread
 * (V8 flags are per process), so its young space cannot grow as it does in the container.
 */
const CGROUP = '/sys/fs/cgroup/memory/elasticai-scaler-bench';
function containerCgroup(): string | undefined {
  if (process.env.SCALER_CGROUP === '0') return undefined;
  try {
    mkdirSync(CGROUP, { recursive: true });
    writeFileSync(join(CGROUP, 'memory.limit_in_bytes'), String(CONTAINER_MEMORY));
    return CGROUP;
  } catch {
    return undefined;
  }
}
const cgroup = containerCgroup();
/**
 * The DecisionRuntime container's default CPU limit, in cores, as a CFS quota (cgroup v1's cpu
 * controller, 100 ms periods): the main thread's ticks and GC and the scaler thread share it, and a
 * period's quota used up stalls both until the next. SCALER_CPU_LIMIT=0: no limit.
 */
const CPU_LIMIT = Number(process.env.SCALER_CPU_LIMIT ?? 1);
const CPU_CGROUP = '/sys/fs/cgroup/cpu/elasticai-scaler-bench';
function cpuCgroup(): string | undefined {
  if (!(CPU_LIMIT > 0)) return undefined;
  try {
    mkdirSync(CPU_CGROUP, { recursive: true });
    writeFileSync(join(CPU_CGROUP, 'cpu.cfs_period_us'), '100000');
    writeFileSync(join(CPU_CGROUP, 'cpu.cfs_quota_us'), String(Math.round(CPU_LIMIT * 100_000)));
    return CPU_CGROUP;
  } catch {
    return undefined;
  }
}
const cpuGroup = cpuCgroup();
const CONTAINER_HEAP = cgroup
  ? ''
  : `--max-old-space-size=${Math.round(CONTAINER_MEMORY_MIB / 2)} --max-semi-space-size=1`;
/** The node flags the runtime's image starts it with (runtime/Dockerfile's ENTRYPOINT). */
function imageNodeFlags(): string[] {
  const dockerfile = parseDockerfile(readFileSync(join(REPO_ROOT, 'runtime', 'Dockerfile'), 'utf8'));
  const entrypoint = dockerfile.stages.at(-1) && last(dockerfile.stages.at(-1)!, 'ENTRYPOINT');
  const command = entrypoint ? (execForm(entrypoint.args) ?? []) : [];
  const script = command.findIndex((word, i) => i > 0 && !word.startsWith('-'));
  return command.slice(1, script < 0 ? undefined : script);
}
/** Node flags of the runtime process: the image's, plus the heap limits when there is no cgroup. */
const RUNTIME_NODE_OPTIONS = (
  process.env.RUNTIME_NODE_OPTIONS ?? [...imageNodeFlags(), CONTAINER_HEAP].join(' ')
)
  .split(' ')
  .filter(Boolean);
/** Measured seconds: a whole minute, so one settled point reaches every engine. */
const SECONDS = Number(process.env.SCALER_SECONDS ?? 60);
/** Calls at the same rate before measuring (JIT, channel set-up). */
const WARMUP_SECONDS = 3;
/** Load generator processes (each one connection). */
const CLIENTS = Number(process.env.SCALER_CLIENTS ?? 1);

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/**
 * The most the cgroup has been charged since the last reset (cgroup v1 `memory.max_usage_in_bytes`),
 * in MiB: what the limit is compared with. Undefined without the cgroup.
 */
function peakChargeMiB(reset = false): number | undefined {
  if (!cgroup) return undefined;
  const file = join(cgroup, 'memory.max_usage_in_bytes');
  try {
    if (reset) writeFileSync(file, '0');
    return Number(readFileSync(file, 'utf8')) / 2 ** 20;
  } catch {
    return undefined;
  }
}

/**
 * In a container the runtime is the first to load the node binary, so its cgroup is charged for the
 * binary's pages (~43 MiB resident). Here the installed binary's pages are in the page cache already,
 * charged to whoever read them first, so the runtime runs from a copy whose pages are dropped from the
 * cache before each run (`dd iflag=nocache count=0`), and loads them into its own cgroup.
 */
function uncachedNode(): string {
  if (!cgroup) return process.execPath;
  const copy = join(tmpdir(), 'elasticai-scaler-bench-node');
  copyFileSync(process.execPath, copy);
  const fd = openSync(copy, 'r');
  fsyncSync(fd);
  closeSync(fd);
  execFileSync('dd', [`if=${copy}`, 'iflag=nocache', 'count=0'], { stdio: 'ignore' });
  return copy;
}

/** Processes the memory cgroup's OOM killer has killed so far (cgroup v1 `memory.oom_control`). */
function oomKills(): number {
  if (!cgroup) return 0;
  try {
    return Number(
      /^oom_kill (\d+)$/m.exec(readFileSync(join(cgroup, 'memory.oom_control'), 'utf8'))?.[1] ?? 0,
    );
  } catch {
    return 0;
  }
}

function percentile(sorted: Float64Array, q: number): number {
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

/** Runs `script` with `args` and resolves with its JSON lines, one at a time. */
function jsonLines(child: ReturnType<typeof spawn>): () => Promise<string> {
  const pending: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    // Anything else on stdout (--trace-gc, ...) goes to stderr when asked for.
    if (line.startsWith('{')) pending.shift()?.(line);
    else if (process.env.SCALER_RUNTIME_OUTPUT) process.stderr.write(`${line}\n`);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      pending.push(resolve);
      child.once('exit', (code) => reject(new Error(`${child.spawnfile} exited with ${code}`)));
    });
}

async function run(count: number): Promise<void> {
  peakChargeMiB(true);
  const node = [
    uncachedNode(),
    ...RUNTIME_NODE_OPTIONS,
    join(here, 'support', 'scaler-target.js'),
    String(count),
  ];
  // In the cgroups from its first instruction: the shell joins them, then becomes node.
  const groups = [cgroup, cpuGroup].filter((g): g is string => g !== undefined);
  const enter = groups.map((g) => `echo $$ > ${g}/cgroup.procs && `).join('');
  const child = groups.length
    ? spawn('/bin/sh', ['-c', `${enter}exec "$@"`, 'sh', ...node], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(node[0] as string, node.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const nextLine = jsonLines(child);
  const ready = JSON.parse(await nextLine()) as {
    port: number;
    backfillMs: number;
    refused: number;
    limit: number | null;
    usedMiB: number;
  };
  // Warm-up: KEDA's first GetMetricSpec for every ScaledObject (the ones refused for memory fail).
  const keda = new KedaClient(`127.0.0.1:${ready.port}`);
  for (let k = 0; k < count; k++) await keda.getMetricSpec(scaledObjectRef(k)).catch(() => undefined);
  keda.close();

  const startAt = Date.now() + 2000;
  const generators = Array.from({ length: CLIENTS }, (_, index) => {
    const options: LoadOptions = {
      port: ready.port,
      count,
      clients: CLIENTS,
      index,
      startAt,
      warmupSeconds: WARMUP_SECONDS,
      seconds: SECONDS,
    };
    const generator = spawn(
      process.execPath,
      [join(here, 'support', 'scaler-load.js'), JSON.stringify(options)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    return jsonLines(generator)().then((line) => JSON.parse(line) as LoadResult);
  });
  const load = [loadavg()[0] ?? 0];
  const measuring = setTimeout(() => child.kill('SIGUSR1'), startAt + WARMUP_SECONDS * 1000 - Date.now());
  const sampling = setInterval(() => load.push(loadavg()[0] ?? 0), 10_000);
  const results = await Promise.all(generators);
  clearTimeout(measuring);
  clearInterval(sampling);
  const memory = rssMiB(child.pid as number);
  const peak = peakChargeMiB();
  child.kill('SIGUSR2');
  const report = JSON.parse(await nextLine()) as {
    buckets: { labels: { le: number | string }; value: number }[];
    loop: { p99: number; max: number };
    usedMiB: number;
  };
  const used = report.usedMiB;
  child.kill('SIGTERM');
  // Gone before the next run drops the binary's pages from the cache.
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');

  const latencies = Float64Array.from(results.flatMap((r) => r.latencies)).sort();
  const errors = results.reduce((sum, r) => sum + r.errors, 0);
  const wrong = results.reduce((sum, r) => sum + r.wrong, 0);
  const generatorLoop = {
    p99: Math.max(...results.map((r) => r.loop.p99)),
    max: Math.max(...results.map((r) => r.loop.max)),
  };
  const calls = latencies.length + errors;
  console.log(
    `${String(count).padStart(6)} ScaledObjects: ${calls} calls in ${SECONDS} s ` +
      `(${(count * CALLS_PER_OBJECT_PER_SECOND).toFixed(0)}/s, ${CLIENTS} connection${CLIENTS > 1 ? 's' : ''}), ` +
      `GetMetrics/IsActive p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms, ` +
      `max ${(latencies.at(-1) ?? NaN).toFixed(0)} ms, errors ${errors}, wrong answers ${wrong}; ` +
      (ready.refused > 0
        ? `${ready.refused} refused for memory (limit ${(Number(ready.limit) / 2 ** 20).toFixed(0)} MiB: ` +
          `their calls are UNAVAILABLE, counted in errors); `
        : '') +
      `runtime RSS ${memory.rss.toFixed(0)} MiB (peak ${memory.peak.toFixed(0)} MiB); memory in use (as admission ` +
      `counts it) ${ready.usedMiB.toFixed(0)} MiB when loaded, ${used.toFixed(0)} MiB at the end` +
      (peak === undefined ? '; ' : `, cgroup's peak charge ${peak.toFixed(0)} MiB; `) +
      `server-side p99 ≤ ${serverQuantile(report.buckets, 0.99)}, event-loop delay p99 / max: ` +
      `runtime ${report.loop.p99.toFixed(1)} / ${report.loop.max.toFixed(0)} ms, ` +
      `load generator ${generatorLoop.p99.toFixed(1)} / ${generatorLoop.max.toFixed(0)} ms; ` +
      `backfill ${(ready.backfillMs / count).toFixed(1)} ms per workload; ` +
      `load average ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)} on ${availableParallelism()} cores`,
  );
}

console.log(
  `KEDA external scaler under KEDA polling rates (loopback, runtime in its own process, ` +
    `${cgroup ? `in a ${CONTAINER_MEMORY_MIB} MiB memory cgroup` : 'no memory cgroup'}, ${cpuGroup ? `CPU limit ${CPU_LIMIT} core(s)` : 'no CPU limit'}, ${RUNTIME_NODE_OPTIONS.join(' ') || 'no flags'})`,
);
for (const count of (process.env.SCALER_COUNTS ?? '1000,10000').split(',').map(Number)) {
  const killsBefore = oomKills();
  try {
    await run(count);
  } catch (error) {
    // A runtime killed by the cgroup's OOM killer is a finding about the memory guard, not a harness
    // failure (the load generators only see their connection drop): say so.
    if (oomKills() === killsBefore) throw error;
    console.log(
      `${String(count).padStart(6)} ScaledObjects: the runtime was OOM-killed by its ${CONTAINER_MEMORY_MIB} MiB memory cgroup: its memory guard admitted more than the limit holds`,
    );
    process.exitCode = 1;
  }
}
console.log(
  'Goal: p99 ≤ 5 ms at 10,000 ScaledObjects, and the memory guard keeps the charge below the limit.',
);
