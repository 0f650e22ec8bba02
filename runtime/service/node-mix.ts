/**
 * Node-mix suggestion for one node pool: an on-demand base sized to the pool's forecast floor, spot
 * capacity above it, and the estimated cost of that mix against all on-demand and against the pool's
 * current mix, at prices the user supplies. Pure arithmetic; `elasticai recommend --node-mix` feeds it
 * the runtime's API answers.
 *
 * Method:
 *
 * 1. **Pods over time.** Each workload of the pool contributes the replicas the runtime asked for at each
 *    point of its history (its forecast-driven decisions, `history.replicas`). The workloads' histories
 *    are put on one grid: the smallest interval among them, over the window all of them cover; a
 *    workload's replica count holds until its next point, and a missing value repeats the last one.
 * 2. **Nodes over time.** need(t) = max(⌈Σ replicas × pod CPU / node CPU⌉, ⌈Σ replicas × pod memory /
 *    node memory⌉): the pods packed perfectly onto nodes of the pool's allocatable size. It is a lower
 *    bound (real packing wastes some room, and DaemonSets take theirs: give allocatable minus DaemonSets).
 * 3. **Forecast floor.** The `floorPercentile` (default 5%) of need(t), by nearest rank downwards: the
 *    pool needs at least that many nodes 95% of the time. That is the on-demand base, so an interruption
 *    of spot capacity never takes the pool below what it almost always needs.
 * 4. **Cost.** As an EC2 Auto Scaling MixedInstancesPolicy bills it (`OnDemandBaseCapacity`,
 *    `OnDemandPercentageAboveBaseCapacity`): at each point the first min(need, base) nodes are on-demand,
 *    and of the nodes above the base, `percentAboveBase`% are on-demand and the rest spot. The suggested
 *    mix has 0% on-demand above its base. Costs are means per hour over the window; a month is 730 hours.
 *    (On AKS, a regular pool's minimum count keeps the base running even below it; by the floor's
 *    definition that happens at most `floorPercentile` of the time.)
 */

/** Hours in the "month" of monthly figures (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;

/** What one pod of a workload asks for. */
export interface PodSize {
  readonly cpuCores: number;
  readonly memoryBytes: number;
}

/** A pool's node size and prices. */
export interface PoolPrices {
  /** Allocatable CPU of one node, in cores (after system reservations and DaemonSets). */
  readonly nodeCpuCores: number;
  /** Allocatable memory of one node, in bytes. */
  readonly nodeMemoryBytes: number;
  /** Price of one on-demand node per hour. */
  readonly onDemandHourly: number;
  /** Price of one spot node per hour. */
  readonly spotHourly: number;
  /** The pool's current mix, to compare against. @default none (compared with all on-demand only) */
  readonly current?: { readonly onDemandBase: number; readonly onDemandPercentAboveBase: number };
}

/** One workload of the pool with its decided replicas over time. */
export interface PoolWorkload {
  /** `namespace/name`. */
  readonly id: string;
  /** Epoch seconds, ascending, at a regular interval. */
  readonly timestamps: readonly number[];
  /** Replicas decided at each timestamp (NaN or null where there was no decision). */
  readonly replicas: readonly (number | null)[];
  readonly pod: PodSize;
}

export interface NodeMixOptions {
  /** Percentile of the node need that sets the on-demand base, in [0, 1]. @default 0.05 */
  readonly floorPercentile?: number;
}

/** Cost of running a mix, per hour (mean over the window) and per month. */
export interface MixCost {
  readonly hourly: number;
  readonly monthly: number;
}

export interface NodeMixSuggestion {
  readonly workloads: readonly string[];
  /** The common grid the histories were put on. */
  readonly window: {
    readonly from: number;
    readonly to: number;
    readonly stepSeconds: number;
    readonly points: number;
  };
  /** Node need over the window. */
  readonly need: {
    readonly min: number;
    readonly floor: number;
    readonly median: number;
    readonly peak: number;
    readonly mean: number;
  };
  readonly floorPercentile: number;
  /** The suggestion: this many on-demand nodes, spot above. */
  readonly onDemandBase: number;
  /** Spot nodes above the base, mean and peak over the window. */
  readonly spotAbove: { readonly mean: number; readonly peak: number };
  readonly cost: {
    readonly allOnDemand: MixCost;
    readonly suggested: MixCost;
    readonly current?: MixCost;
  };
  /** Suggested minus the baseline (current when given, else all on-demand): negative is a saving. */
  readonly difference: {
    readonly against: 'current' | 'all-on-demand';
    readonly monthly: number;
    readonly share: number;
  };
}

/** Thrown for input the arithmetic cannot use; the message names the field. */
export class NodeMixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeMixError';
  }
}

/** The value at or before time t of a regular series (undefined before its first finite value). */
function holder(w: PoolWorkload): (t: number) => number | undefined {
  let i = 0;
  let last: number | undefined;
  // Called with non-decreasing t.
  return (t) => {
    while (i < w.timestamps.length && (w.timestamps[i] as number) <= t) {
      const v = w.replicas[i];
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0) last = v;
      i++;
    }
    return last;
  };
}

function intervalOf(timestamps: readonly number[]): number {
  let step = Infinity;
  for (let i = 1; i < timestamps.length; i++) {
    const d = (timestamps[i] as number) - (timestamps[i - 1] as number);
    if (d > 0 && d < step) step = d;
  }
  return step;
}

/** Nodes the pool needs at each grid point, on the common grid. */
export function nodeNeed(
  workloads: readonly PoolWorkload[],
  prices: Pick<PoolPrices, 'nodeCpuCores' | 'nodeMemoryBytes'>,
): { timestamps: number[]; nodes: number[]; stepSeconds: number } {
  if (!(prices.nodeCpuCores > 0))
    throw new NodeMixError(`node CPU: must be > 0 (got ${prices.nodeCpuCores})`);
  if (!(prices.nodeMemoryBytes > 0)) {
    throw new NodeMixError(`node memory: must be > 0 (got ${prices.nodeMemoryBytes})`);
  }
  const usable = workloads.filter((w) => w.timestamps.length > 0);
  if (usable.length === 0) return { timestamps: [], nodes: [], stepSeconds: NaN };
  const step = Math.min(...usable.map((w) => intervalOf(w.timestamps)));
  const from = Math.max(...usable.map((w) => w.timestamps[0] as number));
  const to = Math.min(...usable.map((w) => w.timestamps[w.timestamps.length - 1] as number));
  if (!(to >= from)) {
    throw new NodeMixError(
      `the workloads' histories do not overlap in time (${usable.map((w) => w.id).join(', ')})`,
    );
  }
  const stepSeconds = Number.isFinite(step) ? step : 60;
  const values = usable.map(holder);
  const timestamps: number[] = [];
  const nodes: number[] = [];
  for (let t = from; t <= to; t += stepSeconds) {
    let cpu = 0;
    let memory = 0;
    let known = true;
    for (const [k, w] of usable.entries()) {
      const r = (values[k] as (t: number) => number | undefined)(t);
      if (r === undefined) {
        known = false;
        continue;
      }
      cpu += r * w.pod.cpuCores;
      memory += r * w.pod.memoryBytes;
    }
    if (!known) continue;
    // A whisker of float noise must not cost a node: 4 × 0.25 cores is 1 node, not 2.
    const need = Math.max(
      Math.ceil(cpu / prices.nodeCpuCores - 1e-9),
      Math.ceil(memory / prices.nodeMemoryBytes - 1e-9),
      0,
    );
    timestamps.push(t);
    nodes.push(need);
  }
  return { timestamps, nodes, stepSeconds };
}

/** Nearest rank downwards: the largest value at or below which a share `p` of the sorted values lie. */
export function floorPercentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.floor(p * (sorted.length - 1))] as number;
}

/** Mean cost per hour of a mix over the need series. */
export function mixHourlyCost(
  nodes: readonly number[],
  onDemandBase: number,
  percentAboveBase: number,
  prices: Pick<PoolPrices, 'onDemandHourly' | 'spotHourly'>,
): number {
  if (nodes.length === 0) return 0;
  const share = percentAboveBase / 100;
  let total = 0;
  for (const n of nodes) {
    const base = Math.min(n, onDemandBase);
    const above = Math.max(0, n - onDemandBase);
    total +=
      base * prices.onDemandHourly +
      above * (share * prices.onDemandHourly + (1 - share) * prices.spotHourly);
  }
  return total / nodes.length;
}

const cost = (hourly: number): MixCost => ({ hourly, monthly: hourly * HOURS_PER_MONTH });

function checkPrices(prices: PoolPrices): void {
  for (const key of ['onDemandHourly', 'spotHourly'] as const) {
    if (!(prices[key] >= 0) || !Number.isFinite(prices[key])) {
      throw new NodeMixError(`${key}: must be a number ≥ 0 (got ${prices[key]})`);
    }
  }
  const c = prices.current;
  if (c) {
    if (!Number.isInteger(c.onDemandBase) || c.onDemandBase < 0) {
      throw new NodeMixError(`current.onDemandBase: must be an integer ≥ 0 (got ${c.onDemandBase})`);
    }
    if (!(c.onDemandPercentAboveBase >= 0 && c.onDemandPercentAboveBase <= 100)) {
      throw new NodeMixError(
        `current.onDemandPercentAboveBase: must be in [0, 100] (got ${c.onDemandPercentAboveBase})`,
      );
    }
  }
}

/** The suggestion for one pool; undefined when no workload has a decision in the window. */
export function suggestNodeMix(
  workloads: readonly PoolWorkload[],
  prices: PoolPrices,
  options: NodeMixOptions = {},
): NodeMixSuggestion | undefined {
  checkPrices(prices);
  const p = options.floorPercentile ?? 0.05;
  if (!(p >= 0 && p <= 1)) throw new NodeMixError(`floorPercentile: must be in [0, 1] (got ${p})`);
  const { timestamps, nodes, stepSeconds } = nodeNeed(workloads, prices);
  if (nodes.length === 0) return undefined;
  const sorted = [...nodes].sort((a, b) => a - b);
  const floor = floorPercentile(sorted, p);
  const mean = nodes.reduce((a, b) => a + b, 0) / nodes.length;
  const spot = nodes.map((n) => Math.max(0, n - floor));
  const allOnDemand = cost(mixHourlyCost(nodes, Infinity, 100, prices));
  const suggested = cost(mixHourlyCost(nodes, floor, 0, prices));
  const current = prices.current
    ? cost(mixHourlyCost(nodes, prices.current.onDemandBase, prices.current.onDemandPercentAboveBase, prices))
    : undefined;
  const baseline = current ?? allOnDemand;
  return {
    workloads: workloads.map((w) => w.id),
    window: {
      from: timestamps[0] as number,
      to: timestamps[timestamps.length - 1] as number,
      stepSeconds,
      points: nodes.length,
    },
    need: {
      min: sorted[0] as number,
      floor,
      median: floorPercentile(sorted, 0.5),
      peak: sorted[sorted.length - 1] as number,
      mean,
    },
    floorPercentile: p,
    onDemandBase: floor,
    spotAbove: { mean: spot.reduce((a, b) => a + b, 0) / spot.length, peak: Math.max(...spot) },
    cost: { allOnDemand, suggested, ...(current ? { current } : {}) },
    difference: {
      against: current ? 'current' : 'all-on-demand',
      monthly: suggested.monthly - baseline.monthly,
      share: baseline.monthly > 0 ? (suggested.monthly - baseline.monthly) / baseline.monthly : 0,
    },
  };
}

const CPU_QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)(m?)$/;
const MEMORY_QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P|)$/;
const MEMORY_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
};

/** A CPU amount in cores from a number of cores or a Kubernetes quantity (`250m`, `2`, `1.5`). */
export function parseCpu(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = CPU_QUANTITY.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) / (m[2] === 'm' ? 1000 : 1);
}

/** A memory amount in bytes from a number of bytes or a Kubernetes quantity (`512Mi`, `16Gi`, `1G`). */
export function parseMemory(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = MEMORY_QUANTITY.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * (MEMORY_UNITS[m[2] as string] as number);
}
