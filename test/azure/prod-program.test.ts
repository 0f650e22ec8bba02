// The Pulumi program for prod (selected by the stack config, not the stack name), and dev, which has
// no AKS cluster and must fail clearly instead of planning an empty stack.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { runAzureProgram, selectEnvironment } from '../../stacks/azure-program.js';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import type { ClusterConfig } from '../../stacks/environment-types.js';
import { optionsOf, type ProgramRun, resource, resourcesOf, runProgram } from './pulumi-mocks.js';

const prod = selectEnvironment('prod');

describe('stack selection', () => {
  it('dev has no AKS cluster: the program fails before registering anything, saying why', () => {
    pulumi.runtime.setAllConfig({ 'elasticai:environment': 'dev' });
    assert.throws(
      () => runAzureProgram(),
      /environment "dev" has no AKS cluster .*dev-use1 \(aws\).*cdk deploy/,
    );
  });

  it('an unknown environment or kubelogin mode names the config key and the known values', () => {
    pulumi.runtime.setAllConfig({ 'elasticai:environment': 'qa' });
    assert.throws(
      () => runAzureProgram(),
      /elasticai:environment: unknown environment "qa"; known: dev, staging, prod/,
    );
    pulumi.runtime.setAllConfig({ 'elasticai:environment': 'prod', 'elasticai:kubeloginMode': 'devicecode' });
    assert.throws(
      () => runAzureProgram(),
      /elasticai:kubeloginMode: must be one of azurecli, workloadidentity, spn, msi \(got "devicecode"\)/,
    );
  });

  it('a table whose KEDA trigger reads a Service Bus queue the cluster grants nothing on is refused', () => {
    const broken = ENVIRONMENTS.map((env) => ({
      ...env,
      clusters: env.clusters.map((c) =>
        c.cloud === 'azure' ? { ...c, azure: { ...c.azure, serviceBusQueues: [] } } : c,
      ),
    }));
    pulumi.runtime.setAllConfig({ 'elasticai:environment': 'prod' });
    assert.throws(
      () => runAzureProgram(broken),
      /prod-weu\.azure\.serviceBusQueues: must list the queue elasticai-prod\/orders that ScaledObject shop\/order-worker scales on/,
    );
  });
});

describe('decision runtime of an AKS cluster', () => {
  const withAks = (change: (c: ClusterConfig) => ClusterConfig) =>
    ENVIRONMENTS.map((env) => ({
      ...env,
      clusters: env.clusters.map((c) => (c.cloud === 'azure' ? change(c) : c)),
    }));

  it('is refused when it reads the managed workspace of a cluster without managed Prometheus', () => {
    // GIVEN prod with managed Prometheus turned off WHEN run THEN the field is named before anything registers
    const broken = withAks((c) => ({ ...c, azure: { ...c.azure, managedPrometheus: false } }));
    pulumi.runtime.setAllConfig({ 'elasticai:environment': 'prod' });
    assert.throws(
      () => runAzureProgram(broken),
      /prod-weu\.runtime\.history: is the placeholder of the managed Prometheus workspace, but azure\.managedPrometheus is false/,
    );
  });

  it('is refused when it would query Azure Monitor without a workload identity', () => {
    const broken = withAks((c) => ({
      ...c,
      runtime: { ...(c.runtime as NonNullable<ClusterConfig['runtime']>), identity: undefined },
    }));
    pulumi.runtime.setAllConfig({ 'elasticai:environment': 'prod' });
    assert.throws(
      () => runAzureProgram(broken),
      /prod-weu\.runtime\.identity: must be WorkloadIdentity\.azureWorkload\(\.\.\.\) to query an Azure Monitor workspace/,
    );
  });
});

describe('prod AKS cluster', () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(() => runAzureProgram(), 'production-eu', { 'elasticai:environment': 'prod' });
  });

  it('sizes the pools from the prod row of the table', () => {
    const mc = resource(run, 'azure-native:containerservice:ManagedCluster', 'prod-weu').inputs;
    assert.equal(mc.resourceName, 'prod-weu');
    assert.equal(
      resource(run, 'azure-native:resources:ResourceGroup', 'prod-weu-rg').inputs.resourceGroupName,
      'rg-elasticai-prod-weu',
    );
    const spot = resource(run, 'azure-native:containerservice:AgentPool', 'prod-weu-spot').inputs;
    const general = resource(run, 'azure-native:containerservice:AgentPool', 'prod-weu-general').inputs;
    assert.deepEqual([spot.minCount, spot.maxCount, general.minCount, general.maxCount], [0, 80, 1, 60]);
    assert.equal(resourcesOf(run, 'azure-native:containerservice:ManagedCluster').length, 1);
  });

  it('keeps control-plane logs for the prod retention', () => {
    const ws = resource(run, 'azure-native:operationalinsights:Workspace', 'prod-weu-logs-workspace');
    assert.equal(ws.inputs.retentionInDays, prod.logRetentionDays);
    assert.equal(ws.inputs.retentionInDays, 90);
  });

  it('applies the platform chart (headroom, decision runtime) before the tenant chart, through the cluster provider', () => {
    const groups = resourcesOf(run, 'kubernetes:yaml/v2:ConfigGroup');
    assert.deepEqual(
      groups.map((g) => g.name),
      ['prod-weu-manifests-platform', 'prod-weu-manifests-tenant-shop'],
    );
    const platform = groups[0]?.inputs.objs as { kind: string; metadata: { name: string } }[];
    assert.ok(
      platform.some((o) => o.kind === 'Deployment' && o.metadata.name === 'headroom'),
      JSON.stringify(platform.map((o) => `${o.kind}/${o.metadata.name}`)),
    );
    assert.equal(
      platform.filter((o) => o.kind === 'Namespace' && o.metadata.name === 'elasticai-system').length,
      1,
    );
    assert.ok(platform.some((o) => o.kind === 'Deployment' && o.metadata.name === 'elasticai-runtime'));
    const tenantOptions = optionsOf(run, 'kubernetes:yaml/v2:ConfigGroup', 'prod-weu-manifests-tenant-shop');
    assert.equal(tenantOptions.parentType, 'elasticai:azure:AksManifests');
    assert.deepEqual(tenantOptions.dependsOn, ['prod-weu-manifests-platform']);
    // The whole install waits for the cluster and the identities' federated credentials.
    assert.deepEqual(
      [...optionsOf(run, 'elasticai:azure:AksManifests', 'prod-weu-manifests').dependsOn].sort(),
      ['prod-weu', 'prod-weu-keda', 'prod-weu-runtime', 'prod-weu-shop-order-worker'],
    );
  });
});
