/**
 * Every workload the runtime decides for: its engine, fed from the history source, and the decision
 * served to KEDA. KEDA round-robins calls across runtime replicas, so a decision must not depend on
 * which replica answers. It depends only on (workload spec, settled history on a fixed grid):
 *
 * - time is cut into the workload's interval Δ; the newest point used at wall time `now` is
 *   E = floor((now - settle) / Δ)·Δ, so values still changing in Prometheus are never used;
 * - an engine learns from an anchor A = floor((E - grace) / epoch)·epoch - history onwards, the same on
 *   every replica, and is rebuilt from a fresh backfill when the anchor moves (once per epoch); the new
 *   engine is built in the background during the grace period and takes over exactly when A changes.
 *
 * gRPC handlers never wait on the source: they read the last decision (sub-millisecond). When the
 * source fails, the last good decision is served for `staleAfterSeconds` (state `stale`), then held
 * (state `holding`): the runtime keeps asking for what it last asked for and never scales down on
 * missing data. A workload with no decision yet answers "unavailable", which makes the HPA keep the
 * current replica count.
 */
import { EventEmitter } from 'node:events';
import type { Decision } from '../engine/workload-engine.js';
import { WorkloadEngine } from '../engine/workload-engine.js';
import type { HistorySource, Series, SourceFailureKind } from './history/history-source.js';
import { SourceError } from './history/history-source.js';
import { AnomalyLog, DecisionLog } from './decision-log.js';
import type { MemoryGuard } from './memory-guard.js';
import type { RuntimeMetrics } from './metrics.js';
import type { DemandSpec, HeadroomSpec, WorkloadRef, WorkloadSpec } from './workload-spec.js';
import { specKey } from './workload-spec.js';

/** How a workload's decision relates to its source. */
export type ServingState = 'backfilling' | 'fresh' | 'stale' | 'holding' | 'failed';

export interface RegistryOptions {
  /** Sources by the spec's `source` name. */
  readonly sources: Readonly<Partial<Record<DemandSpec['source'], HistorySource>>>;
  /** Wall clock in milliseconds. */
  readonly clock?: () => number;
  readonly historySeconds: number;
  readonly settleSeconds: number;
  readonly refitEpochSeconds: number;
  readonly staleAfterSeconds: number;
  /** Time after an epoch boundary for the next engine to be built. @default min(600, epoch / 4) */
  readonly refitGraceSeconds?: number;
  /**
   * Points kept per workload for the API's chart: 12 bytes each, 16 where the engine keeps fewer
   * points of demand than this (below a minute, and at 30 minutes and coarser). @default 360
   */
  readonly chartPoints?: number;
  /** Decisions kept per workload for the API's log. @default 100 */
  readonly decisionLog?: number;
  /** History queries running at once. @default 8 */
  readonly concurrency?: number;
  readonly metrics?: RuntimeMetrics;
  /** Refuses new demand workloads when memory runs short. @default none: every workload is admitted */
  readonly memory?: MemoryGuard;
}

/** One entry of a workload's decision log. */
export interface LoggedDecision {
  readonly timestamp: number;
  readonly desiredReplicas: number;
  readonly rule: Decision['rule'];
  readonly summary: string;
  readonly state: ServingState;
}

/** What the API shows about a workload. */
export interface WorkloadStatus {
  readonly namespace: string;
  readonly name: string;
  readonly kind: WorkloadSpec['kind'];
  readonly spec: WorkloadSpec;
  readonly state: ServingState;
  /** Value served to KEDA (replicas; headroom pods for a headroom workload); undefined before the first. */
  readonly value: number | undefined;
  readonly decision: Decision | undefined;
  readonly lastError:
    | { readonly kind: SourceFailureKind | 'internal'; readonly message: string; readonly at: number }
    | undefined;
  /** Epoch seconds of the newest point fed to the engine. */
  readonly lastPoint: number | undefined;
  /** Seconds the source has been failing, 0 when healthy. */
  readonly failingForSeconds: number;
}

/** A workload refused for lack of memory (KEDA asks again on every poll, so it stays listed while it does). */
export interface RefusedWorkload {
  readonly namespace: string;
  readonly name: string;
  readonly reason: string;
  /** Epoch seconds of the latest refusal. */
  readonly at: number;
}

/** Chart data: demand points, and the forecast band made at each decision. */
export interface WorkloadHistory {
  readonly timestamps: readonly number[];
  readonly demand: readonly number[];
  readonly forecast: readonly number[];
  readonly upper: readonly number[];
  readonly replicas: readonly number[];
  readonly anomalies: readonly { timestamp: number; state: string; score: number }[];
  readonly decisions: readonly LoggedDecision[];
}

/** No decision exists yet for the workload (history still loading, or the source never answered). */
export class NotReadyError extends Error {
  constructor(
    ref: WorkloadRef,
    readonly reason: string,
  ) {
    super(`${ref.namespace}/${ref.name}: ${reason}`);
    this.name = 'NotReadyError';
  }
}

/** A fixed ring of Float32 chart values (a view: a workload's rings share one buffer). */
class Ring {
  private start = 0;
  length = 0;
  readonly capacity: number;
  constructor(private readonly data: Float32Array) {
    this.capacity = data.length;
  }
  push(value: number): void {
    if (this.length < this.capacity) {
      this.data[(this.start + this.length) % this.capacity] = value;
      this.length++;
    } else {
      this.data[this.start] = value;
      this.start = (this.start + 1) % this.capacity;
    }
  }
  at(i: number): number {
    return this.data[(this.start + i) % this.capacity] as number;
  }
  toArray(): number[] {
    return Array.from({ length: this.length }, (_, i) => this.at(i));
  }
  get bytes(): number {
    return this.data.byteLength;
  }
}

interface EngineRun {
  readonly anchor: number;
  readonly engine: WorkloadEngine;
  /** Newest timestamp fed (epoch s); anchor - Δ before the first point. */
  fedThrough: number;
}

class DemandWorkload {
  readonly key: string;
  current: EngineRun | undefined;
  next: EngineRun | undefined;
  served: Decision | undefined;
  state: ServingState = 'backfilling';
  lastError: WorkloadStatus['lastError'];
  failingSince: number | undefined;
  busy: Promise<void> | undefined;
  /**
   * Per grid step up to the newest point: the forecast and decision made there (NaN for steps without
   * a point). Times follow from `chartEnd`. Demand comes from the engine's own history where it holds
   * the whole chart, so it is not stored twice; where it holds less (below a minute it keeps minutes
   * of points), `demand` keeps what the engine saw at each step (NaN for gaps and broken signals).
   */
  readonly chart: { demand: Ring | undefined; forecast: Ring; upper: Ring; replicas: Ring };
  chartEnd = Number.NaN;
  readonly anomalies = new AnomalyLog(ANOMALY_LOG_SIZE);
  readonly log: DecisionLog;
  /** (timestamp, lead peak) of recent decisions, to score them once the lead time has passed. */
  readonly pendingForecasts: { timestamp: number; peak: number }[] = [];
  lastActive = false;
  anomalyState: string | undefined;
  /** Bytes reserved with the memory guard until the first backfill has run. */
  reserved = 0;

  constructor(
    readonly ref: WorkloadRef,
    readonly spec: DemandSpec,
    chartPoints: number,
    logSize: number,
    /** The engine made at admission (to size it), used for the first run. */
    public spare: WorkloadEngine | undefined,
  ) {
    this.key = specKey(spec);
    this.log = new DecisionLog(logSize);
    const keepDemand = spare !== undefined && spare.historyPoints < chartPoints;
    const buffer = new ArrayBuffer((keepDemand ? 4 : 3) * 4 * chartPoints);
    this.chart = {
      forecast: new Ring(new Float32Array(buffer, 0, chartPoints)),
      upper: new Ring(new Float32Array(buffer, 4 * chartPoints, chartPoints)),
      replicas: new Ring(new Float32Array(buffer, 8 * chartPoints, chartPoints)),
      demand: keepDemand ? new Ring(new Float32Array(buffer, 12 * chartPoints, chartPoints)) : undefined,
    };
  }

  /** Bytes of the chart's rings. */
  get chartBytes(): number {
    return (this.chart.demand ? 4 : 3) * this.chart.forecast.bytes;
  }

  get interval(): number {
    return this.spec.engine.intervalSeconds;
  }
}

class HeadroomWorkload {
  readonly key: string;
  constructor(
    readonly ref: WorkloadRef,
    readonly spec: HeadroomSpec,
  ) {
    this.key = specKey(spec);
  }
}

type Tracked = DemandWorkload | HeadroomWorkload;

const id = (ref: WorkloadRef): string => `${ref.namespace}/${ref.name}`;

/** Most points of history a backfill loads (14 days at 1 minute). */
export const MAX_HISTORY_POINTS = 20_160;
/** Most points between two refits (a day at 1 minute). */
export const MAX_EPOCH_POINTS = 1_440;

/**
 * Milliseconds of registry work (backfills, ticks) between two turns of the event loop, shared by all
 * jobs: a gRPC answer waits at most about this long behind them.
 */
const SLICE_MS = 1;

/**
 * Resident bytes a demand workload takes beyond the state `bytes` counts (its objects, gauges, the
 * scaler's table entry, allocator overhead): 14.5–23.8 KiB measured in the scaler benchmark's 512 MiB
 * cgroup at 1-minute and 10-second intervals. Only reservations for workloads still loading use it.
 */
const WORKLOAD_OVERHEAD_BYTES = 24 * 1024;
/** A refusal is listed this long after the latest (KEDA polls every 30 s by default). */
const REFUSAL_TTL_SECONDS = 600;
/** Most refusals listed (the oldest go first). */
const MAX_REFUSALS = 1_000;
/** Bytes per decision-log and anomaly-log entry once the logs fill. */
const LOG_ENTRY_BYTES = 32;
const ANOMALY_LOG_SIZE = 200;

/** 32-bit FNV-1a: a stable, platform-independent hash of a workload's name. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Emits `active` (ref) when a workload turns active, for KEDA's StreamIsActive, `decision`
 * (ref, Decision) for every decision published (the structured decision log), and `state`
 * (ref, state, previous) when a workload's state changes, e.g. to `stale` while no decision is made
 * (the dashboard's live view and the log show the degradation when it happens), `removed` (ref)
 * when a workload stops being tracked, and `refused` (ref) when a workload starts being refused for
 * memory (once, not on each of KEDA's retries while it stays in `refused()`).
 */
export class WorkloadRegistry extends EventEmitter {
  private readonly workloads = new Map<string, Tracked>();
  /** Latest refusal per workload, oldest first. */
  private readonly refusals = new Map<string, RefusedWorkload>();
  private readonly clock: () => number;
  private readonly grace: number;
  private readonly chartPoints: number;
  private readonly logSize: number;
  private readonly queue: (() => Promise<void>)[] = [];
  private running = 0;
  private readonly concurrency: number;
  /** End of the current slice of work (performance.now()), and the wait for the next one. */
  private sliceEnd = 0;
  private nextSlice: Promise<void> | undefined;

  constructor(private readonly options: RegistryOptions) {
    super();
    this.setMaxListeners(0);
    this.clock = options.clock ?? Date.now;
    this.grace = options.refitGraceSeconds ?? Math.min(600, options.refitEpochSeconds / 4);
    this.chartPoints = options.chartPoints ?? 360;
    this.logSize = options.decisionLog ?? 100;
    this.concurrency = options.concurrency ?? 8;
    options.metrics?.measureStateBytes(() => this.bytes);
  }

  get size(): number {
    return this.workloads.size;
  }

  /**
   * Starts tracking `ref` with `spec` (idempotent; a changed spec replaces the engine). Demand
   * workloads begin their backfill at once; the returned promise settles when it is done.
   */
  register(ref: WorkloadRef, spec: WorkloadSpec): Promise<void> {
    const existing = this.workloads.get(id(ref));
    // The scaler passes the same spec object on every call: no need to serialise it again.
    const key = existing?.spec === spec ? existing.key : specKey(spec);
    if (existing && existing.key === key) {
      return existing instanceof DemandWorkload ? (existing.busy ?? Promise.resolve()) : Promise.resolve();
    }
    // A changed spec replaces the workload and frees its state: its reservation goes with it.
    this.release(existing);
    if (spec.kind === 'headroom') {
      this.workloads.set(id(ref), new HeadroomWorkload(ref, spec));
      this.options.metrics?.workloads.set(this.workloads.size);
      return Promise.resolve();
    }
    if (!this.options.sources[spec.source]) {
      throw new NotReadyError(ref, `history source "${spec.source}" is not configured in this runtime`);
    }
    let engine: WorkloadEngine | undefined;
    let footprint = 0;
    if (this.options.memory) {
      // A changed spec replaces a workload already admitted: it is not refused.
      const refusal = this.options.memory.reserve(() => {
        engine = new WorkloadEngine(spec.engine);
        const chartSeries = engine.historyPoints < this.chartPoints ? 4 : 3;
        footprint =
          engine.bytes +
          chartSeries * 4 * this.chartPoints +
          LOG_ENTRY_BYTES * (this.logSize + ANOMALY_LOG_SIZE) +
          WORKLOAD_OVERHEAD_BYTES;
        return footprint;
      });
      if (refusal !== undefined && !existing) {
        this.options.metrics?.workloadsRefused.inc();
        this.noteRefusal(ref, refusal);
        throw new NotReadyError(ref, refusal);
      }
      this.refusals.delete(id(ref));
      if (refusal !== undefined) footprint = 0;
    }
    // Built now (if admission did not) so the chart knows whether the engine holds its demand.
    engine ??= new WorkloadEngine(spec.engine);
    const workload = new DemandWorkload(ref, spec, this.chartPoints, this.logSize, engine);
    workload.reserved = footprint;
    this.workloads.set(id(ref), workload);
    this.options.metrics?.workloads.set(this.workloads.size);
    return this.refresh(workload);
  }

  /**
   * The first backfill of `ref` while it runs (no decision yet, the source not failing); undefined
   * otherwise. The scaler waits on it, bounded, rather than answer UNAVAILABLE to a call that came
   * just after KEDA's GetMetricSpec registered the workload.
   */
  firstBackfill(ref: WorkloadRef): Promise<void> | undefined {
    const w = this.workloads.get(id(ref));
    if (!(w instanceof DemandWorkload) || w.served || w.failingSince !== undefined) return undefined;
    return w.busy;
  }

  /** Workloads refused for memory in the last ten minutes, by namespace and name. */
  refused(): RefusedWorkload[] {
    const since = this.clock() / 1000 - REFUSAL_TTL_SECONDS;
    for (const [key, r] of this.refusals) if (r.at < since) this.refusals.delete(key);
    return [...this.refusals.values()].sort((a, b) =>
      `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
    );
  }

  private noteRefusal(ref: WorkloadRef, reason: string): void {
    const key = id(ref);
    const known = this.refusals.delete(key);
    this.refusals.set(key, {
      namespace: ref.namespace,
      name: ref.name,
      reason,
      at: Math.floor(this.clock() / 1000),
    });
    if (this.refusals.size > MAX_REFUSALS) this.refusals.delete(this.refusals.keys().next().value as string);
    if (!known) this.emit('refused', ref);
  }

  /** Stops tracking (the ScaledObject is gone). */
  unregister(ref: WorkloadRef): void {
    const w = this.workloads.get(id(ref));
    if (!w) return;
    this.workloads.delete(id(ref));
    this.release(w);
    this.options.metrics?.workloads.set(this.workloads.size);
    this.emit('removed', ref);
  }

  has(ref: WorkloadRef): boolean {
    return this.workloads.has(id(ref));
  }

  refs(): WorkloadRef[] {
    return [...this.workloads.values()].map((w) => w.ref);
  }

  /** The newest settled point at `nowMs` for interval Δ. */
  settledEnd(intervalSeconds: number, nowMs: number = this.clock()): number {
    const now = nowMs / 1000 - this.options.settleSeconds;
    return Math.floor(now / intervalSeconds) * intervalSeconds;
  }

  /**
   * The engine anchor in force for newest point `end`. Each workload's epochs are shifted by a hash of
   * its name, so refits (a second engine during the grace period, and its backfill) are spread over
   * the epoch instead of all landing at midnight; the shift is the same on every replica.
   */
  anchorFor(end: number, intervalSeconds: number, ref?: WorkloadRef): number {
    const { epoch, grace, history } = this.windowsFor(intervalSeconds);
    const offset = ref
      ? (fnv1a(id(ref)) % Math.max(1, Math.floor(epoch / intervalSeconds))) * intervalSeconds
      : 0;
    const a = Math.floor((end - grace - offset) / epoch) * epoch + offset - history;
    return Math.floor(a / intervalSeconds) * intervalSeconds;
  }

  /**
   * History, refit epoch and grace for interval Δ, in seconds. Short intervals are capped in points
   * (a backfill is at most MAX_HISTORY_POINTS + MAX_EPOCH_POINTS points), so a 1-second workload does
   * not replay 14 days of seconds: the engine keeps at most a week of points anyway.
   */
  windowsFor(intervalSeconds: number): { epoch: number; grace: number; history: number } {
    const epoch = Math.min(this.options.refitEpochSeconds, MAX_EPOCH_POINTS * intervalSeconds);
    return {
      epoch,
      grace: Math.min(this.grace, epoch / 4),
      history: Math.min(this.options.historySeconds, MAX_HISTORY_POINTS * intervalSeconds),
    };
  }

  /** Brings every demand workload up to date (called on a timer; safe to call concurrently). */
  async tick(): Promise<void> {
    // A few workers walk the workloads: a tick over 10,000 of them neither builds 10,000 promises at
    // once nor queues more than the concurrency limit lets run.
    const workloads = [...this.workloads.values()];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < workloads.length) {
        const w = workloads[next++];
        if (w instanceof DemandWorkload) await this.refresh(w);
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, worker));
    this.updateHeadroomMetric();
  }

  /**
   * The value served to KEDA for `ref` now: replicas for a demand workload, pods for a headroom one.
   * Throws NotReadyError when there is nothing to serve yet.
   */
  value(ref: WorkloadRef): { value: number; active: boolean; state: ServingState } {
    const w = this.workloads.get(id(ref));
    if (!w) throw new NotReadyError(ref, 'not registered');
    if (w instanceof HeadroomWorkload) {
      const pods = this.headroomFor(w.spec.nodePool);
      return { value: pods, active: pods > 0, state: 'fresh' };
    }
    this.updateState(w);
    if (!w.served) {
      throw new NotReadyError(
        w.ref,
        w.lastError
          ? `no decision yet: history source failing (${w.lastError.kind}: ${w.lastError.message})`
          : 'no decision yet: loading history',
      );
    }
    return { value: w.served.desiredReplicas, active: w.served.desiredReplicas > 0, state: w.state };
  }

  /** Predicted extra pods over the node-provisioning horizon for the workloads on `nodePool`. */
  headroomFor(nodePool: string): number {
    let pods = 0;
    for (const w of this.workloads.values()) {
      if (w instanceof DemandWorkload && w.spec.nodePool === nodePool && w.served)
        pods += w.served.headroomPods;
    }
    return pods;
  }

  /** Marks a workload active at once (the scale-to-zero resolver holds a request for it). */
  wake(ref: WorkloadRef): boolean {
    if (!this.workloads.has(id(ref))) return false;
    this.emit('active', ref);
    return true;
  }

  status(ref: WorkloadRef): WorkloadStatus | undefined {
    const w = this.workloads.get(id(ref));
    if (!w) return undefined;
    const now = this.clock();
    if (w instanceof HeadroomWorkload) {
      return {
        namespace: w.ref.namespace,
        name: w.ref.name,
        kind: 'headroom',
        spec: w.spec,
        state: 'fresh',
        value: this.headroomFor(w.spec.nodePool),
        decision: undefined,
        lastError: undefined,
        lastPoint: undefined,
        failingForSeconds: 0,
      };
    }
    this.updateState(w);
    return {
      namespace: w.ref.namespace,
      name: w.ref.name,
      kind: 'demand',
      spec: w.spec,
      state: w.state,
      value: w.served?.desiredReplicas,
      decision: w.served,
      lastError: w.lastError,
      lastPoint: w.current && w.current.fedThrough >= w.current.anchor ? w.current.fedThrough : undefined,
      failingForSeconds: w.failingSince === undefined ? 0 : Math.max(0, (now - w.failingSince) / 1000),
    };
  }

  list(): WorkloadStatus[] {
    return [...this.workloads.values()]
      .map((w) => this.status(w.ref) as WorkloadStatus)
      .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  }

  history(ref: WorkloadRef): WorkloadHistory | undefined {
    const w = this.workloads.get(id(ref));
    if (!(w instanceof DemandWorkload)) return undefined;
    const n = w.chart.forecast.length;
    const engine = w.current?.engine;
    const end = w.chartEnd;
    const demand = w.chart.demand
      ? w.chart.demand.toArray()
      : engine && engine.timestamp === end
        ? engine.recentDemand(n)
        : new Array<number>(n).fill(NaN);
    return {
      timestamps: Array.from({ length: n }, (_, i) => end - (n - 1 - i) * w.interval),
      demand,
      forecast: w.chart.forecast.toArray(),
      upper: w.chart.upper.toArray(),
      replicas: w.chart.replicas.toArray(),
      anomalies: w.anomalies.toArray(),
      decisions: w.log.toArray(),
    };
  }

  /** Bytes held for all workloads (engines, charts, decision logs): `elasticai_workload_state_bytes`. */
  get bytes(): number {
    let total = 0;
    for (const w of this.workloads.values()) {
      if (!(w instanceof DemandWorkload)) continue;
      total += (w.current?.engine.bytes ?? 0) + (w.next?.engine.bytes ?? 0);
      total += w.chartBytes + w.log.bytes + w.anomalies.bytes;
    }
    return total;
  }

  // ---- internals ----

  private refresh(w: DemandWorkload): Promise<void> {
    if (w.busy) return w.busy;
    const run = this.limited(() => this.catchUp(w)).finally(() => {
      w.busy = undefined;
    });
    w.busy = run;
    return run;
  }

  /** Runs `job` when fewer than `concurrency` source queries are in flight. */
  private limited(job: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const start = (): void => {
        this.running++;
        // Yield to I/O first: a tick over thousands of workloads must not hold gRPC answers back.
        this.pause()
          .then(job)
          .catch(() => undefined)
          .finally(() => {
            this.running--;
            resolve();
            this.queue.shift()?.();
          });
      };
      if (this.running < this.concurrency) start();
      else this.queue.push(async () => start());
    });
  }

  /**
   * Resolves once the current slice has time left, after letting the event loop turn (I/O, so gRPC
   * calls, goes first) when it has none. One wait is shared by every job, so however many jobs are
   * running, the loop does at most about SLICE_MS of their work per turn.
   */
  private async pause(): Promise<void> {
    while (performance.now() >= this.sliceEnd) {
      this.nextSlice ??= new Promise<void>((resolve) =>
        setImmediate(() => {
          this.nextSlice = undefined;
          this.sliceEnd = performance.now() + SLICE_MS;
          resolve();
        }),
      );
      await this.nextSlice;
    }
  }

  private async catchUp(w: DemandWorkload): Promise<void> {
    if (this.workloads.get(id(w.ref)) !== w) return; // replaced or removed meanwhile
    const Δ = w.interval;
    const end = this.settledEnd(Δ);
    const inForce = this.anchorFor(end, Δ, w.ref);
    const upcoming = this.anchorFor(end + this.windowsFor(Δ).grace, Δ, w.ref);
    try {
      if (!w.current || w.current.anchor < inForce) {
        // First backfill, or the anchor moved and the next engine was not ready: build in force now.
        w.current = w.next && w.next.anchor === inForce ? w.next : this.newRun(w, inForce);
        w.next = undefined;
      }
      await this.feed(w, w.current, end, true);
      if (upcoming !== inForce) {
        w.next ??= this.newRun(w, upcoming);
        await this.feed(w, w.next, end, false);
      }
      this.recover(w);
    } catch (error) {
      this.fail(w, error);
    }
    // Its state is filled now (or the source failed, and it stays small): memory shows what it takes.
    this.release(w);
    this.updateState(w);
  }

  private newRun(w: DemandWorkload, anchor: number): EngineRun {
    const engine = w.spare ?? new WorkloadEngine(w.spec.engine);
    w.spare = undefined;
    return { anchor, engine, fedThrough: anchor - w.interval };
  }

  /** Gives back `w`'s memory reservation (its first backfill ran, or it is gone). */
  private release(w: Tracked | undefined): void {
    if (!(w instanceof DemandWorkload) || w.reserved === 0) return;
    this.options.memory?.release(w.reserved);
    w.reserved = 0;
  }

  /** Queries (fedThrough, end] and feeds it; `serve` publishes the decision. */
  private async feed(w: DemandWorkload, run: EngineRun, end: number, serve: boolean): Promise<void> {
    const Δ = w.interval;
    if (run.fedThrough >= end) return;
    const source = this.options.sources[w.spec.source] as HistorySource;
    const started = this.clock();
    let series: Series;
    try {
      series = await source.queryRange({
        query: w.spec.query,
        start: run.fedThrough + Δ,
        end,
        stepSeconds: Δ,
      });
    } finally {
      this.options.metrics?.sourceLatency.observe({ source: source.name }, (this.clock() - started) / 1000);
    }
    let fed = false;
    let last: Decision | undefined;
    const chartFrom = end - this.chartPoints * Δ;
    for (let i = 0; i < series.timestamps.length; i++) {
      const t = series.timestamps[i] as number;
      if (t <= run.fedThrough || t > end) continue;
      if (performance.now() >= this.sliceEnd) {
        // A long backfill (a refit replays up to 14 days) goes in slices; the engine sees the same
        // points in the same order, so its decisions do not change.
        await this.pause();
        if (this.workloads.get(id(w.ref)) !== w) return; // replaced or removed meanwhile
      }
      const v = series.values[i] as number;
      run.engine.observe(t, v);
      run.fedThrough = t;
      fed = true;
      // The policy is stateful (stabilization window): every replica decides on every point, so the
      // state after a backfill equals the state of a replica that has been running all along.
      last = run.engine.decide();
      if (serve && t > chartFrom) this.record(w, t, v, run.engine.lastDemand, last);
    }
    // Steps with no sample up to `end` are gaps: the engine sees them when the next point arrives.
    if (!fed && serve && series.timestamps.length === 0 && run.fedThrough < end - 10 * Δ) {
      // Nothing at all in range: the query matches no series (or the target is down for long).
      throw new SourceError(
        'query-error',
        `query returned no samples between ${run.fedThrough + Δ} and ${end}`,
      );
    }
    if (serve && last) this.publish(w, last);
  }

  /** Keeps chart, log, forecast-error and anomaly data for the point at `t`. */
  private record(w: DemandWorkload, t: number, value: number, demand: number, d: Decision): void {
    if (Number.isFinite(w.chartEnd)) {
      const missing = Math.min(w.chart.forecast.capacity, Math.round((t - w.chartEnd) / w.interval) - 1);
      for (let i = 0; i < missing; i++) {
        w.chart.demand?.push(NaN);
        w.chart.forecast.push(NaN);
        w.chart.upper.push(NaN);
        w.chart.replicas.push(NaN);
      }
    }
    w.chartEnd = t;
    w.chart.demand?.push(demand);
    w.chart.forecast.push(d.forecast.leadPeak);
    w.chart.upper.push(d.forecast.upper);
    w.chart.replicas.push(d.desiredReplicas);
    if (d.anomaly.score >= 0.99 || d.rule === 'hold-broken-signal') {
      w.anomalies.push({ timestamp: t, state: d.anomaly.state, score: d.anomaly.score });
    }
    this.scoreForecasts(w, t, value, d);
  }

  private scoreForecasts(w: DemandWorkload, t: number, value: number, d: Decision): void {
    const leadSeconds = Math.max(w.interval, d.inputs.leadSeconds);
    w.pendingForecasts.push({ timestamp: t, peak: d.forecast.leadPeak });
    const due = w.pendingForecasts[0];
    if (!due || t - due.timestamp < leadSeconds) return;
    w.pendingForecasts.shift();
    // Actual peak over the lead window: the points observed after the forecast was made.
    const engine = w.current?.engine;
    let actual = Number.NEGATIVE_INFINITY;
    const steps = Math.round((t - due.timestamp) / w.interval);
    for (const v of engine ? engine.recentDemand(steps) : [])
      if (Number.isFinite(v)) actual = Math.max(actual, v);
    if (Number.isFinite(actual) && due.peak > 0 && Number.isFinite(value)) {
      this.options.metrics?.forecastError.set(w.ref, (actual - due.peak) / due.peak);
    }
  }

  private publish(w: DemandWorkload, d: Decision): void {
    const before = w.served?.desiredReplicas;
    w.served = d;
    const m = this.options.metrics;
    m?.decisions.inc({ rule: d.rule });
    m?.desiredReplicas.set(w.ref, d.desiredReplicas);
    m?.predictedDemand.set(w.ref, d.forecast.upper);
    if (Number.isFinite(d.inputs.demand)) m?.observedDemand.set(w.ref, d.inputs.demand);
    if (w.anomalyState !== undefined && w.anomalyState !== d.anomaly.state) {
      m?.anomalyScore.remove({ ...w.ref, state: w.anomalyState });
    }
    w.anomalyState = d.anomaly.state;
    m?.anomalyScore.set({ ...w.ref, state: d.anomaly.state }, d.anomaly.score);
    if (before !== d.desiredReplicas || w.log.length === 0) w.log.pushDecision(d);
    this.emit('decision', w.ref, d);
    const active = d.desiredReplicas > 0;
    if (active && !w.lastActive) this.emit('active', w.ref);
    w.lastActive = active;
  }

  private recover(w: DemandWorkload): void {
    w.failingSince = undefined;
    w.lastError = undefined;
  }

  private fail(w: DemandWorkload, error: unknown): void {
    const kind = error instanceof SourceError ? error.kind : 'internal';
    const message = error instanceof Error ? error.message : String(error);
    w.lastError = { kind, message, at: this.clock() };
    w.failingSince ??= this.clock();
    const source = this.options.sources[w.spec.source];
    this.options.metrics?.sourceFailures.inc({ source: source?.name ?? w.spec.source, kind });
  }

  private updateState(w: DemandWorkload): void {
    const previous = w.state;
    if (!w.served) w.state = w.failingSince === undefined ? 'backfilling' : 'failed';
    else if (w.failingSince === undefined) w.state = 'fresh';
    else {
      const failing = (this.clock() - w.failingSince) / 1000;
      w.state = failing <= this.options.staleAfterSeconds ? 'stale' : 'holding';
    }
    if (previous === w.state) return;
    const m = this.options.metrics;
    for (const state of ['stale', 'holding'] as const) {
      m?.degraded.set({ ...w.ref, state }, w.state === state ? 1 : 0);
    }
    if (w.served && (w.state === 'stale' || w.state === 'holding')) {
      w.log.pushHeld({
        timestamp: Math.floor(this.clock() / 1000),
        desiredReplicas: w.served.desiredReplicas,
        rule: w.served.rule,
        state: w.state,
        reason: w.lastError?.message ?? '',
      });
    }
    this.emit('state', w.ref, w.state, previous);
  }

  /** Every pool's headroom (what headroomFor gives), in one pass over the workloads. */
  private updateHeadroomMetric(): void {
    const pods = new Map<string, number>();
    for (const w of this.workloads.values()) {
      const pool = w.spec.nodePool;
      if (!pool) continue;
      const served = w instanceof DemandWorkload && w.served ? w.served.headroomPods : 0;
      pods.set(pool, (pods.get(pool) ?? 0) + served);
    }
    for (const [pool, count] of pods) this.options.metrics?.headroomPods.set({ node_pool: pool }, count);
  }
}
