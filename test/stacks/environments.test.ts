// Every object of every environment validates against the official schemas, and the environments
// differ in substance, not only in names.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { App } from 'cdk8s';
import { DecisionRuntime } from '../../constructs/k8s/decision-runtime.js';
import type { AzurePrometheusRuleGroup } from '../../constructs/k8s/runtime-alerts.js';
import { ENV, loadRuntimeConfig, parseTenants } from '../../runtime/service/config.js';
import { parseWorkloadSpec, type DemandSpec } from '../../runtime/service/workload-spec.js';
import { ENVIRONMENTS, RUNTIME_IMAGE } from '../../stacks/environments.js';
import type { EnvironmentConfig } from '../../stacks/environment-types.js';
import { buildClusterCharts, runtimeAlertsOf, synthEnvironment } from '../../stacks/synth-environment.js';
import { PROMETHEUS_RULE } from '../k8s/prometheus-rule-schema.js';
import { checkRules, checkRulesFile, grafanaToPromQL } from '../k8s/promtool.js';
import type { Json } from '../support/chart.js';
import { REPO_ROOT } from '../support/paths.js';
import { type KubeObject, validateAll } from '../support/validate.js';

/**
 * ServiceMonitors (prometheus-operator's `monitoring.coreos.com/v1`, AKS managed Prometheus'
 * `azmonitoring.coreos.com/v1`) have no CRD in ../shared/crds: their shape is checked by hand, closed,
 * with the field types of the operator's CRD.
 */
const serviceMonitorValid = new Ajv({ allErrors: true, strict: false }).compile({
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  additionalProperties: false,
  properties: {
    apiVersion: { enum: ['monitoring.coreos.com/v1', 'azmonitoring.coreos.com/v1'] },
    kind: { const: 'ServiceMonitor' },
    metadata: { type: 'object', required: ['name', 'namespace'] },
    spec: {
      type: 'object',
      required: ['selector', 'endpoints'],
      additionalProperties: false,
      properties: {
        selector: {
          type: 'object',
          additionalProperties: false,
          properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } },
        },
        namespaceSelector: {
          type: 'object',
          additionalProperties: false,
          properties: { matchNames: { type: 'array', items: { type: 'string' } } },
        },
        endpoints: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['port'],
            properties: {
              port: { type: 'string' },
              path: { type: 'string', pattern: '^/' },
              interval: { type: 'string', pattern: '^([0-9]+(ms|s|m|h))+$' },
              scheme: { enum: ['http', 'https'] },
            },
          },
        },
      },
    },
  },
});

/** Kinds without a CRD in ../shared/crds, checked by hand (closed schemas). */
const BY_HAND = new Set(['ServiceMonitor', 'PrometheusRule']);

/** Schema errors of every object: the shared harness, ServiceMonitors and PrometheusRules by hand. */
async function validateEverything(objects: readonly KubeObject[]): Promise<string[]> {
  const errors = await validateAll(objects.filter((o) => !BY_HAND.has(o.kind)));
  for (const o of objects.filter((m) => m.kind === 'ServiceMonitor')) {
    if (!serviceMonitorValid(o))
      errors.push(`ServiceMonitor ${o.metadata?.name}: ${JSON.stringify(serviceMonitorValid.errors)}`);
  }
  for (const o of objects.filter((m) => m.kind === 'PrometheusRule')) {
    if (!PROMETHEUS_RULE(o))
      errors.push(`PrometheusRule ${o.metadata?.name}: ${JSON.stringify(PROMETHEUS_RULE.errors)}`);
  }
  return errors;
}

/** Every cluster of every environment. */
const CLUSTERS = ENVIRONMENTS.flatMap((env) => env.clusters.map((cluster) => ({ env, cluster })));

/** The cluster's charts built in a fresh app, with the runtime alerts they carry (if any). */
function buildCluster(env: EnvironmentConfig, cluster: EnvironmentConfig['clusters'][number]) {
  const app = new App();
  buildClusterCharts(app, cluster, env);
  return { app, alerts: runtimeAlertsOf(app) };
}

/** An ISO 8601 duration of Azure's rule groups (`PT1H30M`) as a Prometheus duration (`1h30m`). */
function isoToProm(iso: string): string {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso);
  assert.ok(m, `not an ISO 8601 time duration: ${iso}`);
  const out = `${m[1] ? `${m[1]}h` : ''}${m[2] ? `${m[2]}m` : ''}${m[3] ? `${m[3]}s` : ''}`;
  return out === '' ? '0s' : out;
}

/** Azure Monitor rule groups as a Prometheus rules file's groups, the rules exactly as Azure gets them. */
function azureAsPrometheus(groups: readonly AzurePrometheusRuleGroup[]): unknown[] {
  return groups.map((g) => ({
    name: g.name,
    interval: isoToProm(g.interval),
    rules: g.rules.map((r) => ({
      alert: r.alert,
      expr: r.expression,
      for: isoToProm(r.for),
      labels: r.labels,
      annotations: r.annotations,
    })),
  }));
}

const envNamed = (name: string) => ENVIRONMENTS.find((e) => e.name === name) as EnvironmentConfig;

/** Synthesized objects of one cluster's chart. */
function objectsOf(env: EnvironmentConfig, cluster: string, chart: string): Json[] {
  return synthEnvironment(env)
    .filter((f) => f.path === `${cluster}/${chart}.yaml`)
    .flatMap((f) => [...f.objects]) as Json[];
}

describe('environment table', () => {
  it('has dev, staging and prod', () => {
    assert.deepEqual(
      ENVIRONMENTS.map((e) => e.name),
      ['dev', 'staging', 'prod'],
    );
  });

  for (const env of ENVIRONMENTS) {
    it(`${env.name}: every synthesized object validates against its schema`, async () => {
      const files = synthEnvironment(env);
      const objects = files.flatMap((f) => [...f.objects]);
      assert.ok(objects.length > 20, `${env.name} synthesized only ${objects.length} objects`);
      assert.deepEqual(await validateEverything(objects), []);
      assert.ok(
        objects.some((o) => o.kind === 'ServiceMonitor'),
        'the ServiceMonitor check is not vacuous',
      );
      // Only where a Prometheus operator runs (dev): the PrometheusRule check is not vacuous there.
      assert.equal(
        objects.some((o) => o.kind === 'PrometheusRule'),
        env.clusters.some((c) => c.name === 'dev-use1'),
      );
    });

    it(`${env.name}: writes one file per chart under <cluster>/`, () => {
      const paths = synthEnvironment(env).map((f) => f.path);
      for (const cluster of env.clusters) {
        assert.ok(
          paths.some((p) => p.startsWith(`${cluster.name}/tenant-`)),
          `no tenant chart for ${cluster.name}`,
        );
      }
      assert.equal(new Set(paths).size, paths.length);
      assert.ok(
        paths.every((p) => /^[a-z0-9-]+\/[a-z0-9-]+\.yaml$/.test(p)),
        paths.join(', '),
      );
    });
  }

  it('environments differ in sizes, replicas, spot share and retention', () => {
    const [dev, staging, prod] = ENVIRONMENTS;
    assert.ok(dev && staging && prod);
    const maxNodes = (e: typeof dev) =>
      Math.max(...e.clusters.flatMap((c) => c.nodePools.map((p) => p.maxSize)));
    assert.ok(maxNodes(dev) < maxNodes(staging) && maxNodes(staging) < maxNodes(prod));
    const maxReplicas = (e: typeof dev) =>
      Math.max(
        ...e.clusters.flatMap((c) => c.tenants.flatMap((t) => t.workloads.map((w) => w.replicas.max))),
      );
    assert.ok(maxReplicas(dev) < maxReplicas(prod));
    assert.ok(dev.logRetentionDays < prod.logRetentionDays);
    assert.ok(dev.metricsHistoryDays <= prod.metricsHistoryDays);
    // Spot share: the on-demand share above base of mixed pools grows towards prod.
    const onDemandShare = (e: typeof dev) =>
      Math.max(
        -1,
        ...e.clusters.flatMap((c) => c.nodePools.map((p) => p.mixed?.onDemandPercentageAboveBase ?? -1)),
      );
    assert.ok(onDemandShare(dev) < onDemandShare(prod), 'prod should keep more on-demand than dev');
  });

  it('renders what each environment declares: GitOps add-ons, headroom, the autoscaler per cloud', () => {
    const kinds = (envName: string, cluster: string) =>
      synthEnvironment(envNamed(envName))
        .filter((f) => f.path.startsWith(`${cluster}/`))
        .flatMap((f) => f.objects.map((o) => `${o.kind}/${o.metadata?.name}`));
    // dev: Flux installs KEDA and metrics-server; no headroom.
    assert.ok(kinds('dev', 'dev-use1').includes('HelmRelease/keda'));
    assert.ok(!kinds('dev', 'dev-use1').includes('PriorityClass/elasticai-headroom'));
    // staging EKS: Argo CD applications and one headroom pod.
    assert.ok(kinds('staging', 'staging-use1').includes('Application/keda'));
    assert.ok(kinds('staging', 'staging-use1').includes('Deployment/headroom'));
    // prod: headroom on both clouds; cluster-autoscaler only on EKS (AKS runs a managed one).
    assert.ok(kinds('prod', 'prod-use1').includes('ScaledObject/headroom'));
    assert.ok(kinds('prod', 'prod-use1').includes('Deployment/cluster-autoscaler'));
    assert.ok(!kinds('prod', 'prod-weu').includes('Deployment/cluster-autoscaler'));
    assert.ok(kinds('prod', 'prod-weu').includes('Deployment/headroom'));
    // One elasticai-system namespace per cluster, even where headroom and the runtime both use it.
    for (const env of ENVIRONMENTS) {
      for (const cluster of env.clusters) {
        assert.equal(
          kinds(env.name, cluster.name).filter((k) => k === 'Namespace/elasticai-system').length,
          1,
        );
      }
    }
  });

  it('deploys the decision runtime on every cluster, at the image of the package version', () => {
    // GIVEN the package versions (root and the runtime's own package, the image's build context)
    const version = (path: string) =>
      JSON.parse(readFileSync(join(REPO_ROOT, path), 'utf8')).version as string;
    // THEN the table's image is the released image of exactly that version
    assert.equal(RUNTIME_IMAGE, `ghcr.io/elasticai/elasticai-runtime:${version('package.json')}`);
    assert.equal(version('runtime/package.json'), version('package.json'));
    for (const env of ENVIRONMENTS) {
      for (const cluster of env.clusters) {
        // WHEN reading the cluster's platform chart
        const d = objectsOf(env, cluster.name, 'platform').find(
          (o) => o.kind === 'Deployment' && o.metadata.name === 'elasticai-runtime',
        );
        assert.ok(d, `${cluster.name}: no runtime`);
        assert.equal(d.metadata.namespace, 'elasticai-system');
        assert.equal(d.spec.template.spec.containers[0].image, RUNTIME_IMAGE, cluster.name);
      }
    }
  });

  it("gives each runtime its environment's history days, its cloud's managed Prometheus and the tenants' caps", () => {
    const expected: Record<string, { url: RegExp; auth: string }> = {
      // dev reads the cluster's own Prometheus; staging and prod EKS an AMP workspace; AKS Azure Monitor.
      'dev-use1': { url: /^http:\/\/prometheus-operated\.monitoring\.svc:9090$/, auth: 'none' },
      'staging-use1': {
        url: /^https:\/\/aps-workspaces\.us-east-1\.amazonaws\.com\/workspaces\/ws-/,
        auth: 'aws-sigv4',
      },
      'prod-use1': {
        url: /^https:\/\/aps-workspaces\.us-east-1\.amazonaws\.com\/workspaces\/ws-/,
        auth: 'aws-sigv4',
      },
      'staging-weu': { url: /\.prometheus\.monitor\.azure\.com$/, auth: 'azure' },
      'prod-weu': { url: /\.prometheus\.monitor\.azure\.com$/, auth: 'azure' },
    };
    for (const env of ENVIRONMENTS) {
      for (const cluster of env.clusters) {
        // GIVEN the runtime's environment as the kubelet gives it
        const platform = objectsOf(env, cluster.name, 'platform');
        const d = platform.find((o) => o.kind === 'Deployment' && o.metadata.name === 'elasticai-runtime');
        const vars = Object.fromEntries(
          (d.spec.template.spec.containers[0].env as Json[])
            .filter((e) => e.value !== undefined)
            .map((e) => [e.name, e.value]),
        );
        // WHEN the runtime loads it
        const config = loadRuntimeConfig(vars);
        // THEN
        const want = expected[cluster.name];
        assert.ok(want, cluster.name);
        assert.match(config.prometheus?.url ?? '', want.url, cluster.name);
        assert.equal(config.prometheus?.auth, want.auth, cluster.name);
        assert.equal(config.historySeconds, env.metricsHistoryDays * 86_400, cluster.name);
        // The tenant cap is the tenant's own pod quota (the ResourceQuota the tenant chart writes).
        const quotas = objectsOf(env, cluster.name, 'tenant-shop').filter((o) => o.kind === 'ResourceQuota');
        assert.deepEqual(
          config.tenants,
          quotas.map((q) => ({
            name: q.metadata.namespace,
            namespaces: [q.metadata.namespace],
            maxReplicas: Number(q.spec.hard.pods),
          })),
        );
        // On EKS the AMP workspace read is the one the runtime's role may query.
        if (config.prometheus?.auth === 'aws-sigv4') {
          const arn = cluster.aws?.runtime?.prometheusWorkspaceArn ?? '';
          assert.ok(
            config.prometheus.url.endsWith(`/workspaces/${arn.split('/')[1]}`),
            `${cluster.name}: ${arn}`,
          );
          assert.equal(config.prometheus.awsRegion, arn.split(':')[3]);
        }
      }
    }
  });

  it('scales the order worker by max(runtime forecast, queue backlog), in a form the runtime accepts', () => {
    for (const env of ENVIRONMENTS) {
      for (const cluster of env.clusters) {
        // GIVEN the worker's ScaledObject and the runtime's tenants
        const so = objectsOf(env, cluster.name, 'tenant-shop').find(
          (o) => o.kind === 'ScaledObject' && o.metadata.name === 'order-worker',
        );
        const predicted = so.spec.triggers.find((t: Json) => t.name === 'predicted');
        // THEN the runtime's push trigger and the queue trigger compose through one formula
        assert.equal(predicted.type, 'external-push');
        assert.equal(predicted.metadata.scalerAddress, DecisionRuntime.reference().scalerAddress);
        assert.ok(so.spec.triggers.some((t: Json) => t.name === 'orders'));
        assert.deepEqual(so.spec.advanced.scalingModifiers, {
          formula: 'max(predicted, orders / 20)',
          target: '1',
        });
        // AND the runtime parses the trigger into a workload it may scale to zero, capped by the tenant
        const runtime = objectsOf(env, cluster.name, 'platform').find(
          (o) => o.kind === 'Deployment' && o.metadata.name === 'elasticai-runtime',
        );
        const tenantsVar = runtime.spec.template.spec.containers[0].env.find(
          (e: Json) => e.name === ENV.tenants,
        );
        const spec = parseWorkloadSpec(
          { namespace: 'shop', name: 'order-worker' },
          predicted.metadata,
          parseTenants(tenantsVar.value),
        ) as DemandSpec;
        assert.equal(spec.engine.minReplicas, 0);
        assert.equal(spec.engine.maxReplicas, so.spec.maxReplicaCount);
        assert.equal(spec.tenant, 'shop');
      }
    }
  });

  it('writes ServiceMonitors (runtime, resolver) only where something reads them: the Prometheus operator (dev), AKS managed Prometheus', () => {
    const monitors = Object.fromEntries(
      ENVIRONMENTS.flatMap((env) =>
        env.clusters.map((c) => [
          c.name,
          objectsOf(env, c.name, 'platform')
            .filter((o) => o.kind === 'ServiceMonitor')
            .map((o) => `${o.metadata.name} ${o.apiVersion}`),
        ]),
      ),
    );
    const both = (apiVersion: string) => [
      `elasticai-runtime ${apiVersion}`,
      `elasticai-resolver ${apiVersion}`,
    ];
    assert.deepEqual(monitors, {
      'dev-use1': both('monitoring.coreos.com/v1'),
      'staging-use1': [],
      'staging-weu': both('azmonitoring.coreos.com/v1'),
      'prod-use1': [],
      'prod-weu': both('azmonitoring.coreos.com/v1'),
    });
  });

  it("lets in KEDA from its namespace on each cloud: the Helm/GitOps chart's `keda`, AKS's add-on in kube-system", () => {
    for (const env of ENVIRONMENTS) {
      for (const cluster of env.clusters) {
        const policy = objectsOf(env, cluster.name, 'platform').find(
          (o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'elasticai-runtime',
        );
        const grpc = policy.spec.ingress.find((r: Json) => r.ports.some((p: Json) => p.port === 9090));
        assert.deepEqual(
          grpc.from.map((f: Json) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name']),
          [cluster.cloud === 'azure' ? 'kube-system' : 'keda'],
          cluster.name,
        );
      }
    }
  });

  it('refuses a cluster whose workloads use the runtime while the cluster deploys none, naming the field', () => {
    // GIVEN staging with its EKS cluster's runtime removed
    const staging = envNamed('staging');
    const broken: EnvironmentConfig = {
      ...staging,
      clusters: staging.clusters.map((c) => (c.cloud === 'aws' ? { ...c, runtime: undefined } : c)),
    };
    // WHEN / THEN
    assert.throws(
      () => synthEnvironment(broken),
      /staging-use1\.runtime: is required: ScaledObject shop\/order-worker has a trigger for the decision runtime at elasticai-runtime\.elasticai-system\.svc\.cluster\.local:9090/,
    );
  });

  it('declares VPA support exactly where something installs it', () => {
    for (const env of ENVIRONMENTS) {
      for (const cluster of env.clusters) {
        const installedByGitOps = cluster.gitopsAddons?.verticalPodAutoscaler?.enabled === true;
        // AKS: the Pulumi stack enables the managed VPA add-on from this flag.
        const expected = installedByGitOps || cluster.cloud === 'azure';
        assert.equal(cluster.verticalPodAutoscaler ?? false, expected, `${env.name}/${cluster.name}`);
      }
    }
  });
});

describe('observability of the environments: runtime alerts and the Grafana dashboard', () => {
  it('delivers the alerts where each cluster evaluates the runtime metrics, the dashboard only beside a Grafana sidecar', () => {
    const seen = Object.fromEntries(
      CLUSTERS.map(({ env, cluster }) => {
        const { alerts } = buildCluster(env, cluster);
        const objects = objectsOf(env, cluster.name, 'platform')
          .filter((o) => o.kind === 'PrometheusRule' || o.kind === 'ConfigMap')
          .map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
        return [cluster.name, { delivery: alerts?.delivery.kind, objects }];
      }),
    );
    assert.deepEqual(seen, {
      // kube-prometheus-stack in the cluster: a PrometheusRule and the sidecar's dashboard ConfigMap.
      'dev-use1': {
        delivery: 'prometheus-rule',
        objects: [
          'PrometheusRule/elasticai-system/elasticai-runtime-alerts',
          'ConfigMap/elasticai-system/elasticai-dashboard',
        ],
      },
      // AMP: the CDK stack's rule groups namespace; Azure Monitor: the Pulumi stack's rule groups.
      'staging-use1': { delivery: 'amazon-managed-prometheus', objects: [] },
      'staging-weu': { delivery: 'azure-monitor-workspace', objects: [] },
      'prod-use1': { delivery: 'amazon-managed-prometheus', objects: [] },
      'prod-weu': { delivery: 'azure-monitor-workspace', objects: [] },
    });
  });

  it('labels the PrometheusRule like the ServiceMonitor a Prometheus already selects, next to the runtime', () => {
    const platform = objectsOf(envNamed('dev'), 'dev-use1', 'platform');
    const rule = platform.find((o) => o.kind === 'PrometheusRule');
    const monitor = platform.find(
      (o) => o.kind === 'ServiceMonitor' && o.metadata.name === 'elasticai-runtime',
    );
    const extra = (labels: Record<string, string>) =>
      Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith('app.kubernetes.io/')));
    assert.deepEqual(extra(rule.metadata.labels), extra(monitor.metadata.labels));
    assert.equal(rule.metadata.namespace, monitor.metadata.namespace);
  });

  it('every alert rule of every environment passes `promtool check rules`, as its delivery carries it', async () => {
    let checked = 0;
    for (const { env, cluster } of CLUSTERS) {
      const { alerts } = buildCluster(env, cluster);
      assert.ok(alerts, `${cluster.name}: no alerts`);
      // GIVEN the rules as each delivery hands them over
      let result;
      if (alerts.delivery.kind === 'prometheus-rule') {
        const rule = objectsOf(env, cluster.name, 'platform').find((o) => o.kind === 'PrometheusRule');
        result = await checkRules(rule.spec.groups);
      } else if (alerts.delivery.kind === 'amazon-managed-prometheus') {
        result = await checkRulesFile(alerts.rulesFile());
      } else {
        result = await checkRules(azureAsPrometheus(alerts.azureRuleGroups()));
      }
      // THEN promtool accepts every rule
      assert.equal(result.code, 0, `${cluster.name}: ${result.output}`);
      assert.match(result.output, new RegExp(`SUCCESS: ${alerts.rules.length} rules found`), cluster.name);
      checked += alerts.rules.length;
    }
    assert.ok(checked >= 5 * CLUSTERS.length, `only ${checked} rules checked`);
  });

  it("scopes the alerts to the runtime's scrape job, leaves out the spot alert nothing feeds, keeps the autoscaler's on EKS", () => {
    for (const { env, cluster } of CLUSTERS) {
      const { alerts } = buildCluster(env, cluster);
      const exprs = alerts?.rules.map((r) => r.expr) ?? [];
      const down = alerts?.rules.find((r) => r.alert === 'ElasticAIRuntimeDown');
      assert.equal(down?.expr, 'absent(up{job="elasticai-runtime",namespace="elasticai-system"} == 1)');
      // The termination handler runs without its Prometheus server: no drain counter to alert on.
      assert.ok(!exprs.some((e) => e.includes('actions_total')), cluster.name);
      // cluster-autoscaler's alerts where it runs in the cluster (EKS), not under AKS's managed one.
      assert.equal(
        alerts?.rules.some((r) => r.alert === 'ElasticAIUnschedulablePods'),
        cluster.cloud === 'aws',
        cluster.name,
      );
    }
  });

  it("builds a dashboard whose every query promtool parses, in the sidecar's folder", async () => {
    const cm = objectsOf(envNamed('dev'), 'dev-use1', 'platform').find((o) => o.kind === 'ConfigMap');
    assert.equal(cm.metadata.labels.grafana_dashboard, '1');
    assert.equal(cm.metadata.annotations.grafana_folder, 'ElasticAI');
    const model = JSON.parse(cm.data['elasticai-runtime.json']);
    const exprs = (model.panels as Json[])
      .filter((p) => p.type !== 'row')
      .flatMap((p) => (p.targets as Json[]).map((t) => grafanaToPromQL(t.expr as string)));
    assert.ok(exprs.length > 10);
    assert.ok(!exprs.some((e) => e.includes('actions_total')), 'no spot panel without its counter');
    const result = await checkRules([
      { name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `elasticai_dashboard:q${i}`, expr })) },
    ]);
    assert.equal(result.code, 0, result.output);
  });
});
