/**
 * A HistorySource over an in-memory function of time, for registry and scaler tests: values on the
 * step grid, an optional delay, a switch that makes it fail like an unreachable Prometheus, and a count
 * of queries.
 */
import type { HistorySource, RangeQuery, Series } from '../../runtime/service/history/history-source.js';
import { SourceError } from '../../runtime/service/history/history-source.js';
import type { RuntimeMetrics } from '../../runtime/service/metrics.js';
import { WorkloadRegistry } from '../../runtime/service/workload-registry.js';

export class MemorySource implements HistorySource {
  readonly name = 'memory';
  queries: RangeQuery[] = [];
  /** Queries answered, recorded or not. */
  queryCount = 0;
  /**
   * Whether `queries` keeps every query. A benchmark turns it off: a runtime polled for minutes would
   * otherwise hold one object per workload per point, memory the runtime itself never holds.
   */
  recordQueries = true;
  failing: SourceError | undefined;
  delayMs = 0;

  /** `valueAt(t)` is the demand at epoch second t; undefined means no sample (a gap). */
  constructor(private readonly valueAt: (t: number, query: string) => number | undefined) {}

  async queryRange(q: RangeQuery): Promise<Series> {
    this.queryCount++;
    if (this.recordQueries) this.queries.push(q);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.failing) throw this.failing;
    const timestamps: number[] = [];
    const values: number[] = [];
    for (let t = q.start; t <= q.end; t += q.stepSeconds) {
      const v = this.valueAt(t, q.query);
      if (v === undefined) continue;
      timestamps.push(t);
      values.push(v);
    }
    return { timestamps, values };
  }

  fail(kind: SourceError['kind'] = 'unreachable'): void {
    this.failing = new SourceError(kind, `connect ECONNREFUSED (${kind})`);
  }

  heal(): void {
    this.failing = undefined;
  }
}

/** A daily-seasonal demand with noise from a fixed hash (deterministic), in requests per interval. */
export function dailyDemand(t: number): number {
  const day = 86_400;
  const phase = ((t % day) / day) * 2 * Math.PI;
  const noise = (Math.sin(t * 12.9898) * 43758.5453) % 1;
  return Math.max(0, 400 + 300 * Math.sin(phase - Math.PI / 2) + 20 * noise);
}

/**
 * The registry the scaler tests serve from: `source` as Prometheus, a day of history, points settled
 * after 30 s, a refit a day, stale after 5 minutes; `clock` and `metrics` when the test needs them.
 */
export function dayRegistry(
  source: HistorySource,
  options: { clock?: () => number; metrics?: RuntimeMetrics } = {},
): WorkloadRegistry {
  return new WorkloadRegistry({
    sources: { prometheus: source },
    historySeconds: 86_400,
    settleSeconds: 30,
    refitEpochSeconds: 86_400,
    staleAfterSeconds: 300,
    ...options,
  });
}
