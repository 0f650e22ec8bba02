// Every object of every environment validates against the official schemas, and the environments
// differ in substance, not only in names.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { App, Chart } from 'cdk8s';
import { NodeTerminationHandler } from '../../constructs/aws/node-termination-handler.js';
import { DecisionRuntime, RuntimeServiceMonitor } from '../../constructs/k8s/decision-runtime.js';
import { MetricsScraping } from '../../constructs/k8s/metrics-scraping.js';
import type { AzurePrometheusRuleGroup } from '../../constructs/k8s/runtime-alerts.js';
import { ENV, loadRuntimeConfig, parseTenants } from '../../runtime/service/config.js';
import { parseWorkloadSpec, type DemandSpec } from '../../runtime/service/workload-spec.js';
import { ENVIRONMENTS, RUNTIME_IMAGE } from '../../stacks/environments.js';
import type { EnvironmentConfig } from '../../stacks/environment-types.js';
import {
  buildClusterCharts,
  clusterScraping,
  runtimeAlertsOf,
  synthEnvironment,
} from '../../stacks/synth-environment.js';
import { MONITOR_KINDS, monitorErrors } from '../k8s/monitor-schema.js';
import { PROMETHEUS_RULE } from '../k8s/prometheus-rule-schema.js';
import { checkRules, checkRulesFile, grafanaToPromQL } from '../k8s/promtool.js';
import type { Json } from '../support/chart.js';
import { REPO_ROOT } from '../support/paths.js';
import { type KubeObject, validateAll } from '../support/validate.js';

/** Kinds without a CRD in ../shared/crds, checked by hand (closed schemas). */
const BY_HAND = new Set([...MONITOR_KINDS, 'PrometheusRule']);

/** Schema errors of every object: the shared harness, monitors and PrometheusRules by hand. */
async function validateEverything(objects: readonly KubeObject[]): Promise<string[]> {
  const errors = await validateAll(objects.filter((o) => !BY_HAND.has(o.kind)));
  errors.push(...monitorErrors(objects));
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
      // PodMonitors (cluster-autoscaler, NTH, KEDA's AKS add-on, tenants) wherever a ServiceMonitor is read.
      assert.equal(
        objects.some((o) => o.kind === 'PodMonitor'),
        env.clusters.some((c) => c.name === 'dev-use1' || c.cloud === 'azure'),
        'the PodMonitor check is not vacuous',
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

  it('writes monitors only where something reads them: the Prometheus operator (dev), AKS managed Prometheus', () => {
    // GIVEN every ServiceMonitor and PodMonitor of every cluster (platform and tenant charts)
    const monitors = Object.fromEntries(
      ENVIRONMENTS.flatMap((env) =>
        env.clusters.map((c) => [
          c.name,
          synthEnvironment(env)
            .filter((f) => f.path.startsWith(`${c.name}/`))
            .flatMap((f) => f.objects as Json[])
            .filter((o) => MONITOR_KINDS.has(o.kind))
            .map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name} ${o.apiVersion}`)
            .sort(),
        ]),
      ),
    );
    // THEN dev's operator gets every component; AKS the runtime, resolver, KEDA add-on and tenant; AMP
    // clusters none (their collector reads no CRD, and a monitor without its CRD would fail the apply)
    const operator = 'monitoring.coreos.com/v1';
    const azure = 'azmonitoring.coreos.com/v1';
    const aks = [
      `PodMonitor kube-system/elasticai-keda-operator ${azure}`,
      `PodMonitor shop/tenant-workloads ${azure}`,
      `ServiceMonitor elasticai-system/elasticai-resolver ${azure}`,
      `ServiceMonitor elasticai-system/elasticai-runtime ${azure}`,
    ];
    assert.deepEqual(monitors, {
      'dev-use1': [
        `PodMonitor kube-system/aws-node-termination-handler ${operator}`,
        `PodMonitor kube-system/cluster-autoscaler ${operator}`,
        `PodMonitor shop/tenant-workloads ${operator}`,
        `ServiceMonitor elasticai-system/elasticai-resolver ${operator}`,
        `ServiceMonitor elasticai-system/elasticai-runtime ${operator}`,
        `ServiceMonitor keda/elasticai-keda-operator ${operator}`,
      ],
      'staging-use1': [],
      'staging-weu': aks,
      'prod-use1': [],
      'prod-weu': aks,
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

  it("scopes the alerts to the runtime's scrape job, alerts on spot drains and the autoscaler where EKS scrapes them", () => {
    for (const { env, cluster } of CLUSTERS) {
      const { alerts } = buildCluster(env, cluster);
      const exprs = alerts?.rules.map((r) => r.expr) ?? [];
      const down = alerts?.rules.find((r) => r.alert === 'ElasticAIRuntimeDown');
      assert.equal(down?.expr, 'absent(up{job="elasticai-runtime",namespace="elasticai-system"} == 1)');
      // The termination handler (EKS, whose every cluster has spot pools) serves its drain counter to the
      // cluster's scraper; AKS exposes no spot-eviction metric.
      const spot = alerts?.rules.find((r) => r.alert === 'ElasticAISpotInterruptionRateHigh');
      assert.equal(spot !== undefined, cluster.cloud === 'aws', cluster.name);
      if (spot)
        assert.match(
          spot.expr,
          /^sum\(increase\(actions_total\{node_action="cordon-and-drain"\}\[1h\]\)\) > 5$/,
        );
      assert.equal(
        exprs.some((e) => e.includes('actions_total')),
        cluster.cloud === 'aws',
        cluster.name,
      );
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
    assert.ok(
      exprs.some((e) => e.includes('actions_total')),
      "the spot panel is back: dev's operator scrapes the termination handler",
    );
    const result = await checkRules([
      { name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `elasticai_dashboard:q${i}`, expr })) },
    ]);
    assert.equal(result.code, 0, result.output);
  });
});

describe('scraping of the environments: platform components and tenants', () => {
  /** Every object of one cluster (all its charts), fresh from the table. */
  const clusterObjects = (env: EnvironmentConfig, name: string): Json[] =>
    synthEnvironment(env)
      .filter((f) => f.path.startsWith(`${name}/`))
      .flatMap((f) => f.objects as Json[]);
  /** The same environment with one cluster changed. */
  const withCluster = (
    env: EnvironmentConfig,
    name: string,
    change: (c: EnvironmentConfig['clusters'][number]) => EnvironmentConfig['clusters'][number],
  ): EnvironmentConfig => ({ ...env, clusters: env.clusters.map((c) => (c.name === name ? change(c) : c)) });
  const policy = (objects: Json[], namespace: string, name: string): Json =>
    objects.find(
      (o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === namespace && o.metadata.name === name,
    );
  /** `<namespaces>:<ports>` of each ingress rule (`<own>` for a same-namespace pod selector). */
  const rules = (p: Json): string[] =>
    (p?.spec.ingress ?? []).map(
      (r: Json) =>
        `${r.from.map((f: Json) => f.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] ?? '<own>').join(',')}:${r.ports.map((x: Json) => x.port).join(',')}`,
    );
  /** True when every label of `selector` is on `labels`. */
  const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
    Object.entries(selector).every(([k, v]) => labels[k] === v);

  it("lets only the cluster's scraper into each metrics port, and never all namespaces", () => {
    for (const { env, cluster } of CLUSTERS) {
      // GIVEN the cluster's scraper: `monitoring` on EKS (dev's operator, AMP's agent), kube-system on AKS
      const scraper = clusterScraping(cluster).namespaces.join(',');
      assert.equal(scraper, cluster.cloud === 'azure' ? 'kube-system' : 'monitoring', cluster.name);
      const objects = clusterObjects(env, cluster.name);
      // THEN each metrics port it may reach is opened to it alone
      assert.deepEqual(rules(policy(objects, 'shop', 'allow-monitoring')), [`${scraper}:8080`], cluster.name);
      if (cluster.cloud === 'aws') {
        assert.deepEqual(rules(policy(objects, 'kube-system', 'cluster-autoscaler')), [`${scraper}:8085`]);
        // KEDA's operator: its metrics apiserver (own namespace) on gRPC, the scraper on the metrics port
        assert.deepEqual(rules(policy(objects, 'keda', 'elasticai-keda-operator')), [
          '<own>:9666',
          `${scraper}:8080`,
        ]);
      }
      // AND no policy of the cluster opens to every namespace
      for (const p of objects.filter((o) => o.kind === 'NetworkPolicy')) {
        for (const r of [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])]) {
          for (const peer of [...(r.from ?? []), ...(r.to ?? [])]) {
            if (peer.namespaceSelector) {
              assert.ok(
                Object.keys(peer.namespaceSelector.matchLabels ?? {}).length > 0,
                `${cluster.name}: ${p.metadata.namespace}/${p.metadata.name} opens to all namespaces`,
              );
            }
          }
        }
      }
    }
  });

  it("scrapes each of dev's components on a port its pods declare, selected by labels they carry", () => {
    // GIVEN dev's objects, and the termination handler as its CDK stack applies it (no PodMonitor there)
    const dev = envNamed('dev');
    const cluster = dev.clusters[0] as EnvironmentConfig['clusters'][number];
    const objects = clusterObjects(dev, 'dev-use1');
    const chart = new Chart(new App(), 'aws-node-termination-handler');
    new NodeTerminationHandler(chart, 'nth', {
      queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
      region: 'us-east-1',
      serviceAccountAnnotations: {},
      monitoring: clusterScraping(cluster).withoutMonitors(),
    });
    const nth = chart.toJson() as Json[];
    assert.equal(nth.filter((o) => MONITOR_KINDS.has(o.kind)).length, 0, 'the stack applies no PodMonitor');
    const pods = [...objects, ...nth]
      .filter((o) => o.kind === 'Deployment')
      .map((d) => ({
        namespace: d.metadata.namespace as string,
        labels: d.spec.template.metadata.labels as Record<string, string>,
        ports: (d.spec.template.spec.containers as Json[]).flatMap((c) => (c.ports ?? []) as Json[]),
      }));
    // THEN every PodMonitor selects at least one Deployment's pods, each of which declares its port
    const podMonitors = objects.filter((o) => o.kind === 'PodMonitor');
    assert.equal(podMonitors.length, 3);
    for (const m of podMonitors) {
      const selected = pods.filter(
        (p) => p.namespace === m.metadata.namespace && selects(m.spec.selector.matchLabels, p.labels),
      );
      const port = m.spec.podMetricsEndpoints[0].port as string;
      const serving = selected.filter((p) => p.ports.some((x: Json) => x.name === port));
      assert.ok(serving.length > 0, `${m.metadata.namespace}/${m.metadata.name}: no pod serves port ${port}`);
    }
    // AND the handler's server is on; KEDA's chart is told to put `metrics` on the Service scraped
    const nthEnv = (
      nth.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].env as Json[]
    ).find((e) => e.name === 'ENABLE_PROMETHEUS_SERVER');
    assert.equal(nthEnv.value, 'true');
    assert.deepEqual(rules(nth.find((o) => o.kind === 'NetworkPolicy')), ['monitoring:9092']);
    const keda = objects.find((o) => o.kind === 'ServiceMonitor' && o.metadata.namespace === 'keda');
    assert.equal(keda.spec.endpoints[0].port, 'metrics');
    const release = objects.find((o) => o.kind === 'HelmRelease' && o.metadata.name === 'keda');
    assert.deepEqual(release.spec.values.prometheus, { operator: { enabled: true } });
  });

  it('writes the KEDA operator objects for each way KEDA is installed', () => {
    const kedaObjects = (envName: string, name: string): string[] =>
      clusterObjects(envNamed(envName), name)
        .filter(
          (o) =>
            (o.kind === 'Namespace' && o.metadata.name === 'keda') ||
            (o.metadata.name === 'elasticai-keda-operator' && o.kind !== 'HelmRelease'),
        )
        .map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`)
        .sort();
    // Flux (dev): the namespace as an object, so the policy applies before Helm creates it
    assert.deepEqual(kedaObjects('dev', 'dev-use1'), [
      'Namespace /keda',
      'NetworkPolicy keda/elasticai-keda-operator',
      'ServiceMonitor keda/elasticai-keda-operator',
    ]);
    // Argo CD (staging EKS), AMP's agent: the policy only
    assert.deepEqual(kedaObjects('staging', 'staging-use1'), [
      'Namespace /keda',
      'NetworkPolicy keda/elasticai-keda-operator',
    ]);
    // The CDK stack's Helm chart (prod EKS): the chart creates the namespace, the stack applies the
    // platform chart after it
    assert.deepEqual(kedaObjects('prod', 'prod-use1'), ['NetworkPolicy keda/elasticai-keda-operator']);
    // AKS's add-on: a PodMonitor for managed Prometheus, no policy on AKS's pods
    for (const [envName, name] of [
      ['staging', 'staging-weu'],
      ['prod', 'prod-weu'],
    ] as const) {
      assert.deepEqual(kedaObjects(envName, name), ['PodMonitor kube-system/elasticai-keda-operator']);
    }
  });

  it("labels every monitor like the runtime's ServiceMonitor, so the Prometheus that selects one selects all", () => {
    // GIVEN dev with a kube-prometheus-stack that selects `release: kps`
    const dev = withCluster(envNamed('dev'), 'dev-use1', (c) => ({
      ...c,
      runtime: {
        ...(c.runtime as NonNullable<typeof c.runtime>),
        serviceMonitor: RuntimeServiceMonitor.prometheusOperator({ labels: { release: 'kps' } }),
      },
    }));
    // WHEN
    const objects = clusterObjects(dev, 'dev-use1');
    // THEN every monitor (and the PrometheusRule) carries it
    const labelled = objects.filter((o) => MONITOR_KINDS.has(o.kind) || o.kind === 'PrometheusRule');
    assert.equal(labelled.length, 7);
    for (const o of labelled) assert.equal(o.metadata.labels.release, 'kps', `${o.kind} ${o.metadata.name}`);
  });

  it('follows observability.scraping where the table sets it', () => {
    // GIVEN dev scraped by an agent in `otel` that reads no CRD
    const otel = withCluster(envNamed('dev'), 'dev-use1', (c) => ({
      ...c,
      observability: { scraping: MetricsScraping.collector({ namespaces: ['otel'] }) },
    }));
    // WHEN
    const objects = clusterObjects(otel, 'dev-use1');
    // THEN no component monitor is written (the runtime's own ServiceMonitors stay), `otel` is let in,
    // and the spot and autoscaler alerts stay on
    assert.deepEqual(
      objects
        .filter((o) => MONITOR_KINDS.has(o.kind))
        .map((o) => o.metadata.name)
        .sort(),
      ['elasticai-resolver', 'elasticai-runtime'],
    );
    assert.deepEqual(rules(policy(objects, 'kube-system', 'cluster-autoscaler')), ['otel:8085']);
    assert.deepEqual(rules(policy(objects, 'shop', 'allow-monitoring')), ['otel:8080']);
    const alerts = (app: EnvironmentConfig) => {
      const a = new App();
      buildClusterCharts(a, app.clusters[0] as EnvironmentConfig['clusters'][number], app);
      return runtimeAlertsOf(a)?.rules.map((r) => r.alert) ?? [];
    };
    assert.ok(alerts(otel).includes('ElasticAISpotInterruptionRateHigh'));
    // GIVEN / WHEN nobody scrapes
    const none = withCluster(envNamed('dev'), 'dev-use1', (c) => ({
      ...c,
      observability: { scraping: MetricsScraping.none() },
    }));
    const silent = clusterObjects(none, 'dev-use1');
    // THEN nothing is opened to a scraper, and the alerts that would never fire are left out
    assert.deepEqual(rules(policy(silent, 'kube-system', 'cluster-autoscaler')), []);
    assert.equal(policy(silent, 'shop', 'allow-monitoring'), undefined);
    assert.equal(policy(silent, 'keda', 'elasticai-keda-operator'), undefined);
    const names = alerts(none);
    assert.ok(!names.includes('ElasticAISpotInterruptionRateHigh'));
    assert.ok(!names.includes('ElasticAIClusterAutoscalerScaleUpFailing'));
  });
});
