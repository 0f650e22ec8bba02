/**
 * The Prometheus metrics ElasticAI's dashboard and alerts read: the decision runtime's own (names as in
 * `runtime/service/metrics.ts`), the scale-to-zero resolver's, and the external ones (Prometheus, KEDA,
 * cluster-autoscaler, AWS Node Termination Handler), each with where its name and labels were checked.
 * Tests hold every expression to this list, so a renamed upstream metric fails a test instead of
 * silently never firing.
 */
import type { Construct } from 'constructs';
import { ClusterChart, hasSpotCapacity } from './cluster-info.js';
import { DECISION_RUNTIME_NAME, DECISION_RUNTIME_NAMESPACE } from './decision-runtime.js';
import { type LabelMatch, LabelMatcher, selector } from './promql.js';
import { PropError, checkDnsLabel } from './validation.js';

/** Names of the decision runtime's metrics (registered by `RuntimeMetrics`, runtime/service/metrics.ts). */
export const RUNTIME_METRICS = {
  decisions: 'elasticai_decisions_total',
  desiredReplicas: 'elasticai_desired_replicas',
  predictedDemand: 'elasticai_predicted_demand',
  observedDemand: 'elasticai_observed_demand',
  forecastError: 'elasticai_forecast_error_ratio',
  anomalyScore: 'elasticai_anomaly_score',
  degraded: 'elasticai_degraded',
  headroomPods: 'elasticai_headroom_pods',
  sourceFailures: 'elasticai_history_source_failures_total',
  sourceLatency: 'elasticai_history_query_duration_seconds',
  grpcLatency: 'elasticai_grpc_request_duration_seconds',
  workloads: 'elasticai_workloads',
  workloadsRefused: 'elasticai_workloads_refused_total',
  stateBytes: 'elasticai_workload_state_bytes',
} as const;

/** Kind of a metric family: which series names it exposes. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** A metric read from outside the decision runtime, with who exposes it and where that was checked. */
export interface ExternalMetric {
  /** Family name as exposed (counters with `_total`; histograms add `_bucket`, `_sum`, `_count`). */
  readonly name: string;
  readonly type: MetricType;
  /** Labels the exporter sets (scrape target labels such as `job` and `namespace` come on top). */
  readonly labels: readonly string[];
  /** Who exposes it, and what must be enabled for it to exist. */
  readonly source: string;
  /** Where the name and labels were checked. */
  readonly reference: string;
}

const KEDA_SOURCE = 'KEDA 2.20 operator, :8080/metrics (scrape the keda-operator Service)';
const KEDA_REFERENCE =
  'kedacore/keda pkg/metricscollector/prommetrics.go; keda-docs content/docs/2.20/integrations/prometheus.md';
const KEDA_SCALER_LABELS = ['namespace', 'scaledObject', 'scaler', 'triggerIndex', 'metric', 'type'];
const CA_SOURCE = 'cluster-autoscaler, :8085/metrics (self-managed on EKS; AKS runs it in the control plane)';
const CA_REFERENCE =
  'kubernetes/autoscaler cluster-autoscaler/proposals/metrics.md ("Cluster Autoscaler Monitoring")';
const RESOLVER_SOURCE =
  "ElasticAI's scale-to-zero resolver (issue 8; not part of runtime/service/metrics.ts)";
const RESOLVER_REFERENCE = 'names and labels agreed with the resolver in issue 8';

/** Names of the scale-to-zero resolver's metrics. */
export const RESOLVER_METRICS = {
  heldRequests: 'elasticai_resolver_held_requests',
  wakeups: 'elasticai_resolver_wakeups_total',
  released: 'elasticai_resolver_released_total',
  rejected: 'elasticai_resolver_rejected_total',
  coldStart: 'elasticai_resolver_cold_start_seconds',
} as const;

/** Every metric the dashboard and the alerts read that the decision runtime does not define. */
export const EXTERNAL_METRICS: readonly ExternalMetric[] = [
  {
    name: 'up',
    type: 'gauge',
    labels: [],
    source: 'Prometheus itself: one series per scrape target, 1 when its last scrape succeeded',
    reference:
      'prometheus.io/docs/concepts/jobs_instances ("Automatically generated labels and time series")',
  },
  {
    name: 'keda_scaler_detail_errors_total',
    type: 'counter',
    labels: KEDA_SCALER_LABELS,
    source: KEDA_SOURCE,
    reference: KEDA_REFERENCE,
  },
  {
    name: 'keda_scaled_object_errors_total',
    type: 'counter',
    labels: ['namespace', 'scaledObject'],
    source: KEDA_SOURCE,
    reference: KEDA_REFERENCE,
  },
  {
    name: 'keda_scaler_metrics_value',
    type: 'gauge',
    labels: KEDA_SCALER_LABELS,
    source: KEDA_SOURCE,
    reference: KEDA_REFERENCE,
  },
  {
    name: 'cluster_autoscaler_failed_scale_ups_total',
    type: 'counter',
    labels: ['reason', 'gpu_resource_name', 'gpu_name', 'dra_drivers'],
    source: CA_SOURCE,
    reference: CA_REFERENCE,
  },
  {
    name: 'cluster_autoscaler_unschedulable_pods_count',
    type: 'gauge',
    labels: ['type'],
    source: CA_SOURCE,
    reference: CA_REFERENCE,
  },
  {
    name: 'actions_total',
    type: 'counter',
    labels: ['node_action', 'node_status', 'otel_scope_name', 'otel_scope_version'],
    source:
      'AWS Node Termination Handler with ENABLE_PROMETHEUS_SERVER=true (:9092/metrics): the OpenTelemetry counter "actions"',
    reference:
      'aws/aws-node-termination-handler pkg/observability/opentelemetry.go and opentelemetry_test.go (docs/metrics.md still lists the pre-OpenTelemetry name actions_node)',
  },
  {
    name: RESOLVER_METRICS.heldRequests,
    type: 'gauge',
    labels: ['target'],
    source: RESOLVER_SOURCE,
    reference: RESOLVER_REFERENCE,
  },
  {
    name: RESOLVER_METRICS.wakeups,
    type: 'counter',
    labels: ['target'],
    source: RESOLVER_SOURCE,
    reference: RESOLVER_REFERENCE,
  },
  {
    name: RESOLVER_METRICS.released,
    type: 'counter',
    labels: ['target'],
    source: RESOLVER_SOURCE,
    reference: RESOLVER_REFERENCE,
  },
  {
    name: RESOLVER_METRICS.rejected,
    type: 'counter',
    labels: ['target', 'reason'],
    source: RESOLVER_SOURCE,
    reference: RESOLVER_REFERENCE,
  },
  {
    name: RESOLVER_METRICS.coldStart,
    type: 'histogram',
    labels: ['target'],
    source: RESOLVER_SOURCE,
    reference: RESOLVER_REFERENCE,
  },
];

/** The decision runtime whose metrics are read: its name (the Service's) and namespace. A `DecisionRuntime` fits. */
export interface ObservedRuntime {
  readonly name: string;
  readonly namespace: string;
}

/** The runtime as its series are labelled: the scrape `job` of its targets, and their namespace. */
export interface RuntimeTargets extends ObservedRuntime {
  readonly job: string;
}

/**
 * Resolves and checks the `runtime` and `runtimeJob` props of the observability constructs. The job
 * defaults to the runtime's name: the Prometheus operator (and AKS's ama-metrics) name a ServiceMonitor's
 * job after the Service, which the DecisionRuntime names after itself.
 */
export function observedRuntime(runtime: ObservedRuntime | undefined, job?: string): RuntimeTargets {
  const name = runtime?.name ?? DECISION_RUNTIME_NAME;
  const namespace = runtime?.namespace ?? DECISION_RUNTIME_NAMESPACE;
  checkDnsLabel('runtime.name', name);
  checkDnsLabel('runtime.namespace', namespace);
  if (job !== undefined && (job.length === 0 || [...job].some((c) => c.charCodeAt(0) < 32))) {
    throw new PropError('runtimeJob', job, 'must be a non-empty job label value');
  }
  return { name, namespace, job: job ?? name };
}

/**
 * Selector of a runtime metric, scoped to the runtime's scrape job. The target's `namespace` label is
 * not used: on per-workload series it is the workload's namespace when the ServiceMonitor honours the
 * runtime's labels, and the runtime's otherwise.
 */
export function runtimeSelector(
  runtime: RuntimeTargets,
  metric: string,
  matchers: Readonly<Record<string, LabelMatch>> = {},
): string {
  return selector(metric, { job: runtime.job, ...matchers });
}

/** `up` of the runtime's scrape targets: its job in its namespace. */
export function runtimeUp(runtime: RuntimeTargets): string {
  return selector('up', { job: runtime.job, namespace: runtime.namespace });
}

/** The metric name KEDA gives the runtime's trigger: `s<trigger index>-elasticai-<...>`. */
export const RUNTIME_KEDA_METRIC = LabelMatcher.regex('s[0-9]+-elasticai-.+');

/** Where spot interruptions are counted, for the spot alert and the dashboard's spot panel. */
export class SpotInterruptionSource {
  /**
   * AWS Node Termination Handler's drain counter, `actions_total{node_action="cordon-and-drain"}` (its
   * Prometheus server must be on: `ENABLE_PROMETHEUS_SERVER=true`, port 9092, and scraped). NTH does not
   * label actions with the event that caused them: in queue-processor mode drains after rebalance
   * recommendations, scheduled maintenance and ASG scale-in count too, so read it as "nodes drained
   * under the workloads", of which spot interruptions are the usual bulk.
   */
  static awsNodeTerminationHandler(options: { readonly job?: string } = {}): SpotInterruptionSource {
    if (options.job !== undefined && options.job.length === 0) {
      throw new PropError('spotInterruptions.job', options.job, 'must not be empty');
    }
    return new SpotInterruptionSource('aws-node-termination-handler', options.job);
  }

  /**
   * No spot interruption signal. The right choice on AKS: Azure evicts a spot VM by deleting it, and
   * neither AKS nor Kubernetes exposes the eviction as a Prometheus metric.
   */
  static none(): SpotInterruptionSource {
    return new SpotInterruptionSource('none', undefined);
  }

  private constructor(
    readonly kind: 'aws-node-termination-handler' | 'none',
    /** `job` label of NTH's targets, when they must be told apart from other `actions_total` exporters. */
    readonly job: string | undefined,
  ) {}

  /** Selector of the drain counter, or undefined for none. */
  drainCounter(): string | undefined {
    if (this.kind === 'none') return undefined;
    return selector('actions_total', {
      ...(this.job !== undefined ? { job: this.job } : {}),
      node_action: 'cordon-and-drain',
    });
  }
}

/**
 * Spot source when none is given: Node Termination Handler in a ClusterChart of an EKS cluster with spot
 * or mixed pools (the package deploys NTH there), none elsewhere.
 */
export function defaultSpotInterruptions(scope: Construct): SpotInterruptionSource {
  const cluster = ClusterChart.find(scope)?.cluster;
  return cluster?.cloud === 'aws' && hasSpotCapacity(cluster)
    ? SpotInterruptionSource.awsNodeTerminationHandler()
    : SpotInterruptionSource.none();
}

/**
 * Whether cluster-autoscaler's metrics are in reach when not told: not on AKS, whose managed autoscaler
 * runs in the control plane (its metrics reach an Azure Monitor workspace only through the control-plane
 * metrics add-on, never the cluster's Prometheus); everywhere else yes.
 */
export function defaultClusterAutoscaler(scope: Construct): boolean {
  return ClusterChart.find(scope)?.cluster.cloud !== 'azure';
}
