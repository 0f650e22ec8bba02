// The Pulumi program carries the decision runtime's alerts into the AKS cluster's Azure Monitor
// workspace: one Prometheus rule group per alert group, scoped to the workspace and filtered to the
// cluster, with the rules of the chart builder. Run against mocks (process-global: one run per file).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { App } from 'cdk8s';
import { runAzureProgram } from '../../stacks/azure-program.js';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import type { ClusterConfig, EnvironmentConfig } from '../../stacks/environment-types.js';
import { buildClusterCharts, runtimeAlertsOf } from '../../stacks/synth-environment.js';
import { type ProgramRun, resource, resourcesOf, runProgram } from '../azure/pulumi-mocks.js';
import type { Json } from '../support/chart.js';

const RULE_GROUP = 'azure-native:alertsmanagement:PrometheusRuleGroup';
const staging = ENVIRONMENTS.find((e) => e.name === 'staging') as EnvironmentConfig;
const cluster = staging.clusters.find((c) => c.cloud === 'azure') as ClusterConfig;

/** The Azure rule groups the chart builder makes for the cluster's runtime. */
function expectedGroups() {
  const app = new App();
  buildClusterCharts(app, cluster, staging);
  const alerts = runtimeAlertsOf(app);
  assert.ok(alerts, 'no alerts');
  assert.equal(alerts.delivery.kind, 'azure-monitor-workspace');
  return alerts.azureRuleGroups();
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

describe('AKS program: runtime alerts in Azure Monitor managed Prometheus', () => {
  it("creates one rule group per alert group, scoped to the cluster's workspace and filtered to the cluster", () => {
    // GIVEN the cluster's workspace, resource group and the chart builder's groups
    const amw = resource(
      run,
      'azure-native:monitor:AzureMonitorWorkspace',
      'staging-weu-prometheus-workspace',
    );
    const rg = resource(run, 'azure-native:resources:ResourceGroup', 'staging-weu-rg');
    const expected = expectedGroups();
    // THEN one rule group each, named after group and cluster
    const groups = resourcesOf(run, RULE_GROUP);
    assert.deepEqual(groups.map((g) => g.name).sort(), expected.map((g) => `staging-weu-${g.name}`).sort());
    assert.deepEqual(
      expected.map((g) => g.name),
      ['elasticai-runtime', 'elasticai-scale-to-zero'],
      'no cluster-autoscaler or spot alerts on AKS',
    );
    for (const g of expected) {
      const inputs = resource(run, RULE_GROUP, `staging-weu-${g.name}`).inputs;
      assert.equal(inputs.ruleGroupName, `${g.name}-staging-weu`);
      assert.equal(inputs.resourceGroupName, rg.state.name);
      assert.equal(inputs.location, 'westeurope');
      // Azure takes exactly one scope, the workspace; `clusterName` filters on ama-metrics' cluster label.
      assert.deepEqual(inputs.scopes, [amw.id]);
      assert.equal(inputs.clusterName, 'staging-weu');
      assert.equal(inputs.enabled, true);
      assert.equal(inputs.interval, 'PT1M');
      assert.deepEqual(inputs.tags, {
        'elasticai-environment': 'staging',
        'elasticai-cluster': 'staging-weu',
      });
      // AND the rules are the chart builder's, as written
      assert.deepEqual(inputs.rules, JSON.parse(JSON.stringify(g.rules)));
    }
  });

  it("writes only fields the SDK's PrometheusRule and resolve configuration declare, with Azure severities", () => {
    const ruleFields = sdkInterfaceProperties('PrometheusRuleArgs');
    const resolveFields = sdkInterfaceProperties('PrometheusRuleResolveConfigurationArgs');
    const rules = resourcesOf(run, RULE_GROUP).flatMap((g) => g.inputs.rules as Json[]);
    assert.ok(rules.length >= 5);
    for (const r of rules) {
      for (const key of Object.keys(r)) assert.ok(ruleFields.has(key), `${r.alert}: ${key}`);
      for (const key of Object.keys(r.resolveConfiguration)) assert.ok(resolveFields.has(key), key);
      assert.ok(Number.isInteger(r.severity) && r.severity >= 0 && r.severity <= 4, r.alert);
      assert.match(r.for, /^PT(\d+[HMS])+$|^PT0S$/, r.alert);
      assert.equal(r.labels.severity === 'critical', r.severity === 0, r.alert);
    }
    assert.equal(rules.find((r) => r.alert === 'ElasticAIRuntimeDown')?.severity, 0);
  });

  it('exports the rule group ids by group name', () => {
    const out = run.outputs?.['staging-weu'];
    assert.ok(out, `no outputs: ${JSON.stringify(run.outputs)}`);
    assert.deepEqual(Object.keys(out.alertRuleGroupIds).sort(), [
      'elasticai-runtime',
      'elasticai-scale-to-zero',
    ]);
    assert.equal(
      out.alertRuleGroupIds['elasticai-runtime'],
      resource(run, RULE_GROUP, 'staging-weu-elasticai-runtime').id,
    );
  });
});
