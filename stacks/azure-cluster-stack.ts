/**
 * One AKS cluster of the environment table, deployed with Pulumi: resource group, AksCluster (system,
 * regular and spot pools, autoscaler profile, KEDA, VPA, managed Prometheus, control-plane logs),
 * workload identities for KEDA, the decision runtime and the table's workloads, the runtime's alerts as
 * Azure Monitor Prometheus rule groups of the cluster's workspace, and the in-cluster objects of the same
 * cdk8s charts the GitOps synth writes (`buildClusterCharts` + `synthChart`).
 */
import type * as pulumi from '@pulumi/pulumi';
import { PrometheusRuleGroup } from '@pulumi/azure-native/alertsmanagement/prometheusRuleGroup.js';
import { ResourceGroup } from '@pulumi/azure-native/resources/resourceGroup.js';
import { App } from 'cdk8s';
import { AksCluster } from '../constructs/azure/aks-cluster.js';
import {
  AksManifests,
  type AksManifestSet,
  type KubernetesObjectInput,
} from '../constructs/azure/aks-manifests.js';
import { type AksRoleGrant, AksWorkloadIdentity } from '../constructs/azure/aks-workload-identity.js';
import type { KubeloginMode } from '../constructs/azure/kubeconfig.js';
import { PropError } from '../constructs/k8s/validation.js';
import {
  AKS_KEDA_NAMESPACE,
  AKS_KEDA_SERVICE_ACCOUNT,
  bindAzureClientIds,
  PLACEHOLDER_AZURE_MONITOR_QUERY_ENDPOINT,
  RUNTIME_NAMESPACE,
  RUNTIME_SERVICE_ACCOUNT,
  runtimeNeedsIdentity,
  workloadIdentityNeeds,
} from './azure-identities.js';
import type { AzureServiceBusQueueConfig, ClusterConfig, EnvironmentConfig } from './environment-types.js';
import type { ManifestObject } from './manifests.js';
import { synthChart } from './manifests.js';
import { buildClusterCharts, runtimeAlertsOf } from './synth-environment.js';

/** Options of {@link deployAzureCluster}. */
export interface AzureClusterStackOptions {
  /** How the Kubernetes provider gets Entra ID tokens. @default 'azurecli' */
  readonly kubeloginMode?: KubeloginMode;
  /** Apply the in-cluster objects (false: Azure resources only). @default true */
  readonly installManifests?: boolean;
}

/** What the stack exports for one cluster. */
export interface AzureClusterOutputs {
  readonly resourceGroupName: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly clusterId: pulumi.Output<string>;
  readonly oidcIssuerUrl: pulumi.Output<string>;
  readonly kedaClientId: pulumi.Output<string>;
  readonly runtimeClientId: pulumi.Output<string>;
  readonly monitorWorkspaceId?: pulumi.Output<string>;
  readonly logAnalyticsWorkspaceId?: pulumi.Output<string>;
  readonly workloadClientIds: Readonly<Record<string, pulumi.Output<string>>>;
  /** Ids of the runtime's alert rule groups in the Azure Monitor workspace, by group name. */
  readonly alertRuleGroupIds: Readonly<Record<string, pulumi.Output<string>>>;
}

/**
 * Client ids that stand in for the real ones while the charts are synthesized: the object set is
 * known (and validated) at program start, and each sentinel string is then replaced by the identity's
 * client id output. Version-4 GUIDs with a fixed, recognisable prefix.
 */
function sentinelClientId(i: number): string {
  return `e1a57ca1-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

/** Replaces every string equal to a sentinel by its output, anywhere in a plain JSON value. */
export function replaceSentinels(
  value: unknown,
  sentinels: ReadonlyMap<string, pulumi.Input<string>>,
): unknown {
  if (typeof value === 'string') return sentinels.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => replaceSentinels(v, sentinels));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceSentinels(v, sentinels)]));
  }
  return value;
}

/** Resource id of a Service Bus queue in the subscription of `subscriptionScope` (any id under it). */
export function serviceBusQueueId(subscriptionScope: string, queue: AzureServiceBusQueueConfig): string {
  const sub = /^\/subscriptions\/([^/]+)/i.exec(subscriptionScope)?.[1];
  if (!sub) throw new Error(`not an Azure resource id: ${subscriptionScope}`);
  return `/subscriptions/${sub}/resourceGroups/${queue.resourceGroupName}/providers/Microsoft.ServiceBus/namespaces/${queue.namespace}/queues/${queue.queue}`;
}

/**
 * Every `azure-servicebus` trigger in the synthesized objects must read a queue listed in
 * `azure.serviceBusQueues`, or KEDA's identity would have no role on it and the workload would never
 * scale. Returns the objects unchanged.
 */
function checkServiceBusTriggers(cluster: ClusterConfig, objects: readonly ManifestObject[]): void {
  const queues = cluster.azure?.serviceBusQueues ?? [];
  for (const obj of objects) {
    if (obj.kind !== 'ScaledObject' && obj.kind !== 'ScaledJob') continue;
    const triggers =
      (obj.spec as { triggers?: { type: string; metadata?: Record<string, string> }[] })?.triggers ?? [];
    for (const trigger of triggers) {
      if (trigger.type !== 'azure-servicebus') continue;
      const ns = trigger.metadata?.namespace;
      const queue = trigger.metadata?.queueName;
      if (!queues.some((q) => q.namespace === ns && q.queue === queue)) {
        throw new PropError(
          `${cluster.name}.azure.serviceBusQueues`,
          queues.map((q) => `${q.namespace}/${q.queue}`),
          `must list the queue ${ns}/${queue} that ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name} scales on, so KEDA's identity gets a role on it`,
        );
      }
    }
  }
}

/**
 * The runtime of an AKS cluster must be able to read its history: the placeholder query endpoint needs
 * the managed Prometheus the stack creates, and Entra ID auth needs an Azure workload identity.
 */
function checkRuntime(cluster: ClusterConfig): void {
  const runtime = cluster.runtime;
  if (!runtime) return;
  if (
    runtime.history.url === PLACEHOLDER_AZURE_MONITOR_QUERY_ENDPOINT &&
    cluster.azure?.managedPrometheus === false
  ) {
    throw new PropError(
      `${cluster.name}.runtime.history`,
      runtime.history.url,
      'is the placeholder of the managed Prometheus workspace, but azure.managedPrometheus is false',
    );
  }
  const annotations = runtime.identity?.serviceAccountAnnotations ?? {};
  if (runtime.history.auth === 'azure' && annotations['azure.workload.identity/client-id'] === undefined) {
    throw new PropError(
      `${cluster.name}.runtime.identity`,
      runtime.identity,
      'must be WorkloadIdentity.azureWorkload(...) to query an Azure Monitor workspace',
    );
  }
}

/** Deploys one AKS cluster of `env` (see the module comment). */
export function deployAzureCluster(
  env: EnvironmentConfig,
  cluster: ClusterConfig,
  options: AzureClusterStackOptions = {},
): AzureClusterOutputs {
  if (cluster.cloud !== 'azure') throw new PropError('cluster.cloud', cluster.cloud, 'must be "azure"');
  const azure = cluster.azure ?? {};
  const name = cluster.name;

  // Synthesize and validate the in-cluster objects before any resource is registered.
  const needs = workloadIdentityNeeds(cluster);
  const kedaSentinel = sentinelClientId(0);
  const workloadSentinels = Object.fromEntries(needs.map((n, i) => [n.key, sentinelClientId(i + 1)]));
  const runtimeSentinel = sentinelClientId(needs.length + 1);
  checkRuntime(cluster);
  const bound = bindAzureClientIds(cluster, {
    keda: kedaSentinel,
    workloads: workloadSentinels,
    runtime: runtimeSentinel,
  });
  const app = new App();
  const charts = buildClusterCharts(app, bound, env).map((chart) => ({
    name: chart.node.id,
    objects: synthChart(chart),
  }));
  const alerts = runtimeAlertsOf(app);
  checkServiceBusTriggers(
    cluster,
    charts.flatMap((c) => c.objects),
  );
  const queues = azure.serviceBusQueues ?? [];
  queues.forEach((q, i) =>
    (q.receivers ?? []).forEach((receiver, j) => {
      if (!needs.some((n) => n.key === receiver)) {
        throw new PropError(
          `${name}.azure.serviceBusQueues[${i}].receivers[${j}]`,
          receiver,
          `must name a <tenant>/<workload> whose identity the stack creates (WorkloadIdentity.azureWorkload with the placeholder client id); known: ${needs.map((n) => n.key).join(', ') || 'none'}`,
        );
      }
    }),
  );

  // Azure refuses `/` in tag names, so these are not the Kubernetes-style `elasticai.io/...` keys.
  const tags = { 'elasticai-environment': env.name, 'elasticai-cluster': name };
  const group = new ResourceGroup(`${name}-rg`, {
    resourceGroupName: azure.resourceGroupName ?? `rg-elasticai-${name}`,
    location: cluster.region,
    tags,
  });
  const aks = new AksCluster(name, {
    cluster,
    resourceGroupName: group.name,
    location: cluster.region,
    autoscalerProfile: cluster.autoscalerProfile,
    spotMaxPrice: azure.spotMaxPrice,
    networkPolicy: azure.networkPolicy,
    adminGroupObjectIds: azure.adminGroupObjectIds,
    managedPrometheus: azure.managedPrometheus,
    logRetentionDays: env.logRetentionDays,
    tags,
  });

  const queueId = (q: AzureServiceBusQueueConfig) => group.id.apply((id) => serviceBusQueueId(id, q));
  const identity = (suffix: string, namespace: string, serviceAccount: string, roles: AksRoleGrant[]) =>
    new AksWorkloadIdentity(`${name}-${suffix}`, {
      resourceGroupName: group.name,
      location: cluster.region,
      identityName: `id-${name}-${suffix}`,
      oidcIssuerUrl: aks.oidcIssuerUrl,
      namespace,
      serviceAccount,
      roles,
      tags,
    });
  const keda = identity(
    'keda',
    AKS_KEDA_NAMESPACE,
    AKS_KEDA_SERVICE_ACCOUNT,
    queues.map((q) => ({ role: 'serviceBusDataOwner', scope: queueId(q) })),
  );
  const runtime = identity(
    'runtime',
    RUNTIME_NAMESPACE,
    cluster.runtime?.name ?? RUNTIME_SERVICE_ACCOUNT,
    aks.managedPrometheus
      ? [{ role: 'monitoringDataReader', scope: aks.managedPrometheus.workspace.id }]
      : [],
  );
  const workloads = Object.fromEntries(
    needs.map((n) => [
      n.key,
      identity(
        `${n.tenant}-${n.workload}`,
        n.namespace,
        n.serviceAccount,
        queues
          .filter((q) => (q.receivers ?? []).includes(n.key))
          .map((q) => ({ role: 'serviceBusDataReceiver' as const, scope: queueId(q) })),
      ),
    ]),
  );

  // The runtime's alerts, evaluated by Azure Monitor on the workspace managed Prometheus writes to and
  // filtered to this cluster's series (ama-metrics labels them `cluster: <cluster name>`). Without the
  // managed Prometheus of the stack there is no workspace to evaluate them in.
  const monitor = aks.managedPrometheus;
  const ruleGroups = Object.fromEntries(
    (monitor && alerts?.delivery.kind === 'azure-monitor-workspace' ? alerts.azureRuleGroups() : []).map(
      (g) => [
        g.name,
        new PrometheusRuleGroup(`${name}-${g.name}`, {
          resourceGroupName: group.name,
          location: cluster.region,
          ruleGroupName: `${g.name}-${name}`,
          description: `ElasticAI decision runtime alerts (${g.name}) of AKS cluster ${name}`,
          scopes: [(monitor as NonNullable<typeof monitor>).workspace.id],
          clusterName: aks.managedCluster.name,
          enabled: true,
          interval: g.interval,
          rules: g.rules.map((r) => ({ ...r })),
          tags,
        }),
      ],
    ),
  );

  if (options.installManifests ?? true) {
    const sentinels = new Map<string, pulumi.Input<string>>([
      [kedaSentinel, keda.clientId],
      ...needs.map(
        (n) =>
          [workloadSentinels[n.key] as string, (workloads[n.key] as AksWorkloadIdentity).clientId] as const,
      ),
      ...(runtimeNeedsIdentity(cluster) ? [[runtimeSentinel, runtime.clientId] as const] : []),
      // The workspace's query endpoint, known once Azure has created it (checkRuntime: it exists).
      ...(aks.managedPrometheus && cluster.runtime?.history.url === PLACEHOLDER_AZURE_MONITOR_QUERY_ENDPOINT
        ? [
            [
              PLACEHOLDER_AZURE_MONITOR_QUERY_ENDPOINT,
              aks.managedPrometheus.workspace.metrics.apply((m) => m.prometheusQueryEndpoint),
            ] as const,
          ]
        : []),
    ]);
    const manifests: AksManifestSet[] = charts.map((c) => ({
      name: c.name,
      objects: c.objects.map((o) => replaceSentinels(o, sentinels) as KubernetesObjectInput),
    }));
    new AksManifests(
      `${name}-manifests`,
      { kubeconfig: aks.kubeconfig(options.kubeloginMode ?? 'azurecli'), manifests },
      // The federated credentials must exist before pods that use them start.
      { dependsOn: [aks, keda, runtime, ...Object.values(workloads)] },
    );
  }

  return {
    resourceGroupName: group.name,
    clusterName: aks.managedCluster.name,
    clusterId: aks.managedCluster.id,
    oidcIssuerUrl: aks.oidcIssuerUrl,
    kedaClientId: keda.clientId,
    runtimeClientId: runtime.clientId,
    monitorWorkspaceId: aks.managedPrometheus?.workspace.id,
    logAnalyticsWorkspaceId: aks.controlPlaneLogs?.workspace.id,
    workloadClientIds: Object.fromEntries(Object.entries(workloads).map(([k, w]) => [k, w.clientId])),
    alertRuleGroupIds: Object.fromEntries(Object.entries(ruleGroups).map(([k, g]) => [k, g.id])),
  };
}
