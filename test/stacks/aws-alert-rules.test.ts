// The EKS stacks carry the decision runtime's alerts into its Amazon Managed Prometheus workspace: one
// rule groups namespace per cluster whose runtime reads AMP, holding the same rules as the chart builder.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { App as Cdk8sApp } from 'cdk8s';
import { AwsClusterStack } from '../../stacks/aws-environment-stack.js';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import type { ClusterConfig, EnvironmentConfig } from '../../stacks/environment-types.js';
import { buildClusterCharts, runtimeAlertsOf } from '../../stacks/synth-environment.js';
import { testApp, type Json } from '../aws/support.js';
import { checkRulesFile } from '../k8s/promtool.js';

const RULE_GROUPS_NAMESPACE = 'AWS::APS::RuleGroupsNamespace';

/** The env and cluster of the table named `name`. */
function tableCluster(name: string): { env: EnvironmentConfig; cluster: ClusterConfig } {
  for (const env of ENVIRONMENTS) {
    const cluster = env.clusters.find((c) => c.name === name);
    if (cluster) return { env, cluster };
  }
  throw new Error(`no cluster ${name}`);
}

// GIVEN each EKS cluster's stack, built once (no asset staging, no CloudFormation validation)
const app = testApp();
const stacks = ['dev-use1', 'staging-use1', 'prod-use1'].map((name) => {
  const { env, cluster } = tableCluster(name);
  return [name, new AwsClusterStack(app, `elasticai-${name}`, { environment: env, cluster })] as const;
});
const templates = new Map(stacks.map(([name, stack]) => [name, Template.fromStack(stack)]));

/** The rules the chart builder makes for the cluster's runtime. */
function expectedRules(name: string): string {
  const { env, cluster } = tableCluster(name);
  const k8sApp = new Cdk8sApp();
  buildClusterCharts(k8sApp, cluster, env);
  const alerts = runtimeAlertsOf(k8sApp);
  assert.ok(alerts, `${name}: no alerts`);
  assert.equal(alerts.delivery.kind, 'amazon-managed-prometheus');
  return alerts.rulesFile();
}

describe('EKS stacks: runtime alerts in Amazon Managed Prometheus', () => {
  for (const name of ['staging-use1', 'prod-use1']) {
    it(`${name}: one rule groups namespace in the workspace the runtime reads, with the chart builder's rules`, async () => {
      // GIVEN the stack's template and the table's workspace
      const t = templates.get(name) as Template;
      const { cluster } = tableCluster(name);
      const workspace = cluster.aws?.runtime?.prometheusWorkspaceArn;
      assert.match(workspace ?? '', /^arn:aws:aps:us-east-1:\d{12}:workspace\/ws-/);
      // THEN exactly one namespace, named after the cluster, in that workspace
      t.resourceCountIs(RULE_GROUPS_NAMESPACE, 1);
      t.hasResourceProperties(RULE_GROUPS_NAMESPACE, { Name: `elasticai-${name}`, Workspace: workspace });
      // AND its data is the runtime alerts' rules file, as written (a plain string, no tokens)
      const ns = Object.values(t.findResources(RULE_GROUPS_NAMESPACE))[0] as Json;
      const data = ns.Properties.Data as string;
      assert.equal(typeof data, 'string');
      assert.equal(data, expectedRules(name));
      const groups = JSON.parse(data).groups as Json[];
      assert.deepEqual(
        groups.map((g) => g.name),
        ['elasticai-runtime', 'elasticai-scale-to-zero', 'elasticai-capacity'],
      );
      // AND Prometheus' own checker accepts it as AMP will read it
      const result = await checkRulesFile(data);
      assert.equal(result.code, 0, result.output);
    });
  }

  it('dev-use1: no rule groups namespace (its in-cluster Prometheus loads the PrometheusRule from dist/)', () => {
    templates.get('dev-use1')?.resourceCountIs(RULE_GROUPS_NAMESPACE, 0);
  });
});
