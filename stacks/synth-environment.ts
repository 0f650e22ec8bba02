/**
 * Turns the environment table into cdk8s charts: one `platform` chart per cluster (autoscaler,
 * add-ons, headroom, decision runtime with its alerts and dashboard, scale-to-zero resolver) and one
 * chart per tenant. The CDK app, the Pulumi program and the GitOps synth all build their in-cluster
 * objects through {@link buildClusterCharts}: one model, three paths.
 */
import { App } from 'cdk8s';
import type { IConstruct } from 'constructs';
import { AutoscaledWorkload } from '../constructs/k8s/autoscaled-workload.js';
import { ClusterAutoscaler, CloudProvider } from '../constructs/k8s/cluster-autoscaler.js';
import { ClusterChart } from '../constructs/k8s/cluster-info.js';
import {
  DecisionRuntime,
  type DecisionRuntimeProps,
  RuntimeServiceMonitor,
} from '../constructs/k8s/decision-runtime.js';
import type { GitOpsAddonsProps } from '../constructs/k8s/gitops-addons.js';
import { GitOpsAddons, KedaPodIdentity } from '../constructs/k8s/gitops-addons.js';
import { GrafanaDashboard } from '../constructs/k8s/grafana-dashboard.js';
import { KedaInstallation, KedaOperatorMetrics } from '../constructs/k8s/keda/keda-operator-metrics.js';
import { MONITORING_NAMESPACE, MetricsScraping } from '../constructs/k8s/metrics-scraping.js';
import { SpotInterruptionSource, defaultSpotInterruptions } from '../constructs/k8s/observed-metrics.js';
import { RuntimeAlerts, RuntimeAlertsDelivery } from '../constructs/k8s/runtime-alerts.js';
import type { IScaleToZeroResolver } from '../constructs/k8s/scale-to-zero.js';
import {
  ScaleToZeroResolver,
  type ScaleToZeroResolverProps,
} from '../constructs/k8s/scale-to-zero-resolver.js';
import { NodeTerminationHandler } from '../constructs/aws/node-termination-handler.js';
import { awsWorkloadRoleArn, IRSA_ROLE_ANNOTATION } from '../constructs/aws/workload-role-names.js';
import { Headroom } from '../constructs/k8s/headroom.js';
import { ScaledObject } from '../constructs/k8s/keda/scaled-object.js';
import { TriggerAuthentication } from '../constructs/k8s/keda/trigger-authentication.js';
import { SystemNamespace } from '../constructs/k8s/system-namespace.js';
import { Tenant } from '../constructs/k8s/tenant.js';
import { VerticalPodAutoscaler } from '../constructs/k8s/vertical-pod-autoscaler.js';
import { PropError } from '../constructs/k8s/validation.js';
import { WorkloadIdentity } from '../constructs/k8s/workload-identity.js';
import type { ClusterConfig, EnvironmentConfig, TenantConfig } from './environment-types.js';
import { type ManifestFile, synthChart } from './manifests.js';

/** Namespace of the platform pieces ElasticAI adds (headroom, decision runtime). */
export const PLATFORM_NAMESPACE = 'elasticai-system';

/** `TenantQuota.pods`' default: the runtime caps a tenant's workloads at its pod quota. */
const DEFAULT_TENANT_PODS = 100;

/** What the charts take from the environment rather than the cluster. */
export type ChartEnvironment = Pick<EnvironmentConfig, 'metricsHistoryDays'>;

/** Builds every chart of one cluster inside `app`. */
export function buildClusterCharts(
  app: App,
  cluster: ClusterConfig,
  environment: ChartEnvironment,
): ClusterChart[] {
  const charts: ClusterChart[] = [];
  const platform = new ClusterChart(app, 'platform', { cluster });
  const scraping = clusterScraping(cluster);
  // AKS runs its own managed cluster autoscaler (tuned through autoScalerProfile by the Pulumi stack).
  const gitopsRoles = gitopsAwsRoles(cluster);
  if (cluster.cloud === 'aws') {
    new ClusterAutoscaler(platform, 'cluster-autoscaler', {
      clusterName: cluster.name,
      cloudProvider: CloudProvider.aws({ region: cluster.region }),
      profile: cluster.autoscalerProfile,
      monitoring: scraping,
      ...(gitopsRoles
        ? { serviceAccountAnnotations: { [IRSA_ROLE_ANNOTATION]: gitopsRoles.clusterAutoscaler } }
        : {}),
    });
  }
  if (cluster.gitopsAddons) {
    new GitOpsAddons(
      platform,
      'addons',
      withKedaMonitoring(withKedaRole(cluster.gitopsAddons, gitopsRoles), scraping),
    );
  } else {
    addKedaMetrics(platform, cluster, scraping);
  }
  if (cluster.cloud === 'aws' && scraping.apiVersion !== undefined) {
    // The CDK stack runs the termination handler on every EKS cluster, with its metrics on and the
    // scraper let in, but applies no PodMonitor (its CRD may not exist yet when the stack applies): the
    // monitor goes with the charts the Prometheus operator's cluster applies.
    NodeTerminationHandler.podMonitor(platform, 'node-termination-handler-metrics', { scraping });
  }
  // One system namespace for every platform piece that needs it.
  const ns =
    cluster.headroom || cluster.runtime
      ? new SystemNamespace(platform, 'system-namespace', { name: PLATFORM_NAMESPACE })
      : undefined;
  if (cluster.headroom && ns) {
    new Headroom(platform, 'headroom', { ...cluster.headroom, namespace: ns.name });
  }
  if (cluster.runtime && ns) {
    const props = runtimeProps(cluster, environment, ns.name, gitopsRoles);
    const runtime = new DecisionRuntime(platform, 'decision-runtime', props);
    addObservability(platform, cluster, runtime, props, scraping);
    for (const resolver of scaleToZeroResolvers(cluster)) {
      // A resolver elsewhere is left to the app that deploys it (ScaleToZero refuses a missing one at synth).
      if (resolver.namespace !== ns.name) continue;
      new ScaleToZeroResolver(platform, `scale-to-zero-resolver-${resolver.name}`, {
        ...resolverProps(props),
        name: resolver.name,
        namespace: ns.name,
        runtime,
      });
    }
  }
  if (platform.node.children.length > 0) charts.push(platform);
  for (const tenant of cluster.tenants) charts.push(buildTenantChart(app, cluster, tenant, scraping));
  checkRuntimeTriggers(app, cluster);
  return charts;
}

/**
 * Who scrapes the cluster's platform components and tenants (`ClusterObservabilityConfig.scraping`),
 * following the runtime's own pipeline when not told:
 *
 * - the runtime's `monitoring.coreos.com/v1` ServiceMonitor (dev's kube-prometheus-stack): the Prometheus
 *   operator, with the ServiceMonitor's labels and interval, from the namespaces let into the runtime's
 *   HTTP port (other than its own);
 * - AKS with managed Prometheus (the runtime's `azmonitoring.coreos.com/v1` flavour): its `ama-metrics`
 *   pods in `kube-system`;
 * - otherwise (Amazon Managed Prometheus, no runtime): a collector configured elsewhere in `monitoring`,
 *   with no monitor objects, since no operator's CRD is known to exist.
 *
 * The CDK stack reads it too, for the termination handler it applies.
 */
export function clusterScraping(cluster: ClusterConfig): MetricsScraping {
  const configured = cluster.observability?.scraping;
  if (configured) return configured;
  const azure = cluster.cloud === 'azure';
  const monitor =
    cluster.runtime?.serviceMonitor ??
    (azure ? RuntimeServiceMonitor.azureManagedPrometheus() : RuntimeServiceMonitor.prometheusOperator());
  const managedPrometheus = azure && (cluster.azure?.managedPrometheus ?? true);
  const scrapers = (
    cluster.runtime?.httpIngressNamespaces ?? (azure ? ['kube-system'] : [MONITORING_NAMESPACE])
  ).filter((n) => n !== PLATFORM_NAMESPACE);
  const namespaces = scrapers.length > 0 ? scrapers : [MONITORING_NAMESPACE];
  const options = {
    ...(monitor.options.interval ? { interval: monitor.options.interval } : {}),
    ...(monitor.options.labels ? { labels: monitor.options.labels } : {}),
  };
  if (cluster.runtime && monitor.apiVersion === 'monitoring.coreos.com/v1') {
    return MetricsScraping.prometheusOperator({ ...options, namespaces });
  }
  if (managedPrometheus && monitor.apiVersion === 'azmonitoring.coreos.com/v1') {
    return MetricsScraping.azureManagedPrometheus(options);
  }
  return MetricsScraping.collector({ namespaces });
}

/**
 * The KEDA operator's metrics where the stacks install KEDA (no GitOps add-ons): the EKS Helm chart
 * (`EksHelmAddons`, release namespace `keda`) gets its NetworkPolicy and, beside an operator, its
 * ServiceMonitor; AKS's add-on a PodMonitor where managed Prometheus reads one.
 */
function addKedaMetrics(platform: ClusterChart, cluster: ClusterConfig, scraping: MetricsScraping): void {
  if (!scraping.enabled) return;
  if (cluster.cloud === 'aws') {
    new KedaOperatorMetrics(platform, 'keda-metrics', {
      installation: KedaInstallation.helmChart('keda'),
      monitoring: scraping,
      prop: `${cluster.name}.observability.scraping`,
    });
  } else if (scraping.apiVersion !== undefined) {
    new KedaOperatorMetrics(platform, 'keda-metrics', {
      installation: KedaInstallation.aksAddOn(),
      monitoring: scraping,
      prop: `${cluster.name}.observability.scraping`,
    });
  }
}

/** The GitOps KEDA add-on scraped by the cluster's scraper, unless the table says otherwise. */
function withKedaMonitoring(addons: GitOpsAddonsProps, scraping: MetricsScraping): GitOpsAddonsProps {
  if (addons.keda?.monitoring || addons.keda?.enabled === false) return addons;
  return { ...addons, keda: { ...addons.keda, monitoring: scraping } };
}

/**
 * The runtime's props: the table's choices, plus what the platform knows (namespace, history days,
 * tenants, KEDA's namespace, who scrapes it, its cloud identity on a GitOps-delivered EKS cluster).
 */
function runtimeProps(
  cluster: ClusterConfig,
  environment: ChartEnvironment,
  namespace: string,
  gitopsRoles: GitOpsAwsRoles | undefined,
): DecisionRuntimeProps {
  const config = cluster.runtime as NonNullable<ClusterConfig['runtime']>;
  const azure = cluster.cloud === 'azure';
  return {
    // KEDA: the AKS add-on runs in kube-system; the Helm chart and the GitOps add-on in `keda` (or as set).
    kedaNamespace: azure ? 'kube-system' : (cluster.gitopsAddons?.keda?.namespace ?? 'keda'),
    // AKS managed Prometheus scrapes from its ama-metrics pods in kube-system and reads
    // azmonitoring.coreos.com ServiceMonitors.
    ...(azure
      ? {
          httpIngressNamespaces: ['kube-system', namespace],
          serviceMonitor: RuntimeServiceMonitor.azureManagedPrometheus(),
        }
      : {}),
    ...(gitopsRoles ? { identity: WorkloadIdentity.awsIrsa(gitopsRoles.decisionRuntime) } : {}),
    ...config,
    namespace,
    historyDays: environment.metricsHistoryDays,
    tenants: cluster.tenants.map((t) => ({
      name: t.name,
      namespaces: [t.name],
      maxReplicas: t.quota?.pods ?? DEFAULT_TENANT_PODS,
    })),
  };
}

/**
 * The runtime's alerts and dashboard, delivered where the runtime's metrics are evaluated:
 *
 * - **Prometheus operator** (the runtime's `monitoring.coreos.com/v1` ServiceMonitor, dev's in-cluster
 *   kube-prometheus-stack): a PrometheusRule with the ServiceMonitor's labels (what selects one selects
 *   the other, e.g. kube-prometheus-stack's `release`), and the dashboard ConfigMap, both in the
 *   platform namespace.
 * - **AKS managed Prometheus** (`azmonitoring.coreos.com/v1`): `RuntimeAlertsDelivery.azureMonitorWorkspace()`;
 *   the Pulumi stack creates the rule groups in the cluster's Azure Monitor workspace.
 * - **Amazon Managed Prometheus** history without a ServiceMonitor: `amazonManagedPrometheus()`; the
 *   CDK stack creates the workspace's rule groups namespace.
 * - Anything else (no ServiceMonitor, another history source): no alerts, since nothing would evaluate them.
 *
 * The dashboard only where a Grafana sidecar loads it (see `ClusterObservabilityConfig.grafanaDashboard`).
 * The spot interruption alert and panel, and the cluster-autoscaler alerts, only where something scrapes
 * those components (`clusterScraping`): the termination handler's drain counter (EKS with spot pools)
 * and the autoscaler's metrics.
 */
function addObservability(
  platform: ClusterChart,
  cluster: ClusterConfig,
  runtime: DecisionRuntime,
  props: DecisionRuntimeProps,
  scraping: MetricsScraping,
): void {
  const config = cluster.observability ?? {};
  const scrape = (props.serviceMonitor ?? RuntimeServiceMonitor.prometheusOperator()).apiVersion;
  const operator = scrape === 'monitoring.coreos.com/v1';
  const delivery = operator
    ? RuntimeAlertsDelivery.prometheusRule({ labels: props.serviceMonitor?.options.labels ?? {} })
    : scrape === 'azmonitoring.coreos.com/v1'
      ? RuntimeAlertsDelivery.azureMonitorWorkspace()
      : scrape === undefined && props.history.kind === 'amazon-managed-prometheus'
        ? RuntimeAlertsDelivery.amazonManagedPrometheus()
        : undefined;
  const scraped = cluster.cloud === 'aws' && scraping.enabled;
  const observed = {
    runtime,
    ...(config.runtimeJob !== undefined ? { runtimeJob: config.runtimeJob } : {}),
    // The stack's termination handler serves its drain counter wherever something scrapes it.
    spotInterruptions: scraped ? defaultSpotInterruptions(platform) : SpotInterruptionSource.none(),
    clusterAutoscaler: scraped,
  };
  if (delivery && (config.alerts ?? true)) {
    new RuntimeAlerts(platform, 'runtime-alerts', { ...observed, delivery });
  }
  if (config.grafanaDashboard ?? operator) {
    new GrafanaDashboard(platform, 'grafana-dashboard', { ...observed, namespace: runtime.namespace });
  }
}

/** The cluster's runtime alerts, as `buildClusterCharts` built them into `scope`'s app (or none). */
export function runtimeAlertsOf(scope: IConstruct): RuntimeAlerts | undefined {
  const found = scope.node.root.node.findAll().filter((c): c is RuntimeAlerts => c instanceof RuntimeAlerts);
  if (found.length > 1) throw new Error(`expected at most one RuntimeAlerts, found ${found.length}`);
  return found[0];
}

/** The scale-to-zero resolvers the cluster's workloads use, once each. */
function scaleToZeroResolvers(cluster: ClusterConfig): IScaleToZeroResolver[] {
  const resolvers = new Map<string, IScaleToZeroResolver>();
  for (const tenant of cluster.tenants) {
    for (const workload of tenant.workloads) {
      const r = workload.scaleToZero?.resolver;
      if (r) resolvers.set(`${r.namespace}/${r.name}`, r);
    }
  }
  return [...resolvers.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The resolver runs the runtime's image (its second entry point) and is scraped like the runtime:
 * the same ServiceMonitor flavour and labels, from the namespaces allowed into the runtime's HTTP port.
 */
function resolverProps(
  runtime: DecisionRuntimeProps,
): Pick<ScaleToZeroResolverProps, 'image' | 'serviceMonitor' | 'monitoringNamespaces' | 'kubernetesApi'> {
  const monitor = runtime.serviceMonitor ?? RuntimeServiceMonitor.prometheusOperator();
  const options = {
    ...(monitor.options.interval ? { interval: monitor.options.interval } : {}),
    ...(monitor.options.labels ? { labels: monitor.options.labels } : {}),
  };
  const scrapers = (runtime.httpIngressNamespaces ?? ['monitoring']).filter((n) => n !== runtime.namespace);
  return {
    image: runtime.image,
    serviceMonitor:
      monitor.apiVersion === undefined
        ? RuntimeServiceMonitor.none()
        : monitor.apiVersion === 'azmonitoring.coreos.com/v1'
          ? RuntimeServiceMonitor.azureManagedPrometheus(options)
          : RuntimeServiceMonitor.prometheusOperator(options),
    ...(scrapers.length > 0 ? { monitoringNamespaces: scrapers } : {}),
    ...(runtime.kubernetesApi ? { kubernetesApi: runtime.kubernetesApi } : {}),
  };
}

/**
 * A trigger of the cluster pointing at the default runtime address (`DecisionRuntime.reference()`)
 * while the cluster deploys no runtime would never be answered: refuse it at synth.
 */
function checkRuntimeTriggers(app: App, cluster: ClusterConfig): void {
  const runtimes = app.node.findAll().filter((c): c is DecisionRuntime => c instanceof DecisionRuntime);
  const served = new Set(runtimes.map((r) => r.scalerAddress));
  const address = DecisionRuntime.reference({ namespace: PLATFORM_NAMESPACE }).scalerAddress;
  for (const so of app.node.findAll()) {
    if (!(so instanceof ScaledObject)) continue;
    for (const t of so.triggers) {
      if (t.metadata.scalerAddress === address && !served.has(address)) {
        throw new PropError(
          `${cluster.name}.runtime`,
          undefined,
          `is required: ScaledObject ${so.namespace}/${so.name} has a trigger for the decision runtime at ${address}`,
        );
      }
    }
  }
}

/** ARNs of the roles a GitOps-delivered EKS cluster's manifests name. */
interface GitOpsAwsRoles {
  readonly clusterAutoscaler: string;
  readonly keda: string;
  readonly decisionRuntime: string;
}

/**
 * On an EKS cluster whose add-ons GitOps delivers, the roles the CDK stack creates under fixed names
 * (constructs/aws/workload-role-names.ts): their ARNs go into the manifests, since no CDK step
 * annotates them there. Needs the cluster's account in the table.
 */
function gitopsAwsRoles(cluster: ClusterConfig): GitOpsAwsRoles | undefined {
  if (cluster.cloud !== 'aws' || !cluster.gitopsAddons) return undefined;
  const account = cluster.aws?.account;
  if (account === undefined) {
    throw new PropError(
      `${cluster.name}.aws.account`,
      account,
      'is required on an EKS cluster with gitopsAddons: its manifests reference the IAM roles of cluster-autoscaler, KEDA and the decision runtime by ARN',
    );
  }
  return {
    clusterAutoscaler: awsWorkloadRoleArn(account, cluster.region, cluster.name, 'cluster-autoscaler'),
    keda: awsWorkloadRoleArn(account, cluster.region, cluster.name, 'keda-operator'),
    decisionRuntime: awsWorkloadRoleArn(account, cluster.region, cluster.name, 'decision-runtime'),
  };
}

/** The KEDA add-on with the cluster's KEDA role, unless the table already names an identity. */
function withKedaRole(addons: GitOpsAddonsProps, roles: { keda: string } | undefined): GitOpsAddonsProps {
  if (!roles || addons.keda?.podIdentity || addons.keda?.enabled === false) return addons;
  return { ...addons, keda: { ...addons.keda, podIdentity: KedaPodIdentity.awsIrsa(roles.keda) } };
}

function buildTenantChart(
  app: App,
  cluster: ClusterConfig,
  config: TenantConfig,
  scraping: MetricsScraping,
): ClusterChart {
  const chart = new ClusterChart(app, `tenant-${config.name}`, { cluster });
  const { workloads, triggerAuthentications, monitoring, ...tenantProps } = config;
  // The tenant's declared metrics ports, scraped by the cluster's scraper unless the table names one
  // (and opened to nobody where the cluster has none).
  const tenantScraping = monitoring?.scraping ?? scraping;
  const tenant = new Tenant(chart, config.name, {
    ...tenantProps,
    ...(monitoring && (monitoring.scraping !== undefined || scraping.enabled)
      ? { monitoring: { ...monitoring, scraping: tenantScraping } }
      : {}),
  });
  for (const auth of triggerAuthentications ?? []) {
    new TriggerAuthentication(tenant, `auth-${auth.name}`, { ...auth, namespace: tenant.namespace });
  }
  for (const { vpa, ...workloadProps } of workloads) {
    const workload = new AutoscaledWorkload(tenant, workloadProps.name, workloadProps);
    if (vpa) new VerticalPodAutoscaler(tenant, `${workloadProps.name}-vpa`, { ...vpa, target: workload });
  }
  return chart;
}

/** Synthesizes every cluster of an environment to files `<cluster>/<chart>.yaml`. */
export function synthEnvironment(env: EnvironmentConfig): ManifestFile[] {
  return env.clusters.flatMap((cluster) => {
    const app = new App();
    return buildClusterCharts(app, cluster, env).map((chart) => ({
      path: `${cluster.name}/${chart.node.id}.yaml`,
      objects: synthChart(chart),
    }));
  });
}
