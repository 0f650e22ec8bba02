// Bad AKS configuration fails before any resource is registered, with a message naming the prop and
// the value; the pure mappings (autoscaler profile, pools, kubeconfig, identity binding) in detail.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration } from 'cdk8s';
import { AksCluster, type AksClusterProps } from '../../constructs/azure/aks-cluster.js';
import {
  aksAutoScalerProfile,
  aksProfileKey,
  sdkPropertyName,
} from '../../constructs/azure/aks-autoscaler-profile.js';
import { AksNodePool } from '../../constructs/azure/aks-node-pool.js';
import { aksPoolSpec, checkSpotMaxPrice } from '../../constructs/azure/aks-pool-spec.js';
import { AksWorkloadIdentity } from '../../constructs/azure/aks-workload-identity.js';
import { roleDefinitionId } from '../../constructs/azure/builtin-roles.js';
import { aksExecKubeconfig } from '../../constructs/azure/kubeconfig.js';
import { Expander } from '../../constructs/k8s/autoscaler-profile.js';
import type { NodePoolInfo } from '../../constructs/k8s/cluster-info.js';
import { KubernetesVersion } from '../../constructs/k8s/kubernetes-version.js';
import {
  bindAzureClientIds,
  PLACEHOLDER_AZURE_MONITOR_QUERY_ENDPOINT,
  PLACEHOLDER_CLIENT_ID,
  runtimeNeedsIdentity,
  workloadIdentityNeeds,
} from '../../stacks/azure-identities.js';
import { replaceSentinels, serviceBusQueueId } from '../../stacks/azure-cluster-stack.js';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import {
  aksManagedPrometheusNames,
  MAX_MONITOR_NAME,
} from '../../constructs/azure/aks-managed-prometheus.js';
import { AKS_USER_KUBECONFIG, resourcesOf, runProgram } from './pulumi-mocks.js';

const SYSTEM: NodePoolInfo = {
  name: 'system',
  role: 'system',
  capacityType: 'on-demand',
  instanceTypes: ['Standard_D4s_v5'],
  minSize: 2,
  maxSize: 3,
};
const SPOT: NodePoolInfo = {
  name: 'spot',
  role: 'user',
  capacityType: 'spot',
  instanceTypes: ['Standard_F4s_v2'],
  minSize: 0,
  maxSize: 10,
};

function clusterProps(pools: NodePoolInfo[], extra: Partial<AksClusterProps> = {}): AksClusterProps {
  return {
    cluster: {
      name: 'test-weu',
      cloud: 'azure',
      kubernetesVersion: KubernetesVersion.V1_34,
      nodePools: pools,
    },
    resourceGroupName: 'rg-test',
    location: 'westeurope',
    ...extra,
  };
}

/** Asserts that building the cluster throws a message containing every fragment. */
function assertRejected(props: AksClusterProps, ...fragments: string[]): void {
  assert.throws(
    () => new AksCluster('test', props),
    (e: Error) => {
      for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" does not mention ${f}`);
      return true;
    },
  );
}

describe('AksCluster refuses bad pools with the prop and value', () => {
  it('min > max', () => {
    assertRejected(
      clusterProps([SYSTEM, { ...SPOT, minSize: 5, maxSize: 3 }]),
      'cluster.nodePools[1].minSize',
      'must not exceed cluster.nodePools[1].maxSize (3)',
      '(got 5)',
    );
  });

  it('spot price below -1, zero, between -1 and 0, too many decimals', () => {
    for (const price of [-2, 0, -0.5]) {
      assertRejected(
        clusterProps([SYSTEM, SPOT], { spotMaxPrice: { spot: price } }),
        'cluster.nodePools[1].spotMaxPrice',
        `(got ${price})`,
      );
    }
    assertRejected(
      clusterProps([SYSTEM, SPOT], { spotMaxPrice: { spot: 0.123456 } }),
      'spotMaxPrice',
      'at most 5 decimal places',
    );
    assert.doesNotThrow(() => checkSpotMaxPrice('p', -1));
    assert.doesNotThrow(() => checkSpotMaxPrice('p', 0.04235));
  });

  it('a spot price for a pool that is not a spot pool', () => {
    assertRejected(
      clusterProps([SYSTEM, SPOT], { spotMaxPrice: { system: 0.1 } }),
      'spotMaxPrice.system',
      'names no spot pool',
    );
  });

  it('unknown VM size format', () => {
    for (const size of ['m7i.large', 'standard_d4s_v5', 'D4s_v5', 'Standard_', 'Standard_D4s v5']) {
      assertRejected(
        clusterProps([SYSTEM, { ...SPOT, instanceTypes: [size] }]),
        'cluster.nodePools[1].instanceTypes[0]',
        JSON.stringify(size),
        'Azure VM size',
      );
    }
    for (const size of [
      'Standard_D4s_v5',
      'Standard_E8-4ds_v5',
      'Standard_NC24ads_A100_v4',
      'Standard_B2ms',
    ]) {
      assert.doesNotThrow(
        () => aksPoolSpec({ ...SPOT, instanceTypes: [size] }, { kubernetesVersion: '1.34' }),
        size,
      );
    }
  });

  it('more than one VM size in a pool', () => {
    assertRejected(
      clusterProps([SYSTEM, { ...SPOT, instanceTypes: ['Standard_F4s_v2', 'Standard_F8s_v2'] }]),
      'instanceTypes',
      'exactly one VM size',
    );
  });

  it('missing system pool, or two', () => {
    assertRejected(
      clusterProps([SPOT]),
      'cluster.nodePools',
      'exactly one pool with role "system"',
      'found 0',
    );
    assertRejected(clusterProps([SYSTEM, { ...SYSTEM, name: 'system2' }, SPOT]), 'found 2');
  });

  it('a spot or mixed system pool, a mixed pool, a system pool that can reach zero', () => {
    assertRejected(
      clusterProps([{ ...SYSTEM, capacityType: 'spot' }]),
      'cluster.nodePools[0].capacityType',
      'system pool',
    );
    assertRejected(
      clusterProps([SYSTEM, { ...SPOT, capacityType: 'mixed' }]),
      'cluster.nodePools[1].capacityType',
      '"mixed"',
    );
    assertRejected(
      clusterProps([{ ...SYSTEM, minSize: 0 }]),
      'cluster.nodePools[0].minSize',
      'between 1 and 1000',
      '(got 0)',
    );
  });

  it('bad pool names, duplicate names, zones, and a table for another cloud', () => {
    assertRejected(
      clusterProps([SYSTEM, { ...SPOT, name: 'Spot-Pool' }]),
      'cluster.nodePools[1].name',
      '"Spot-Pool"',
    );
    assertRejected(clusterProps([SYSTEM, { ...SPOT, name: 'averyverylongname' }]), '1-12 lowercase');
    assertRejected(clusterProps([SYSTEM, SPOT, { ...SPOT }]), 'cluster.nodePools[2].name', 'unique');
    assertRejected(
      clusterProps([SYSTEM, { ...SPOT, zones: ['westeurope-1'] }]),
      'cluster.nodePools[1].zones[0]',
    );
    const aws = clusterProps([SYSTEM]);
    assertRejected({ ...aws, cluster: { ...aws.cluster, cloud: 'aws' } }, 'cluster.cloud', '"aws"');
  });

  it('refuses the capacity labels as extra labels, and a system pool given to AksNodePool', () => {
    assertRejected(
      clusterProps([SYSTEM, { ...SPOT, labels: { 'elasticai.io/capacity-type': 'on-demand' } }]),
      'cluster.nodePools[1].labels',
    );
    assert.throws(
      () =>
        new AksNodePool('p', {
          resourceGroupName: 'rg',
          clusterName: 'c',
          kubernetesVersion: '1.34',
          pool: SYSTEM,
        }),
      /pool\.role: AksNodePool creates user pools/,
    );
  });

  it('refuses bad identity names and namespaces before registering anything', () => {
    const base = {
      resourceGroupName: 'rg',
      location: 'westeurope',
      identityName: 'id-test',
      oidcIssuerUrl: 'https://issuer',
      namespace: 'shop',
      serviceAccount: 'web',
    };
    assert.throws(
      () => new AksWorkloadIdentity('x', { ...base, namespace: 'Shop' }),
      /namespace: .*\(got "Shop"\)/,
    );
    assert.throws(() => new AksWorkloadIdentity('x', { ...base, identityName: 'a' }), /identityName/);
    assert.throws(
      () =>
        new AksWorkloadIdentity('x', {
          ...base,
          roles: [{ role: 'owner' as never, scope: '/subscriptions/s' }],
        }),
      /roles\[0\]\.role: must be one of/,
    );
  });
});

describe('AksCluster registers nothing when any prop is bad', () => {
  it('refuses each bad prop before registering a resource, and bounds the generated monitor names', async () => {
    // GIVEN one bad prop per cluster (and one good cluster with a 54-character name)
    const pool = (extra: Partial<NodePoolInfo>): NodePoolInfo[] => [SYSTEM, { ...SPOT, ...extra }];
    const bad: [Partial<AksClusterProps>, Partial<AksClusterProps['cluster']>, string][] = [
      [{ logRetentionDays: 10 }, {}, 'logRetentionDays: must be between 30 and 730 (got 10)'],
      [{ logRetentionDays: 30, logCategories: ['bogus' as never] }, {}, 'logCategories[0]: must be one of'],
      [{ logCategories: ['guard'] }, {}, 'logCategories: needs logRetentionDays'],
      [{}, { name: 'test_weu' }, 'cluster.name: must be 1-54 letters, digits or "-"'],
      [{}, { name: 'a'.repeat(55) }, 'cluster.name: must be 1-54'],
      [{ location: 'West Europe!!' }, {}, 'location: must be an Azure location name'],
      [{ skuTier: 'Gold' as never }, {}, 'skuTier: must be one of Free, Standard, Premium (got "Gold")'],
      [{ tags: { 'a<b>': 'x' } }, {}, 'tags: must have tag names of 1-512 characters'],
      [{ tags: { 'elasticai.io/environment': 'x' } }, {}, 'tags: must have tag names of 1-512 characters'],
      [{ tags: { owner: 'x'.repeat(257) } }, {}, 'tags.owner: must be a string of at most 256 characters'],
      [
        { defaultZones: ['4'] },
        { nodePools: [{ ...SYSTEM, zones: ['1'] }] },
        'defaultZones[0]: must be an Azure zone',
      ],
      [{ controlPlaneIdentityId: 'nope' }, {}, 'controlPlaneIdentityId: must be the resource id'],
      [{}, { verticalPodAutoscaler: 'yes' as never }, 'cluster.verticalPodAutoscaler: must be true or false'],
      [
        {},
        { nodePools: pool({ labels: { 'bad key!': 'a' } }) },
        'cluster.nodePools[1].labels: is not a valid Kubernetes label key (got "bad key!")',
      ],
      [
        {},
        { nodePools: pool({ taints: [{ key: 'x', value: 'y', effect: 'Never' as never }] }) },
        'cluster.nodePools[1].taints[0].effect: must be one of NoSchedule, PreferNoSchedule, NoExecute (got "Never")',
      ],
      [
        {},
        { nodePools: pool({ taints: [{ key: 'bad key!', effect: 'NoSchedule' }] }) },
        'cluster.nodePools[1].taints[0].key: is not a valid Kubernetes taint key',
      ],
      [
        {},
        {
          nodePools: pool({
            taints: [
              { key: 'x', value: 'a', effect: 'NoSchedule' },
              { key: 'x', value: 'b', effect: 'NoExecute' },
            ],
          }),
        },
        'cluster.nodePools[1].taints[1].key: must not repeat a taint key',
      ],
      [
        {},
        { nodePools: pool({ role: 'admin' as never }) },
        'cluster.nodePools[1].role: must be "system" or "user"',
      ],
    ];
    const errors: string[] = [];
    const longName = 'a'.repeat(54);
    // WHEN each is built in a Pulumi program
    const run = await runProgram(() => {
      bad.forEach(([extra, cluster, _], i) => {
        const base = clusterProps([SYSTEM, SPOT], extra);
        try {
          new AksCluster(`bad${i}`, { ...base, cluster: { ...base.cluster, ...cluster } });
          errors.push('constructed');
        } catch (e) {
          errors.push((e as Error).message);
        }
      });
      const base = clusterProps([SYSTEM, SPOT], { location: 'southafricanorth', logRetentionDays: 30 });
      new AksCluster('long', { ...base, cluster: { ...base.cluster, name: longName } });
    }, 'validation');
    // THEN each names its prop and value, and no resource of a bad cluster was registered
    bad.forEach(([, , fragment], i) => assert.ok(errors[i]?.includes(fragment), `case ${i}: ${errors[i]}`));
    const registered = [...run.resources.map((r) => r.name), ...run.options.map((o) => o.name)];
    assert.deepEqual(
      registered.filter((n) => /^bad\d/.test(n)),
      [],
    );
    // AND the good cluster's monitor names fit Azure's 44-character limit, deterministically
    const names = aksManagedPrometheusNames('southafricanorth', longName);
    const dce = resourcesOf(run, 'azure-native:monitor:DataCollectionEndpoint')[0]?.inputs;
    const amw = resourcesOf(run, 'azure-native:monitor:AzureMonitorWorkspace')[0]?.inputs;
    assert.equal(dce?.dataCollectionEndpointName, names.dataCollection);
    assert.equal(amw?.azureMonitorWorkspaceName, names.workspace);
    assert.ok(names.dataCollection.length <= MAX_MONITOR_NAME && names.workspace.length <= MAX_MONITOR_NAME);
    assert.match(names.dataCollection, /^MSProm-southafricanorth-a+-[0-9a-f]{8}$/);
    assert.notEqual(
      aksManagedPrometheusNames('southafricanorth', `${'a'.repeat(53)}b`).dataCollection,
      names.dataCollection,
    );
    // short names are unchanged
    assert.deepEqual(aksManagedPrometheusNames('westeurope', 'test-weu'), {
      workspace: 'amw-test-weu',
      dataCollection: 'MSProm-westeurope-test-weu',
    });
    const mc = resourcesOf(run, 'azure-native:containerservice:ManagedCluster')[0]?.inputs;
    assert.equal(mc?.dnsPrefix, longName);
    const logs = resourcesOf(run, 'azure-native:operationalinsights:Workspace')[0]?.inputs;
    assert.equal(logs?.workspaceName, `log-${longName}`);
  });
});

describe('aksAutoScalerProfile', () => {
  it('renders overrides in AKS units, with AKS key names that map back to the ARM kebab-case keys', () => {
    const profile = aksAutoScalerProfile({
      scanInterval: Duration.seconds(20),
      scaleDownUnneededTime: Duration.minutes(5),
      scaleDownDelayAfterDelete: Duration.minutes(1),
      balanceSimilarNodeGroups: true,
      expander: Expander.mostPods(),
      maxScaleDownParallelism: 4,
      scaleDownUtilizationThreshold: 0.65,
    });
    assert.equal(profile.scanInterval, '20s');
    assert.equal(profile.scaleDownUnneededTime, '5m');
    assert.equal(profile.scaleDownDelayAfterDelete, '1m');
    assert.equal(profile.balanceSimilarNodeGroups, 'true');
    assert.equal(profile.expander, 'most-pods');
    assert.equal(profile.maxEmptyBulkDelete, '4');
    assert.equal(profile.scaleDownUtilizationThreshold, '0.65');
    assert.equal(aksProfileKey('maxScaleDownParallelism'), 'max-empty-bulk-delete');
    assert.equal(sdkPropertyName('skip-nodes-with-local-storage'), 'skipNodesWithLocalStorage');
    assert.equal(aksProfileKey('scaleDownEnabled'), undefined);
  });

  it('leaves out delay-after-delete at 0s (AKS then uses the scan interval, as upstream does)', () => {
    assert.equal(aksAutoScalerProfile({}).scaleDownDelayAfterDelete, undefined);
  });

  it('refuses what AKS cannot express, naming the field and value', () => {
    assert.throws(
      () => aksAutoScalerProfile({ scaleDownUnneededTime: Duration.seconds(90) }),
      /autoscalerProfile\.scaleDownUnneededTime: must be whole minutes on AKS .*\(got "1m30s"\)/,
    );
    assert.throws(
      () => aksAutoScalerProfile({ expander: Expander.mostPods().then(Expander.leastWaste()) }),
      /autoscalerProfile\.expander: must be a single expander on AKS .*\(got "most-pods,least-waste"\)/,
    );
    assert.throws(
      () => aksAutoScalerProfile({ expander: Expander.priority({ 10: ['.*spot.*'] }) }),
      /autoscalerProfile\.expander: the priority expander/,
    );
    assert.throws(
      () => aksAutoScalerProfile({ scaleDownEnabled: false }),
      /autoscalerProfile\.scaleDownEnabled: is not exposed by AKS.*\(got false\)/,
    );
    assert.throws(
      () => aksAutoScalerProfile({ expendablePodsPriorityCutoff: -20 }),
      /expendablePodsPriorityCutoff.*\(got -20\)/,
    );
    assert.throws(
      () => aksAutoScalerProfile({ scaleDownUtilizationThreshold: 1.5 }),
      /autoscalerProfile\.scaleDownUtilizationThreshold/,
    );
  });
});

describe('aksExecKubeconfig', () => {
  it('keeps the server and CA of the AKS credentials and authenticates with kubelogin non-interactively', () => {
    const config = JSON.parse(
      aksExecKubeconfig(AKS_USER_KUBECONFIG, {
        clusterName: 'c',
        loginMode: 'workloadidentity',
        tenantId: 't',
      }),
    );
    assert.equal(
      config.clusters[0].cluster.server,
      'https://staging-weu-abc123.hcp.westeurope.azmk8s.io:443',
    );
    assert.equal(config.clusters[0].cluster['certificate-authority-data'], 'TU9DSy1DQQ==');
    const exec = config.users[0].user.exec;
    assert.deepEqual(exec.args, [
      'get-token',
      '--login',
      'workloadidentity',
      '--server-id',
      '6dae42f8-4368-4678-94ff-3960e28e3630',
      '--environment',
      'AzurePublicCloud',
      '--tenant-id',
      't',
    ]);
    assert.equal(exec.interactiveMode, 'Never');
    assert.equal(config['current-context'], 'c');
  });

  it('refuses an unknown login mode and a kubeconfig it cannot read', () => {
    assert.throws(
      () => aksExecKubeconfig(AKS_USER_KUBECONFIG, { clusterName: 'c', loginMode: 'devicecode' as never }),
      /kubeloginMode: must be one of .*\(got "devicecode"\)/,
    );
    assert.throws(
      () => aksExecKubeconfig('apiVersion: v1\n', { clusterName: 'c', loginMode: 'azurecli' }),
      /exactly one "server"/,
    );
  });
});

describe('identity binding of the table', () => {
  const cluster = ENVIRONMENTS.find((e) => e.name === 'prod')?.clusters.find((c) => c.cloud === 'azure');
  if (!cluster) throw new Error('prod has no AKS cluster');

  it('finds the workloads whose Azure identity the stack creates', () => {
    assert.deepEqual(workloadIdentityNeeds(cluster), [
      {
        key: 'shop/order-worker',
        tenant: 'shop',
        workload: 'order-worker',
        namespace: 'shop',
        serviceAccount: 'order-worker',
      },
    ]);
  });

  it('writes the client ids into workload identities and KEDA pod identities, keeping everything else', () => {
    const keda = '11111111-1111-4111-8111-111111111111';
    const worker = '22222222-2222-4222-8222-222222222222';
    const runtime = '33333333-3333-4333-8333-333333333333';
    const bound = bindAzureClientIds(cluster, { keda, workloads: { 'shop/order-worker': worker }, runtime });
    const tenant = bound.tenants[0];
    assert.equal(tenant?.triggerAuthentications?.[0]?.podIdentity?.render().identityId, keda);
    const w = tenant?.workloads.find((x) => x.name === 'order-worker');
    assert.equal(w?.identity?.serviceAccountAnnotations['azure.workload.identity/client-id'], worker);
    assert.equal(
      tenant?.workloads.find((x) => x.name === 'web'),
      cluster.tenants[0]?.workloads.find((x) => x.name === 'web'),
    );
    assert.throws(() => bindAzureClientIds(cluster, { keda, workloads: {}, runtime }), /shop\/order-worker/);
  });

  it("writes the runtime identity's client id into the runtime, which the table leaves as the placeholder", () => {
    // GIVEN the table's runtime: placeholder client id, placeholder workspace endpoint
    assert.equal(runtimeNeedsIdentity(cluster), true);
    assert.equal(
      cluster.runtime?.identity?.serviceAccountAnnotations['azure.workload.identity/client-id'],
      PLACEHOLDER_CLIENT_ID,
    );
    assert.equal(cluster.runtime?.history.url, PLACEHOLDER_AZURE_MONITOR_QUERY_ENDPOINT);
    // WHEN bound
    const runtime = '33333333-3333-4333-8333-333333333333';
    const bound = bindAzureClientIds(cluster, {
      keda: '11111111-1111-4111-8111-111111111111',
      workloads: { 'shop/order-worker': '22222222-2222-4222-8222-222222222222' },
      runtime,
    });
    // THEN the runtime's ServiceAccount names its identity and its pods get the webhook's label
    assert.deepEqual(bound.runtime?.identity?.serviceAccountAnnotations, {
      'azure.workload.identity/client-id': runtime,
    });
    assert.deepEqual(bound.runtime?.identity?.podLabels, { 'azure.workload.identity/use': 'true' });
    assert.equal(bound.runtime?.image, cluster.runtime?.image);
    assert.throws(
      () => bindAzureClientIds(cluster, { keda: runtime, workloads: { 'shop/order-worker': runtime } }),
      /no client id given for the decision runtime of prod-weu/,
    );
  });

  it('replaces sentinel strings anywhere in an object and nothing else', () => {
    const out = replaceSentinels({ a: ['s1', { b: 's1x', c: 's1' }], d: 3 }, new Map([['s1', 'real']]));
    assert.deepEqual(out, { a: ['real', { b: 's1x', c: 'real' }], d: 3 });
  });

  it('builds role scopes and role definition ids in the subscription of the scope', () => {
    const sub = '/subscriptions/abc/resourceGroups/rg-x';
    assert.equal(
      serviceBusQueueId(sub, { resourceGroupName: 'rg-m', namespace: 'ns', queue: 'q' }),
      '/subscriptions/abc/resourceGroups/rg-m/providers/Microsoft.ServiceBus/namespaces/ns/queues/q',
    );
    assert.equal(
      roleDefinitionId(`${sub}/providers/Microsoft.Monitor/accounts/a`, 'monitoringDataReader'),
      '/subscriptions/abc/providers/Microsoft.Authorization/roleDefinitions/b0d8363b-8ddd-447d-831f-62ca05bff136',
    );
    assert.throws(() => roleDefinitionId('rg-x', 'monitoringDataReader'), /scope/);
  });
});
