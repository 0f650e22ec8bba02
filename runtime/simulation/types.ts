/**
 * Contracts between the trace reader, the scaling policies and the what-if simulator.
 *
 * Time model (documented in runtime/README.md): row t covers one trace interval of Δ seconds. A policy
 * decides after seeing rows 0..t (never later rows); the decision sets the replica count from row t+1.
 * A replica added by the decision at row t serves from row t + 1 + ceil(startup / Δ) (it must be ready
 * before that interval starts); removed replicas stop at once, starting (not yet ready) ones first, as
 * the ReplicaSet controller deletes unready pods first.
 */

/** One row of a demand trace. */
export interface TraceRow {
  /** Start of the interval, epoch seconds (UTC). */
  readonly timestamp: number;
  /** Demand in the interval, in the trace's unit (e.g. requests per minute). May be NaN when missing. */
  readonly demand: number;
  /** 1-based line number in the source file, for error messages. */
  readonly line: number;
}

/** A parsed trace: rows in time order at a regular interval (gaps are allowed and reported). */
export interface Trace {
  readonly rows: readonly TraceRow[];
  /** The trace's interval Δ in seconds (the most common difference between consecutive timestamps). */
  readonly intervalSeconds: number;
  /** Where it came from (file path or a description). */
  readonly source: string;
  /**
   * Holes in the trace: places where consecutive rows are more than one interval apart. Rows are not
   * invented for them; the simulator treats the rows as consecutive.
   * @default [] (no gaps, or not computed)
   */
  readonly gaps?: readonly TraceGap[];
}

/** A hole between two consecutive rows of a trace. */
export interface TraceGap {
  /** Index of the row after which the hole starts (the next row is afterRow + 1). */
  readonly afterRow: number;
  /** Number of missing intervals (the time difference divided by the interval, minus one). */
  readonly missingRows: number;
  /** 1-based line of the row after the hole, for messages. */
  readonly line: number;
}

/** What every policy is told about the workload being scaled. */
export interface PolicyContext {
  /** Δ: seconds per trace row. */
  readonly intervalSeconds: number;
  /** Demand one replica serves in one interval at 100% utilisation. */
  readonly capacityPerReplica: number;
  /** Seconds from requesting a replica to it serving. */
  readonly startupSeconds: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /**
   * Replicas existing (and ready) when row 0 starts. The simulator always sets it; policies that model
   * an existing controller (the HPA) start from it.
   * @default clamp(ceil(first finite demand / capacityPerReplica), minReplicas, maxReplicas)
   */
  readonly initialReplicas?: number;
}

/**
 * A scaling policy fed one row at a time. `decide` returns the desired replica count after seeing this
 * row; it is called for rows 0, 1, 2, ... in order, exactly once each.
 */
export interface ScalingPolicy {
  readonly name: string;
  decide(row: TraceRow, index: number): number;
}

/** Builds a fresh policy for one run. The oracle is the only policy given the whole trace. */
export type PolicyFactory = (context: PolicyContext, trace: Trace) => ScalingPolicy;

/** Outcome measures of one simulated run, all counted in trace intervals. */
export interface RunMeasures {
  readonly policy: string;
  readonly rows: number;
  /** Rows where demand exceeded ready capacity (ready replicas × capacity). */
  readonly violationIntervals: number;
  /** Σ max(0, demand − ready capacity) / Σ demand (0 when there is no demand). */
  readonly unservedShare: number;
  /** Σ replicas existing in each row, starting ones included: the cost. */
  readonly replicaIntervals: number;
  /** Σ max(0, ready capacity − demand) / Σ ready capacity: the share of paid capacity left idle. */
  readonly overProvisioningShare: number;
  /** Number of decisions that changed the desired replica count. */
  readonly scalingChanges: number;
}

/** A run: the per-row decisions and the measures. */
export interface RunResult {
  readonly measures: RunMeasures;
  /** desired replicas after each row (same length as the trace). */
  readonly desired: readonly number[];
  /** ready replicas serving each row. */
  readonly ready: readonly number[];
}
