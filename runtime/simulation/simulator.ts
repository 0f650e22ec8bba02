/**
 * The what-if simulator: replays a trace through a scaling policy and measures the outcome.
 *
 * Time model (see types.ts): row t is served by the replicas that are ready at row t. The policy sees
 * rows 0..t and its decision at row t sets the replica count from row t + 1. Added replicas become ready at
 * row t + 1 + ceil(startup / Δ); removals happen at once, starting (not yet ready) replicas first, newest
 * first. Replicas are tracked as a queue of (readyRow, count) batches, so a run is O(rows).
 */
import type { PolicyContext, PolicyFactory, RunMeasures, RunResult, Trace, TraceRow } from './types.js';

/** Options of one simulated run. */
export interface SimulateOptions {
  /**
   * Ready replicas serving row 0.
   * @default clamp(ceil(first finite demand / capacityPerReplica), minReplicas, maxReplicas)
   */
  readonly initialReplicas?: number;
}

/** Demand as the measures count it: missing (NaN), infinite and negative values count as no demand. */
export function measuredDemand(demand: number): number {
  return Number.isFinite(demand) && demand > 0 ? demand : 0;
}

/** clamp(ceil(first finite, non-negative demand / capacity), min, max); min when there is none. */
export function defaultInitialReplicas(trace: Trace, context: PolicyContext): number {
  const first = trace.rows.find((r) => Number.isFinite(r.demand) && r.demand >= 0);
  const need = first ? Math.ceil(first.demand / context.capacityPerReplica) : 0;
  return clampReplicas(need, context);
}

/** Clamps a replica count to [minReplicas, maxReplicas]. */
export function clampReplicas(replicas: number, context: PolicyContext): number {
  return Math.min(context.maxReplicas, Math.max(context.minReplicas, replicas));
}

/** Rows from a decision to the replicas it adds being ready: 1 + ceil(startup / Δ). */
export function readyDelayRows(context: PolicyContext): number {
  return 1 + Math.ceil(context.startupSeconds / context.intervalSeconds);
}

function checkContext(context: PolicyContext): void {
  const positive = (name: keyof PolicyContext): void => {
    const v = context[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new RangeError(`context.${name}: must be a positive number (got ${String(v)})`);
    }
  };
  positive('intervalSeconds');
  positive('capacityPerReplica');
  if (!Number.isFinite(context.startupSeconds) || context.startupSeconds < 0) {
    throw new RangeError(
      `context.startupSeconds: must be a non-negative number (got ${context.startupSeconds})`,
    );
  }
  if (!Number.isInteger(context.minReplicas) || context.minReplicas < 0) {
    throw new RangeError(`context.minReplicas: must be a non-negative integer (got ${context.minReplicas})`);
  }
  if (!Number.isInteger(context.maxReplicas) || context.maxReplicas < context.minReplicas) {
    throw new RangeError(
      `context.maxReplicas: must be an integer not below minReplicas (${context.minReplicas}) (got ${context.maxReplicas})`,
    );
  }
}

/** 2^⌊log2(largest measured demand)⌋ (1 without demand), the exponent kept where 2^k is a normal number. */
function demandScale(trace: Trace): number {
  let max = 0;
  for (const row of trace.rows) max = Math.max(max, measuredDemand(row.demand));
  if (max === 0) return 1;
  return 2 ** Math.min(1023, Math.max(-1022, Math.floor(Math.log2(max))));
}

/**
 * Runs `factory`'s policy over `trace`. `context.intervalSeconds` must be the trace's Δ;
 * `initialReplicas` is filled in before the factory is called.
 * @throws RangeError when the context is invalid or the policy returns something that is not a
 *   non-negative integer (a policy bug).
 */
export function simulate(
  trace: Trace,
  factory: PolicyFactory,
  context: PolicyContext,
  options: SimulateOptions = {},
): RunResult {
  checkContext(context);
  if (context.intervalSeconds !== trace.intervalSeconds) {
    throw new RangeError(
      `context.intervalSeconds: must equal the trace's interval (${trace.intervalSeconds}) (got ${context.intervalSeconds})`,
    );
  }
  const initial =
    options.initialReplicas ?? context.initialReplicas ?? defaultInitialReplicas(trace, context);
  if (!Number.isInteger(initial) || initial < 0) {
    throw new RangeError(`initialReplicas: must be a non-negative integer (got ${initial})`);
  }
  const ctx: PolicyContext = { ...context, initialReplicas: initial };
  const policy = factory(ctx, trace);
  const delay = readyDelayRows(ctx);
  const cap = ctx.capacityPerReplica;
  const n = trace.rows.length;

  // Starting replicas: parallel arrays used as a queue; head = oldest batch (earliest readyRow).
  const batchReady: number[] = [];
  const batchCount: number[] = [];
  let head = 0;
  let ready = initial;
  let starting = 0;
  let previousDesired = initial;

  const desired = new Array<number>(n);
  const readySeries = new Array<number>(n);
  let violations = 0;
  // Demand sums in units of a power of two near the largest demand: exact (the same share as plain
  // sums), and a trace of demands near Number.MAX_VALUE cannot sum to Infinity (a NaN share).
  const scale = demandScale(trace);
  let unserved = 0;
  let totalDemand = 0;
  // Idle and total capacity in replicas (not demand units): ready × capacity summed over the rows
  // overflows to Infinity for a huge capacity, and Infinity / Infinity would be a NaN share.
  let idleReplicas = 0;
  let readyReplicas = 0;
  let replicaIntervals = 0;
  let changes = 0;

  for (let t = 0; t < n; t++) {
    // Batches whose ready row has come join the serving replicas.
    while (head < batchReady.length && (batchReady[head] as number) <= t) {
      const c = batchCount[head] as number;
      ready += c;
      starting -= c;
      head++;
    }
    const row = trace.rows[t] as TraceRow;
    const d = measuredDemand(row.demand);
    const capacity = ready * cap;
    if (d > capacity) violations++;
    unserved += Math.max(0, d - capacity) / scale;
    idleReplicas += Math.max(0, ready - d / cap);
    totalDemand += d / scale;
    readyReplicas += ready;
    replicaIntervals += ready + starting;
    readySeries[t] = ready;

    const raw = policy.decide(row, t);
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0) {
      throw new RangeError(
        `policy ${policy.name}: decision at row ${t} (line ${row.line}) must be a non-negative integer (got ${String(raw)})`,
      );
    }
    const want = clampReplicas(raw, ctx);
    desired[t] = want;
    if (want !== previousDesired) changes++;
    previousDesired = want;

    const existing = ready + starting;
    if (want > existing) {
      batchReady.push(t + delay);
      batchCount.push(want - existing);
      starting += want - existing;
    } else if (want < existing) {
      let remove = existing - want;
      // Starting replicas go first, newest first.
      while (remove > 0 && batchReady.length > head) {
        const last = batchReady.length - 1;
        const c = batchCount[last] as number;
        const take = Math.min(c, remove);
        remove -= take;
        starting -= take;
        if (take === c) {
          batchReady.pop();
          batchCount.pop();
        } else {
          batchCount[last] = c - take;
        }
      }
      ready -= remove;
    }
    if (head > 1024 && head * 2 > batchReady.length) {
      batchReady.splice(0, head);
      batchCount.splice(0, head);
      head = 0;
    }
  }

  const measures: RunMeasures = {
    policy: policy.name,
    rows: n,
    violationIntervals: violations,
    unservedShare: totalDemand > 0 ? unserved / totalDemand : 0,
    replicaIntervals,
    overProvisioningShare: readyReplicas > 0 ? idleReplicas / readyReplicas : 0,
    scalingChanges: changes,
  };
  return { measures, desired, ready: readySeries };
}

/** A measure-by-measure comparison of a run against a baseline run (e.g. predictive against hpa). */
export interface RunComparison {
  readonly policy: string;
  readonly baseline: string;
  /** violationIntervals / baseline's (Infinity when the baseline has none and this run has some; 1 when both 0). */
  readonly violationRatio: number;
  /** replicaIntervals / baseline's. */
  readonly costRatio: number;
  /**
   * Share of the baseline-to-lower-bound cost gap this run closes:
   * (baseline cost − cost) / (baseline cost − lower-bound cost). NaN without a lower bound or when the gap is 0.
   */
  readonly costGapClosed: number;
}

/** Compares `run` with `baseline`; `lowerBound` (e.g. the oracle) gives the cost gap. */
export function compareRuns(
  run: RunMeasures,
  baseline: RunMeasures,
  lowerBound?: RunMeasures,
): RunComparison {
  const ratio = (a: number, b: number): number => (b === 0 ? (a === 0 ? 1 : Infinity) : a / b);
  const gap = lowerBound ? baseline.replicaIntervals - lowerBound.replicaIntervals : 0;
  return {
    policy: run.policy,
    baseline: baseline.policy,
    violationRatio: ratio(run.violationIntervals, baseline.violationIntervals),
    costRatio: ratio(run.replicaIntervals, baseline.replicaIntervals),
    costGapClosed: gap !== 0 ? (baseline.replicaIntervals - run.replicaIntervals) / gap : NaN,
  };
}
