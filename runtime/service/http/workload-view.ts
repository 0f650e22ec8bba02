/**
 * The JSON the API shows for a workload: one summary line per workload for the list, and the summary
 * plus chart, decision log and full explanation for the detail. Times are epoch seconds; values that
 * are not finite (a broken signal's demand) become null.
 */
import type { Decision } from '../../engine/workload-engine.js';
import type { WorkloadHistory, WorkloadStatus } from '../workload-registry.js';
import type { OverrideRecord } from './api-deps.js';

export interface WorkloadSummary {
  readonly namespace: string;
  readonly name: string;
  readonly kind: WorkloadStatus['kind'];
  readonly tenant: string | null;
  readonly state: WorkloadStatus['state'];
  /** Demand of the newest point the decision followed. */
  readonly demand: number | null;
  /** Upper quantile of the forecast peak over the lead time. */
  readonly predicted: number | null;
  /** What KEDA is asked for (replicas; pods for a headroom workload). */
  readonly desiredReplicas: number | null;
  readonly rule: Decision['rule'] | null;
  readonly summary: string | null;
  readonly anomaly: { readonly state: string; readonly score: number } | null;
  /** The manual override: null when none is set; absent when it is not known (no store, or it failed). */
  readonly override?: OverrideRecord | null;
  readonly lastError: { readonly kind: string; readonly message: string; readonly at: number } | null;
  /** Epoch seconds of the point the decision followed. */
  readonly decidedAt: number | null;
  readonly lastPoint: number | null;
}

const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

export function summarize(status: WorkloadStatus, override?: OverrideRecord | null): WorkloadSummary {
  const d = status.decision;
  return {
    namespace: status.namespace,
    name: status.name,
    kind: status.kind,
    tenant: status.spec.tenant ?? null,
    state: status.state,
    demand: finite(d?.inputs.demand),
    predicted: finite(d?.forecast.upper),
    desiredReplicas: status.value ?? null,
    rule: d?.rule ?? null,
    summary: d?.summary ?? null,
    anomaly: d ? { state: d.anomaly.state, score: d.anomaly.score } : null,
    ...(override === undefined ? {} : { override }),
    lastError: status.lastError
      ? {
          kind: status.lastError.kind,
          message: status.lastError.message,
          at: Math.floor(status.lastError.at / 1000),
        }
      : null,
    decidedAt: d?.timestamp ?? null,
    lastPoint: status.lastPoint ?? null,
  };
}

export interface WorkloadDetail extends WorkloadSummary {
  readonly spec: WorkloadStatus['spec'];
  readonly failingForSeconds: number;
  /** The full decision: inputs, forecast model and scores, anomaly, rule, replicas per rule, headroom. */
  readonly explanation: Decision | null;
  /** Chart arrays of equal length (null for a headroom workload, which has no series of its own). */
  readonly history: Omit<WorkloadHistory, 'decisions'> | null;
  /** Decision log, oldest first: every change of the desired replicas and every stale / hold episode. */
  readonly decisions: WorkloadHistory['decisions'];
}

export function detail(
  status: WorkloadStatus,
  history: WorkloadHistory | undefined,
  override?: OverrideRecord | null,
): WorkloadDetail {
  return {
    ...summarize(status, override),
    spec: status.spec,
    failingForSeconds: Math.round(status.failingForSeconds),
    explanation: status.decision ?? null,
    history: history
      ? {
          timestamps: history.timestamps,
          demand: history.demand,
          forecast: history.forecast,
          upper: history.upper,
          replicas: history.replicas,
          anomalies: history.anomalies,
        }
      : null,
    decisions: history?.decisions ?? [],
  };
}
