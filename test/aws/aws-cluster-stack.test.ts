// One AwsClusterStack built in-process from a table cluster with every AWS-only setting: a concrete
// account, a public endpoint, an admin role and the decision-runtime hook.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { awsWorkloadRoleName } from '../../constructs/aws/workload-role-names.js';
import { AwsClusterStack } from '../../stacks/aws-environment-stack.js';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import type { ClusterConfig, EnvironmentConfig } from '../../stacks/environment-types.js';
import { readViolations, testApp, type Json } from './support.js';

const prod = ENVIRONMENTS.find((e) => e.name === 'prod') as EnvironmentConfig;
const prodEks = prod.clusters.find((c) => c.cloud === 'aws') as ClusterConfig;
const runtimeDir = mkdtempSync(join(tmpdir(), 'elasticai-runtime-'));
mkdirSync(runtimeDir, { recursive: true });
writeFileSync(join(runtimeDir, 'Dockerfile'), 'FROM scratch\n');
const WORKSPACE = 'arn:aws:aps:us-east-1:111122223333:workspace/ws-abcd1234-ab12-cd34-ef56-abcdef123456';

// GIVEN prod's EKS cluster with all AWS settings, checked by cdk-nag, synthesized once
const app = testApp({ cloudFormationValidation: true });
const stack = new AwsClusterStack(app, 'elasticai-prod-use1', {
  environment: prod,
  cluster: {
    ...prodEks,
    aws: {
      account: '111122223333',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      publicEndpointCidrs: ['198.51.100.0/24'],
      adminRoleArn: 'arn:aws:iam::111122223333:role/platform-admin',
      runtime: { imageAssetDirectory: runtimeDir, prometheusWorkspaceArn: WORKSPACE },
    },
  },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
const assembly = app.synth();
const template = Template.fromJSON(assembly.getStackByName(stack.stackName).template);

describe('AwsClusterStack with every AWS setting', () => {
  it('deploys to the table account and region', () => {
    assert.equal(stack.account, '111122223333');
    assert.equal(stack.region, 'us-east-1');
  });

  it('still has zero unacknowledged cdk-nag findings (acknowledgements follow the concrete account)', () => {
    assert.deepEqual(readViolations(assembly.directory), []);
  });

  it('opens the public endpoint to the given range only and grants the admin role through an access entry', () => {
    const c = (Object.values(template.findResources('AWS::EKS::Cluster'))[0] as Json).Properties;
    assert.deepEqual(c.ResourcesVpcConfig.PublicAccessCidrs, ['198.51.100.0/24']);
    const entry = Object.values(template.findResources('AWS::EKS::AccessEntry')).find(
      (r: Json) => r.Properties.PrincipalArn === 'arn:aws:iam::111122223333:role/platform-admin',
    ) as Json;
    assert.equal(entry.Properties.AccessPolicies.length, 1);
    assert.deepEqual(entry.Properties.AccessPolicies[0].AccessScope, { Type: 'cluster' });
    assert.match(
      JSON.stringify(entry.Properties.AccessPolicies[0].PolicyArn),
      /:eks::aws:cluster-access-policy\/AmazonEKSClusterAdminPolicy/,
    );
  });

  it('stages the runtime image as a Docker asset (not built at synth) and gives the runtime a read-only role', () => {
    const assets = JSON.parse(
      readFileSync(join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'),
    );
    const images = Object.values(assets.dockerImages) as Json[];
    assert.equal(images.length, 1);
    assert.equal(images[0].source.platform, 'linux/amd64');
    assert.ok(images[0].source.directory, 'a build context, built only at deploy');
    const runtimeRole = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('DecisionRuntimeRole'),
    );
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p: Json) =>
      p.Properties.Roles.some((r: Json) => r.Ref === runtimeRole),
    ) as Json;
    assert.deepEqual(policy.Properties.PolicyDocument.Statement, [
      {
        Sid: 'QueryMetricHistory',
        Effect: 'Allow',
        Action: ['aps:GetLabels', 'aps:GetMetricMetadata', 'aps:GetSeries', 'aps:QueryMetrics'],
        Resource: WORKSPACE,
      },
    ]);
    assert.ok(Object.keys(template.toJSON().Outputs).includes('DecisionRuntimeImageUri'));
  });

  it('names the cluster-autoscaler and KEDA roles as the GitOps manifests reference them', () => {
    // GIVEN the synthesized roles WHEN looking for the fixed names THEN both exist, once each
    const names = Object.values(template.findResources('AWS::IAM::Role')).map(
      (r: Json) => r.Properties.RoleName,
    );
    for (const component of ['cluster-autoscaler', 'keda-operator'] as const) {
      const expected = awsWorkloadRoleName(prodEks.name, component);
      assert.equal(names.filter((n) => n === expected).length, 1, `no role named ${expected}`);
    }
  });

  it('places the VPC in the configured zones', () => {
    const zones = Object.values(template.findResources('AWS::EC2::Subnet')).map(
      (s: Json) => s.Properties.AvailabilityZone,
    );
    assert.deepEqual([...new Set(zones)].sort(), ['us-east-1a', 'us-east-1b']);
  });

  it('refuses an AKS cluster', () => {
    const azure = prod.clusters.find((c) => c.cloud === 'azure') as ClusterConfig;
    assert.throws(
      () => new AwsClusterStack(testApp(), 'x', { environment: prod, cluster: azure }),
      /cluster.cloud: must be "aws" for an EKS stack \(cluster prod-weu\) \(got "azure"\)/,
    );
  });
});
