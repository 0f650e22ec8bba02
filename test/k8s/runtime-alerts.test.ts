// RuntimeAlerts: the PrometheusRule's shape, every expression through `promtool check rules`, the degraded,
// rejection, runtime, KEDA and capacity alerts through `promtool test rules`, every metric name held to
// the runtime's registry or the documented external list, thresholds, defaults per cloud, Azure groups.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PrometheusRuleGroupArgs } from '@pulumi/azure-native/alertsmanagement/prometheusRuleGroup.js';
import { Duration } from 'cdk8s';
import { DecisionRuntime } from '../../constructs/k8s/decision-runtime.js';
import {
  EXTERNAL_METRICS,
  RUNTIME_METRICS,
  SpotInterruptionSource,
} from '../../constructs/k8s/observed-metrics.js';
import { RuntimeHistory } from '../../constructs/k8s/runtime-history.js';
import {
  type AlertOptions,
  type AlertRule,
  type AlertRuleGroup,
  RuntimeAlerts,
  RuntimeAlertsDelivery,
  type RuntimeAlertsProps,
} from '../../constructs/k8s/runtime-alerts.js';
import { RuntimeMetrics } from '../../runtime/service/metrics.js';
import { only, synth, testChart, testCluster, type Json } from '../support/chart.js';
import type { KubeObject } from '../support/validate.js';
import { DURATION, PROMETHEUS_RULE } from './prometheus-rule-schema.js';
import { type RuleTest, checkRules, checkRulesFile, metricNames, testRules } from './promtool.js';

const RUNTIME_ALERTS = [
  'ElasticAIRuntimeDown',
  'ElasticAIRuntimeReplicaDown',
  'ElasticAIRuntimeUnreachableFromKeda',
  'ElasticAIRuntimeRefusingWorkloads',
  'ElasticAIWorkloadHolding',
  'ElasticAIForecastErrorHigh',
];
const CAPACITY_ALERTS = [
  'ElasticAIClusterAutoscalerScaleUpFailing',
  'ElasticAIUnschedulablePods',
  'ElasticAISpotInterruptionRateHigh',
];

function synthAlerts(
  props: RuntimeAlertsProps = {},
  cluster = testCluster(),
): { alerts: RuntimeAlerts; objects: KubeObject[] } {
  const chart = testChart(cluster);
  const alerts = new RuntimeAlerts(chart, 'alerts', props);
  return { alerts, objects: synth(chart) };
}

const rule = (alerts: RuntimeAlerts, name: string): AlertRule => {
  const found = alerts.rules.find((r) => r.alert === name);
  assert.ok(found, `no alert ${name}`);
  return found;
};

function throwsProp(build: () => unknown, message: RegExp): void {
  assert.throws(build, (e: Error) => {
    assert.equal(e.name, 'PropError', e.message);
    assert.match(e.message, message);
    return true;
  });
}

/** Prometheus' `humanize` (`%.4g` between 1 and 1000, the only range these tests produce). */
function humanize(v: number): string {
  if (v !== 0 && (Math.abs(v) < 1 || Math.abs(v) >= 1000)) throw new Error(`humanize(${v}) not modelled`);
  return String(Number(v.toPrecision(4)));
}

/** Expands the Go template forms the rules use, for promtool's expected annotations. */
function expand(text: string, labels: Readonly<Record<string, string>>, value: number): string {
  return text.replace(/\{\{\s*(.*?)\s*\}\}/g, (_, body: string) => {
    let m = /^\$labels\.(\w+)$/.exec(body);
    if (m?.[1]) return labels[m[1]] ?? '';
    m = /^or \$labels\.(\w+) \$labels\.(\w+)$/.exec(body);
    if (m?.[1] && m[2]) return labels[m[1]] || labels[m[2]] || '';
    if (body === '$value') return String(value);
    if (body === '$value | humanize') return humanize(value);
    if (body === '$value | humanizePercentage') return `${humanize(value * 100)}%`;
    if (body === 'printf "%.2f" $value') return value.toFixed(2);
    throw new Error(`template form not modelled by the test: {{ ${body} }}`);
  });
}

/** An expected alert: its labels, and its annotations expanded for them and the value. */
function expected(
  alerts: RuntimeAlerts,
  name: string,
  labels: Record<string, string>,
  value: number,
): { exp_labels: Record<string, string>; exp_annotations: Record<string, string> } {
  const r = rule(alerts, name);
  const all = { ...r.labels, ...labels };
  return {
    exp_labels: all,
    exp_annotations: Object.fromEntries(
      Object.entries(r.annotations).map(([k, v]) => [k, expand(v, { ...all, alertname: name }, value)]),
    ),
  };
}

async function assertRuleTests(alerts: RuntimeAlerts, tests: RuleTest[]): Promise<void> {
  const result = await testRules(alerts.groups, tests);
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, /SUCCESS/);
}

const RUNTIME_TARGET = 'job="elasticai-runtime",namespace="elasticai-system"';

describe('RuntimeAlerts', () => {
  it('writes one PrometheusRule with three groups, stable names and a schema-valid shape', () => {
    // GIVEN / WHEN the defaults in an EKS cluster with a spot pool
    const { objects } = synthAlerts();
    // THEN exactly one PrometheusRule, named and labelled stably
    assert.deepEqual(
      objects.map((o) => `${o.apiVersion}/${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`),
      ['monitoring.coreos.com/v1/PrometheusRule/elasticai-system/elasticai-runtime-alerts'],
    );
    const pr = only(objects, 'PrometheusRule') as Json;
    assert.deepEqual(pr.metadata.labels, {
      'app.kubernetes.io/name': 'elasticai-runtime-alerts',
      'app.kubernetes.io/component': 'alerts',
      'app.kubernetes.io/part-of': 'elasticai',
      'app.kubernetes.io/managed-by': 'elasticai',
    });
    assert.equal(PROMETHEUS_RULE(pr), true, JSON.stringify(PROMETHEUS_RULE.errors));
    assert.deepEqual(
      (pr.spec.groups as Json[]).map((g) => [g.name, (g.rules as Json[]).map((r) => r.alert)]),
      [
        ['elasticai-runtime', RUNTIME_ALERTS],
        ['elasticai-scale-to-zero', ['ElasticAIScaleToZeroRejections']],
        ['elasticai-capacity', CAPACITY_ALERTS],
      ],
    );
    // No group interval unless asked: Prometheus' global evaluation_interval applies.
    for (const g of pr.spec.groups as Json[]) assert.equal(g.interval, undefined);
  });

  it('the hand-written PrometheusRule check rejects what the operator would prune or refuse', () => {
    // GIVEN a valid PrometheusRule WHEN breaking it THEN the check fails (it is not vacuous)
    const pr = only(synthAlerts().objects, 'PrometheusRule') as Json;
    const typo = structuredClone(pr);
    typo.spec.groups[0].rules[0].fore = '5m';
    assert.equal(PROMETHEUS_RULE(typo), false);
    const badFor = structuredClone(pr);
    badFor.spec.groups[0].rules[0].for = '5 minutes';
    assert.equal(PROMETHEUS_RULE(badFor), false);
    const noExpr = structuredClone(pr);
    delete noExpr.spec.groups[0].rules[0].expr;
    assert.equal(PROMETHEUS_RULE(noExpr), false);
  });

  it('gives every alert a for, a severity label and summary, description and runbook annotations', () => {
    // GIVEN / WHEN
    const { alerts } = synthAlerts();
    // THEN
    assert.equal(alerts.rules.length, 10);
    for (const r of alerts.rules) {
      assert.match(r.alert, /^ElasticAI[A-Z][A-Za-z]+$/);
      assert.match(r.for, new RegExp(DURATION), r.alert);
      assert.ok(['critical', 'warning', 'info'].includes(r.labels.severity ?? ''), r.alert);
      assert.deepEqual(Object.keys(r.annotations), ['summary', 'description', 'runbook'], r.alert);
      assert.ok((r.annotations.summary ?? '').length > 10, r.alert);
      assert.ok((r.annotations.description ?? '').length > 40, r.alert);
      assert.match(r.annotations.runbook ?? '', /^1\. .+\n2\. /s, `${r.alert}: numbered runbook steps`);
    }
    assert.deepEqual(Object.fromEntries(alerts.rules.map((r) => [r.alert, [r.for, r.labels.severity]])), {
      ElasticAIRuntimeDown: ['2m', 'critical'],
      ElasticAIRuntimeReplicaDown: ['10m', 'warning'],
      ElasticAIRuntimeUnreachableFromKeda: ['5m', 'critical'],
      ElasticAIRuntimeRefusingWorkloads: ['10m', 'warning'],
      ElasticAIWorkloadHolding: ['15m', 'warning'],
      ElasticAIForecastErrorHigh: ['30m', 'warning'],
      ElasticAIScaleToZeroRejections: ['2m', 'warning'],
      ElasticAIClusterAutoscalerScaleUpFailing: ['0s', 'warning'],
      ElasticAIUnschedulablePods: ['15m', 'warning'],
      ElasticAISpotInterruptionRateHigh: ['0s', 'warning'],
    });
  });

  it('writes the expressions the alerts are about', () => {
    // GIVEN / WHEN
    const { alerts } = synthAlerts();
    // THEN
    assert.equal(rule(alerts, 'ElasticAIRuntimeDown').expr, `absent(up{${RUNTIME_TARGET}} == 1)`);
    assert.equal(rule(alerts, 'ElasticAIRuntimeReplicaDown').expr, `up{${RUNTIME_TARGET}} == 0`);
    const keda = rule(alerts, 'ElasticAIRuntimeUnreachableFromKeda').expr;
    assert.match(
      keda,
      /rate\(keda_scaler_detail_errors_total\{metric=~"s\[0-9\]\+-elasticai-\.\+"\}\[5m\]\)/,
    );
    assert.match(
      keda,
      /rate\(keda_scaled_object_errors_total\[5m\]\)\) > 0 and on \(namespace, exported_namespace, scaledObject\)/,
    );
    assert.match(
      keda,
      /group by \(namespace, exported_namespace, scaledObject\) \(keda_scaler_metrics_value\{metric=~/,
    );
    assert.equal(
      rule(alerts, 'ElasticAIRuntimeRefusingWorkloads').expr,
      `sum by (namespace, pod) (rate(elasticai_workloads_refused_total{${RUNTIME_TARGET}}[5m])) > 0`,
    );
    assert.equal(
      rule(alerts, 'ElasticAIWorkloadHolding').expr,
      'max by (namespace, exported_namespace, name) (elasticai_degraded{job="elasticai-runtime",state="holding"}) == 1',
    );
    assert.equal(
      rule(alerts, 'ElasticAIForecastErrorHigh').expr,
      'abs(max by (namespace, exported_namespace, name) (elasticai_forecast_error_ratio{job="elasticai-runtime"})) > 0.5',
    );
    assert.equal(
      rule(alerts, 'ElasticAIScaleToZeroRejections').expr,
      'sum by (target, reason) (rate(elasticai_resolver_rejected_total[5m])) > 0',
    );
    assert.equal(
      rule(alerts, 'ElasticAIClusterAutoscalerScaleUpFailing').expr,
      'sum by (reason) (increase(cluster_autoscaler_failed_scale_ups_total[30m])) > 2',
    );
    assert.equal(
      rule(alerts, 'ElasticAIUnschedulablePods').expr,
      'max(cluster_autoscaler_unschedulable_pods_count{type!="scheduler_unprocessed"}) > 0',
    );
    assert.equal(
      rule(alerts, 'ElasticAISpotInterruptionRateHigh').expr,
      'sum(increase(actions_total{node_action="cordon-and-drain"}[1h])) > 5',
    );
  });

  it('passes promtool check rules with every option, on every cloud', async () => {
    // GIVEN the defaults, every knob turned, and the AKS defaults
    const variants: RuntimeAlerts[] = [
      synthAlerts().alerts,
      synthAlerts({
        runtime: { name: 'rt', namespace: 'autoscaling' },
        ruleLabels: { team: 'platform' },
        runbookBaseUrl: 'https://runbooks.example.com/elasticai',
        evaluationInterval: Duration.seconds(30),
        spotInterruptions: SpotInterruptionSource.awsNodeTerminationHandler({ job: 'kube-system/nth' }),
        forecastError: { threshold: 0.35, for: Duration.minutes(45) },
        failedScaleUps: { threshold: 0, window: Duration.hours(1) },
        scaleToZeroRejections: { threshold: 0.05, severity: 'critical' },
      }).alerts,
      synthAlerts({}, testCluster({ cloud: 'azure' })).alerts,
    ];
    for (const alerts of variants) {
      // WHEN promtool checks the synthesized groups
      const result = await checkRules(alerts.groups);
      // THEN it accepts them all
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, new RegExp(`SUCCESS: ${alerts.rules.length} rules found`));
    }
  });

  it('promtool check rules catches a broken expression and a broken annotation template', async () => {
    // GIVEN the synthesized groups with one expression cut short
    const { alerts } = synthAlerts();
    const broken = (edit: (r: AlertRule) => AlertRule): AlertRuleGroup[] =>
      alerts.groups.map((g) => ({
        ...g,
        rules: g.rules.map((r) => (r.alert === 'ElasticAIWorkloadHolding' ? edit(r) : r)),
      }));
    // WHEN / THEN promtool refuses it and names the rule
    const expr = await checkRules(broken((r) => ({ ...r, expr: r.expr.replace(/\) == 1$/, ' == 1') })));
    assert.notEqual(expr.code, 0);
    assert.match(expr.output, /ElasticAIWorkloadHolding/);
    assert.match(expr.output, /could not parse expression/);
    const template = await checkRules(
      broken((r) => ({ ...r, annotations: { ...r.annotations, summary: '{{ $labels.name ' } })),
    );
    assert.notEqual(template.code, 0);
    assert.match(template.output, /ElasticAIWorkloadHolding/);
  });

  it("reads only the runtime's own metrics (RuntimeMetrics' registry) and documented external ones", async () => {
    // GIVEN the runtime's registry and the documented external metrics
    // prom-client's typings declare a numeric enum for `type`; at run time it is the family's kind.
    const registry = (await new RuntimeMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map(
      (m) => ({ name: m.name, type: m.type as unknown as string }),
    );
    for (const m of registry)
      assert.ok(['counter', 'gauge', 'histogram'].includes(m.type), `${m.name}: ${m.type}`);
    const series = (name: string, type: string): string[] =>
      type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
    const runtimeSeries = new Set(registry.flatMap((m) => series(m.name, m.type)));
    const externalSeries = new Set(EXTERNAL_METRICS.flatMap((m) => series(m.name, m.type)));
    // THEN the construct's names for runtime metrics are the registry's
    for (const name of Object.values(RUNTIME_METRICS)) {
      assert.ok(
        registry.some((m) => m.name === name),
        `${name} is not registered by RuntimeMetrics`,
      );
    }
    // THEN no external metric shadows a runtime one, and each says where it comes from
    for (const m of EXTERNAL_METRICS) {
      assert.ok(!runtimeSeries.has(m.name), `${m.name} is the runtime's own`);
      assert.ok(m.source.length > 10 && m.reference.length > 10, `${m.name} documents its source`);
    }
    // WHEN reading every expression of every variant
    const { alerts } = synthAlerts({
      spotInterruptions: SpotInterruptionSource.awsNodeTerminationHandler({ job: 'nth' }),
    });
    const used = new Set(alerts.rules.flatMap((r) => metricNames(r.expr)));
    // THEN each is accounted for, and the reader sees every kind of source
    for (const name of used) {
      assert.ok(
        runtimeSeries.has(name) || externalSeries.has(name),
        `${name} is neither the runtime's nor documented`,
      );
    }
    assert.deepEqual([...used].sort(), [
      'actions_total',
      'cluster_autoscaler_failed_scale_ups_total',
      'cluster_autoscaler_unschedulable_pods_count',
      'elasticai_degraded',
      'elasticai_forecast_error_ratio',
      'elasticai_resolver_rejected_total',
      'elasticai_workloads_refused_total',
      'keda_scaled_object_errors_total',
      'keda_scaler_detail_errors_total',
      'keda_scaler_metrics_value',
      'up',
    ]);
  });

  it("names the resolver's metrics as its own registry does, once the resolver is there", async (t) => {
    // GIVEN the resolver's metrics module, when it exists (it is written apart from the constructs)
    const modulePath = ['..', '..', 'runtime', 'resolver', 'metrics.js'].join('/');
    let mod: { ResolverMetrics?: new (targets: string[], o: { defaultMetrics: boolean }) => RuntimeMetrics };
    try {
      mod = (await import(modulePath)) as typeof mod;
    } catch {
      t.skip('runtime/resolver/metrics.ts is not built here');
      return;
    }
    assert.ok(mod.ResolverMetrics, 'runtime/resolver/metrics.ts exports ResolverMetrics');
    const registry = new mod.ResolverMetrics(['shop/checkout'], { defaultMetrics: false }).registry;
    // WHEN / THEN every resolver metric the alerts and dashboard read is registered with the listed labels
    for (const m of EXTERNAL_METRICS.filter((e) => e.name.startsWith('elasticai_resolver_'))) {
      const metric = registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] } | undefined;
      assert.ok(metric, `${m.name} is not registered by ResolverMetrics`);
      assert.deepEqual([...(metric.labelNames ?? [])].sort(), [...m.labels].sort(), m.name);
    }
  });

  it('the metric-name reader is not vacuous', () => {
    // GIVEN expressions with functions, aggregations, label lists, strings, durations and numbers
    // WHEN / THEN only selected metrics come out
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (le, method) (rate(foo_bucket{a="b c",d=~"x{1}"}[5m]))) > 1e+3 and on (job) bar',
      ),
      ['bar', 'foo_bucket'],
    );
    assert.deepEqual(metricNames('count(max by (ns) (baz{job="x"}) == 1) or vector(0)'), ['baz']);
    assert.deepEqual(metricNames('absent(up == 1) unless group by (x) (qux offset 5m)'), ['qux', 'up']);
  });

  it('fires ElasticAIWorkloadHolding after 15 min of holding, whichever way the scrape kept the namespace', async () => {
    // GIVEN the default alerts
    const { alerts } = synthAlerts();
    const operator = 'job="elasticai-runtime",namespace="elasticai-system",exported_namespace="shop"';
    const tests: RuleTest[] = [
      {
        interval: '1m',
        input_series: [
          // Two replicas agree: holding from minute 5 on.
          {
            series: `elasticai_degraded{${operator},pod="a",name="checkout",state="holding"}`,
            values: '0x4 1x40',
          },
          {
            series: `elasticai_degraded{${operator},pod="b",name="checkout",state="holding"}`,
            values: '0x4 1x40',
          },
          {
            series: `elasticai_degraded{${operator},pod="a",name="checkout",state="stale"}`,
            values: '1x4 0x40',
          },
          // Stale all along: the runtime still serves fresh-enough decisions; no alert.
          { series: `elasticai_degraded{${operator},pod="a",name="web",state="stale"}`, values: '1x44' },
          // Holding for 10 min only, then recovered: no alert.
          {
            series: `elasticai_degraded{${operator},pod="a",name="cart",state="holding"}`,
            values: '0x4 1x10 0x29',
          },
          // honorLabels: the runtime's own namespace label stays `namespace`.
          {
            series:
              'elasticai_degraded{job="elasticai-runtime",namespace="billing",pod="a",name="invoices",state="holding"}',
            values: '1x44',
          },
          // Another job's series of the same name: not this runtime's.
          {
            series: 'elasticai_degraded{job="other",namespace="x",name="y",state="holding"}',
            values: '1x44',
          },
        ],
        alert_rule_test: [
          // Everything still pending: holding for less than 15 min.
          { eval_time: '14m', alertname: 'ElasticAIWorkloadHolding', exp_alerts: [] },
          {
            eval_time: '16m',
            alertname: 'ElasticAIWorkloadHolding',
            exp_alerts: [
              expected(alerts, 'ElasticAIWorkloadHolding', { namespace: 'billing', name: 'invoices' }, 1),
            ],
          },
          {
            eval_time: '20m',
            alertname: 'ElasticAIWorkloadHolding',
            exp_alerts: [
              expected(alerts, 'ElasticAIWorkloadHolding', { namespace: 'billing', name: 'invoices' }, 1),
              expected(
                alerts,
                'ElasticAIWorkloadHolding',
                { namespace: 'elasticai-system', exported_namespace: 'shop', name: 'checkout' },
                1,
              ),
            ],
          },
        ],
      },
    ];
    // THEN the description names the workload as namespace/name in both cases
    assert.equal(
      expand(
        rule(alerts, 'ElasticAIWorkloadHolding').annotations.description ?? '',
        {
          namespace: 'elasticai-system',
          exported_namespace: 'shop',
          name: 'checkout',
        },
        1,
      ),
      'The decision runtime has held shop/checkout for more than 15m: its history source has failed for longer than ELASTICAI_STALE_AFTER_SECONDS, so the runtime serves the last good decision frozen, never scaling the workload down and following no new demand.',
    );
    // WHEN promtool evaluates the rules over the series THEN exactly the expected alerts fire
    await assertRuleTests(alerts, tests);
  });

  it('fires ElasticAIScaleToZeroRejections while the resolver rejects, per target and reason', async () => {
    // GIVEN the default alerts and a resolver rejecting 6 requests a minute for shop/checkout from minute 10
    const { alerts } = synthAlerts();
    const tests: RuleTest[] = [
      {
        interval: '1m',
        input_series: [
          {
            series:
              'elasticai_resolver_rejected_total{target="shop/checkout",reason="timeout",pod="resolver-a"}',
            values: '0x10 6+6x20',
          },
          // Rejections long ago: the counter is flat now.
          {
            series: 'elasticai_resolver_rejected_total{target="shop/web",reason="timeout",pod="resolver-a"}',
            values: '5x30',
          },
        ],
        alert_rule_test: [
          { eval_time: '10m', alertname: 'ElasticAIScaleToZeroRejections', exp_alerts: [] },
          // Active from minute 11, pending for the 2 min `for`.
          { eval_time: '12m', alertname: 'ElasticAIScaleToZeroRejections', exp_alerts: [] },
          {
            eval_time: '20m',
            alertname: 'ElasticAIScaleToZeroRejections',
            exp_alerts: [
              expected(
                alerts,
                'ElasticAIScaleToZeroRejections',
                { target: 'shop/checkout', reason: 'timeout' },
                0.1,
              ),
            ],
          },
        ],
      },
    ];
    assert.equal(
      expand(
        rule(alerts, 'ElasticAIScaleToZeroRejections').annotations.description ?? '',
        {
          target: 'shop/checkout',
          reason: 'timeout',
        },
        0.1,
      ),
      'The scale-to-zero resolver has been rejecting requests for shop/checkout (timeout) at 0.10/s over the last 5m: clients of a workload waking from zero get errors instead of a delayed answer.',
    );
    // WHEN / THEN
    await assertRuleTests(alerts, tests);
  });

  it('fires ElasticAIRuntimeRefusingWorkloads for a replica that keeps refusing, not for a refusal that clears', async () => {
    // GIVEN replica a refusing on every poll (2 a minute) from minute 5; replica b refusing once at
    // minute 5 (admitted on KEDA's next ask); another runtime's replica refusing all along
    const { alerts } = synthAlerts();
    const at = (pod: string, namespace = 'elasticai-system'): string =>
      `elasticai_workloads_refused_total{job="elasticai-runtime",namespace="${namespace}",pod="${pod}"}`;
    const tests: RuleTest[] = [
      {
        interval: '1m',
        input_series: [
          { series: at('a'), values: '0x5 2+2x30' },
          { series: at('b'), values: '0x5 3x30' },
          { series: at('c', 'other'), values: '0+2x35' },
        ],
        alert_rule_test: [
          // a: refusing from minute 6, pending for the 10 min `for`
          { eval_time: '15m', alertname: 'ElasticAIRuntimeRefusingWorkloads', exp_alerts: [] },
          {
            eval_time: '17m',
            alertname: 'ElasticAIRuntimeRefusingWorkloads',
            exp_alerts: [
              expected(
                alerts,
                'ElasticAIRuntimeRefusingWorkloads',
                { namespace: 'elasticai-system', pod: 'a' },
                2 / 60,
              ),
            ],
          },
        ],
      },
    ];
    assert.match(
      expand(
        rule(alerts, 'ElasticAIRuntimeRefusingWorkloads').annotations.description ?? '',
        { namespace: 'elasticai-system', pod: 'a' },
        2 / 60,
      ),
      /^Replica a of the decision runtime elasticai-system\/elasticai-runtime has refused new workloads for 10m: admitting them would take it within 10% of its memory limit\./,
    );
    // WHEN / THEN
    await assertRuleTests(alerts, tests);
  });

  it('fires ElasticAIRuntimeDown when no replica is up and ElasticAIRuntimeReplicaDown for one down replica', async () => {
    // GIVEN replica a down from minute 5, replica b from minute 20
    const { alerts } = synthAlerts();
    const tests: RuleTest[] = [
      {
        interval: '1m',
        input_series: [
          { series: `up{${RUNTIME_TARGET},pod="a",instance="10.0.0.1:8080"}`, values: '1x4 0x40' },
          { series: `up{${RUNTIME_TARGET},pod="b",instance="10.0.0.2:8080"}`, values: '1x19 0x25' },
          // Another runtime's replicas do not count.
          {
            series: 'up{job="elasticai-runtime",namespace="other",pod="c",instance="10.0.0.3:8080"}',
            values: '1x44',
          },
        ],
        alert_rule_test: [
          { eval_time: '19m', alertname: 'ElasticAIRuntimeDown', exp_alerts: [] },
          {
            eval_time: '16m',
            alertname: 'ElasticAIRuntimeReplicaDown',
            exp_alerts: [
              expected(
                alerts,
                'ElasticAIRuntimeReplicaDown',
                {
                  job: 'elasticai-runtime',
                  namespace: 'elasticai-system',
                  pod: 'a',
                  instance: '10.0.0.1:8080',
                },
                0,
              ),
            ],
          },
          // Both down from minute 20; 2 min later the whole runtime is down.
          {
            eval_time: '22m',
            alertname: 'ElasticAIRuntimeDown',
            exp_alerts: [expected(alerts, 'ElasticAIRuntimeDown', {}, 1)],
          },
        ],
      },
    ];
    // WHEN / THEN
    await assertRuleTests(alerts, tests);
  });

  it("fires ElasticAIRuntimeUnreachableFromKeda only for ScaledObjects with the runtime's trigger", async () => {
    // GIVEN KEDA (scraped without honorLabels) failing for four ScaledObjects
    const { alerts } = synthAlerts();
    const keda = 'job="keda-operator",namespace="keda"';
    const trigger = (so: string, metric: string): string =>
      `${keda},exported_namespace="shop",scaledObject="${so}",scaler="predicted",triggerIndex="1",metric="${metric}",type="scaledobject"`;
    const tests: RuleTest[] = [
      {
        interval: '1m',
        input_series: [
          // checkout: the runtime's trigger answers with errors.
          {
            series: `keda_scaler_detail_errors_total{${trigger('checkout', 's1-elasticai-replicas')}}`,
            values: '0x5 2+2x20',
          },
          // worker: KEDA cannot even get the metric spec; the ScaledObject has a runtime trigger.
          {
            series: `keda_scaled_object_errors_total{${keda},exported_namespace="shop",scaledObject="worker"}`,
            values: '0x5 2+2x20',
          },
          {
            series: `keda_scaler_metrics_value{${trigger('worker', 's1-elasticai-replicas')}}`,
            values: '3x25',
          },
          // web: errors from a RabbitMQ trigger, nothing to do with the runtime.
          {
            series: `keda_scaler_detail_errors_total{${trigger('web', 's0-rabbitmq-orders')}}`,
            values: '0x5 2+2x20',
          },
          {
            series: `keda_scaled_object_errors_total{${keda},exported_namespace="shop",scaledObject="web"}`,
            values: '0x5 2+2x20',
          },
          { series: `keda_scaler_metrics_value{${trigger('web', 's0-rabbitmq-orders')}}`, values: '3x25' },
        ],
        alert_rule_test: [
          { eval_time: '9m', alertname: 'ElasticAIRuntimeUnreachableFromKeda', exp_alerts: [] },
          {
            eval_time: '15m',
            alertname: 'ElasticAIRuntimeUnreachableFromKeda',
            exp_alerts: [
              expected(
                alerts,
                'ElasticAIRuntimeUnreachableFromKeda',
                { namespace: 'keda', exported_namespace: 'shop', scaledObject: 'checkout' },
                0,
              ),
              expected(
                alerts,
                'ElasticAIRuntimeUnreachableFromKeda',
                { namespace: 'keda', exported_namespace: 'shop', scaledObject: 'worker' },
                0,
              ),
            ],
          },
        ],
      },
    ];
    // WHEN / THEN
    await assertRuleTests(alerts, tests);
  });

  it('fires the forecast, cluster-autoscaler and spot alerts past their thresholds only', async () => {
    // GIVEN the default alerts
    const { alerts } = synthAlerts();
    const runtime = 'job="elasticai-runtime",namespace="elasticai-system",exported_namespace="shop",pod="a"';
    const tests: RuleTest[] = [
      {
        interval: '1m',
        input_series: [
          { series: `elasticai_forecast_error_ratio{${runtime},name="checkout"}`, values: '-0.8x60' },
          { series: `elasticai_forecast_error_ratio{${runtime},name="web"}`, values: '0.2x60' },
          // Four failed scale-ups at minutes 6 to 9.
          {
            series: 'cluster_autoscaler_failed_scale_ups_total{reason="cloudProviderError"}',
            values: '0x5 1 2 3 4 4x50',
          },
          { series: 'cluster_autoscaler_failed_scale_ups_total{reason="timeout"}', values: '0x5 1 1x50' },
          { series: 'cluster_autoscaler_unschedulable_pods_count{type="unschedulable"}', values: '3x60' },
          {
            series: 'cluster_autoscaler_unschedulable_pods_count{type="scheduler_unprocessed"}',
            values: '7x60',
          },
          // One drain a minute; uncordons do not count.
          {
            series:
              'actions_total{node_action="cordon-and-drain",node_status="success",otel_scope_name="aws.node.termination.handler"}',
            values: '0+1x90',
          },
          {
            series:
              'actions_total{node_action="uncordon",node_status="success",otel_scope_name="aws.node.termination.handler"}',
            values: '0+10x90',
          },
        ],
        alert_rule_test: [
          { eval_time: '29m', alertname: 'ElasticAIForecastErrorHigh', exp_alerts: [] },
          {
            eval_time: '31m',
            alertname: 'ElasticAIForecastErrorHigh',
            exp_alerts: [
              expected(
                alerts,
                'ElasticAIForecastErrorHigh',
                { namespace: 'elasticai-system', exported_namespace: 'shop', name: 'checkout' },
                0.8,
              ),
            ],
          },
          {
            eval_time: '35m',
            alertname: 'ElasticAIClusterAutoscalerScaleUpFailing',
            exp_alerts: [
              expected(
                alerts,
                'ElasticAIClusterAutoscalerScaleUpFailing',
                { reason: 'cloudProviderError' },
                4,
              ),
            ],
          },
          { eval_time: '45m', alertname: 'ElasticAIClusterAutoscalerScaleUpFailing', exp_alerts: [] },
          { eval_time: '14m', alertname: 'ElasticAIUnschedulablePods', exp_alerts: [] },
          {
            eval_time: '16m',
            alertname: 'ElasticAIUnschedulablePods',
            exp_alerts: [expected(alerts, 'ElasticAIUnschedulablePods', {}, 3)],
          },
          { eval_time: '4m', alertname: 'ElasticAISpotInterruptionRateHigh', exp_alerts: [] },
          {
            eval_time: '80m',
            alertname: 'ElasticAISpotInterruptionRateHigh',
            exp_alerts: [expected(alerts, 'ElasticAISpotInterruptionRateHigh', {}, 60)],
          },
        ],
      },
    ];
    // WHEN / THEN
    await assertRuleTests(alerts, tests);
  });

  it('writes the thresholds, windows, durations and severities it is given', () => {
    // GIVEN every tunable set
    const { alerts } = synthAlerts({
      holding: { for: Duration.minutes(20), severity: 'critical' },
      forecastError: { threshold: 0.3, for: Duration.hours(1) },
      scaleToZeroRejections: { threshold: 0.5 },
      failedScaleUps: { threshold: 0, window: Duration.minutes(15), for: Duration.minutes(5) },
      unschedulablePods: { threshold: 10, for: Duration.seconds(90) },
      spotInterruptionRate: { threshold: 12, window: Duration.hours(2), severity: 'info' },
      runtimeReplicaDown: { enabled: false },
    });
    // THEN
    assert.equal(
      alerts.rules.some((r) => r.alert === 'ElasticAIRuntimeReplicaDown'),
      false,
    );
    const holding = rule(alerts, 'ElasticAIWorkloadHolding');
    assert.equal(holding.for, '20m');
    assert.equal(holding.labels.severity, 'critical');
    assert.match(holding.annotations.description ?? '', /for more than 20m:/);
    const forecast = rule(alerts, 'ElasticAIForecastErrorHigh');
    assert.match(forecast.expr, / > 0\.3$/);
    assert.equal(forecast.for, '1h');
    assert.match(forecast.annotations.description ?? '', /off by more than 30% for 1h/);
    assert.match(rule(alerts, 'ElasticAIScaleToZeroRejections').expr, /\[5m\]\)\) > 0\.5$/);
    const failed = rule(alerts, 'ElasticAIClusterAutoscalerScaleUpFailing');
    assert.match(failed.expr, /\[15m\]\)\) > 0$/);
    assert.equal(failed.for, '5m');
    assert.match(failed.annotations.description ?? '', /in the last 15m/);
    const unschedulable = rule(alerts, 'ElasticAIUnschedulablePods');
    assert.match(unschedulable.expr, / > 10$/);
    assert.equal(unschedulable.for, '90s');
    const spot = rule(alerts, 'ElasticAISpotInterruptionRateHigh');
    assert.match(spot.expr, /\[2h\]\)\) > 12$/);
    assert.equal(spot.labels.severity, 'info');
  });

  it('adds rule labels, runbook URLs, a group interval and the PrometheusRule selector labels', () => {
    // GIVEN
    const { alerts, objects } = synthAlerts({
      ruleLabels: { team: 'platform' },
      runbookBaseUrl: 'https://runbooks.example.com/elasticai.html',
      evaluationInterval: Duration.seconds(30),
      delivery: RuntimeAlertsDelivery.prometheusRule({ labels: { release: 'kube-prometheus-stack' } }),
    });
    // THEN
    const pr = only(objects, 'PrometheusRule') as Json;
    assert.equal(pr.metadata.labels.release, 'kube-prometheus-stack');
    assert.equal(PROMETHEUS_RULE(pr), true, JSON.stringify(PROMETHEUS_RULE.errors));
    for (const g of pr.spec.groups as Json[]) assert.equal(g.interval, '30s');
    for (const r of alerts.rules) {
      assert.deepEqual(r.labels, { team: 'platform', severity: r.labels.severity });
      assert.equal(
        r.annotations.runbook_url,
        `https://runbooks.example.com/elasticai.html#${r.alert.toLowerCase()}`,
      );
    }
  });

  it("watches the runtime it is given: its job and namespace, and the PrometheusRule goes to the runtime's namespace", () => {
    // GIVEN a DecisionRuntime with its own name and namespace
    const chart = testChart();
    const runtime = new DecisionRuntime(chart, 'runtime', {
      image: 'ghcr.io/elasticai/elasticai-runtime:0.1.0',
      history: RuntimeHistory.prometheus('http://prometheus-operated.monitoring.svc:9090'),
      name: 'predictor',
      namespace: 'autoscaling',
    });
    // WHEN
    const alerts = new RuntimeAlerts(chart, 'alerts', { runtime });
    // THEN
    assert.equal(alerts.namespace, 'autoscaling');
    assert.equal(
      rule(alerts, 'ElasticAIRuntimeDown').expr,
      'absent(up{job="predictor",namespace="autoscaling"} == 1)',
    );
    assert.match(
      rule(alerts, 'ElasticAIWorkloadHolding').expr,
      /elasticai_degraded\{job="predictor",state="holding"\}/,
    );
    assert.match(
      rule(alerts, 'ElasticAIRuntimeDown').annotations.description ?? '',
      /autoscaling\/predictor/,
    );
    const pr = only(synth(chart), 'PrometheusRule') as Json;
    assert.equal(pr.metadata.namespace, 'autoscaling');
  });

  it('leaves out what a cluster cannot measure: no cluster-autoscaler or spot alerts on AKS, no spot without spot pools', () => {
    // GIVEN / WHEN an AKS cluster, an EKS cluster without spot, and explicit choices
    const names = (a: RuntimeAlerts): string[] => a.rules.map((r) => r.alert);
    const aks = synthAlerts({}, testCluster({ cloud: 'azure' })).alerts;
    const onDemand = synthAlerts(
      {},
      testCluster({ nodePools: testCluster().nodePools.filter((p) => p.capacityType !== 'spot') }),
    ).alerts;
    const forced = synthAlerts(
      { clusterAutoscaler: true, spotInterruptions: SpotInterruptionSource.awsNodeTerminationHandler() },
      testCluster({ cloud: 'azure' }),
    ).alerts;
    const none = synthAlerts({
      clusterAutoscaler: false,
      spotInterruptions: SpotInterruptionSource.none(),
    }).alerts;
    // THEN
    assert.deepEqual(names(aks), [...RUNTIME_ALERTS, 'ElasticAIScaleToZeroRejections']);
    assert.deepEqual(
      aks.groups.map((g) => g.name),
      ['elasticai-runtime', 'elasticai-scale-to-zero'],
    );
    assert.deepEqual(names(onDemand), [
      ...RUNTIME_ALERTS,
      'ElasticAIScaleToZeroRejections',
      'ElasticAIClusterAutoscalerScaleUpFailing',
      'ElasticAIUnschedulablePods',
    ]);
    assert.deepEqual(names(forced), [
      ...RUNTIME_ALERTS,
      'ElasticAIScaleToZeroRejections',
      ...CAPACITY_ALERTS,
    ]);
    assert.deepEqual(names(none), [...RUNTIME_ALERTS, 'ElasticAIScaleToZeroRejections']);
  });

  it("scopes the spot counter to NTH's job when told", () => {
    // GIVEN / WHEN
    const { alerts } = synthAlerts({
      spotInterruptions: SpotInterruptionSource.awsNodeTerminationHandler({
        job: 'kube-system/aws-node-termination-handler',
      }),
    });
    // THEN
    assert.equal(
      rule(alerts, 'ElasticAISpotInterruptionRateHigh').expr,
      'sum(increase(actions_total{job="kube-system/aws-node-termination-handler",node_action="cordon-and-drain"}[1h])) > 5',
    );
  });

  it('gives Azure Monitor rule groups instead of a PrometheusRule for AKS managed Prometheus', () => {
    // GIVEN / WHEN
    const { alerts, objects } = synthAlerts(
      { delivery: RuntimeAlertsDelivery.azureMonitorWorkspace(), evaluationInterval: Duration.minutes(2) },
      testCluster({ cloud: 'azure' }),
    );
    const groups = alerts.azureRuleGroups();
    // THEN no Kubernetes object, and the same rules in Azure's notation
    assert.deepEqual(objects, []);
    assert.equal(alerts.prometheusRule, undefined);
    assert.deepEqual(
      groups.map((g) => [g.name, g.interval, g.rules.length]),
      [
        ['elasticai-runtime', 'PT2M', 6],
        ['elasticai-scale-to-zero', 'PT2M', 1],
      ],
    );
    const holding = groups[0]?.rules.find((r) => r.alert === 'ElasticAIWorkloadHolding');
    assert.deepEqual(holding && { ...holding, annotations: Object.keys(holding.annotations) }, {
      alert: 'ElasticAIWorkloadHolding',
      expression: rule(alerts, 'ElasticAIWorkloadHolding').expr,
      for: 'PT15M',
      severity: 2,
      labels: { severity: 'warning' },
      annotations: ['summary', 'description', 'runbook'],
      enabled: true,
      resolveConfiguration: { autoResolved: true, timeToResolve: 'PT10M' },
    });
    assert.equal(groups[0]?.rules.find((r) => r.alert === 'ElasticAIRuntimeDown')?.severity, 0);
    // THEN the shape is what @pulumi/azure-native's PrometheusRuleGroup takes (checked by tsc)
    const args: Pick<PrometheusRuleGroupArgs, 'interval' | 'rules'> = {
      interval: groups[0]?.interval,
      rules: (groups[0]?.rules ?? []).map((r) => ({ ...r })),
    };
    assert.equal((args.rules as unknown[]).length, 6);
  });

  it('gives Amazon Managed Prometheus a rules file instead of a PrometheusRule, promtool-clean as written', async () => {
    // GIVEN an EKS cluster whose metrics go to AMP, scraped by AMP's collector under its own job name
    const { alerts, objects } = synthAlerts({
      delivery: RuntimeAlertsDelivery.amazonManagedPrometheus(),
      runtimeJob: 'kubernetes-service-endpoints',
    });
    // WHEN
    const file = alerts.rulesFile();
    // THEN no Kubernetes object; the file holds the same groups and promtool accepts it as is
    assert.deepEqual(objects, []);
    assert.deepEqual(JSON.parse(file), { groups: alerts.groups });
    assert.equal(
      rule(alerts, 'ElasticAIRuntimeDown').expr,
      'absent(up{job="kubernetes-service-endpoints",namespace="elasticai-system"} == 1)',
    );
    assert.match(
      rule(alerts, 'ElasticAIWorkloadHolding').expr,
      /elasticai_degraded\{job="kubernetes-service-endpoints",state="holding"\}/,
    );
    const result = await checkRulesFile(file);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, new RegExp(`SUCCESS: ${alerts.rules.length} rules found`));
  });

  it('synthesizes byte-identical rules every time', () => {
    // GIVEN / WHEN two synths THEN the same JSON
    assert.equal(JSON.stringify(synthAlerts().objects), JSON.stringify(synthAlerts().objects));
  });

  it('refuses bad props, naming the prop and the value', () => {
    // GIVEN / WHEN / THEN
    throwsProp(
      () => synthAlerts({ forecastError: { threshold: 0 } }),
      /^forecastError\.threshold: must be above 0 \(got 0\)$/,
    );
    throwsProp(
      () => synthAlerts({ unschedulablePods: { threshold: -1 } }),
      /^unschedulablePods\.threshold: must be >= 0 \(got -1\)$/,
    );
    // (as a JavaScript caller could pass them)
    const misused = (o: object): AlertOptions => o as unknown as AlertOptions;
    throwsProp(
      () => synthAlerts({ holding: misused({ threshold: 2 }) }),
      /^holding\.threshold: is not used by this alert \(got 2\)$/,
    );
    throwsProp(
      () => synthAlerts({ holding: misused({ window: Duration.minutes(5) }) }),
      /^holding\.window: is not used by this alert/,
    );
    throwsProp(
      () => synthAlerts({ failedScaleUps: { window: Duration.seconds(30) } }),
      /^failedScaleUps\.window: must be >= 60 \(got 30\)$/,
    );
    throwsProp(
      () => synthAlerts({ holding: { for: Duration.millis(1500) } }),
      /^holding\.for: must be a whole number of seconds \(got "1\.5s"\)$/,
    );
    throwsProp(
      () => synthAlerts({ kedaErrors: { severity: 'page' as 'critical' } }),
      /^kedaErrors\.severity: must be one of critical, warning, info \(got "page"\)$/,
    );
    throwsProp(() => synthAlerts({ ruleLabels: { severity: 'x' } }), /^ruleLabels: must not set severity/);
    throwsProp(
      () => synthAlerts({ ruleLabels: { 'team-name': 'x' } }),
      /^ruleLabels: must be Prometheus label names \(got "team-name"\)$/,
    );
    throwsProp(
      () => synthAlerts({ delivery: RuntimeAlertsDelivery.prometheusRule({ labels: { release: 'a b' } }) }),
      /^delivery\.labels\.release: must be a valid label value/,
    );
    throwsProp(
      () => synthAlerts({ runbookBaseUrl: 'runbooks/elasticai' }),
      /^runbookBaseUrl: must be an http\(s\) URL \(got "runbooks\/elasticai"\)$/,
    );
    throwsProp(() => synthAlerts({ name: 'Alerts' }), /^name: .*\(got "Alerts"\)$/);
    // a valid 64-character object name would make an invalid app.kubernetes.io/name label
    throwsProp(
      () => synthAlerts({ name: 'a'.repeat(64) }),
      /^name: must be a label value .*: it is also the app\.kubernetes\.io\/name label \(got "a{64}"\)$/,
    );
    throwsProp(() => synthAlerts({ namespace: 'a.b' }), /^namespace: .*\(got "a\.b"\)$/);
    throwsProp(
      () => synthAlerts({ runtime: { name: 'rt_1', namespace: 'x' } }),
      /^runtime\.name: .*\(got "rt_1"\)$/,
    );
    throwsProp(
      () => synthAlerts({ runtimeJob: '' }),
      /^runtimeJob: must be a non-empty job label value \(got ""\)$/,
    );
    throwsProp(
      () => SpotInterruptionSource.awsNodeTerminationHandler({ job: '' }),
      /^spotInterruptions\.job: must not be empty \(got ""\)$/,
    );
    throwsProp(
      () =>
        synthAlerts({
          delivery: RuntimeAlertsDelivery.azureMonitorWorkspace(),
          evaluationInterval: Duration.seconds(30),
        }),
      /^evaluationInterval: must be between 1 and 15 minutes for Azure Monitor rule groups \(got "30s"\)$/,
    );
    const { alerts } = synthAlerts({ evaluationInterval: Duration.minutes(30) });
    throwsProp(
      () => alerts.azureRuleGroups(),
      /^evaluationInterval: must be between 1 and 15 minutes for Azure Monitor rule groups \(got "1800s"\)$/,
    );
  });
});
