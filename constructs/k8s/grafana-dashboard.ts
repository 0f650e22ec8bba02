import { type ApiObject, Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { type DatasourceRef, DashboardPanel, type GridPos, type PanelQuery } from './grafana-panel.js';
import {
  type ObservedRuntime,
  type RuntimeTargets,
  RESOLVER_METRICS,
  RUNTIME_METRICS,
  type SpotInterruptionSource,
  defaultClusterAutoscaler,
  defaultSpotInterruptions,
  observedRuntime,
  runtimeSelector,
  runtimeUp,
} from './observed-metrics.js';
import { LabelMatcher, durationSeconds, isLabelName, promDuration, selector } from './promql.js';
import { DEFAULT_FORECAST_ERROR_THRESHOLD } from './runtime-alerts.js';
import { PropError, checkDnsLabel, checkDnsSubdomain, checkLabelValue } from './validation.js';

/** Default name of the dashboard's ConfigMap. */
export const GRAFANA_DASHBOARD_NAME = 'elasticai-dashboard';
/** Grafana's dashboard JSON schema version written. */
export const GRAFANA_SCHEMA_VERSION = 39;

/** The label Grafana's dashboard sidecar selects ConfigMaps by. */
export interface SidecarLabel {
  readonly key: string;
  readonly value: string;
}

/** Props for a {@link GrafanaDashboard}. */
export interface GrafanaDashboardProps {
  /** Name of the ConfigMap. @default 'elasticai-dashboard' */
  readonly name?: string;
  /**
   * Namespace of the ConfigMap: one the Grafana sidecar searches (its `searchNamespace`, by default
   * Grafana's own). @default 'monitoring'
   */
  readonly namespace?: string;
  /**
   * Label the sidecar selects dashboards by (the Grafana chart's `sidecar.dashboards.label` and
   * `labelValue`). @default grafana_dashboard: "1"
   */
  readonly sidecarLabel?: SidecarLabel;
  /** Grafana folder, written to the annotation named `folderAnnotation`. @default 'ElasticAI' */
  readonly folder?: string;
  /**
   * Annotation the sidecar reads the folder from (the Grafana chart's
   * `sidecar.dashboards.folderAnnotation`). @default 'grafana_folder'
   */
  readonly folderAnnotation?: string;
  /** Dashboard uid (stable links: `/d/<uid>`), 1–40 of `a-zA-Z0-9-_`. @default 'elasticai-runtime' */
  readonly uid?: string;
  /** Dashboard title. @default 'ElasticAI — predictive autoscaling' */
  readonly title?: string;
  /**
   * The decision runtime shown: its name is its Service's, hence the scrape `job`. A `DecisionRuntime`
   * fits. @default DecisionRuntime.reference()
   */
  readonly runtime?: ObservedRuntime;
  /**
   * `job` label of the runtime's scrape targets, when the scrape does not name it after the Service
   * (a hand-written scrape config, Amazon Managed Prometheus' collector). @default the runtime's name
   */
  readonly runtimeJob?: string;
  /**
   * Label holding the workload's namespace on the runtime's per-workload series. A ServiceMonitor that
   * does not honour the runtime's labels (the DecisionRuntime's does not) keeps the target's namespace
   * in `namespace` and moves the runtime's to `exported_namespace`; with `honorLabels: true` it stays
   * `namespace`. @default 'exported_namespace'
   */
  readonly workloadNamespaceLabel?: string;
  /**
   * Show cluster-autoscaler's unschedulable pods and failed scale-ups. @default true, except in a
   * ClusterChart of an AKS cluster (its managed autoscaler's metrics are not in the cluster)
   */
  readonly clusterAutoscaler?: boolean;
  /**
   * Where spot interruptions are counted (`SpotInterruptionSource.none()` drops the panel).
   * @default awsNodeTerminationHandler() in a ClusterChart of an EKS cluster with spot pools, else none
   */
  readonly spotInterruptions?: SpotInterruptionSource;
  /** Panels appended after the built-in ones (start them with a `DashboardPanel.row`). @default [] */
  readonly panels?: readonly DashboardPanel[];
  /** Auto-refresh interval. @default 30 s */
  readonly refresh?: Duration;
  /** Time range shown when the dashboard opens (now − range to now). @default 6 h */
  readonly timeRange?: Duration;
}

/** The datasource every panel queries: the dashboard's `datasource` variable. */
const DATASOURCE: DatasourceRef = { type: 'prometheus', uid: '${datasource}' };
const UID = /^[a-zA-Z0-9_-]{1,40}$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** The API server refuses ConfigMaps above 1 MiB. */
const CONFIG_MAP_LIMIT = 1024 * 1024;

/**
 * A Grafana dashboard for ElasticAI in a ConfigMap that Grafana's dashboard sidecar (kube-prometheus-stack,
 * the Grafana Helm chart) loads: the runtime's decisions by rule, forecast against observed demand,
 * desired replicas, forecast error, degraded states, anomaly scores, history source failures and
 * latency, the KEDA gRPC latency, the scale-to-zero resolver's held requests, wake-ups and rejections,
 * headroom, cluster-autoscaler and spot interruptions.
 *
 * Built from typed {@link DashboardPanel}s; variables pick the Prometheus datasource, the workload
 * namespaces and the workloads. The JSON is deterministic: panel ids follow the panel order, grid
 * positions flow left to right, keys keep their order.
 */
export class GrafanaDashboard extends Construct {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  /** Grafana's dashboard JSON model, as written into the ConfigMap. */
  readonly model: Readonly<Record<string, unknown>>;
  /** The ConfigMap. */
  readonly configMap: ApiObject;
  /** Key of the dashboard file in the ConfigMap. */
  readonly fileName: string;

  constructor(scope: Construct, id: string, props: GrafanaDashboardProps = {}) {
    super(scope, id);
    this.name = props.name ?? GRAFANA_DASHBOARD_NAME;
    this.namespace = props.namespace ?? 'monitoring';
    checkDnsSubdomain('name', this.name);
    checkLabelValue('name', this.name, 'it is also the app.kubernetes.io/name label');
    checkDnsLabel('namespace', this.namespace);
    this.uid = props.uid ?? 'elasticai-runtime';
    if (!UID.test(this.uid))
      throw new PropError('uid', this.uid, 'must be 1-40 of a-z, A-Z, 0-9, "-" and "_"');
    const title = props.title ?? 'ElasticAI — predictive autoscaling';
    if (title.trim().length === 0) throw new PropError('title', title, 'must not be empty');
    const sidecar = props.sidecarLabel ?? { key: 'grafana_dashboard', value: '1' };
    if (!LABEL_KEY.test(sidecar.key))
      throw new PropError('sidecarLabel.key', sidecar.key, 'must be a label key');
    if (sidecar.value.length > 63 || !LABEL_VALUE.test(sidecar.value)) {
      throw new PropError(
        'sidecarLabel.value',
        sidecar.value,
        'must be a label value (at most 63 characters)',
      );
    }
    const folderAnnotation = props.folderAnnotation ?? 'grafana_folder';
    if (!LABEL_KEY.test(folderAnnotation)) {
      throw new PropError('folderAnnotation', folderAnnotation, 'must be an annotation key');
    }
    const folder = props.folder ?? 'ElasticAI';
    if (folder.trim().length === 0 || /[/\\]/.test(folder)) {
      throw new PropError('folder', folder, 'must be a folder name without slashes');
    }
    const workloadNs = props.workloadNamespaceLabel ?? 'exported_namespace';
    if (!isLabelName(workloadNs)) {
      throw new PropError('workloadNamespaceLabel', workloadNs, 'must be a Prometheus label name');
    }
    const refresh = durationSeconds('refresh', props.refresh ?? Duration.seconds(30), 5);
    const range = durationSeconds('timeRange', props.timeRange ?? Duration.hours(6), 60);

    const runtime = observedRuntime(props.runtime, props.runtimeJob);
    const panels = [
      ...builtInPanels({
        runtime,
        workloadNs,
        clusterAutoscaler: props.clusterAutoscaler ?? defaultClusterAutoscaler(this),
        spotDrains: (props.spotInterruptions ?? defaultSpotInterruptions(this)).drainCounter(),
      }),
      ...(props.panels ?? []),
    ];
    const titles = new Set<string>();
    for (const p of panels) {
      if (titles.has(p.title))
        throw new PropError('panels', p.title, 'titles must be unique in the dashboard');
      titles.add(p.title);
    }

    this.model = {
      id: null,
      uid: this.uid,
      title,
      description:
        'ElasticAI decision runtime: decisions, forecasts, degraded states, KEDA latency, scale to zero and capacity.',
      tags: ['elasticai', 'autoscaling', 'keda'],
      editable: true,
      graphTooltip: 1,
      timezone: 'browser',
      refresh: promDuration(refresh),
      time: { from: `now-${promDuration(range)}`, to: 'now' },
      timepicker: {},
      schemaVersion: GRAFANA_SCHEMA_VERSION,
      version: 1,
      annotations: { list: [] },
      links: [],
      templating: { list: variables(runtime, workloadNs) },
      panels: layout(panels).map(({ panel, gridPos }, i) => panel.render(i + 1, gridPos, DATASOURCE)),
    };
    this.fileName = `${this.uid}.json`;
    const json = `${JSON.stringify(this.model, null, 2)}\n`;
    if (Buffer.byteLength(json) > CONFIG_MAP_LIMIT) {
      throw new PropError(
        'panels',
        panels.length,
        'make the dashboard JSON exceed the 1 MiB ConfigMap limit',
      );
    }
    this.configMap = new k8s.KubeConfigMap(this, 'ConfigMap', {
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: {
          'app.kubernetes.io/name': this.name,
          'app.kubernetes.io/component': 'dashboard',
          'app.kubernetes.io/part-of': 'elasticai',
          'app.kubernetes.io/managed-by': 'elasticai',
          [sidecar.key]: sidecar.value,
        },
        annotations: { [folderAnnotation]: folder },
      },
      data: { [this.fileName]: json },
    });
  }
}

/** Places panels left to right in rows of 24 columns; a row panel always starts a new line. */
function layout(panels: readonly DashboardPanel[]): { panel: DashboardPanel; gridPos: GridPos }[] {
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  return panels.map((panel) => {
    if (panel.type === 'row' || x + panel.width > 24) {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    const gridPos = { h: panel.height, w: panel.width, x, y };
    x += panel.width;
    lineHeight = Math.max(lineHeight, panel.height);
    if (panel.type === 'row') {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    return { panel, gridPos };
  });
}

function variables(runtime: RuntimeTargets, workloadNs: string): Record<string, unknown>[] {
  const query = (name: string, label: string, q: string): Record<string, unknown> => ({
    name,
    label,
    type: 'query',
    datasource: { ...DATASOURCE },
    definition: q,
    query: q,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: {},
    options: [],
    regex: '',
    sort: 1,
    hide: 0,
    skipUrlSync: false,
  });
  const replicas = (matchers: Record<string, LabelMatcher | string> = {}): string =>
    runtimeSelector(runtime, RUNTIME_METRICS.desiredReplicas, matchers);
  return [
    {
      name: 'datasource',
      label: 'Data source',
      type: 'datasource',
      query: 'prometheus',
      current: {},
      options: [],
      regex: '',
      refresh: 1,
      hide: 0,
      includeAll: false,
      multi: false,
      skipUrlSync: false,
    },
    query('namespace', 'Namespace', `label_values(${replicas()}, ${workloadNs})`),
    query(
      'workload',
      'Workload',
      `label_values(${replicas({ [workloadNs]: LabelMatcher.regex('$namespace') })}, name)`,
    ),
  ];
}

interface BuiltInOptions {
  readonly runtime: RuntimeTargets;
  readonly workloadNs: string;
  readonly clusterAutoscaler: boolean;
  readonly spotDrains: string | undefined;
}

function builtInPanels(o: BuiltInOptions): DashboardPanel[] {
  const { runtime, workloadNs: ns } = o;
  const job = (metric: string, matchers: Record<string, LabelMatcher | string> = {}): string =>
    runtimeSelector(runtime, metric, matchers);
  /** A per-workload runtime series filtered by the namespace and workload variables. */
  const workload = (metric: string, matchers: Record<string, LabelMatcher | string> = {}): string =>
    job(metric, {
      [ns]: LabelMatcher.regex('$namespace'),
      name: LabelMatcher.regex('$workload'),
      ...matchers,
    });
  // Series without a workload label carry the runtime's own namespace, from the scrape.
  const own = { namespace: runtime.namespace };
  // Every replica publishes every workload's gauges: max over replicas is the workload's value.
  const byWorkload = `${ns}, name`;
  const who = `{{${ns}}}/{{name}}`;
  const rate = (series: string): string => `rate(${series}[$__rate_interval])`;
  const quantile = (q: number, bucket: string, by?: string): string =>
    `histogram_quantile(${q}, sum by (${by === undefined ? 'le' : `le, ${by}`}) (${rate(bucket)}))`;
  const q = (expr: string, legend?: string): PanelQuery =>
    legend === undefined ? { expr } : { expr, legend };

  const panels: DashboardPanel[] = [
    DashboardPanel.row('Overview'),
    DashboardPanel.stat({
      title: 'Runtime replicas up',
      description: 'Replicas Prometheus scrapes successfully. Fewer than 2 leaves KEDA without a fallback.',
      queries: [q(`sum(${runtimeUp(runtime)})`)],
      baseColor: 'red',
      thresholds: [{ value: 2, color: 'green' }],
      decimals: 0,
    }),
    DashboardPanel.stat({
      title: 'Workloads',
      description: 'Workloads (ScaledObject triggers) the runtime decides for.',
      queries: [q(`max(${job(RUNTIME_METRICS.workloads)})`)],
      decimals: 0,
    }),
    DashboardPanel.stat({
      title: 'Degraded workloads',
      description: 'Workloads served from their last good decision (stale) or held (holding).',
      queries: [q(`count(max by (${byWorkload}) (${workload(RUNTIME_METRICS.degraded)}) == 1) or vector(0)`)],
      thresholds: [{ value: 1, color: 'orange' }],
      decimals: 0,
    }),
    DashboardPanel.stat({
      title: 'KEDA call latency p99',
      description: "99th percentile of the runtime's answers to KEDA; the HPA path times out after 3 s.",
      queries: [q(quantile(0.99, job(`${RUNTIME_METRICS.grpcLatency}_bucket`)))],
      unit: 's',
      thresholds: [
        { value: 0.1, color: 'orange' },
        { value: 1, color: 'red' },
      ],
    }),

    DashboardPanel.row('Decisions and forecasts'),
    DashboardPanel.timeSeries({
      title: 'Decisions by rule',
      description:
        'Decisions per second by the rule that bound the result, per replica (every replica decides for every workload).',
      queries: [q(`avg by (rule) (${rate(job(RUNTIME_METRICS.decisions))})`, '{{rule}}')],
      unit: 'ops',
      stacked: true,
    }),
    DashboardPanel.timeSeries({
      title: 'Desired replicas',
      description: 'Replicas the runtime asks KEDA for.',
      queries: [q(`max by (${byWorkload}) (${workload(RUNTIME_METRICS.desiredReplicas)})`, who)],
      min: 0,
      decimals: 0,
    }),
    DashboardPanel.timeSeries({
      title: 'Forecast vs actual demand',
      description:
        'Upper quantile of the forecast demand peak over the lead time, against the latest demand read from the history source.',
      queries: [
        q(`max by (${byWorkload}) (${workload(RUNTIME_METRICS.predictedDemand)})`, `${who} predicted`),
        q(`max by (${byWorkload}) (${workload(RUNTIME_METRICS.observedDemand)})`, `${who} actual`),
      ],
      min: 0,
    }),
    DashboardPanel.timeSeries({
      title: 'Forecast error',
      description:
        '(actual peak − forecast) / forecast of the forecast made one lead time ago. Lines: the default alert threshold.',
      queries: [q(`max by (${byWorkload}) (${workload(RUNTIME_METRICS.forecastError)})`, who)],
      unit: 'percentunit',
      baseColor: 'red',
      thresholds: [
        { value: -DEFAULT_FORECAST_ERROR_THRESHOLD, color: 'green' },
        { value: DEFAULT_FORECAST_ERROR_THRESHOLD, color: 'red' },
      ],
    }),
    DashboardPanel.timeSeries({
      title: 'Anomaly score',
      description: 'Anomaly likelihood of the latest point: 0.5 is ordinary, 0.99 and above anomalous.',
      queries: [
        q(`max by (${byWorkload}, state) (${workload(RUNTIME_METRICS.anomalyScore)})`, `${who} ({{state}})`),
      ],
      min: 0,
      max: 1,
      thresholds: [{ value: 0.99, color: 'red' }],
    }),
    DashboardPanel.timeSeries({
      title: 'Degraded state',
      description:
        'stale: history failing, the last good decision served. holding: failing longer than the stale limit, frozen (never scaling down).',
      queries: [
        q(`max by (${byWorkload}, state) (${workload(RUNTIME_METRICS.degraded)}) == 1`, `${who} {{state}}`),
      ],
      drawStyle: 'bars',
      min: 0,
      max: 1,
      decimals: 0,
    }),

    DashboardPanel.row('Runtime health'),
    DashboardPanel.timeSeries({
      title: 'History source failures',
      description: 'Failed history queries per second, by source and failure kind.',
      queries: [
        q(`sum by (source, kind) (${rate(job(RUNTIME_METRICS.sourceFailures))})`, '{{source}} {{kind}}'),
      ],
      unit: 'ops',
      width: 8,
    }),
    DashboardPanel.timeSeries({
      title: 'History query latency',
      queries: [
        q(quantile(0.5, job(`${RUNTIME_METRICS.sourceLatency}_bucket`), 'source'), '{{source}} p50'),
        q(quantile(0.99, job(`${RUNTIME_METRICS.sourceLatency}_bucket`), 'source'), '{{source}} p99'),
      ],
      unit: 's',
      width: 8,
    }),
    DashboardPanel.timeSeries({
      title: 'KEDA gRPC latency',
      description: 'Duration of the external-scaler calls KEDA makes, by method.',
      queries: [
        q(quantile(0.5, job(`${RUNTIME_METRICS.grpcLatency}_bucket`), 'method'), '{{method}} p50'),
        q(quantile(0.99, job(`${RUNTIME_METRICS.grpcLatency}_bucket`), 'method'), '{{method}} p99'),
      ],
      unit: 's',
      width: 8,
    }),
    DashboardPanel.timeSeries({
      title: 'Workload state memory',
      description:
        'Bytes of engine, chart and decision-log state each replica holds for its workloads: most of the memory that grows with workloads.',
      queries: [q(`max by (pod) (${job(RUNTIME_METRICS.stateBytes, own)})`, '{{pod}}')],
      unit: 'bytes',
      min: 0,
      width: 12,
    }),
    DashboardPanel.timeSeries({
      title: 'Workloads refused for memory',
      description:
        'New workloads refused per second, per replica, because admitting them would take it within 10% of its memory limit. KEDA asks again on every poll, so a workload that stays refused keeps this above zero.',
      queries: [q(`sum by (pod) (${rate(job(RUNTIME_METRICS.workloadsRefused, own))})`, '{{pod}}')],
      unit: 'ops',
      min: 0,
      baseColor: 'green',
      thresholds: [{ value: 0.000001, color: 'red' }],
      width: 12,
    }),

    DashboardPanel.row('Scale to zero'),
    DashboardPanel.timeSeries({
      title: 'Held requests',
      description: 'Requests the scale-to-zero resolver holds while their workload wakes up.',
      queries: [q(`sum by (target) (${selector(RESOLVER_METRICS.heldRequests)})`, '{{target}}')],
      min: 0,
      decimals: 0,
      width: 8,
    }),
    DashboardPanel.timeSeries({
      title: 'Wake-ups, releases and rejections',
      queries: [
        q(`sum by (target) (${rate(selector(RESOLVER_METRICS.wakeups))})`, '{{target}} wake-ups'),
        q(`sum by (target) (${rate(selector(RESOLVER_METRICS.released))})`, '{{target}} released'),
        q(
          `sum by (target, reason) (${rate(selector(RESOLVER_METRICS.rejected))})`,
          '{{target}} rejected ({{reason}})',
        ),
      ],
      unit: 'ops',
      width: 8,
    }),
    DashboardPanel.timeSeries({
      title: 'Cold start p95',
      description: 'From the first held request to the workload serving it.',
      queries: [q(quantile(0.95, selector(`${RESOLVER_METRICS.coldStart}_bucket`), 'target'), '{{target}}')],
      unit: 's',
      width: 8,
    }),

    DashboardPanel.row('Capacity'),
    DashboardPanel.timeSeries({
      title: 'Headroom pods',
      description: 'Extra pods predicted within the node-provisioning horizon, per node pool.',
      queries: [q(`max by (node_pool) (${job(RUNTIME_METRICS.headroomPods)})`, '{{node_pool}}')],
      min: 0,
      width: 8,
    }),
  ];
  if (o.clusterAutoscaler) {
    panels.push(
      DashboardPanel.timeSeries({
        title: 'Unschedulable pods',
        description: 'Pods cluster-autoscaler found no room for.',
        queries: [
          q(
            `max(${selector('cluster_autoscaler_unschedulable_pods_count', { type: LabelMatcher.not('scheduler_unprocessed') })})`,
            'unschedulable',
          ),
        ],
        min: 0,
        decimals: 0,
        width: 8,
      }),
      DashboardPanel.timeSeries({
        title: 'Failed scale-ups',
        queries: [
          q(
            `sum by (reason) (increase(${selector('cluster_autoscaler_failed_scale_ups_total')}[$__rate_interval]))`,
            '{{reason}}',
          ),
        ],
        drawStyle: 'bars',
        min: 0,
        width: 8,
      }),
    );
  }
  if (o.spotDrains !== undefined) {
    panels.push(
      DashboardPanel.timeSeries({
        title: 'Spot interruptions',
        description:
          'Nodes AWS Node Termination Handler drained per hour (spot interruptions, rebalance recommendations and other terminations).',
        queries: [q(`sum by (node_status) (increase(${o.spotDrains}[1h]))`, '{{node_status}}')],
        drawStyle: 'bars',
        min: 0,
        width: 8,
      }),
    );
  }
  return panels;
}
