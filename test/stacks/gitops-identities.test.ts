// EKS clusters whose add-ons GitOps delivers (dev, staging) must still give cluster-autoscaler and KEDA
// their IAM roles: the manifests name the roles the CDK stack creates under fixed names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { App } from 'cdk8s';
import { awsWorkloadRoleArn, awsWorkloadRoleName } from '../../constructs/aws/workload-role-names.js';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import type { ClusterConfig } from '../../stacks/environment-types.js';
import { buildClusterCharts, synthEnvironment } from '../../stacks/synth-environment.js';
import type { Json } from '../support/chart.js';

const gitopsEks = ENVIRONMENTS.flatMap((env) =>
  env.clusters.filter((c) => c.cloud === 'aws' && c.gitopsAddons).map((cluster) => ({ env, cluster })),
);

describe('GitOps-delivered EKS identities', () => {
  it('covers dev and staging', () => {
    assert.deepEqual(
      gitopsEks.map(({ cluster }) => cluster.name),
      ['dev-use1', 'staging-use1'],
    );
  });

  for (const { env, cluster } of gitopsEks) {
    const objects = synthEnvironment(env)
      .filter((f) => f.path === `${cluster.name}/platform.yaml`)
      .flatMap((f) => [...f.objects]) as Json[];
    const account = cluster.aws?.account as string;

    it(`${cluster.name}: the cluster-autoscaler ServiceAccount names its role`, () => {
      // GIVEN the platform manifest WHEN reading the autoscaler's ServiceAccount
      const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'cluster-autoscaler');
      // THEN it carries the IRSA annotation with the role the CDK stack creates
      assert.equal(
        sa?.metadata.annotations?.['eks.amazonaws.com/role-arn'],
        `arn:aws:iam::${account}:role/elasticai-${cluster.name}-cluster-autoscaler`,
      );
    });

    it(`${cluster.name}: the decision runtime's ServiceAccount names its role`, () => {
      // GIVEN the platform manifest WHEN reading the runtime's ServiceAccount
      const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'elasticai-runtime');
      // THEN it carries the IRSA annotation with the fixed-name role the CDK stack creates
      assert.equal(sa?.metadata.namespace, 'elasticai-system');
      assert.equal(
        sa?.metadata.annotations?.['eks.amazonaws.com/role-arn'],
        `arn:aws:iam::${account}:role/elasticai-${cluster.name}-decision-runtime`,
      );
      assert.equal(
        sa?.metadata.annotations?.['eks.amazonaws.com/role-arn'],
        awsWorkloadRoleArn(account, cluster.region, cluster.name, 'decision-runtime'),
      );
    });

    it(`${cluster.name}: the KEDA release gives the operator its role`, () => {
      const json = JSON.stringify(objects);
      const arn = awsWorkloadRoleArn(account, cluster.region, cluster.name, 'keda-operator');
      assert.ok(
        json.includes(`"irsa":{"enabled":true,"roleArn":"${arn}"}`),
        'KEDA values lack the IRSA role',
      );
    });
  }

  it('refuses a GitOps EKS cluster without an account, naming the field', () => {
    const cluster = gitopsEks[0]?.cluster as ClusterConfig;
    const withoutAccount: ClusterConfig = { ...cluster, aws: {} };
    assert.throws(
      () => buildClusterCharts(new App(), withoutAccount, gitopsEks[0]?.env as (typeof ENVIRONMENTS)[number]),
      /dev-use1\.aws\.account: is required on an EKS cluster with gitopsAddons/,
    );
  });

  it('keeps role names within IAM limits and refuses names that would not fit', () => {
    assert.equal(awsWorkloadRoleName('prod-use1', 'keda-operator'), 'elasticai-prod-use1-keda-operator');
    assert.equal(
      awsWorkloadRoleName('prod-use1', 'decision-runtime'),
      'elasticai-prod-use1-decision-runtime',
    );
    assert.throws(
      () => awsWorkloadRoleName('x'.repeat(40), 'cluster-autoscaler'),
      /too long for the IAM role name/,
    );
    assert.throws(
      () => awsWorkloadRoleArn('12345', 'us-east-1', 'dev-use1', 'keda-operator'),
      /aws\.account: must be a 12-digit/,
    );
    assert.throws(
      () => awsWorkloadRoleArn('123456789012', 'westeurope', 'dev-use1', 'keda-operator'),
      /region: must be an AWS region name \(got "westeurope"\)/,
    );
  });

  it("writes role ARNs in the partition of the cluster's region", () => {
    // GIVEN clusters in the commercial, China, GovCloud, ISO and European Sovereign Cloud partitions
    const arn = (region: string): string => awsWorkloadRoleArn('123456789012', region, 'c1', 'keda-operator');
    // THEN each ARN names its region's partition (IAM refuses a role ARN of another partition)
    assert.equal(arn('eu-west-1'), 'arn:aws:iam::123456789012:role/elasticai-c1-keda-operator');
    assert.equal(arn('cn-north-1'), 'arn:aws-cn:iam::123456789012:role/elasticai-c1-keda-operator');
    assert.equal(arn('us-gov-west-1'), 'arn:aws-us-gov:iam::123456789012:role/elasticai-c1-keda-operator');
    assert.equal(arn('us-iso-east-1'), 'arn:aws-iso:iam::123456789012:role/elasticai-c1-keda-operator');
    assert.equal(arn('us-isof-south-1'), 'arn:aws-iso-f:iam::123456789012:role/elasticai-c1-keda-operator');
    assert.equal(arn('eusc-de-east-1'), 'arn:aws-eusc:iam::123456789012:role/elasticai-c1-keda-operator');
  });
});
