/**
 * Where workload demand history comes from: the Prometheus HTTP API (plain, bearer, Amazon Managed
 * Prometheus with SigV4, Azure Monitor workspace with an Entra token) or the signed event webhook.
 * The registry only sees this interface, so sources are swapped and tested in isolation.
 */

/** One value per step: `timestamps[i]` (epoch seconds, on the step grid) has `values[i]`. */
export interface Series {
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
}

export interface RangeQuery {
  /** PromQL expression returning one series (the runtime sums when several come back). */
  readonly query: string;
  /** Epoch seconds, inclusive, multiples of `stepSeconds`. */
  readonly start: number;
  readonly end: number;
  readonly stepSeconds: number;
}

/** Why a source failed: kept in the workload's state and shown by the API and metrics. */
export type SourceFailureKind = 'unreachable' | 'timeout' | 'http-error' | 'bad-response' | 'query-error';

export class SourceError extends Error {
  constructor(
    readonly kind: SourceFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

export interface HistorySource {
  /** Short name for logs and metrics (`prometheus`, `webhook`). */
  readonly name: string;
  /**
   * Values of `query` on the step grid between start and end. Steps with no sample are absent (the
   * engine treats them as gaps). Throws SourceError on any failure; never returns garbage.
   */
  queryRange(q: RangeQuery, signal?: AbortSignal): Promise<Series>;
}
