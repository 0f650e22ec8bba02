import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiObject, Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { ClusterChart } from '../../constructs/k8s/cluster-info.js';
import { DecisionRuntime } from '../../constructs/k8s/decision-runtime.js';
import { GitOpsAddons, GitOpsEngine } from '../../constructs/k8s/gitops-addons.js';
import { RuntimeHistory } from '../../constructs/k8s/runtime-history.js';
import { synth, testChart, testCluster } from '../support/chart.js';

const RUNTIME = {
  image: 'ghcr.io/elasticai/elasticai-runtime:0.1.0',
  history: RuntimeHistory.prometheus('http://prometheus-operated.monitoring.svc:9090'),
};

function configMap(scope: Construct, id: string, namespace: string, name: string): ApiObject {
  return new ApiObject(scope, id, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name } });
}

describe('ClusterChart', () => {
  it('finds the nearest ClusterChart, never a plain Chart (cdk8s answers instanceof for every chart)', () => {
    // GIVEN a plain chart, and a construct inside a ClusterChart
    const app = Testing.app();
    const plain = new Chart(app, 'plain');
    const clusterChart = new ClusterChart(app, 'cluster', { cluster: testCluster() });
    // WHEN / THEN only the ClusterChart is one
    assert.equal(plain instanceof ClusterChart, true, 'the pitfall this guards against');
    assert.equal(ClusterChart.isClusterChart(plain), false);
    assert.equal(ClusterChart.find(new Construct(plain, 'inside')), undefined);
    assert.equal(ClusterChart.find(new Construct(clusterChart, 'inside')), clusterChart);
  });

  it('refuses two objects of one identity for a cluster: two runtimes of one name share cluster-wide RBAC', () => {
    // GIVEN two runtimes with the default name, in two namespaces of one cluster
    const chart = testChart();
    new DecisionRuntime(chart, 'a', { ...RUNTIME, namespace: 'ops-a' });
    new DecisionRuntime(chart, 'b', { ...RUNTIME, namespace: 'ops-b' });
    // WHEN / THEN synth names the cluster-scoped objects the second would overwrite, and both paths
    assert.throws(
      () => synth(chart),
      /rbac\.authorization\.k8s\.io\/ClusterRoleBinding elasticai-runtime is defined twice for cluster "test": by test\/a\/.* and by test\/b\//,
    );
  });

  it('compares across the charts of one cluster, and not across clusters', () => {
    // GIVEN the same ConfigMap in a platform chart and a tenant chart of cluster "test"
    const app = Testing.app();
    const platform = new ClusterChart(app, 'platform', { cluster: testCluster() });
    const tenant = new ClusterChart(app, 'tenant', { cluster: testCluster() });
    configMap(platform, 'settings', 'shop', 'settings');
    configMap(tenant, 'settings', 'shop', 'settings');
    // AND the same ConfigMap in a chart of another cluster, and one in another namespace
    const other = new ClusterChart(app, 'other', { cluster: testCluster({ name: 'other' }) });
    configMap(other, 'settings', 'shop', 'settings');
    configMap(tenant, 'elsewhere', 'ops', 'settings');
    // WHEN / THEN the pair in cluster "test" is reported once, by the later chart
    assert.throws(
      () => app.synth(),
      (error: Error) => {
        const lines = error.message.split('\n').filter((l) => l.includes('defined twice'));
        assert.equal(lines.length, 1, error.message);
        assert.match(
          lines[0] ?? '',
          /core\/ConfigMap shop\/settings is defined twice for cluster "test": by platform\/settings and by tenant\/settings/,
        );
        return true;
      },
    );
    // AND with the duplicate gone, the other cluster's copy and the other namespace's are fine
    const clean = Testing.app();
    const a = new ClusterChart(clean, 'platform', { cluster: testCluster() });
    const b = new ClusterChart(clean, 'other', { cluster: testCluster({ name: 'other' }) });
    configMap(a, 'settings', 'shop', 'settings');
    configMap(a, 'elsewhere', 'ops', 'settings');
    configMap(b, 'settings', 'shop', 'settings');
    assert.doesNotThrow(() => clean.synth());
  });

  it('refuses a runtime whose kedaNamespace is not where the same cluster installs KEDA', () => {
    // GIVEN KEDA installed by GitOps in keda-system, in the platform chart of cluster "test"
    const app = Testing.app();
    const platform = new ClusterChart(app, 'platform', { cluster: testCluster() });
    new GitOpsAddons(platform, 'addons', { engine: GitOpsEngine.flux(), keda: { namespace: 'keda-system' } });
    // WHEN a runtime of that cluster (in another chart) keeps the default kedaNamespace 'keda'
    const ops = new ClusterChart(app, 'ops', { cluster: testCluster() });
    new DecisionRuntime(ops, 'runtime', RUNTIME);
    // THEN synth says its NetworkPolicy would shut KEDA out, and what to set
    assert.throws(
      () => app.synth(),
      /DecisionRuntime elasticai-system\/elasticai-runtime: kedaNamespace is "keda", but platform\/addons installs KEDA in "keda-system".*set kedaNamespace: 'keda-system'/,
    );
    // AND with kedaNamespace set to match, or KEDA installed for another cluster, it synthesizes
    const fixed = Testing.app();
    const fixedPlatform = new ClusterChart(fixed, 'platform', { cluster: testCluster() });
    new GitOpsAddons(fixedPlatform, 'addons', {
      engine: GitOpsEngine.flux(),
      keda: { namespace: 'keda-system' },
    });
    new DecisionRuntime(fixedPlatform, 'runtime', { ...RUNTIME, kedaNamespace: 'keda-system' });
    const elsewhere = new ClusterChart(fixed, 'other', { cluster: testCluster({ name: 'other' }) });
    new DecisionRuntime(elsewhere, 'runtime', RUNTIME);
    assert.doesNotThrow(() => fixed.synth());
  });
});
