/**
 * Right-sizing of container requests from their usage history, in the manner of the VPA recommender
 * (kubernetes/autoscaler, vertical-pod-autoscaler/pkg/recommender), without running a VPA:
 *
 * - target CPU = p90 of CPU usage (cores) × (1 + 15%): VPA's `--target-cpu-percentile` is 0.9 and its
 *   `--recommendation-margin-fraction` 0.15;
 * - target memory = p95 of the working set (bytes) × (1 + 15%). VPA takes p90 of per-interval memory
 *   *peaks*; from plain working-set samples p95 is the closer stand-in for a peak-biased target, and
 *   memory is the resource that kills (OOM) rather than throttles, so it gets the higher percentile;
 * - lower / upper bounds from p50 / p99 with the same margin (VPA: 0.5 / 0.95 before its confidence
 *   scaling; p99 here because the bounds are advice to a human, who should see the tail);
 * - floors of 25 millicores and 250 MiB per pod (VPA's `--pod-recommendation-min-cpu-millicores` and
 *   `--pod-recommendation-min-memory-mb`), split evenly over the pod's containers as VPA does;
 * - confidence is low below 24 hours of samples: a daily cycle has not been seen yet;
 * - CPU rounds up to whole millicores, memory up to whole MiB, written as Kubernetes quantities.
 *
 * Limits: memory limit = the upper bound (a working set above p99 + 15% is a leak or an outlier worth an
 * OOM kill rather than starving the node). No CPU limit is suggested: CPU is compressible, and a limit
 * only adds CFS throttling on top of what the request already guarantees.
 *
 * Usage comes from a `UsageSource`, which returns per-container series (the Prometheus implementation
 * queries `DEFAULT_USAGE_QUERIES`); this file only holds the arithmetic.
 */

/** PromQL a Prometheus-backed `UsageSource` runs by default (cAdvisor metrics, per container). */
export const DEFAULT_USAGE_QUERIES = {
  cpuCores:
    'sum by (namespace,pod,container)(rate(container_cpu_usage_seconds_total{container!="",container!="POD"}[5m]))',
  memoryBytes: 'container_memory_working_set_bytes{container!="",container!="POD"}',
} as const;

/** One container of one workload, with usage samples over a window. */
export interface ContainerUsage {
  readonly namespace: string;
  /** The owning workload (Deployment, StatefulSet, …): containers of one pod share the pod floors. */
  readonly workload: string;
  readonly container: string;
  /** CPU usage samples in cores, one per `stepSeconds`; NaN marks a missing sample. */
  readonly cpuCores: readonly number[];
  /** Memory working-set samples in bytes, one per `stepSeconds`; NaN marks a missing sample. */
  readonly memoryBytes: readonly number[];
  /** Seconds between samples. */
  readonly stepSeconds: number;
  /** The container's requests now (cores, bytes), when known. */
  readonly currentRequests?: { readonly cpuCores?: number; readonly memoryBytes?: number };
}

/** Where container usage comes from. */
export interface UsageSource {
  /** Usage of every container (of `namespace` only, when given) over the source's window. */
  containers(namespace?: string, signal?: AbortSignal): Promise<ContainerUsage[]>;
}

export interface RecommenderOptions {
  /** @default 0.9 (VPA target-cpu-percentile) */
  readonly cpuPercentile?: number;
  /** @default 0.95 */
  readonly memoryPercentile?: number;
  /** @default 0.5 */
  readonly lowerPercentile?: number;
  /** @default 0.99 */
  readonly upperPercentile?: number;
  /** Added on top of every percentile. @default 0.15 (VPA recommendation-margin-fraction) */
  readonly safetyMargin?: number;
  /** Per-pod CPU floor in cores. @default 0.025 (VPA pod-recommendation-min-cpu-millicores 25) */
  readonly minPodCpuCores?: number;
  /** Per-pod memory floor in bytes. @default 250 MiB (VPA pod-recommendation-min-memory-mb 250) */
  readonly minPodMemoryBytes?: number;
  /** Sample coverage below which confidence is low. @default 86,400 (24 h) */
  readonly confidentAfterSeconds?: number;
}

export const RECOMMENDER_DEFAULTS = {
  cpuPercentile: 0.9,
  memoryPercentile: 0.95,
  lowerPercentile: 0.5,
  upperPercentile: 0.99,
  safetyMargin: 0.15,
  minPodCpuCores: 0.025,
  minPodMemoryBytes: 250 * 1024 * 1024,
  confidentAfterSeconds: 86_400,
} as const;

/** Percentiles of the samples, in the resource's unit. */
export interface UsageEvidence {
  readonly samples: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export interface ResourceRecommendation {
  /** Kubernetes quantities (`250m`, `512Mi`). */
  readonly target: string;
  readonly lowerBound: string;
  readonly upperBound: string;
  /** The same in cores (CPU) or bytes (memory), after rounding. */
  readonly targetValue: number;
  readonly lowerBoundValue: number;
  readonly upperBoundValue: number;
  /** The raw percentile the target is built from, before margin, floor and rounding. */
  readonly basis: { readonly percentile: number; readonly value: number };
  /** True when the per-pod floor, not usage, set the target. */
  readonly floored: boolean;
  readonly evidence: UsageEvidence;
  /** Against the current request: `change` = target - current (cores / bytes), `ratio` = change / current. */
  readonly current?: {
    readonly request: string;
    readonly value: number;
    readonly change: number;
    readonly ratio: number | null;
  };
}

export interface ContainerRecommendation {
  readonly namespace: string;
  readonly workload: string;
  readonly container: string;
  readonly confidence: 'low' | 'high';
  readonly confidenceReason: string;
  /** Seconds covered by samples (the larger of CPU's and memory's). */
  readonly coveredSeconds: number;
  readonly cpu?: ResourceRecommendation;
  readonly memory?: ResourceRecommendation;
  /** What to put in the container's `resources`. */
  readonly requests: { readonly cpu?: string; readonly memory?: string };
  readonly limits: { readonly memory?: string };
}

/** Percentile `p` ∈ [0, 1] of sorted values, linear between closest ranks (Hyndman–Fan type 7). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] as number;
  return a + (h - lo) * (b - a);
}

const MI = 1024 * 1024;

/** Cores → whole millicores, rounded up (tiny float noise ignored). */
export function roundCpu(cores: number): number {
  return Math.ceil(cores * 1000 - 1e-6) / 1000;
}

/** Bytes → whole MiB, rounded up. */
export function roundMemory(bytes: number): number {
  return Math.ceil(bytes / MI - 1e-9) * MI;
}

/** Cores as a Kubernetes quantity: `250m`, `2`, `1500m`. */
export function formatCpu(cores: number): string {
  const m = Math.round(roundCpu(cores) * 1000);
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

/** Bytes as a Kubernetes quantity in binary units: `512Mi`, `2Gi`. */
export function formatMemory(bytes: number): string {
  const mi = Math.round(roundMemory(bytes) / MI);
  return mi % 1024 === 0 && mi > 0 ? `${mi / 1024}Gi` : `${mi}Mi`;
}

function checkFraction(name: string, value: number, max = 1): void {
  if (!(value >= 0 && value <= max)) throw new RangeError(`${name}: must be in [0, ${max}] (got ${value})`);
}

function resolve(options: RecommenderOptions): Required<RecommenderOptions> {
  const o = { ...RECOMMENDER_DEFAULTS, ...options };
  for (const key of ['cpuPercentile', 'memoryPercentile', 'lowerPercentile', 'upperPercentile'] as const) {
    checkFraction(key, o[key]);
  }
  checkFraction('safetyMargin', o.safetyMargin, 10);
  for (const key of ['minPodCpuCores', 'minPodMemoryBytes', 'confidentAfterSeconds'] as const) {
    if (!(o[key] >= 0) || !Number.isFinite(o[key])) {
      throw new RangeError(`${key}: must be a finite number ≥ 0 (got ${o[key]})`);
    }
  }
  return o;
}

function evidenceOf(sorted: readonly number[]): UsageEvidence {
  return {
    samples: sorted.length,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] as number,
  };
}

function resource(
  samples: readonly number[],
  targetPercentile: number,
  o: Required<RecommenderOptions>,
  floor: number,
  round: (v: number) => number,
  format: (v: number) => string,
  current: number | undefined,
): ResourceRecommendation | undefined {
  const sorted = samples.filter((v) => Number.isFinite(v) && v >= 0).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const m = 1 + o.safetyMargin;
  const basis = percentile(sorted, targetPercentile);
  const withMargin = basis * m;
  const targetValue = round(Math.max(withMargin, floor));
  const lowerBoundValue = Math.min(
    targetValue,
    round(Math.max(percentile(sorted, o.lowerPercentile) * m, floor)),
  );
  const upperBoundValue = Math.max(
    targetValue,
    round(Math.max(percentile(sorted, o.upperPercentile) * m, floor)),
  );
  const rec: ResourceRecommendation = {
    target: format(targetValue),
    lowerBound: format(lowerBoundValue),
    upperBound: format(upperBoundValue),
    targetValue,
    lowerBoundValue,
    upperBoundValue,
    basis: { percentile: targetPercentile, value: basis },
    floored: withMargin < floor,
    evidence: evidenceOf(sorted),
  };
  if (current === undefined || !Number.isFinite(current) || current < 0) return rec;
  const change = targetValue - current;
  return {
    ...rec,
    current: {
      request: format(current),
      value: current,
      change,
      ratio: current > 0 ? change / current : null,
    },
  };
}

/** Recommendation for one container; `containersInPod` splits the per-pod floors. */
export function recommendContainer(
  usage: ContainerUsage,
  options: RecommenderOptions = {},
  containersInPod = 1,
): ContainerRecommendation {
  const o = resolve(options);
  if (!(usage.stepSeconds > 0)) {
    throw new RangeError(`stepSeconds: must be > 0 (got ${usage.stepSeconds}) for ${usage.container}`);
  }
  const share = 1 / Math.max(1, containersInPod);
  const cpu = resource(
    usage.cpuCores,
    o.cpuPercentile,
    o,
    o.minPodCpuCores * share,
    roundCpu,
    formatCpu,
    usage.currentRequests?.cpuCores,
  );
  const memory = resource(
    usage.memoryBytes,
    o.memoryPercentile,
    o,
    o.minPodMemoryBytes * share,
    roundMemory,
    formatMemory,
    usage.currentRequests?.memoryBytes,
  );
  const coveredSeconds =
    Math.max(cpu?.evidence.samples ?? 0, memory?.evidence.samples ?? 0) * usage.stepSeconds;
  const hours = (s: number): string => `${Math.round((s / 3600) * 10) / 10} h`;
  let confidence: 'low' | 'high' = 'high';
  let confidenceReason = `${hours(coveredSeconds)} of samples`;
  if (!cpu || !memory) {
    confidence = 'low';
    confidenceReason = `no ${!cpu ? 'CPU' : 'memory'} samples`;
  } else if (coveredSeconds < o.confidentAfterSeconds) {
    confidence = 'low';
    confidenceReason = `only ${hours(coveredSeconds)} of samples (fewer than ${hours(o.confidentAfterSeconds)})`;
  }
  return {
    namespace: usage.namespace,
    workload: usage.workload,
    container: usage.container,
    confidence,
    confidenceReason,
    coveredSeconds,
    ...(cpu ? { cpu } : {}),
    ...(memory ? { memory } : {}),
    requests: { ...(cpu ? { cpu: cpu.target } : {}), ...(memory ? { memory: memory.target } : {}) },
    limits: memory ? { memory: memory.upperBound } : {},
  };
}

/** Recommendations for many containers, sorted by namespace, workload, container. */
export function recommend(
  usage: readonly ContainerUsage[],
  options: RecommenderOptions = {},
): ContainerRecommendation[] {
  const perPod = new Map<string, number>();
  const podKey = (u: ContainerUsage): string => `${u.namespace}/${u.workload}`;
  const seen = new Set<string>();
  for (const u of usage) {
    const key = `${podKey(u)}/${u.container}`;
    if (seen.has(key)) continue;
    seen.add(key);
    perPod.set(podKey(u), (perPod.get(podKey(u)) ?? 0) + 1);
  }
  return usage
    .map((u) => recommendContainer(u, options, perPod.get(podKey(u)) ?? 1))
    .sort((a, b) =>
      `${a.namespace}/${a.workload}/${a.container}`.localeCompare(
        `${b.namespace}/${b.workload}/${b.container}`,
      ),
    );
}
