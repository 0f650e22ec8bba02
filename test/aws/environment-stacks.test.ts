// `cdk synth` of the real app (every EKS cluster of the environment table) through the pinned CDK
// CLI, offline: sockets and DNS throw in the CLI and the app. cdk-nag (AwsSolutions) runs in the app.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { awsWorkloadRoleName } from '../../constructs/aws/workload-role-names.js';
import { ADDON_CHARTS } from '../../constructs/k8s/gitops-addons.js';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import { synthEnvironment } from '../../stacks/synth-environment.js';
import { cdkSynthOffline } from '../support/cdk-synth.js';
import { readViolations, type Json } from './support.js';

// GIVEN the CDK app run once by `cdk synth`, with no AWS account configured and no network
const out = mkdtempSync(join(tmpdir(), 'elasticai-cdk-'));
cdkSynthOffline(out);
const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
const template = (cluster: string): Template =>
  Template.fromJSON(JSON.parse(readFileSync(join(out, `elasticai-${cluster}.template.json`), 'utf8')));
const eksClusters = ENVIRONMENTS.flatMap((e) =>
  e.clusters.filter((c) => c.cloud === 'aws').map((c) => ({ env: e, cluster: c })),
);

/** Manifests applied by the kubectl handler, as text with tokens rendered as JSON. */
function manifests(t: Template): string[] {
  return Object.values(t.findResources('Custom::AWSCDK-EKS-KubernetesResource')).map((r: Json) =>
    JSON.stringify(r.Properties.Manifest),
  );
}

describe('CDK app: one stack per EKS cluster', () => {
  it('synthesizes every EKS cluster of the table, offline, with nothing left to look up', () => {
    const stacks = Object.entries(manifest.artifacts as Record<string, Json>)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([id]) => id)
      .sort();
    assert.deepEqual(stacks, eksClusters.map(({ cluster }) => `elasticai-${cluster.name}`).sort());
    assert.equal(manifest.missing, undefined, 'no context lookups');
    for (const { cluster } of eksClusters) {
      const a = manifest.artifacts[`elasticai-${cluster.name}`];
      // The table's account (its GitOps manifests name roles in it), else environment-agnostic.
      assert.equal(a.environment, `aws://${cluster.aws?.account ?? 'unknown-account'}/${cluster.region}`);
    }
    assert.equal(manifest.artifacts['elasticai-prod-use1'].properties.terminationProtection, true);
  });

  it('has zero unacknowledged cdk-nag findings (and no other validation findings)', () => {
    assert.deepEqual(readViolations(out), []);
  });

  it('builds each cluster at its table version with its own mixed on-demand/spot split', () => {
    for (const { env: e, cluster } of eksClusters) {
      const t = template(cluster.name);
      const c = Object.values(t.findResources('AWS::EKS::Cluster'))[0] as Json;
      assert.equal(c.Properties.Version, cluster.kubernetesVersion.version);
      assert.equal(c.Properties.Name, cluster.name);
      t.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: `/aws/eks/${cluster.name}/cluster`,
        RetentionInDays: e.logRetentionDays,
      });
      const general = cluster.nodePools.find((p) => p.capacityType === 'mixed');
      const asg = Object.values(t.findResources('AWS::AutoScaling::AutoScalingGroup'))[0] as Json;
      assert.deepEqual(asg.Properties.MixedInstancesPolicy.InstancesDistribution, {
        OnDemandAllocationStrategy: 'prioritized',
        OnDemandBaseCapacity: general?.mixed?.onDemandBase,
        OnDemandPercentageAboveBaseCapacity: general?.mixed?.onDemandPercentageAboveBase,
        SpotAllocationStrategy: 'price-capacity-optimized',
      });
      assert.equal(asg.Properties.MaxSize, String(general?.maxSize));
      const groups = Object.values(t.findResources('AWS::EKS::Nodegroup')).map(
        (g: Json) => g.Properties.CapacityType,
      );
      assert.deepEqual(groups.sort(), ['ON_DEMAND', 'SPOT']);
    }
  });

  it('installs KEDA and metrics-server from pinned Helm charts where no GitOps engine does', () => {
    for (const { cluster } of eksClusters) {
      const charts = Object.values(template(cluster.name).findResources('Custom::AWSCDK-EKS-HelmChart')).map(
        (r: Json) => `${r.Properties.Chart}@${r.Properties.Version}`,
      );
      assert.deepEqual(
        charts.sort(),
        cluster.gitopsAddons
          ? []
          : [`keda@${ADDON_CHARTS.keda.version}`, `metrics-server@${ADDON_CHARTS.metricsServer.version}`],
      );
    }
    assert.match(ADDON_CHARTS.keda.version, /^2\.20\.\d+$/);
  });

  it('embeds the shared charts (cluster-autoscaler bound to its IRSA role) after KEDA, plus the termination handler', () => {
    // GIVEN prod (no GitOps engine)
    const t = template('prod-use1');
    const texts = manifests(t);
    const caRole = Object.keys(t.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('ClusterAutoscalerRole'),
    );
    // the ServiceAccount annotation's value is the deploy-time ARN of this stack's autoscaler role
    const annotation = `role-arn\\":\\"",{"Fn::GetAtt":["${caRole}","Arn"]}`;
    const platform = texts.filter((m) => m.includes('cluster-autoscaler-status'));
    assert.equal(platform.length, 1, 'platform chart applied once');
    assert.ok(platform[0]?.includes(annotation), annotation);
    assert.ok(
      texts.some((m) => m.includes('order-worker')),
      'tenant chart applied',
    );
    assert.ok(
      texts.some((m) => m.includes('ENABLE_SQS_TERMINATION_DRAINING')),
      'termination handler applied',
    );
    const resources = t.toJSON().Resources as Record<string, Json>;
    const kedaId = Object.keys(t.findResources('Custom::AWSCDK-EKS-HelmChart')).find((id) =>
      id.includes('Keda'),
    );
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type === 'Custom::AWSCDK-EKS-KubernetesResource')
        assert.ok(r.DependsOn.includes(kedaId), `${id} after KEDA`);
    }
  });

  it('applies only the termination handler where GitOps delivers the charts, and outputs the role ARNs', () => {
    for (const name of ['dev-use1', 'staging-use1']) {
      const t = template(name);
      const texts = manifests(t);
      assert.equal(texts.length, 1);
      assert.match(texts[0] as string, /ENABLE_SQS_TERMINATION_DRAINING/);
      const outputs = Object.keys(t.toJSON().Outputs);
      for (const o of [
        'ClusterAutoscalerRoleArn',
        'KedaOperatorRoleArn',
        'DecisionRuntimeRoleArn',
        'InterruptionQueueUrl',
      ]) {
        assert.ok(outputs.includes(o), `${name} outputs ${o}`);
      }
    }
  });

  it("runs the termination handler's metrics server on every EKS cluster, open only to the scraper, and applies no monitor", () => {
    for (const { cluster } of eksClusters) {
      // GIVEN the objects the stack applies with kubectl
      const texts = manifests(template(cluster.name));
      const nth = texts.filter((m) => m.includes('ENABLE_SQS_TERMINATION_DRAINING'));
      assert.equal(nth.length, 1, cluster.name);
      const handler = nth[0] as string;
      // THEN its Prometheus server is on at 9092 (the spot alert's drain counter)
      assert.match(handler, /\\"name\\":\\"ENABLE_PROMETHEUS_SERVER\\",\\"value\\":\\"true\\"/);
      assert.match(handler, /\\"name\\":\\"PROMETHEUS_SERVER_PORT\\",\\"value\\":\\"9092\\"/);
      // AND its NetworkPolicy lets the `monitoring` namespace in on 9092 and nothing else
      assert.match(
        handler,
        /\\"kind\\":\\"NetworkPolicy\\".*\\"kubernetes\.io\/metadata\.name\\":\\"monitoring\\".*\\"port\\":9092/,
      );
      // AND no ServiceMonitor or PodMonitor is applied by the stack (a CRD missing on a new cluster
      // would fail the deploy): dev's come from dist/, AMP's agent reads none
      for (const m of texts) assert.doesNotMatch(m, /\\"kind\\":\\"(Service|Pod)Monitor\\"/, cluster.name);
    }
  });

  it("exposes KEDA's operator metrics on its Service where the stack installs the chart", () => {
    const t = template('prod-use1');
    const keda = Object.values(t.findResources('Custom::AWSCDK-EKS-HelmChart')).find(
      (r: Json) => r.Properties.Chart === 'keda',
    ) as Json;
    // (the values are a Fn::Join around the IRSA role's ARN: read as text)
    assert.ok(
      JSON.stringify(keda.Properties.Values).includes(
        '\\"prometheus\\":{\\"operator\\":{\\"enabled\\":true}}',
      ),
      JSON.stringify(keda.Properties.Values),
    );
    // AND the platform chart applied after it holds the operator's NetworkPolicy in `keda`
    assert.ok(manifests(t).some((m) => m.includes('elasticai-keda-operator')));
  });

  it("creates every cluster's decision-runtime role under the name its manifests use, reading only its workspace", () => {
    for (const { env: e, cluster } of eksClusters) {
      // GIVEN the stack's runtime role
      const t = template(cluster.name);
      const [id, role] = Object.entries(t.findResources('AWS::IAM::Role')).find(([rid]) =>
        rid.startsWith('DecisionRuntimeRole'),
      ) as [string, Json];
      // THEN its fixed name is the one the GitOps manifests annotate (dev, staging)
      assert.equal(role.Properties.RoleName, awsWorkloadRoleName(cluster.name, 'decision-runtime'));
      if (cluster.gitopsAddons) {
        const sa = synthEnvironment(e)
          .flatMap((f) => [...f.objects])
          .find((o) => o.kind === 'ServiceAccount' && o.metadata?.name === 'elasticai-runtime') as Json;
        assert.equal(
          sa.metadata.annotations['eks.amazonaws.com/role-arn'],
          `arn:aws:iam::${cluster.aws?.account}:role/${role.Properties.RoleName}`,
        );
      }
      // AND it may query the table's AMP workspace, if any, and nothing else
      const policy = Object.values(t.findResources('AWS::IAM::Policy')).find((p: Json) =>
        p.Properties.Roles.some((r: Json) => r.Ref === id),
      ) as Json | undefined;
      const workspace = cluster.aws?.runtime?.prometheusWorkspaceArn;
      assert.deepEqual(
        policy?.Properties.PolicyDocument.Statement.map((s: Json) => s.Resource),
        workspace ? [workspace] : undefined,
        cluster.name,
      );
    }
  });

  it('builds the runtime image from runtime/ for prod (whose charts CDK applies), staging sources only', () => {
    // GIVEN prod's asset manifest in the assembly
    const assets = JSON.parse(readFileSync(join(out, 'elasticai-prod-use1.assets.json'), 'utf8'));
    const images = Object.entries(assets.dockerImages) as [string, Json][];
    assert.equal(images.length, 1);
    const [hash, image] = images[0] as [string, Json];
    const staged = join(out, image.source.directory);
    // THEN the build context holds the Dockerfile and sources, never dependencies or build output
    const top = readdirSync(staged).sort();
    for (const f of ['Dockerfile', 'package.json', 'service']) assert.ok(top.includes(f), f);
    for (const f of ['node_modules', 'build']) assert.ok(!top.includes(f), f);
    // AND the applied runtime Deployment runs that image
    const runtime = manifests(template('prod-use1')).filter((m) => m.includes('ELASTICAI_PROMETHEUS_URL'));
    assert.equal(runtime.length, 1);
    assert.ok(runtime[0]?.includes(`:${hash}`), 'the runtime runs the staged image');
    // AND GitOps clusters stage no image: their runtime comes from the registry, via dist/
    for (const name of ['dev-use1', 'staging-use1']) {
      const a = JSON.parse(readFileSync(join(out, `elasticai-${name}.assets.json`), 'utf8'));
      assert.deepEqual(Object.keys(a.dockerImages ?? {}), [], name);
    }
  });

  it('gives KEDA exactly the table triggers permissions', () => {
    const t = template('prod-use1');
    const kedaRole = Object.keys(t.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('KedaOperatorRole'),
    );
    const policy = Object.values(t.findResources('AWS::IAM::Policy')).find((p: Json) =>
      p.Properties.Roles.some((r: Json) => r.Ref === kedaRole),
    ) as Json;
    assert.deepEqual(policy.Properties.PolicyDocument.Statement, [
      {
        Sid: 'AssumeWorkloadRoles',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: 'arn:aws:iam::123456789012:role/prod-order-worker',
      },
    ]);
  });
});

describe('cdk-nag harness', () => {
  it('fails synth and reports a new finding (so the zero-findings test can fail)', () => {
    // GIVEN a stack with an unencrypted queue and the same plugin registration as the app
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'elasticai-nag-')) });
    const stack = new Stack(app, 'Bad', { env: { account: '123456789012', region: 'us-east-1' } });
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // WHEN synthesized  THEN synth throws and the report names the rules
    const quiet = console.error; // the report is printed too; keep the test output clean
    console.error = () => undefined;
    try {
      assert.throws(() => app.synth(), /Validation failed/);
    } finally {
      console.error = quiet;
    }
    const rules = readViolations(app.outdir).map((v) => v.rule);
    assert.ok(rules.includes('AwsSolutions-SQS2'), rules.join(', '));
    assert.ok(rules.includes('AwsSolutions-SQS4'), rules.join(', '));
  });
});
