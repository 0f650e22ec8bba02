// GrafanaDashboard: the sidecar ConfigMap, the dashboard JSON (ids, layout, datasource variable,
// template variables), every panel query through promtool, metric names held to the runtime's registry
// or the documented external list, per-cloud panels, custom panels and bad props.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration } from 'cdk8s';
import { DecisionRuntime } from '../../constructs/k8s/decision-runtime.js';
import { GrafanaDashboard, type GrafanaDashboardProps } from '../../constructs/k8s/grafana-dashboard.js';
import { DashboardPanel } from '../../constructs/k8s/grafana-panel.js';
import { EXTERNAL_METRICS, SpotInterruptionSource } from '../../constructs/k8s/observed-metrics.js';
import { RuntimeHistory } from '../../constructs/k8s/runtime-history.js';
import { RuntimeMetrics } from '../../runtime/service/metrics.js';
import { only, synth, testChart, testCluster, type Json } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';
import { checkRules, grafanaToPromQL, metricNames } from './promtool.js';

function synthDashboard(
  props: GrafanaDashboardProps = {},
  cluster = testCluster(),
): { dashboard: GrafanaDashboard; objects: KubeObject[]; model: Json } {
  const chart = testChart(cluster);
  const dashboard = new GrafanaDashboard(chart, 'dashboard', props);
  const objects = synth(chart);
  const cm = only(objects, 'ConfigMap') as Json;
  const files = Object.values(cm.data as Record<string, string>);
  assert.equal(files.length, 1);
  return { dashboard, objects, model: JSON.parse(files[0] as string) };
}

const dataPanels = (model: Json): Json[] => (model.panels as Json[]).filter((p) => p.type !== 'row');
const panel = (model: Json, title: string): Json => {
  const found = (model.panels as Json[]).filter((p) => p.title === title);
  assert.equal(found.length, 1, `one panel "${title}"`);
  return found[0];
};
const exprs = (model: Json, title: string): string[] =>
  (panel(model, title).targets as Json[]).map((t) => t.expr);

/** Every PromQL the dashboard runs: panel targets and the selectors of its `label_values` variables. */
function queries(model: Json): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of dataPanels(model)) {
    for (const t of p.targets as Json[])
      out.push({ where: `panel ${p.id} ${p.title} ${t.refId}`, expr: t.expr });
  }
  for (const v of model.templating.list as Json[]) {
    if (v.type !== 'query') continue;
    const m = /^label_values\((.+), ([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(v.query as string);
    assert.ok(m?.[1], `variable ${v.name}: ${v.query}`);
    out.push({ where: `variable ${v.name}`, expr: m[1] });
  }
  return out;
}

/** The queries as recording rules, so `promtool check rules` parses each one. */
function asRuleGroups(model: Json): unknown[] {
  return [
    {
      name: 'dashboard',
      rules: queries(model).map((q, i) => {
        const expr = grafanaToPromQL(q.expr);
        assert.doesNotMatch(expr, /\$/, `${q.where}: unknown Grafana variable in ${q.expr}`);
        return { record: `elasticai_dashboard:query_${i}`, expr };
      }),
    },
  ];
}

function throwsProp(build: () => unknown, message: RegExp): void {
  assert.throws(build, (e: Error) => {
    assert.equal(e.name, 'PropError', e.message);
    assert.match(e.message, message);
    return true;
  });
}

const BUILT_IN = [
  'Overview',
  'Runtime replicas up',
  'Workloads',
  'Degraded workloads',
  'KEDA call latency p99',
  'Decisions and forecasts',
  'Decisions by rule',
  'Desired replicas',
  'Forecast vs actual demand',
  'Forecast error',
  'Anomaly score',
  'Degraded state',
  'Runtime health',
  'History source failures',
  'History query latency',
  'KEDA gRPC latency',
  'Workload state memory',
  'Workloads refused for memory',
  'Scale to zero',
  'Held requests',
  'Wake-ups, releases and rejections',
  'Cold start p95',
  'Capacity',
  'Headroom pods',
];
const CLUSTER_AUTOSCALER = ['Unschedulable pods', 'Failed scale-ups'];

describe('GrafanaDashboard', () => {
  it('writes one schema-valid ConfigMap the Grafana sidecar picks up, in the ElasticAI folder', async () => {
    // GIVEN / WHEN the defaults
    const { objects, dashboard } = synthDashboard();
    // THEN
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`),
      ['ConfigMap/monitoring/elasticai-dashboard'],
    );
    const cm = only(objects, 'ConfigMap') as Json;
    assert.equal(cm.metadata.labels.grafana_dashboard, '1');
    assert.equal(cm.metadata.labels['app.kubernetes.io/part-of'], 'elasticai');
    assert.deepEqual(cm.metadata.annotations, { grafana_folder: 'ElasticAI' });
    assert.deepEqual(Object.keys(cm.data), ['elasticai-runtime.json']);
    assert.equal(dashboard.fileName, 'elasticai-runtime.json');
    assert.deepEqual(JSON.parse(cm.data['elasticai-runtime.json']), dashboard.model);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('is a Grafana dashboard model: stable uid, no id, title, schema version, refresh and time range', () => {
    // GIVEN / WHEN
    const { model } = synthDashboard();
    // THEN
    assert.equal(model.id, null);
    assert.equal(model.uid, 'elasticai-runtime');
    assert.equal(model.title, 'ElasticAI — predictive autoscaling');
    assert.equal(model.schemaVersion, 39);
    assert.equal(model.refresh, '30s');
    assert.deepEqual(model.time, { from: 'now-6h', to: 'now' });
    assert.deepEqual(model.tags, ['elasticai', 'autoscaling', 'keda']);
  });

  it('numbers panels 1..n in order and lays them out without overlaps on the 24-column grid', () => {
    // GIVEN / WHEN
    const { model } = synthDashboard();
    const panels = model.panels as Json[];
    // THEN ids are unique and follow the order
    assert.deepEqual(
      panels.map((p) => p.id),
      panels.map((_, i) => i + 1),
    );
    // THEN every panel fits the grid, rows span it, and no two panels overlap
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(
        x >= 0 && w >= 1 && x + w <= 24 && y >= 0 && h >= 1,
        `${p.title} ${JSON.stringify(p.gridPos)}`,
      );
      if (p.type === 'row') assert.deepEqual([x, w, h], [0, 24, 1], p.title);
    }
    for (const [i, a] of panels.entries()) {
      for (const b of panels.slice(i + 1)) {
        const apart =
          a.gridPos.x + a.gridPos.w <= b.gridPos.x ||
          b.gridPos.x + b.gridPos.w <= a.gridPos.x ||
          a.gridPos.y + a.gridPos.h <= b.gridPos.y ||
          b.gridPos.y + b.gridPos.h <= a.gridPos.y;
        assert.ok(apart, `"${a.title}" overlaps "${b.title}"`);
      }
    }
    // THEN panels flow top to bottom in their given order
    for (const [i, p] of panels.entries()) {
      const next = panels[i + 1];
      if (next)
        assert.ok(
          next.gridPos.y > p.gridPos.y || (next.gridPos.y === p.gridPos.y && next.gridPos.x > p.gridPos.x),
        );
    }
  });

  it('has the built-in panels, cluster-autoscaler and spot panels on an EKS cluster with spot pools', () => {
    // GIVEN / WHEN
    const { model } = synthDashboard();
    // THEN
    assert.deepEqual(
      (model.panels as Json[]).map((p) => p.title),
      [...BUILT_IN, ...CLUSTER_AUTOSCALER, 'Spot interruptions'],
    );
    assert.deepEqual([...new Set((model.panels as Json[]).map((p) => p.type))].sort(), [
      'row',
      'stat',
      'timeseries',
    ]);
  });

  it('queries through the datasource variable everywhere, with namespace and workload variables', () => {
    // GIVEN / WHEN
    const { model } = synthDashboard();
    const DS = { type: 'prometheus', uid: '${datasource}' };
    // THEN the datasource variable picks any Prometheus
    const vars = model.templating.list as Json[];
    assert.deepEqual(
      vars.map((v) => [v.name, v.type]),
      [
        ['datasource', 'datasource'],
        ['namespace', 'query'],
        ['workload', 'query'],
      ],
    );
    assert.equal(vars[0].query, 'prometheus');
    // THEN every query variable, panel and target uses it
    for (const v of vars.slice(1)) {
      assert.deepEqual(v.datasource, DS, v.name);
      assert.equal(v.multi, true);
      assert.equal(v.includeAll, true);
      assert.equal(v.allValue, '.*');
    }
    assert.equal(
      vars[1].query,
      'label_values(elasticai_desired_replicas{job="elasticai-runtime"}, exported_namespace)',
    );
    assert.equal(
      vars[2].query,
      'label_values(elasticai_desired_replicas{job="elasticai-runtime",exported_namespace=~"$namespace"}, name)',
    );
    for (const p of dataPanels(model)) {
      assert.deepEqual(p.datasource, DS, p.title);
      assert.ok((p.targets as Json[]).length >= 1, p.title);
      for (const t of p.targets as Json[]) assert.deepEqual(t.datasource, DS, `${p.title} ${t.refId}`);
      assert.deepEqual(
        (p.targets as Json[]).map((t) => t.refId),
        (p.targets as Json[]).map((_, i) => String.fromCharCode(65 + i)),
      );
    }
  });

  it('passes every panel and variable query through promtool', async () => {
    // GIVEN the default dashboard and one with every optional panel and a custom label scheme
    const variants = [
      synthDashboard().model,
      synthDashboard({
        workloadNamespaceLabel: 'namespace',
        spotInterruptions: SpotInterruptionSource.awsNodeTerminationHandler({ job: 'nth' }),
        clusterAutoscaler: true,
      }).model,
    ];
    for (const model of variants) {
      // WHEN each query is checked as a recording rule
      const groups = asRuleGroups(model);
      const result = await checkRules(groups);
      // THEN promtool parses them all
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, new RegExp(`SUCCESS: ${queries(model).length} rules found`));
    }
  });

  it('the promtool check of panel queries catches a broken query', async () => {
    // GIVEN a dashboard with a custom panel whose query is cut short
    const { model } = synthDashboard({
      panels: [
        DashboardPanel.timeSeries({
          title: 'Broken',
          queries: [{ expr: 'sum(rate(foo[$__rate_interval])' }],
        }),
      ],
    });
    // WHEN / THEN
    const result = await checkRules(asRuleGroups(model));
    assert.notEqual(result.code, 0);
    assert.match(result.output, /could not parse expression/);
  });

  it("reads only the runtime's own metrics and documented external ones", async () => {
    // GIVEN the runtime's registry and the documented external metrics
    const registry = (await new RuntimeMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map(
      (m) => ({ name: m.name, type: m.type as unknown as string }),
    );
    const series = (name: string, type: string): string[] =>
      type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
    const known = new Set([
      ...registry.flatMap((m) => series(m.name, m.type)),
      ...EXTERNAL_METRICS.flatMap((m) => series(m.name, m.type)),
    ]);
    // WHEN reading every query
    const { model } = synthDashboard();
    const used = new Set(queries(model).flatMap((q) => metricNames(grafanaToPromQL(q.expr))));
    // THEN
    for (const name of used) assert.ok(known.has(name), `${name} is neither the runtime's nor documented`);
    assert.deepEqual([...used].sort(), [
      'actions_total',
      'cluster_autoscaler_failed_scale_ups_total',
      'cluster_autoscaler_unschedulable_pods_count',
      'elasticai_anomaly_score',
      'elasticai_decisions_total',
      'elasticai_degraded',
      'elasticai_desired_replicas',
      'elasticai_forecast_error_ratio',
      'elasticai_grpc_request_duration_seconds_bucket',
      'elasticai_headroom_pods',
      'elasticai_history_query_duration_seconds_bucket',
      'elasticai_history_source_failures_total',
      'elasticai_observed_demand',
      'elasticai_predicted_demand',
      'elasticai_resolver_cold_start_seconds_bucket',
      'elasticai_resolver_held_requests',
      'elasticai_resolver_rejected_total',
      'elasticai_resolver_released_total',
      'elasticai_resolver_wakeups_total',
      'elasticai_workload_state_bytes',
      'elasticai_workloads',
      'elasticai_workloads_refused_total',
      'up',
    ]);
  });

  it('shows each workload once (max over replicas), filtered by the namespace and workload variables', () => {
    // GIVEN / WHEN
    const { model } = synthDashboard();
    const filter = 'job="elasticai-runtime",exported_namespace=~"$namespace",name=~"$workload"';
    // THEN
    assert.deepEqual(exprs(model, 'Forecast vs actual demand'), [
      `max by (exported_namespace, name) (elasticai_predicted_demand{${filter}})`,
      `max by (exported_namespace, name) (elasticai_observed_demand{${filter}})`,
    ]);
    assert.deepEqual(
      (panel(model, 'Forecast vs actual demand').targets as Json[]).map((t) => t.legendFormat),
      ['{{exported_namespace}}/{{name}} predicted', '{{exported_namespace}}/{{name}} actual'],
    );
    assert.deepEqual(exprs(model, 'Desired replicas'), [
      `max by (exported_namespace, name) (elasticai_desired_replicas{${filter}})`,
    ]);
    assert.deepEqual(exprs(model, 'Forecast error'), [
      `max by (exported_namespace, name) (elasticai_forecast_error_ratio{${filter}})`,
    ]);
    assert.deepEqual(exprs(model, 'Degraded state'), [
      `max by (exported_namespace, name, state) (elasticai_degraded{${filter}}) == 1`,
    ]);
    assert.deepEqual(exprs(model, 'Anomaly score'), [
      `max by (exported_namespace, name, state) (elasticai_anomaly_score{${filter}})`,
    ]);
  });

  it('draws decisions by rule, failures, latency quantiles, resolver and capacity series', () => {
    // GIVEN / WHEN
    const { model } = synthDashboard();
    // THEN
    assert.deepEqual(exprs(model, 'Decisions by rule'), [
      'avg by (rule) (rate(elasticai_decisions_total{job="elasticai-runtime"}[$__rate_interval]))',
    ]);
    assert.deepEqual(exprs(model, 'History source failures'), [
      'sum by (source, kind) (rate(elasticai_history_source_failures_total{job="elasticai-runtime"}[$__rate_interval]))',
    ]);
    assert.deepEqual(exprs(model, 'KEDA gRPC latency'), [
      'histogram_quantile(0.5, sum by (le, method) (rate(elasticai_grpc_request_duration_seconds_bucket{job="elasticai-runtime"}[$__rate_interval])))',
      'histogram_quantile(0.99, sum by (le, method) (rate(elasticai_grpc_request_duration_seconds_bucket{job="elasticai-runtime"}[$__rate_interval])))',
    ]);
    assert.deepEqual(exprs(model, 'Runtime replicas up'), [
      'sum(up{job="elasticai-runtime",namespace="elasticai-system"})',
    ]);
    assert.deepEqual(exprs(model, 'Workload state memory'), [
      'max by (pod) (elasticai_workload_state_bytes{job="elasticai-runtime",namespace="elasticai-system"})',
    ]);
    assert.deepEqual(exprs(model, 'Workloads refused for memory'), [
      'sum by (pod) (rate(elasticai_workloads_refused_total{job="elasticai-runtime",namespace="elasticai-system"}[$__rate_interval]))',
    ]);
    assert.equal(panel(model, 'Workload state memory').fieldConfig.defaults.unit, 'bytes');
    assert.deepEqual(exprs(model, 'Held requests'), ['sum by (target) (elasticai_resolver_held_requests)']);
    assert.deepEqual(exprs(model, 'Cold start p95'), [
      'histogram_quantile(0.95, sum by (le, target) (rate(elasticai_resolver_cold_start_seconds_bucket[$__rate_interval])))',
    ]);
    assert.match(
      exprs(model, 'Wake-ups, releases and rejections')[2] ?? '',
      /^sum by \(target, reason\) \(rate\(elasticai_resolver_rejected_total/,
    );
    assert.deepEqual(exprs(model, 'Spot interruptions'), [
      'sum by (node_status) (increase(actions_total{node_action="cordon-and-drain"}[1h]))',
    ]);
    assert.deepEqual(exprs(model, 'Unschedulable pods'), [
      'max(cluster_autoscaler_unschedulable_pods_count{type!="scheduler_unprocessed"})',
    ]);
    // Units and threshold lines where they carry meaning
    assert.equal(panel(model, 'Forecast error').fieldConfig.defaults.unit, 'percentunit');
    assert.deepEqual(panel(model, 'Forecast error').fieldConfig.defaults.thresholds.steps, [
      { color: 'red', value: null },
      { color: 'green', value: -0.5 },
      { color: 'red', value: 0.5 },
    ]);
    assert.equal(panel(model, 'Forecast error').fieldConfig.defaults.custom.thresholdsStyle.mode, 'line');
    assert.deepEqual(panel(model, 'Anomaly score').fieldConfig.defaults.thresholds.steps.at(-1), {
      color: 'red',
      value: 0.99,
    });
    assert.equal(panel(model, 'KEDA gRPC latency').fieldConfig.defaults.unit, 's');
    assert.deepEqual(panel(model, 'Runtime replicas up').fieldConfig.defaults.thresholds.steps, [
      { color: 'red', value: null },
      { color: 'green', value: 2 },
    ]);
  });

  it('follows the label scheme and the runtime it is given', () => {
    // GIVEN a runtime with its own name and namespace, scraped with honorLabels
    const chart = testChart();
    const runtime = new DecisionRuntime(chart, 'runtime', {
      image: 'ghcr.io/elasticai/elasticai-runtime:0.1.0',
      history: RuntimeHistory.prometheus('http://prometheus-operated.monitoring.svc:9090'),
      name: 'predictor',
      namespace: 'autoscaling',
    });
    // WHEN
    const dashboard = new GrafanaDashboard(chart, 'dashboard', {
      runtime,
      workloadNamespaceLabel: 'namespace',
    });
    const model = dashboard.model as Json;
    // THEN
    assert.deepEqual(exprs(model, 'Desired replicas'), [
      'max by (namespace, name) (elasticai_desired_replicas{job="predictor",namespace=~"$namespace",name=~"$workload"})',
    ]);
    assert.deepEqual(exprs(model, 'Runtime replicas up'), [
      'sum(up{job="predictor",namespace="autoscaling"})',
    ]);
    assert.equal(
      (model.templating.list as Json[])[1].query,
      'label_values(elasticai_desired_replicas{job="predictor"}, namespace)',
    );
    assert.equal(
      (panel(model, 'Desired replicas').targets as Json[])[0].legendFormat,
      '{{namespace}}/{{name}}',
    );
  });

  it("reads the runtime's series under the job its scrape gives them", () => {
    // GIVEN / WHEN a scrape config that does not name the job after the Service
    const { model } = synthDashboard({ runtimeJob: 'kubernetes-service-endpoints' });
    // THEN every runtime query, and the variables, select that job
    assert.deepEqual(exprs(model, 'Runtime replicas up'), [
      'sum(up{job="kubernetes-service-endpoints",namespace="elasticai-system"})',
    ]);
    assert.match(
      exprs(model, 'Desired replicas')[0] ?? '',
      /\{job="kubernetes-service-endpoints",exported_namespace=~/,
    );
    assert.match((model.templating.list as Json[])[2].query, /job="kubernetes-service-endpoints"/);
    const runtimeQueries = queries(model).filter((q) => /elasticai_(?!resolver_)/.test(q.expr));
    assert.ok(runtimeQueries.length > 10);
    for (const q of runtimeQueries) assert.doesNotMatch(q.expr, /job="elasticai-runtime"/, q.where);
  });

  it('leaves out panels a cluster cannot fill: no cluster-autoscaler or spot on AKS, no spot without spot pools', () => {
    // GIVEN / WHEN
    const titles = (model: Json): string[] => (model.panels as Json[]).map((p) => p.title);
    const aks = synthDashboard({}, testCluster({ cloud: 'azure' })).model;
    const onDemand = synthDashboard(
      {},
      testCluster({ nodePools: testCluster().nodePools.filter((p) => p.capacityType !== 'spot') }),
    ).model;
    const forced = synthDashboard(
      { clusterAutoscaler: true, spotInterruptions: SpotInterruptionSource.awsNodeTerminationHandler() },
      testCluster({ cloud: 'azure' }),
    ).model;
    const none = synthDashboard({
      clusterAutoscaler: false,
      spotInterruptions: SpotInterruptionSource.none(),
    }).model;
    // THEN
    assert.deepEqual(titles(aks), BUILT_IN);
    assert.deepEqual(titles(onDemand), [...BUILT_IN, ...CLUSTER_AUTOSCALER]);
    assert.deepEqual(titles(forced), [...BUILT_IN, ...CLUSTER_AUTOSCALER, 'Spot interruptions']);
    assert.deepEqual(titles(none), BUILT_IN);
  });

  it('appends custom typed panels after the built-in ones, numbered on', () => {
    // GIVEN
    const { model } = synthDashboard({
      clusterAutoscaler: false,
      spotInterruptions: SpotInterruptionSource.none(),
      panels: [
        DashboardPanel.row('Shop'),
        DashboardPanel.stat({
          title: 'Checkout rps',
          queries: [{ expr: 'sum(rate(http_requests_total{service="checkout"}[$__rate_interval]))' }],
          unit: 'reqps',
          width: 24,
          reducer: 'max',
        }),
      ],
    });
    // THEN
    const panels = model.panels as Json[];
    const [row, stat] = panels.slice(-2);
    assert.deepEqual([row.id, row.type, row.title], [BUILT_IN.length + 1, 'row', 'Shop']);
    assert.deepEqual([stat.id, stat.type, stat.title], [BUILT_IN.length + 2, 'stat', 'Checkout rps']);
    assert.deepEqual(stat.gridPos, { h: 4, w: 24, x: 0, y: row.gridPos.y + 1 });
    assert.deepEqual(stat.options.reduceOptions.calcs, ['max']);
    assert.equal(stat.fieldConfig.defaults.unit, 'reqps');
    assert.deepEqual(stat.targets, [
      {
        refId: 'A',
        datasource: { type: 'prometheus', uid: '${datasource}' },
        editorMode: 'code',
        expr: 'sum(rate(http_requests_total{service="checkout"}[$__rate_interval]))',
        legendFormat: '__auto',
        range: true,
      },
    ]);
  });

  it('takes its sidecar label, folder annotation, namespace, uid, title, refresh and range', () => {
    // GIVEN / WHEN
    const { objects, model, dashboard } = synthDashboard({
      name: 'autoscaling-dashboard',
      namespace: 'grafana',
      sidecarLabel: { key: 'grafana.com/dashboard', value: 'platform' },
      folderAnnotation: 'k8s-sidecar-target-directory',
      folder: 'Platform',
      uid: 'autoscaling',
      title: 'Autoscaling',
      refresh: Duration.minutes(1),
      timeRange: Duration.days(1),
    });
    // THEN
    const cm = only(objects, 'ConfigMap') as Json;
    assert.equal(cm.metadata.name, 'autoscaling-dashboard');
    assert.equal(cm.metadata.namespace, 'grafana');
    assert.equal(cm.metadata.labels['grafana.com/dashboard'], 'platform');
    assert.equal(cm.metadata.labels.grafana_dashboard, undefined);
    assert.deepEqual(cm.metadata.annotations, { 'k8s-sidecar-target-directory': 'Platform' });
    assert.deepEqual(Object.keys(cm.data), ['autoscaling.json']);
    assert.equal(dashboard.uid, 'autoscaling');
    assert.deepEqual(
      [model.uid, model.title, model.refresh, model.time.from],
      ['autoscaling', 'Autoscaling', '1m', 'now-24h'],
    );
  });

  it('synthesizes byte-identical JSON every time', () => {
    // GIVEN / WHEN two synths THEN the same ConfigMap, byte for byte
    const a = only(synthDashboard().objects, 'ConfigMap') as Json;
    const b = only(synthDashboard().objects, 'ConfigMap') as Json;
    assert.equal(a.data['elasticai-runtime.json'], b.data['elasticai-runtime.json']);
    assert.equal(JSON.stringify(a), JSON.stringify(b));
  });

  it('refuses bad props and bad panels, naming the prop and the value', () => {
    // GIVEN / WHEN / THEN
    throwsProp(() => synthDashboard({ uid: 'elasticai runtime' }), /^uid: .*\(got "elasticai runtime"\)$/);
    throwsProp(() => synthDashboard({ namespace: 'Monitoring' }), /^namespace: .*\(got "Monitoring"\)$/);
    // a valid 64-character object name would make an invalid app.kubernetes.io/name label
    throwsProp(
      () => synthDashboard({ name: 'a'.repeat(64) }),
      /^name: must be a label value .*: it is also the app\.kubernetes\.io\/name label \(got "a{64}"\)$/,
    );
    throwsProp(
      () => synthDashboard({ sidecarLabel: { key: 'grafana_dashboard', value: 'yes please' } }),
      /^sidecarLabel\.value: must be a label value \(at most 63 characters\) \(got "yes please"\)$/,
    );
    throwsProp(
      () => synthDashboard({ folder: 'a/b' }),
      /^folder: must be a folder name without slashes \(got "a\/b"\)$/,
    );
    throwsProp(
      () => synthDashboard({ workloadNamespaceLabel: 'exported-namespace' }),
      /^workloadNamespaceLabel: must be a Prometheus label name \(got "exported-namespace"\)$/,
    );
    throwsProp(() => synthDashboard({ refresh: Duration.seconds(1) }), /^refresh: must be >= 5 \(got 1\)$/);
    throwsProp(
      () => synthDashboard({ panels: [DashboardPanel.row('Capacity')] }),
      /^panels: titles must be unique in the dashboard \(got "Capacity"\)$/,
    );
    throwsProp(
      () => DashboardPanel.timeSeries({ title: 'Wide', queries: [{ expr: 'up' }], width: 30 }),
      /^panel "Wide"\.width: must be between 1 and 24 \(got 30\)$/,
    );
    throwsProp(
      () => DashboardPanel.stat({ title: 'Empty', queries: [] }),
      /^panel "Empty"\.queries: must hold 1 to 26 queries \(got 0\)$/,
    );
    throwsProp(
      () => DashboardPanel.timeSeries({ title: 'Blank', queries: [{ expr: ' ' }] }),
      /^panel "Blank"\.queries\[0\]\.expr: must be a PromQL expression \(got " "\)$/,
    );
    throwsProp(
      () =>
        DashboardPanel.timeSeries({
          title: 'Steps',
          queries: [{ expr: 'up' }],
          thresholds: [
            { value: 2, color: 'red' },
            { value: 1, color: 'green' },
          ],
        }),
      /^panel "Steps"\.thresholds\[1\]\.value: must be above 2 \(got 1\)$/,
    );
    throwsProp(
      () => DashboardPanel.timeSeries({ title: 'Axis', queries: [{ expr: 'up' }], min: 1, max: 1 }),
      /^panel "Axis"\.min: must be below max \(1\) \(got 1\)$/,
    );
    throwsProp(() => DashboardPanel.row(' '), /^panel\.title: must be a non-empty string \(got " "\)$/);
  });
});
