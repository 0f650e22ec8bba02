// The Pulumi program for the staging stack, run against mocks: the AKS cluster, its pools,
// identities, role assignments and the in-cluster objects it registers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { App, Yaml } from 'cdk8s';
import type { k8s } from 'cdk8s-plus-28';
import { BuiltInRole } from '../../constructs/azure/builtin-roles.js';
import { AKS_AAD_SERVER_ID } from '../../constructs/azure/kubeconfig.js';
import { Placement } from '../../constructs/k8s/placement.js';
import {
  bindAzureClientIds,
  PLACEHOLDER_AZURE_MONITOR_QUERY_ENDPOINT,
  PLACEHOLDER_CLIENT_ID,
  RUNTIME_SERVICE_ACCOUNT,
} from '../../stacks/azure-identities.js';
import { runAzureProgram } from '../../stacks/azure-program.js';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import type { EnvironmentConfig } from '../../stacks/environment-types.js';
import { synthChart } from '../../stacks/manifests.js';
import { buildClusterCharts } from '../../stacks/synth-environment.js';
import type { Json } from '../support/chart.js';
import { REPO_ROOT } from '../support/paths.js';
import {
  optionsOf,
  type ProgramRun,
  resource,
  resourcesOf,
  runProgram,
  SUBSCRIPTION,
} from './pulumi-mocks.js';

const MC = 'azure-native:containerservice:ManagedCluster';
const POOL = 'azure-native:containerservice:AgentPool';
const UAI = 'azure-native:managedidentity:UserAssignedIdentity';
const FIC = 'azure-native:managedidentity:FederatedIdentityCredential';
const RA = 'azure-native:authorization:RoleAssignment';
const CONFIG_GROUP = 'kubernetes:yaml/v2:ConfigGroup';

const staging = ENVIRONMENTS.find((e) => e.name === 'staging');
const cluster = staging?.clusters.find((c) => c.cloud === 'azure');
if (!cluster) throw new Error('staging has no AKS cluster');

/** Unwraps a value the mock monitor may hand over as a secret envelope. */
function plain<T>(value: unknown): T {
  if (
    value &&
    typeof value === 'object' &&
    'value' in value &&
    Object.keys(value).some((k) => k.length === 32)
  ) {
    return (value as { value: T }).value;
  }
  return value as T;
}

/** Whether a node with `labels` and `taints` satisfies a pod's required affinity and tolerations. */
function schedulable(placement: Placement, labels: Record<string, string>, taints: string[]): boolean {
  const tolerated = taints
    .filter((t) => t.endsWith(':NoSchedule'))
    .every((t) =>
      placement
        .tolerations()
        .some(
          (tol) =>
            `${tol.key}=${tol.value}:${tol.effect}` === t ||
            (tol.key === t.split('=')[0] && tol.operator === 'Exists'),
        ),
    );
  const required = placement.nodeAffinity().requiredDuringSchedulingIgnoredDuringExecution;
  const matches = (expr: k8s.NodeSelectorRequirement): boolean => {
    const value = labels[expr.key];
    if (expr.operator === 'In') return value !== undefined && (expr.values ?? []).includes(value);
    if (expr.operator === 'NotIn') return value === undefined || !(expr.values ?? []).includes(value);
    throw new Error(`unexpected operator ${expr.operator}`);
  };
  const affinity =
    !required || required.nodeSelectorTerms.some((term) => (term.matchExpressions ?? []).every(matches));
  return tolerated && affinity;
}

/** Property names of an interface in @pulumi/azure-native's input types. */
function sdkInterfaceProperties(name: string): Set<string> {
  const require = createRequire(import.meta.url);
  const dts = readFileSync(
    join(require.resolve('@pulumi/azure-native/types/input.js'), '..', 'input.d.ts'),
    'utf8',
  );
  const start = dts.indexOf(`interface ${name} {`);
  assert.ok(start > 0, `${name} not found in @pulumi/azure-native types`);
  const body = dts.slice(start, dts.indexOf('\n    }', start));
  return new Set([...body.matchAll(/^ {8}(\w+)\??:/gm)].map((m) => m[1] as string));
}

let run: ProgramRun;
before(async () => {
  run = await runProgram(() => runAzureProgram(), 'staging');
});

describe('staging AKS cluster', () => {
  it('locks down identity and access: OIDC, workload identity, Entra ID + Azure RBAC, no local accounts', () => {
    const mc = resource(run, MC, 'staging-weu').inputs;
    assert.equal(mc.resourceName, 'staging-weu');
    assert.equal(mc.kubernetesVersion, '1.34');
    assert.equal(mc.disableLocalAccounts, true);
    assert.deepEqual(mc.aadProfile, { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [] });
    assert.deepEqual(mc.oidcIssuerProfile, { enabled: true });
    assert.deepEqual(mc.securityProfile, { workloadIdentity: { enabled: true } });
    assert.deepEqual(mc.identity, { type: 'SystemAssigned' });
    assert.equal(mc.location, 'westeurope');
  });

  it('runs Azure CNI overlay with Cilium enforcing network policy', () => {
    const net = resource(run, MC, 'staging-weu').inputs.networkProfile;
    assert.equal(net.networkPlugin, 'azure');
    assert.equal(net.networkPluginMode, 'overlay');
    assert.equal(net.networkDataplane, 'cilium');
    assert.equal(net.networkPolicy, 'cilium');
  });

  it('enables the KEDA add-on, the managed VPA (the table says the cluster runs it) and managed Prometheus', () => {
    const mc = resource(run, MC, 'staging-weu').inputs;
    assert.equal(cluster.verticalPodAutoscaler, true);
    assert.deepEqual(mc.workloadAutoScalerProfile, {
      keda: { enabled: true },
      verticalPodAutoscaler: { enabled: true },
    });
    assert.equal(mc.azureMonitorProfile.metrics.enabled, true);
  });

  it('maps the shared autoscaler profile (upstream defaults) to autoScalerProfile with AKS key names', () => {
    const profile = resource(run, MC, 'staging-weu').inputs.autoScalerProfile;
    assert.deepEqual(profile, {
      scanInterval: '10s',
      scaleDownUnneededTime: '10m',
      scaleDownDelayAfterAdd: '10m',
      scaleDownDelayAfterFailure: '3m',
      scaleDownUnreadyTime: '20m',
      scaleDownUtilizationThreshold: '0.5',
      maxNodeProvisionTime: '15m',
      expander: 'least-waste',
      balanceSimilarNodeGroups: 'false',
      skipNodesWithLocalStorage: 'true',
      skipNodesWithSystemPods: 'true',
      maxGracefulTerminationSec: '600',
      newPodScaleUpDelay: '0s',
      maxEmptyBulkDelete: '10',
      okTotalUnreadyCount: '3',
      maxTotalUnreadyPercentage: '45',
    });
    const known = sdkInterfaceProperties('ManagedClusterPropertiesAutoScalerProfileArgs');
    for (const key of Object.keys(profile))
      assert.ok(known.has(key), `${key} is not an autoScalerProfile property of the SDK`);
  });

  it('creates the zonal system pool inline, tainted CriticalAddonsOnly, and ignores its node count', () => {
    const [system, ...others] = resource(run, MC, 'staging-weu').inputs.agentPoolProfiles;
    assert.equal(others.length, 0);
    assert.equal(system.name, 'system');
    assert.equal(system.mode, 'System');
    assert.equal(system.vmSize, 'Standard_D4s_v5');
    assert.deepEqual(system.nodeTaints, ['CriticalAddonsOnly=true:NoSchedule']);
    assert.deepEqual(system.availabilityZones, ['1', '2', '3']);
    assert.deepEqual([system.enableAutoScaling, system.minCount, system.maxCount], [true, 2, 3]);
    assert.deepEqual(optionsOf(run, MC, 'staging-weu').ignoreChanges, ['agentPoolProfiles[0].count']);
  });

  it('makes the spot pool Spot with eviction Delete, price -1, autoscaled 0-15, count ignored', () => {
    const spot = resource(run, POOL, 'staging-weu-spot').inputs;
    assert.equal(spot.agentPoolName, 'spot');
    assert.equal(spot.resourceName, 'staging-weu');
    assert.equal(spot.mode, 'User');
    assert.equal(spot.scaleSetPriority, 'Spot');
    assert.equal(spot.scaleSetEvictionPolicy, 'Delete');
    assert.equal(spot.spotMaxPrice, -1);
    assert.equal(spot.vmSize, 'Standard_F4s_v2');
    assert.deepEqual([spot.enableAutoScaling, spot.minCount, spot.maxCount], [true, 0, 15]);
    assert.equal(spot.orchestratorVersion, '1.34');
    assert.deepEqual(optionsOf(run, POOL, 'staging-weu-spot').ignoreChanges, ['count']);
    assert.equal(optionsOf(run, POOL, 'staging-weu-spot').parentType, 'elasticai:azure:AksNodePool');
  });

  it('makes the general pool regular priority, autoscaled 1-10, count ignored', () => {
    const general = resource(run, POOL, 'staging-weu-general').inputs;
    assert.equal(general.scaleSetPriority, undefined);
    assert.equal(general.scaleSetEvictionPolicy, undefined);
    assert.equal(general.spotMaxPrice, undefined);
    assert.deepEqual([general.enableAutoScaling, general.minCount, general.maxCount], [true, 1, 10]);
    assert.deepEqual(optionsOf(run, POOL, 'staging-weu-general').ignoreChanges, ['count']);
  });

  it('labels and taints pools so that the in-cluster placements select exactly the right ones', () => {
    const spot = resource(run, POOL, 'staging-weu-spot').inputs;
    const general = resource(run, POOL, 'staging-weu-general').inputs;
    assert.equal(spot.nodeLabels['kubernetes.azure.com/scalesetpriority'], 'spot');
    assert.equal(spot.nodeLabels['elasticai.io/capacity-type'], 'spot');
    assert.deepEqual(spot.nodeTaints, ['kubernetes.azure.com/scalesetpriority=spot:NoSchedule']);
    assert.equal(general.nodeLabels['elasticai.io/capacity-type'], 'on-demand');
    assert.deepEqual(general.nodeTaints, []);
    const on = (p: Placement, pool: Record<string, Json>) => schedulable(p, pool.nodeLabels, pool.nodeTaints);
    assert.equal(on(Placement.spotOnly(), spot), true);
    assert.equal(on(Placement.spotOnly(), general), false);
    assert.equal(on(Placement.onDemandOnly(), spot), false);
    assert.equal(on(Placement.onDemandOnly(), general), true);
    assert.equal(on(Placement.spotPreferred(), spot), true);
    assert.equal(on(Placement.spotPreferred(), general), true);
  });

  it('federates KEDA, the runtime and the order worker with the cluster OIDC issuer for exactly their service accounts', () => {
    const issuer = resource(run, MC, 'staging-weu').state.oidcIssuerProfile.issuerURL;
    const subjects = Object.fromEntries(resourcesOf(run, FIC).map((f) => [f.name, f.inputs]));
    assert.deepEqual(Object.keys(subjects).sort(), [
      'staging-weu-keda-federation',
      'staging-weu-runtime-federation',
      'staging-weu-shop-order-worker-federation',
    ]);
    const expected: Record<string, string> = {
      'staging-weu-keda-federation': 'system:serviceaccount:kube-system:keda-operator',
      'staging-weu-runtime-federation': 'system:serviceaccount:elasticai-system:elasticai-runtime',
      'staging-weu-shop-order-worker-federation': 'system:serviceaccount:shop:order-worker',
    };
    for (const [name, fic] of Object.entries(subjects)) {
      assert.equal(fic.subject, expected[name]);
      assert.equal(fic.issuer, issuer);
      assert.deepEqual(fic.audiences, ['api://AzureADTokenExchange']);
      const identity = resource(run, UAI, name.replace(/-federation$/, '-identity'));
      assert.equal(fic.resourceName, identity.state.name);
    }
  });

  it('grants least-privilege roles, each on the one resource it is needed for', () => {
    const amw = resource(
      run,
      'azure-native:monitor:AzureMonitorWorkspace',
      'staging-weu-prometheus-workspace',
    );
    const queue = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-elasticai-messaging-staging/providers/Microsoft.ServiceBus/namespaces/elasticai-staging/queues/orders`;
    const grants = resourcesOf(run, RA).map((r) => r.inputs);
    const principal = (identity: string) => resource(run, UAI, identity).state.principalId;
    const role = (guid: string) =>
      `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
    assert.deepEqual(
      grants.map((g) => [g.principalId, g.roleDefinitionId, g.scope, g.principalType]).sort(),
      [
        [
          principal('staging-weu-runtime-identity'),
          role(BuiltInRole.monitoringDataReader),
          amw.id,
          'ServicePrincipal',
        ],
        [
          principal('staging-weu-keda-identity'),
          role(BuiltInRole.serviceBusDataOwner),
          queue,
          'ServicePrincipal',
        ],
        [
          principal('staging-weu-shop-order-worker-identity'),
          role(BuiltInRole.serviceBusDataReceiver),
          queue,
          'ServicePrincipal',
        ],
      ].sort(),
    );
  });

  it('sends control-plane logs to a workspace kept for the environment retention', () => {
    const ws = resource(run, 'azure-native:operationalinsights:Workspace', 'staging-weu-logs-workspace');
    assert.equal(ws.inputs.retentionInDays, staging?.logRetentionDays);
    const diag = resource(
      run,
      'azure-native:monitor:DiagnosticSetting',
      'staging-weu-logs-diagnostics',
    ).inputs;
    assert.equal(diag.resourceUri, resource(run, MC, 'staging-weu').id);
    assert.equal(diag.workspaceId, ws.id);
    assert.ok(diag.logs.some((l: { category: string }) => l.category === 'cluster-autoscaler'));
  });

  it('wires managed Prometheus: rule to the workspace, rule and endpoint associated with the cluster', () => {
    const amw = resource(
      run,
      'azure-native:monitor:AzureMonitorWorkspace',
      'staging-weu-prometheus-workspace',
    );
    const dce = resource(
      run,
      'azure-native:monitor:DataCollectionEndpoint',
      'staging-weu-prometheus-endpoint',
    );
    const dcr = resource(run, 'azure-native:monitor:DataCollectionRule', 'staging-weu-prometheus-rule');
    assert.equal(dcr.inputs.dataCollectionEndpointId, dce.id);
    assert.deepEqual(dcr.inputs.destinations.monitoringAccounts, [
      { name: 'MonitoringAccount1', accountResourceId: amw.id },
    ]);
    assert.deepEqual(dcr.inputs.dataFlows, [
      { streams: ['Microsoft-PrometheusMetrics'], destinations: ['MonitoringAccount1'] },
    ]);
    const clusterId = resource(run, MC, 'staging-weu').id;
    const rule = resource(
      run,
      'azure-native:monitor:DataCollectionRuleAssociation',
      'staging-weu-prometheus-rule-association',
    ).inputs;
    const endpoint = resource(
      run,
      'azure-native:monitor:DataCollectionRuleAssociation',
      'staging-weu-prometheus-endpoint-association',
    ).inputs;
    assert.deepEqual([rule.resourceUri, rule.dataCollectionRuleId], [clusterId, dcr.id]);
    assert.deepEqual(
      [endpoint.resourceUri, endpoint.associationName, endpoint.dataCollectionEndpointId],
      [clusterId, 'configurationAccessEndpoint', dce.id],
    );
  });

  it('applies exactly the objects the GitOps synth writes, with the created client ids in place of the placeholders', () => {
    // GIVEN the applied groups, in order: the platform (decision runtime) before the tenant
    const groups = resourcesOf(run, CONFIG_GROUP);
    assert.deepEqual(
      groups.map((g) => g.name),
      ['staging-weu-manifests-platform', 'staging-weu-manifests-tenant-shop'],
    );
    const [platform, tenant] = groups.map((g) => g.inputs.objs as Record<string, Json>[]) as [
      Record<string, Json>[],
      Record<string, Json>[],
    ];
    const kedaId = resource(run, UAI, 'staging-weu-keda-identity').state.clientId;
    const workerId = resource(run, UAI, 'staging-weu-shop-order-worker-identity').state.clientId;
    const runtimeId = resource(run, UAI, 'staging-weu-runtime-identity').state.clientId;
    const endpoint = resource(
      run,
      'azure-native:monitor:AzureMonitorWorkspace',
      'staging-weu-prometheus-workspace',
    ).state.metrics.prometheusQueryEndpoint;
    // WHEN building the charts from the table with the real ids (and the workspace's endpoint)
    const bound = bindAzureClientIds(cluster, {
      keda: kedaId,
      workloads: { 'shop/order-worker': workerId },
      runtime: runtimeId,
    });
    const charts = buildClusterCharts(new App(), bound, staging as EnvironmentConfig);
    const fromTable = charts.map((c) =>
      JSON.parse(
        JSON.stringify(synthChart(c)).replaceAll(PLACEHOLDER_AZURE_MONITOR_QUERY_ENDPOINT, endpoint),
      ),
    );
    // THEN the stack applied the same objects...
    assert.deepEqual([platform, tenant], fromTable);
    const auth = tenant.find((o) => o.kind === 'TriggerAuthentication');
    assert.equal(auth?.spec.podIdentity.identityId, kedaId);
    const sa = tenant.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'order-worker');
    assert.equal(sa?.metadata.annotations['azure.workload.identity/client-id'], workerId);
    // ...the runtime runs as its own identity and reads the workspace the stack created...
    const runtimeSa = platform.find(
      (o) => o.kind === 'ServiceAccount' && o.metadata.name === 'elasticai-runtime',
    );
    assert.equal(runtimeSa?.metadata.annotations['azure.workload.identity/client-id'], runtimeId);
    const env = platform.find((o) => o.kind === 'Deployment' && o.metadata.name === 'elasticai-runtime')?.spec
      .template.spec.containers[0].env as { name: string; value?: string }[];
    assert.equal(env.find((e) => e.name === 'ELASTICAI_PROMETHEUS_URL')?.value, endpoint);
    assert.match(endpoint, /^https:\/\/amw-staging-weu-a1b2\.westeurope\.prometheus\.monitor\.azure\.com$/);
    // ...and, with the ids and endpoint put back to the table's placeholders, the committed dist/ files.
    const asDist = (objs: Record<string, Json>[]) =>
      JSON.parse(
        JSON.stringify(objs)
          .replaceAll(workerId, PLACEHOLDER_CLIENT_ID)
          .replaceAll(runtimeId, PLACEHOLDER_CLIENT_ID)
          .replaceAll(endpoint, PLACEHOLDER_AZURE_MONITOR_QUERY_ENDPOINT),
      ) as Record<string, Json>[];
    const tenantAsDist = asDist(tenant);
    delete tenantAsDist.find((o) => o.kind === 'TriggerAuthentication')?.spec.podIdentity.identityId;
    assert.deepEqual(tenantAsDist, Yaml.load(join(REPO_ROOT, 'dist/staging/staging-weu/tenant-shop.yaml')));
    assert.deepEqual(asDist(platform), Yaml.load(join(REPO_ROOT, 'dist/staging/staging-weu/platform.yaml')));
    assert.ok(
      !JSON.stringify([platform, tenant]).includes('e1a57ca1-0000-4000-8000-'),
      'a sentinel client id was left in the objects',
    );
    assert.ok(
      !JSON.stringify(platform).includes(PLACEHOLDER_AZURE_MONITOR_QUERY_ENDPOINT),
      'the placeholder query endpoint was left in the objects',
    );
  });

  it('deploys the decision runtime with KEDA add-on, managed Prometheus and workload identity wiring', () => {
    // GIVEN the applied platform group
    const platform = resourcesOf(run, CONFIG_GROUP)[0]?.inputs.objs as Record<string, Json>[];
    const pod = platform.find((o) => o.kind === 'Deployment' && o.metadata.name === 'elasticai-runtime')?.spec
      .template;
    // THEN the pods carry the label the AKS workload identity webhook selects on
    assert.equal(pod.metadata.labels['azure.workload.identity/use'], 'true');
    assert.equal(
      pod.spec.containers[0].env.find((e: Json) => e.name === 'ELASTICAI_PROMETHEUS_AUTH').value,
      'azure',
    );
    // AND only the AKS KEDA add-on (kube-system) may call the scaler; ama-metrics (kube-system) scrapes
    const policy = platform.find(
      (o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'elasticai-runtime',
    );
    const from = (port: number) =>
      policy?.spec.ingress
        .find((r: Json) => r.ports.some((p: Json) => p.port === port))
        .from.map((f: Json) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name']);
    assert.deepEqual(from(9090), ['kube-system']);
    assert.deepEqual(from(8080), ['kube-system', 'elasticai-system']);
    const monitor = platform.find((o) => o.kind === 'ServiceMonitor');
    assert.equal(monitor?.apiVersion, 'azmonitoring.coreos.com/v1');
    // AND the federated credential names exactly the runtime's ServiceAccount
    const fic = resource(run, FIC, 'staging-weu-runtime-federation').inputs;
    assert.equal(fic.subject, `system:serviceaccount:elasticai-system:${RUNTIME_SERVICE_ACCOUNT}`);
    assert.equal(RUNTIME_SERVICE_ACCOUNT, 'elasticai-runtime');
  });

  it('talks to the cluster through kubelogin with Entra ID tokens, never a static credential', () => {
    const provider = resource(run, 'pulumi:providers:kubernetes', 'staging-weu-manifests-provider').inputs;
    const kubeconfig = JSON.parse(plain<string>(provider.kubeconfig));
    assert.equal(
      kubeconfig.clusters[0].cluster.server,
      'https://staging-weu-abc123.hcp.westeurope.azmk8s.io:443',
    );
    const exec = kubeconfig.users[0].user.exec;
    assert.equal(exec.command, 'kubelogin');
    assert.deepEqual(exec.args.slice(0, 5), [
      'get-token',
      '--login',
      'azurecli',
      '--server-id',
      AKS_AAD_SERVER_ID,
    ]);
    assert.equal(kubeconfig.users[0].user.token, undefined);
    assert.equal(kubeconfig.users[0].user['client-key-data'], undefined);
    const call = run.calls.find(
      (c) => c.token === 'azure-native:containerservice:listManagedClusterUserCredentials',
    );
    assert.equal(call?.inputs.resourceName, 'staging-weu');
  });

  it('exports the cluster and identity ids by cluster name', () => {
    const out =
      run.outputs?.['staging-weu'] ?? (run.outputs as Record<string, Json>)?.clusters?.['staging-weu'];
    assert.ok(out, `no outputs for staging-weu: ${JSON.stringify(run.outputs)}`);
    assert.equal(out.kedaClientId, resource(run, UAI, 'staging-weu-keda-identity').state.clientId);
    assert.equal(out.clusterName, 'staging-weu');
  });
});
