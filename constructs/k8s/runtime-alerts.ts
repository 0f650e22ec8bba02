import { ApiObject, type Duration } from 'cdk8s';
import { Construct } from 'constructs';
import {
  type ObservedRuntime,
  type RuntimeTargets,
  RESOLVER_METRICS,
  RUNTIME_KEDA_METRIC,
  RUNTIME_METRICS,
  type SpotInterruptionSource,
  defaultClusterAutoscaler,
  defaultSpotInterruptions,
  observedRuntime,
  runtimeSelector,
  runtimeUp,
} from './observed-metrics.js';
import { LabelMatcher, durationSeconds, isLabelName, isoDuration, promDuration, selector } from './promql.js';
import { PropError, checkDnsLabel, checkDnsSubdomain, checkLabelValue, checkNumber } from './validation.js';

/** Default name of the PrometheusRule. */
export const RUNTIME_ALERTS_NAME = 'elasticai-runtime-alerts';

/** Default of `forecastError.threshold`: the forecast off by half (also the dashboard's threshold lines). */
export const DEFAULT_FORECAST_ERROR_THRESHOLD = 0.5;

/** The `severity` label of an alert (Alertmanager routes on it). */
export type AlertSeverity = 'critical' | 'warning' | 'info';

const SEVERITIES: readonly AlertSeverity[] = ['critical', 'warning', 'info'];
/** Azure Monitor alert severities: 0 Critical, 1 Error, 2 Warning, 3 Informational, 4 Verbose. */
const AZURE_SEVERITY: Record<AlertSeverity, number> = { critical: 0, warning: 2, info: 3 };

/** Tuning of one alert. */
export interface AlertOptions {
  /** Whether the rule is written at all. @default true */
  readonly enabled?: boolean;
  /** How long the condition must hold before the alert fires (the rule's `for`). @default per alert */
  readonly for?: Duration;
  /** The `severity` label. @default per alert */
  readonly severity?: AlertSeverity;
}

/** Tuning of an alert on a threshold. */
export interface ThresholdAlertOptions extends AlertOptions {
  /** The value the condition must exceed (strictly). @default per alert */
  readonly threshold?: number;
}

/** Tuning of an alert on what a counter did over a window. */
export interface WindowAlertOptions extends ThresholdAlertOptions {
  /** The window the counter's increase is measured over. @default per alert */
  readonly window?: Duration;
}

/** A Prometheus alerting rule, as written into a rule group. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  /** Prometheus duration (`15m`). */
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A Prometheus rule group. */
export interface AlertRuleGroup {
  readonly name: string;
  /** Evaluation interval; absent means Prometheus' global `evaluation_interval`. */
  readonly interval?: string;
  readonly rules: readonly AlertRule[];
}

/**
 * One rule of an Azure Monitor managed Prometheus rule group (`Microsoft.AlertsManagement/
 * prometheusRuleGroups`, `properties.rules[]`): the shape `@pulumi/azure-native`'s
 * `alertsmanagement.PrometheusRuleGroup` takes.
 */
export interface AzurePrometheusAlertRule {
  readonly alert: string;
  readonly expression: string;
  /** ISO 8601 (`PT15M`). */
  readonly for: string;
  /** 0 (critical) to 4 (verbose). */
  readonly severity: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly enabled: boolean;
  readonly resolveConfiguration: { readonly autoResolved: boolean; readonly timeToResolve: string };
}

/** An Azure Monitor managed Prometheus rule group's properties (scope them to the cluster). */
export interface AzurePrometheusRuleGroup {
  readonly name: string;
  /** ISO 8601, between PT1M and PT15M. */
  readonly interval: string;
  readonly rules: readonly AzurePrometheusAlertRule[];
}

/** Options of {@link RuntimeAlertsDelivery.prometheusRule}. */
export interface PrometheusRuleOptions {
  /**
   * Labels of the PrometheusRule, e.g. the `release` label a Prometheus' `ruleSelector` matches
   * (kube-prometheus-stack selects `release: <its release name>` by default). @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Where the alert rules go. */
export class RuntimeAlertsDelivery {
  /** A `monitoring.coreos.com/v1` PrometheusRule, loaded by the Prometheus operator. */
  static prometheusRule(options: PrometheusRuleOptions = {}): RuntimeAlertsDelivery {
    return new RuntimeAlertsDelivery('prometheus-rule', options.labels ?? {});
  }

  /**
   * No Kubernetes object: Azure Monitor managed Prometheus evaluates rules in the Azure Monitor workspace,
   * as `Microsoft.AlertsManagement/prometheusRuleGroups` resources (ama-metrics reads ServiceMonitors, but
   * no PrometheusRule). Create them from {@link RuntimeAlerts.azureRuleGroups} with Pulumi's
   * `alertsmanagement.PrometheusRuleGroup`, scoped to the workspace and the cluster.
   */
  static azureMonitorWorkspace(): RuntimeAlertsDelivery {
    return new RuntimeAlertsDelivery('azure-monitor-workspace', {});
  }

  /**
   * No Kubernetes object: Amazon Managed Service for Prometheus evaluates rules in the workspace, from a
   * rule groups namespace (`AWS::APS::RuleGroupsNamespace`, CDK's `aps.CfnRuleGroupsNamespace`) whose
   * data is {@link RuntimeAlerts.rulesFile}.
   */
  static amazonManagedPrometheus(): RuntimeAlertsDelivery {
    return new RuntimeAlertsDelivery('amazon-managed-prometheus', {});
  }

  private constructor(
    readonly kind: 'prometheus-rule' | 'azure-monitor-workspace' | 'amazon-managed-prometheus',
    readonly labels: Readonly<Record<string, string>>,
  ) {}
}

/** Props for {@link RuntimeAlerts}. */
export interface RuntimeAlertsProps {
  /** Name of the PrometheusRule. @default 'elasticai-runtime-alerts' */
  readonly name?: string;
  /** Namespace of the PrometheusRule. @default the runtime's namespace */
  readonly namespace?: string;
  /**
   * The decision runtime watched: its name is its Service's, hence the scrape `job`, and its
   * namespace is its targets'. A `DecisionRuntime` fits. @default DecisionRuntime.reference()
   */
  readonly runtime?: ObservedRuntime;
  /**
   * `job` label of the runtime's scrape targets, when the scrape does not name it after the Service
   * (a hand-written scrape config, Amazon Managed Prometheus' collector). @default the runtime's name
   */
  readonly runtimeJob?: string;
  /** Where the rules go. @default RuntimeAlertsDelivery.prometheusRule() */
  readonly delivery?: RuntimeAlertsDelivery;
  /** Labels added to every alert (e.g. `team`), besides `severity`. @default {} */
  readonly ruleLabels?: Readonly<Record<string, string>>;
  /**
   * Base URL of the runbooks: each alert gets `runbook_url: <base>#<alert name in lower case>`.
   * @default none: only the `runbook` annotation, with the steps as text
   */
  readonly runbookBaseUrl?: string;
  /** Evaluation interval of the rule groups. @default Prometheus' global evaluation_interval */
  readonly evaluationInterval?: Duration;
  /**
   * Write the cluster-autoscaler alerts (failed scale-ups, unschedulable pods). @default true, except in
   * a ClusterChart of an AKS cluster (its managed autoscaler's metrics are not in the cluster)
   */
  readonly clusterAutoscaler?: boolean;
  /**
   * Where spot interruptions are counted (`SpotInterruptionSource.none()` drops the spot alert).
   * @default awsNodeTerminationHandler() in a ClusterChart of an EKS cluster with spot pools, else none
   */
  readonly spotInterruptions?: SpotInterruptionSource;
  /** No runtime replica up (so KEDA reaches none). @default for 2 min, critical */
  readonly runtimeDown?: AlertOptions;
  /** One runtime replica failing its scrapes (less redundancy). @default for 10 min, warning */
  readonly runtimeReplicaDown?: AlertOptions;
  /** KEDA getting errors from the runtime's triggers. @default for 5 min, critical */
  readonly kedaErrors?: AlertOptions;
  /**
   * A runtime replica refusing new workloads because it is near its memory limit
   * (`elasticai_workloads_refused_total` rising). The `for` should be longer than the 5-min rate
   * window, so that a workload refused once and admitted on KEDA's next ask does not fire it.
   * @default for 10 min, warning
   */
  readonly workloadsRefused?: AlertOptions;
  /** A workload held (`elasticai_degraded{state="holding"}`) too long. @default for 15 min, warning */
  readonly holding?: AlertOptions;
  /**
   * The lead-time forecast off by more than `threshold` (|elasticai_forecast_error_ratio|).
   * @default threshold 0.5, for 30 min, warning
   */
  readonly forecastError?: ThresholdAlertOptions;
  /**
   * The scale-to-zero resolver rejecting requests faster than `threshold` per second (over 5 min).
   * @default threshold 0 (any rejection), for 2 min, warning
   */
  readonly scaleToZeroRejections?: ThresholdAlertOptions;
  /**
   * More than `threshold` failed cluster-autoscaler scale-ups within `window`. A failed spot scale-up
   * now and then is normal (the expander falls back to the next group), hence the default tolerance.
   * @default threshold 2, window 30 min, for 0, warning
   */
  readonly failedScaleUps?: WindowAlertOptions;
  /**
   * More than `threshold` pods the autoscaler found unschedulable, for as long as `for`.
   * @default threshold 0, for 15 min, warning
   */
  readonly unschedulablePods?: ThresholdAlertOptions;
  /** More than `threshold` spot drains within `window`. @default threshold 5, window 1 h, for 0, warning */
  readonly spotInterruptionRate?: WindowAlertOptions;
}

/** An alert before rendering. */
interface RuleSpec {
  readonly alert: string;
  readonly expr: string;
  readonly forSeconds: number;
  readonly severity: AlertSeverity;
  readonly summary: string;
  readonly description: string;
  readonly runbook: string;
}

interface Resolved {
  readonly enabled: boolean;
  readonly forSeconds: number;
  readonly severity: AlertSeverity;
  readonly threshold: number;
  readonly windowSeconds: number;
}

/** Workload identity on runtime series, whichever way the scrape kept the runtime's `namespace` label. */
const WORKLOAD_BY = 'namespace, exported_namespace, name';
const WORKLOAD_NAME = '{{ or $labels.exported_namespace $labels.namespace }}/{{ $labels.name }}';
/** ScaledObject identity on KEDA series, the same way. */
const SCALED_OBJECT_BY = 'namespace, exported_namespace, scaledObject';
const SCALED_OBJECT_NAMESPACE = '{{ or $labels.exported_namespace $labels.namespace }}';
const SCALED_OBJECT_NAME = `${SCALED_OBJECT_NAMESPACE}/{{ $labels.scaledObject }}`;
/** Window of the rate-based conditions. */
const RATE_WINDOW = '5m';

/**
 * Prometheus alerts for ElasticAI: the decision runtime unreachable (down, a replica down, KEDA getting
 * errors from its triggers), a replica refusing new workloads for memory, a workload held on its last good decision for too long, forecasts far off,
 * the scale-to-zero resolver rejecting requests, cluster-autoscaler failing to add nodes or leaving pods
 * unschedulable, and a high spot interruption rate. Every alert has a `for`, a `severity` label, and
 * `summary`, `description` and `runbook` annotations.
 *
 * Delivered as a `monitoring.coreos.com/v1` PrometheusRule, or as Azure Monitor rule groups
 * ({@link RuntimeAlerts.azureRuleGroups}). Every metric an expression reads is either the runtime's own
 * (`runtime/service/metrics.ts`) or listed with its source in `EXTERNAL_METRICS`.
 */
export class RuntimeAlerts extends Construct {
  /** The rule groups, as written into the PrometheusRule. */
  readonly groups: readonly AlertRuleGroup[];
  /** The PrometheusRule (undefined unless delivered as `RuntimeAlertsDelivery.prometheusRule()`). */
  readonly prometheusRule: ApiObject | undefined;
  /**
   * Where the rules go: the stacks read it to create the Azure Monitor rule groups or the Amazon Managed
   * Prometheus rule groups namespace that carry them.
   */
  readonly delivery: RuntimeAlertsDelivery;
  readonly name: string;
  readonly namespace: string;

  private readonly specs: ReadonlyMap<string, readonly RuleSpec[]>;
  private readonly intervalSeconds: number | undefined;

  constructor(scope: Construct, id: string, props: RuntimeAlertsProps = {}) {
    super(scope, id);
    const runtime = observedRuntime(props.runtime, props.runtimeJob);
    this.name = props.name ?? RUNTIME_ALERTS_NAME;
    this.namespace = props.namespace ?? runtime.namespace;
    checkDnsSubdomain('name', this.name);
    checkLabelValue('name', this.name, 'it is also the app.kubernetes.io/name label');
    checkDnsLabel('namespace', this.namespace);
    const ruleLabels = checkLabels('ruleLabels', props.ruleLabels ?? {});
    if ('severity' in ruleLabels) {
      throw new PropError('ruleLabels', 'severity', 'must not set severity: each alert sets its own');
    }
    if (props.runbookBaseUrl !== undefined && !/^https?:\/\/\S+$/.test(props.runbookBaseUrl)) {
      throw new PropError('runbookBaseUrl', props.runbookBaseUrl, 'must be an http(s) URL');
    }
    this.intervalSeconds =
      props.evaluationInterval === undefined
        ? undefined
        : durationSeconds('evaluationInterval', props.evaluationInterval, 1);

    const specs = new Map<string, RuleSpec[]>();
    specs.set('elasticai-runtime', runtimeRules(runtime, props));
    specs.set('elasticai-scale-to-zero', scaleToZeroRules(props));
    const spot = props.spotInterruptions ?? defaultSpotInterruptions(this);
    specs.set(
      'elasticai-capacity',
      capacityRules(props, props.clusterAutoscaler ?? defaultClusterAutoscaler(this), spot),
    );
    for (const [name, rules] of specs) if (rules.length === 0) specs.delete(name);
    this.specs = specs;

    const render = (r: RuleSpec): AlertRule => ({
      alert: r.alert,
      expr: r.expr,
      for: promDuration(r.forSeconds),
      labels: { ...ruleLabels, severity: r.severity },
      annotations: annotationsOf(r, props.runbookBaseUrl),
    });
    this.groups = [...specs].map(([name, rules]) => ({
      name,
      ...(this.intervalSeconds !== undefined ? { interval: promDuration(this.intervalSeconds) } : {}),
      rules: rules.map(render),
    }));

    const delivery = props.delivery ?? RuntimeAlertsDelivery.prometheusRule();
    this.delivery = delivery;
    if (delivery.kind === 'azure-monitor-workspace') this.azureRuleGroups(); // checks the interval now
    this.prometheusRule =
      delivery.kind === 'prometheus-rule' && this.groups.length > 0
        ? new ApiObject(this, 'PrometheusRule', {
            apiVersion: 'monitoring.coreos.com/v1',
            kind: 'PrometheusRule',
            metadata: {
              name: this.name,
              namespace: this.namespace,
              labels: {
                'app.kubernetes.io/name': this.name,
                'app.kubernetes.io/component': 'alerts',
                'app.kubernetes.io/part-of': 'elasticai',
                'app.kubernetes.io/managed-by': 'elasticai',
                ...checkLabels('delivery.labels', delivery.labels),
              },
            },
            spec: { groups: this.groups.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r })) })) },
          })
        : undefined;
  }

  /** Every alert rule, in group order. */
  get rules(): readonly AlertRule[] {
    return this.groups.flatMap((g) => g.rules);
  }

  /**
   * The rule groups as a Prometheus rules file (`groups:`), e.g. the `data` of an Amazon Managed
   * Prometheus rule groups namespace. Written as JSON, which every YAML reader accepts.
   */
  rulesFile(): string {
    return `${JSON.stringify({ groups: this.groups }, null, 2)}\n`;
  }

  /**
   * The same rules as Azure Monitor managed Prometheus rule groups (ISO 8601 durations, Azure
   * severities, auto-resolved), for `alertsmanagement.PrometheusRuleGroup` on AKS.
   */
  azureRuleGroups(): AzurePrometheusRuleGroup[] {
    const interval = this.intervalSeconds ?? 60;
    if (interval < 60 || interval > 900) {
      throw new PropError(
        'evaluationInterval',
        `${interval}s`,
        'must be between 1 and 15 minutes for Azure Monitor rule groups',
      );
    }
    return this.groups.map((g) => {
      const specs = this.specs.get(g.name) ?? [];
      return {
        name: g.name,
        interval: isoDuration(interval),
        rules: g.rules.map((r, i) => ({
          alert: r.alert,
          expression: r.expr,
          for: isoDuration(specs[i]?.forSeconds ?? 0),
          severity: AZURE_SEVERITY[specs[i]?.severity ?? 'warning'],
          labels: { ...r.labels },
          annotations: { ...r.annotations },
          enabled: true,
          resolveConfiguration: { autoResolved: true, timeToResolve: 'PT10M' },
        })),
      };
    });
  }
}

/** A ratio as a percentage without float noise: 0.3 → `30%`. */
function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(12))}%`;
}

function annotationsOf(r: RuleSpec, runbookBaseUrl: string | undefined): Record<string, string> {
  return {
    summary: r.summary,
    description: r.description,
    runbook: r.runbook,
    ...(runbookBaseUrl !== undefined
      ? { runbook_url: `${runbookBaseUrl.replace(/#.*$/, '')}#${r.alert.toLowerCase()}` }
      : {}),
  };
}

/** Resolves and checks one alert's options against its defaults; `prop` names it in errors. */
function resolve(
  prop: string,
  options: WindowAlertOptions | undefined,
  defaults: { forSeconds: number; severity: AlertSeverity; threshold?: number; windowSeconds?: number },
  positive = false,
): Resolved {
  const o = options ?? {};
  if (o.severity !== undefined && !SEVERITIES.includes(o.severity)) {
    throw new PropError(`${prop}.severity`, o.severity, `must be one of ${SEVERITIES.join(', ')}`);
  }
  if (o.threshold !== undefined && defaults.threshold === undefined) {
    throw new PropError(`${prop}.threshold`, o.threshold, 'is not used by this alert');
  }
  if (o.window !== undefined && defaults.windowSeconds === undefined) {
    throw new PropError(`${prop}.window`, o.window.toHumanString(), 'is not used by this alert');
  }
  const threshold = o.threshold ?? defaults.threshold ?? 0;
  checkNumber(`${prop}.threshold`, threshold, 0);
  if (positive && threshold === 0) throw new PropError(`${prop}.threshold`, threshold, 'must be above 0');
  const windowSeconds =
    o.window !== undefined ? durationSeconds(`${prop}.window`, o.window, 60) : (defaults.windowSeconds ?? 0);
  return {
    enabled: o.enabled ?? true,
    forSeconds: o.for !== undefined ? durationSeconds(`${prop}.for`, o.for) : defaults.forSeconds,
    severity: o.severity ?? defaults.severity,
    threshold,
    windowSeconds,
  };
}

function runtimeRules(runtime: RuntimeTargets, props: RuntimeAlertsProps): RuleSpec[] {
  const rules: RuleSpec[] = [];
  const where = `${runtime.namespace}/${runtime.name}`;
  const pods = `kubectl -n ${runtime.namespace} get pods -l app.kubernetes.io/name=${runtime.name} -o wide`;

  const down = resolve('runtimeDown', props.runtimeDown, { forSeconds: 120, severity: 'critical' });
  if (down.enabled) {
    rules.push({
      alert: 'ElasticAIRuntimeDown',
      expr: `absent(${runtimeUp(runtime)} == 1)`,
      forSeconds: down.forSeconds,
      severity: down.severity,
      summary: 'No ElasticAI decision runtime replica is up',
      description:
        `Prometheus has not scraped a healthy replica of the decision runtime ${where} for ${promDuration(down.forSeconds)}. ` +
        "KEDA cannot reach its external scaler either: the HPA keeps every runtime-scaled workload at its current replica count, and KEDA's fallback does not fire for an unreachable external scaler (KEDA issue 8056).",
      runbook: [
        `1. ${pods}: are pods running and ready? If pending, check for on-demand capacity (the runtime never runs on spot) and the PodDisruptionBudget.`,
        `2. kubectl -n ${runtime.namespace} logs deploy/${runtime.name} --previous: a bad ELASTICAI_* setting exits with status 2 naming the variable.`,
        `3. If the pods are fine, the scrape is broken: does Prometheus list the runtime's endpoints under job ${runtime.job} (the ServiceMonitor ${runtime.name} selected, or your scrape config), and does the NetworkPolicy admit the scraper's namespace on port 8080?`,
        '4. To take a workload off the runtime meanwhile, pin it: kubectl annotate scaledobject <name> autoscaling.keda.sh/paused-replicas=<n>.',
      ].join('\n'),
    });
  }

  const replica = resolve('runtimeReplicaDown', props.runtimeReplicaDown, {
    forSeconds: 600,
    severity: 'warning',
  });
  if (replica.enabled) {
    rules.push({
      alert: 'ElasticAIRuntimeReplicaDown',
      expr: `${runtimeUp(runtime)} == 0`,
      forSeconds: replica.forSeconds,
      severity: replica.severity,
      summary: 'A decision runtime replica is failing its scrapes',
      description:
        `Replica {{ $labels.pod }} ({{ $labels.instance }}) of the decision runtime ${where} has failed its scrapes for ${promDuration(replica.forSeconds)}. ` +
        'KEDA round-robins over all replicas: the others still answer, but the runtime has lost its redundancy.',
      runbook: [
        `1. ${pods}: restarts, readiness, the node it runs on.`,
        `2. kubectl -n ${runtime.namespace} describe pod {{ $labels.pod }}: failing /readyz or /healthz probes, OOM kills, evictions.`,
        `3. kubectl -n ${runtime.namespace} logs {{ $labels.pod }}: event-loop stalls show as slow /healthz answers.`,
      ].join('\n'),
    });
  }

  const keda = resolve('kedaErrors', props.kedaErrors, { forSeconds: 300, severity: 'critical' });
  if (keda.enabled) {
    const detail = selector('keda_scaler_detail_errors_total', { metric: RUNTIME_KEDA_METRIC });
    const scaledObjectErrors = selector('keda_scaled_object_errors_total');
    const runtimeTriggers = selector('keda_scaler_metrics_value', { metric: RUNTIME_KEDA_METRIC });
    rules.push({
      alert: 'ElasticAIRuntimeUnreachableFromKeda',
      expr:
        `sum by (${SCALED_OBJECT_BY}) (rate(${detail}[${RATE_WINDOW}])) > 0` +
        `\nor\n(sum by (${SCALED_OBJECT_BY}) (rate(${scaledObjectErrors}[${RATE_WINDOW}])) > 0` +
        ` and on (${SCALED_OBJECT_BY}) group by (${SCALED_OBJECT_BY}) (${runtimeTriggers}))`,
      forSeconds: keda.forSeconds,
      severity: keda.severity,
      summary: 'KEDA gets errors from the decision runtime',
      description:
        `KEDA has been getting errors for ScaledObject ${SCALED_OBJECT_NAME}, which scales on the decision runtime ${where}, for ${promDuration(keda.forSeconds)}: ` +
        "either its runtime trigger fails (keda_scaler_detail_errors_total), or KEDA could not even fetch the trigger's metric spec (keda_scaled_object_errors_total). " +
        'The HPA keeps the workload at its current replica count.',
      runbook: [
        `1. kubectl -n ${SCALED_OBJECT_NAMESPACE} describe scaledobject {{ $labels.scaledObject }}: KEDAScalerFailed events carry the gRPC error.`,
        '2. UNAVAILABLE: the runtime has no decision for the workload yet (first backfill) or cannot be reached: check the runtime pods and its NetworkPolicy (gRPC 9090 only from the KEDA namespace).',
        `   "refused: not enough memory": the runtime's working set, with what recently admitted workloads will still grow by, is within 10% of its memory limit, and it admits no new workload (${RUNTIME_METRICS.workloadsRefused}{job="${runtime.job}"} rises); raise the DecisionRuntime's memory limit, or lengthen short trigger intervals (the default 768Mi holds 10,000 workloads at 1 min, about 11,000 at 10 s).`,
        '3. INVALID_ARGUMENT: the trigger metadata is wrong; the message names the key (metadata.capacityPerReplica: ...).',
        `4. kubectl -n ${runtime.namespace} logs deploy/${runtime.name}: TLS handshake failures point at the trigger's TriggerAuthentication (caCert, tlsClientCert).`,
      ].join('\n'),
    });
  }

  const refused = resolve('workloadsRefused', props.workloadsRefused, {
    forSeconds: 600,
    severity: 'warning',
  });
  if (refused.enabled) {
    rules.push({
      alert: 'ElasticAIRuntimeRefusingWorkloads',
      // KEDA asks again on every poll, so a workload that stays refused keeps the rate above zero. The
      // counter has no namespace label of its own: `namespace` is the runtime's, from the scrape.
      expr: `sum by (namespace, pod) (rate(${runtimeSelector(runtime, RUNTIME_METRICS.workloadsRefused, { namespace: runtime.namespace })}[${RATE_WINDOW}])) > 0`,
      forSeconds: refused.forSeconds,
      severity: refused.severity,
      summary: 'A decision runtime replica refuses new workloads: it is near its memory limit',
      description:
        `Replica {{ $labels.pod }} of the decision runtime ${where} has refused new workloads for ${promDuration(refused.forSeconds)}: ` +
        'admitting them would take it within 10% of its memory limit. KEDA gets UNAVAILABLE for them, so the HPA keeps their replica count and no forecast scales them. ' +
        'Workloads already admitted are served as before.',
      runbook: [
        `1. elasticai status, or GET /api/v1/workloads on the runtime: "refused" names each workload, when, and the memory figures.`,
        `2. Compare ${RUNTIME_METRICS.stateBytes}{job="${runtime.job}"} and the container's working set with its memory limit (kubectl -n ${runtime.namespace} top pod -l app.kubernetes.io/name=${runtime.name}).`,
        "3. Raise the DecisionRuntime's memory limit (resources), or lengthen short trigger intervals (intervalSeconds): the default 768Mi holds 10,000 workloads at 1 min, about 11,000 at 10 s (512Mi: about 9,500 and 6,700). More replicas do not help: every replica holds every workload.",
        '4. ELASTICAI_MEMORY_LIMIT_MIB=0 turns admission off; the container is then OOM-killed instead, and restarts into the same load.',
      ].join('\n'),
    });
  }

  const holding = resolve('holding', props.holding, { forSeconds: 900, severity: 'warning' });
  if (holding.enabled) {
    rules.push({
      alert: 'ElasticAIWorkloadHolding',
      expr: `max by (${WORKLOAD_BY}) (${runtimeSelector(runtime, RUNTIME_METRICS.degraded, { state: 'holding' })}) == 1`,
      forSeconds: holding.forSeconds,
      severity: holding.severity,
      summary: 'A workload is held on its last good decision',
      description:
        `The decision runtime has held ${WORKLOAD_NAME} for more than ${promDuration(holding.forSeconds)}: its history source has failed for longer than ELASTICAI_STALE_AFTER_SECONDS, ` +
        'so the runtime serves the last good decision frozen, never scaling the workload down and following no new demand.',
      runbook: [
        `1. rate(elasticai_history_source_failures_total{job="${runtime.job}"}[5m]) by kind: timeout, bad_data, no data, auth.`,
        `2. GET /api/v1/workloads/<namespace>/<name> on the runtime: state and lastError say what the source answered.`,
        "3. Is Prometheus (or AMP / the Azure Monitor workspace) up and the runtime's identity allowed to query it? Does the trigger's query still return samples (a renamed metric reads as no data)?",
        '4. Other KEDA triggers of the ScaledObject still scale it; pin it with autoscaling.keda.sh/paused-replicas if demand moves meanwhile.',
      ].join('\n'),
    });
  }

  const forecast = resolve(
    'forecastError',
    props.forecastError,
    { forSeconds: 1800, severity: 'warning', threshold: DEFAULT_FORECAST_ERROR_THRESHOLD },
    true,
  );
  if (forecast.enabled) {
    rules.push({
      alert: 'ElasticAIForecastErrorHigh',
      expr: `abs(max by (${WORKLOAD_BY}) (${runtimeSelector(runtime, RUNTIME_METRICS.forecastError)})) > ${forecast.threshold}`,
      forSeconds: forecast.forSeconds,
      severity: forecast.severity,
      summary: "A workload's demand forecast is far off",
      description:
        `The lead-time forecast of ${WORKLOAD_NAME} has been off by more than ${percent(forecast.threshold)} for ${promDuration(forecast.forSeconds)} ` +
        '(now {{ $value | humanizePercentage }}). The ratio is (actual peak - forecast) / forecast: above zero, demand outran the forecast and replicas came late; below zero, replicas were paid for and not needed.',
      runbook: [
        '1. Compare elasticai_predicted_demand with elasticai_observed_demand on the ElasticAI dashboard: a level shift (a launch, a migration) settles at the next refit; a broken query does not.',
        '2. GET /api/v1/workloads/<namespace>/<name>: the model in use and the anomaly state.',
        '3. If demand changed for good, pin the models (metadata.models) or shorten the history (ELASTICAI_HISTORY_DAYS); replay the trace offline with `elasticai simulate` to compare policies.',
      ].join('\n'),
    });
  }
  return rules;
}

function scaleToZeroRules(props: RuntimeAlertsProps): RuleSpec[] {
  const o = resolve('scaleToZeroRejections', props.scaleToZeroRejections, {
    forSeconds: 120,
    severity: 'warning',
    threshold: 0,
  });
  if (!o.enabled) return [];
  return [
    {
      alert: 'ElasticAIScaleToZeroRejections',
      expr: `sum by (target, reason) (rate(${selector(RESOLVER_METRICS.rejected)}[${RATE_WINDOW}])) > ${o.threshold}`,
      forSeconds: o.forSeconds,
      severity: o.severity,
      summary: 'The scale-to-zero resolver rejects requests',
      description:
        'The scale-to-zero resolver has been rejecting requests for {{ $labels.target }} ({{ $labels.reason }}) ' +
        `at {{ printf "%.2f" $value }}/s over the last ${RATE_WINDOW}: clients of a workload waking from zero get errors instead of a delayed answer.`,
      runbook: [
        '1. reason="timeout": the target got no ready endpoint within the time the resolver holds requests; compare elasticai_resolver_cold_start_seconds with that timeout, and keep a replica warm (minReplicas: 1) at busy hours.',
        '2. reason="queue-full": more requests arrived during a wake-up than the resolver may hold; raise its queue limit or keep the target warm. reason="backend-error": the woken target failed the released requests; check its logs. reason="unsupported": requests the resolver cannot hold.',
        '3. elasticai_resolver_wake_failures_total rising: no runtime replica accepted the wake call (POST /api/v1/workloads/<ns>/<name>/wake); otherwise check that KEDA scaled the workload from zero (kubectl describe scaledobject).',
      ].join('\n'),
    },
  ];
}

function capacityRules(
  props: RuntimeAlertsProps,
  clusterAutoscaler: boolean,
  spot: SpotInterruptionSource,
): RuleSpec[] {
  const rules: RuleSpec[] = [];
  const failed = resolve('failedScaleUps', props.failedScaleUps, {
    forSeconds: 0,
    severity: 'warning',
    threshold: 2,
    windowSeconds: 1800,
  });
  const unschedulable = resolve('unschedulablePods', props.unschedulablePods, {
    forSeconds: 900,
    severity: 'warning',
    threshold: 0,
  });
  const rate = resolve('spotInterruptionRate', props.spotInterruptionRate, {
    forSeconds: 0,
    severity: 'warning',
    threshold: 5,
    windowSeconds: 3600,
  });
  if (clusterAutoscaler && failed.enabled) {
    const window = promDuration(failed.windowSeconds);
    rules.push({
      alert: 'ElasticAIClusterAutoscalerScaleUpFailing',
      expr: `sum by (reason) (increase(${selector('cluster_autoscaler_failed_scale_ups_total')}[${window}])) > ${failed.threshold}`,
      forSeconds: failed.forSeconds,
      severity: failed.severity,
      summary: 'cluster-autoscaler keeps failing to add nodes',
      description:
        `cluster-autoscaler failed {{ $value | humanize }} scale-ups in the last ${window} ({{ $labels.reason }}). ` +
        'Predicted replicas may wait for nodes that do not come: cloud quota, spot capacity, IAM or launch-template errors.',
      runbook: [
        '1. kubectl -n kube-system get configmap cluster-autoscaler-status -o yaml: node groups in backoff and why.',
        '2. kubectl -n kube-system logs deploy/cluster-autoscaler | grep -i "failed to increase": the cloud error (InsufficientInstanceCapacity, quota, UnauthorizedOperation).',
        '3. reason="timeout": nodes were created but never became Ready: check the node bootstrap (user data, AMI, the node IAM role).',
        '4. For spot groups, widen the instance types or let the priority expander fall back to on-demand.',
      ].join('\n'),
    });
  }
  if (clusterAutoscaler && unschedulable.enabled) {
    rules.push({
      alert: 'ElasticAIUnschedulablePods',
      // `type` (unschedulable | scheduler_unprocessed) exists only on newer autoscalers; != also matches none.
      expr: `max(${selector('cluster_autoscaler_unschedulable_pods_count', { type: LabelMatcher.not('scheduler_unprocessed') })}) > ${unschedulable.threshold}`,
      forSeconds: unschedulable.forSeconds,
      severity: unschedulable.severity,
      summary: 'Pods stay unschedulable',
      description:
        `cluster-autoscaler has seen {{ $value }} unschedulable pods for ${promDuration(unschedulable.forSeconds)} without placing them: ` +
        'node groups at their maximum, pods no node group can fit (requests, selectors, taints), or failing scale-ups.',
      runbook: [
        '1. kubectl get pods -A --field-selector=status.phase=Pending; kubectl describe pod <pod>: the FailedScheduling and NotTriggerScaleUp events say why.',
        '2. NotTriggerScaleUp "max node group size reached": raise the pool maximum or the tenant quota that the runtime caps replicas with.',
        '3. Pods below the expendable priority cutoff (headroom pause pods, priority -10) never trigger a scale-up: that is by design.',
      ].join('\n'),
    });
  }
  const drains = spot.drainCounter();
  if (drains !== undefined && rate.enabled) {
    const window = promDuration(rate.windowSeconds);
    rules.push({
      alert: 'ElasticAISpotInterruptionRateHigh',
      expr: `sum(increase(${drains}[${window}])) > ${rate.threshold}`,
      forSeconds: rate.forSeconds,
      severity: rate.severity,
      summary: 'Spot nodes are being interrupted often',
      description:
        `AWS Node Termination Handler drained {{ $value | humanize }} nodes in the last ${window} (more than ${rate.threshold}). ` +
        'Each interruption evicts pods and makes the autoscaler replace the node: capacity flaps and workloads on spot restart.',
      runbook: [
        '1. kubectl -n kube-system logs deploy/aws-node-termination-handler: which instance types and zones are interrupted.',
        '2. Diversify the spot pools (more instance types of the same size, more zones) and prefer capacity-optimized allocation.',
        '3. Move latency-critical workloads to Placement.onDemandOnly() or raise the on-demand base of mixed pools until the rate settles.',
      ].join('\n'),
    });
  }
  return rules;
}

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Checks labels: Kubernetes label syntax for object labels, Prometheus label names for rule labels. */
function checkLabels(
  prop: string,
  labels: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> {
  const rule = prop === 'ruleLabels';
  for (const [key, value] of Object.entries(labels)) {
    if (rule ? !isLabelName(key) || key.startsWith('__') : key.length > 316 || !LABEL_KEY.test(key)) {
      throw new PropError(
        prop,
        key,
        rule ? 'must be Prometheus label names' : 'must be Kubernetes label keys',
      );
    }
    if (
      typeof value !== 'string' ||
      (!rule && !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value))
    ) {
      throw new PropError(`${prop}.${key}`, value, 'must be a valid label value (at most 63 characters)');
    }
    if (!rule && value.length > 63) {
      throw new PropError(`${prop}.${key}`, value, 'must be a valid label value (at most 63 characters)');
    }
  }
  return { ...labels };
}
