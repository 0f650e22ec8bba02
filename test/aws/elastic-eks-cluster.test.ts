import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Stack } from 'aws-cdk-lib';
import {
  ApiEndpoint,
  eksKubernetesVersion,
  ElasticEksCluster,
  type ElasticEksClusterProps,
  SERVICE_IPV4_CIDR,
} from '../../constructs/aws/elastic-eks-cluster.js';
import { KubernetesVersion } from '../../constructs/k8s/kubernetes-version.js';
import { clusterStack, testApp, TEST_ENV, type Json } from './support.js';

// GIVEN one cluster with the defaults (1.34, 30-day retention, private endpoint), synthesized once
const { stack } = clusterStack();
const template = Template.fromStack(stack);
const clusterProps = (): Json =>
  (Object.values(template.findResources('AWS::EKS::Cluster'))[0] as Json).Properties;

describe('ElasticEksCluster', () => {
  it('runs the typed Kubernetes minor with the service CIDR nodeadm is told about', () => {
    const p = clusterProps();
    assert.equal(p.Version, '1.34');
    assert.equal(p.Name, 'test-use1');
    assert.equal(p.KubernetesNetworkConfig.ServiceIpv4Cidr, SERVICE_IPV4_CIDR);
  });

  it('envelope-encrypts secrets with its own rotating KMS key', () => {
    const p = clusterProps();
    assert.deepEqual(p.EncryptionConfig[0].Resources, ['secrets']);
    const keys = template.findResources('AWS::KMS::Key');
    const [keyId, key] = Object.entries(keys)[0] as [string, Json];
    assert.equal(Object.keys(keys).length, 1);
    assert.equal(key.Properties.EnableKeyRotation, true);
    assert.deepEqual(p.EncryptionConfig[0].Provider.KeyArn, { 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  it('logs every control-plane log type to a group with the environment retention, created first', () => {
    const p = clusterProps();
    assert.deepEqual(p.Logging.ClusterLogging.EnabledTypes.map((t: Json) => t.Type).sort(), [
      'api',
      'audit',
      'authenticator',
      'controllerManager',
      'scheduler',
    ]);
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/eks/test-use1/cluster',
      RetentionInDays: 30,
    });
    const [clusterId] = Object.keys(template.findResources('AWS::EKS::Cluster'));
    const logGroupId = Object.entries(template.findResources('AWS::Logs::LogGroup')).find(
      ([, r]) => (r as Json).Properties.LogGroupName === '/aws/eks/test-use1/cluster',
    )?.[0];
    assert.ok(template.toJSON().Resources[clusterId as string].DependsOn.includes(logGroupId));
  });

  it('keeps the API endpoint private by default, with the kubectl handler inside the VPC', () => {
    const p = clusterProps();
    assert.equal(p.ResourcesVpcConfig.EndpointPrivateAccess, true);
    assert.equal(p.ResourcesVpcConfig.EndpointPublicAccess, false);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'onEvent handler for EKS kubectl resource provider',
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
    });
  });

  it('uses the one kubectl layer (1.35) and creates no default capacity', () => {
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      Description: Match.stringLikeRegexp('kubectl.*v1\\.35|1\\.35'),
    });
    template.resourceCountIs('AWS::EKS::Nodegroup', 0);
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 0);
  });

  it('builds a VPC in explicit zones, with flow logs and no synth-time lookups', () => {
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    const zones = Object.values(template.findResources('AWS::EC2::Subnet')).map(
      (s: Json) => s.Properties.AvailabilityZone,
    );
    assert.deepEqual([...new Set(zones)].sort(), ['us-east-1a', 'us-east-1b', 'us-east-1c']);
    assert.equal(stack.node.metadata.filter((m) => m.type === 'aws:cdk:missing-context').length, 0);
  });

  it('opens a public endpoint only to the given CIDRs', () => {
    // GIVEN publicAndPrivate with one office range  THEN both accesses, public restricted
    const { stack: s } = clusterStack('Public', {
      endpoint: ApiEndpoint.publicAndPrivate(['203.0.113.0/24']),
    });
    const p = Object.values(Template.fromStack(s).findResources('AWS::EKS::Cluster'))[0] as Json;
    assert.equal(p.Properties.ResourcesVpcConfig.EndpointPublicAccess, true);
    assert.equal(p.Properties.ResourcesVpcConfig.EndpointPrivateAccess, true);
    assert.deepEqual(p.Properties.ResourcesVpcConfig.PublicAccessCidrs, ['203.0.113.0/24']);
    assert.throws(
      () => ApiEndpoint.publicAndPrivate(['0.0.0.0/0']),
      /endpoint.cidrs: must not open .*\(got "0.0.0.0\/0"\)/,
    );
    assert.throws(() => ApiEndpoint.publicAndPrivate(['office']), /endpoint.cidrs: must be an IPv4 CIDR/);
  });

  it('refuses a Kubernetes minor outside kubectl 1.35 skew, naming the prop and value', () => {
    // GIVEN 1.33 (supported by the k8s constructs, but two minors from kubectl 1.35)
    const scratch = new Stack(testApp(), 'Scratch', { env: TEST_ENV });
    assert.throws(
      () =>
        new ElasticEksCluster(scratch, 'Old', {
          clusterName: 'old',
          kubernetesVersion: KubernetesVersion.V1_33,
          logRetentionDays: 7,
          region: 'us-east-1',
        }),
      /^PropError: kubernetesVersion: is not supported on EKS by this package: its kubectl layer is 1\.35, which manages 1\.34 to 1\.36 only \(got "1\.33"\)$/,
    );
    // an unknown minor never gets this far: the typed version refuses it
    assert.throws(
      () => KubernetesVersion.of('1.37'),
      /kubernetesVersion: is not a supported Kubernetes minor.*\(got "1.37"\)/,
    );
    assert.equal(eksKubernetesVersion(KubernetesVersion.V1_36).version, '1.36');
  });

  it('refuses a retention CloudWatch does not offer', () => {
    const scratch = new Stack(testApp(), 'Scratch2', { env: TEST_ENV });
    assert.throws(
      () =>
        new ElasticEksCluster(scratch, 'C', {
          clusterName: 'c',
          kubernetesVersion: KubernetesVersion.V1_34,
          logRetentionDays: 45,
          region: 'us-east-1',
        }),
      /^PropError: logRetentionDays: must be a CloudWatch Logs retention \(1, 3, 5, 7, 14, 30, 60, 90,.*\(got 45\)$/,
    );
  });

  it('refuses malformed, IPv6, host-bit, duplicate and too-wide endpoint CIDRs, naming the value', () => {
    // GIVEN CIDRs EKS would refuse or that open the endpoint to everyone  THEN each is refused by value
    const refused: [string[], RegExp][] = [
      [['999.1.1.1/40'], /^PropError: endpoint\.cidrs: must be an IPv4 CIDR .*\(got "999\.1\.1\.1\/40"\)$/],
      [['10.0.0.0/33'], /endpoint\.cidrs: must be an IPv4 CIDR .*\(got "10\.0\.0\.0\/33"\)/],
      [['2001:db8::/32'], /endpoint\.cidrs: .*IPv6 ranges only on IPv6 clusters.*\(got "2001:db8::\/32"\)/],
      [['0.0.0.0/1', '128.0.0.0/1'], /endpoint\.cidrs: must not be wider than \/8.*\(got "0\.0\.0\.0\/1"\)/],
      [['203.0.113.5/24'], /endpoint\.cidrs: must have no address bits set .*\(got "203\.0\.113\.5\/24"\)/],
      [['203.0.113.0/24', '203.0.113.0/24'], /endpoint\.cidrs: is listed twice \(got "203\.0\.113\.0\/24"\)/],
    ];
    for (const [cidrs, error] of refused) assert.throws(() => ApiEndpoint.publicAndPrivate(cidrs), error);
    // a /8 is the widest range taken
    assert.equal(ApiEndpoint.publicAndPrivate(['10.0.0.0/8', '198.51.100.7/32']).mode, 'public-and-private');
  });

  it("refuses a malformed region, a region other than the stack's, and zones outside it or repeated", () => {
    const make = (id: string, props: Partial<ElasticEksClusterProps>) => () =>
      new ElasticEksCluster(new Stack(testApp(), id, { env: TEST_ENV }), 'C', {
        clusterName: 'c',
        kubernetesVersion: KubernetesVersion.V1_34,
        logRetentionDays: 7,
        region: 'us-east-1',
        ...props,
      });
    assert.throws(
      make('R1', { region: 'us east 1' }),
      /^PropError: region: must be an AWS region name .*\(got "us east 1"\)$/,
    );
    assert.throws(
      make('R2', { region: 'eu-west-1' }),
      /^PropError: region: must be the stack's region \("us-east-1"\) \(got "eu-west-1"\)$/,
    );
    assert.throws(
      make('R3', { availabilityZones: ['us-east-1a', 'eu-west-1b'] }),
      /^PropError: availabilityZones\[1\]: must be an availability zone of region "us-east-1" .*\(got "eu-west-1b"\)$/,
    );
    assert.throws(
      make('R4', { availabilityZones: ['us-east-1a', 'us-east-1a'] }),
      /^PropError: availabilityZones\[1\]: is listed twice \(got "us-east-1a"\)$/,
    );
    assert.throws(
      make('R5', { availabilityZones: ['us-east-1a'] }),
      /^PropError: availabilityZones: must list at least two zones.*\(got \["us-east-1a"\]\)$/,
    );
  });

  it('refuses an admin role that is not an IAM role ARN, and grants one that is', () => {
    assert.throws(
      () => clusterStack('BadAdmin', { adminRoleArn: 'admin' }),
      /^PropError: adminRoleArn: must be an IAM role ARN .*\(got "admin"\)$/,
    );
    assert.throws(
      () => clusterStack('UserAdmin', { adminRoleArn: 'arn:aws:iam::123456789012:user/alice' }),
      /adminRoleArn: must be an IAM role ARN/,
    );
    // GIVEN a role ARN with a path  THEN an access entry for exactly it
    const { stack: s } = clusterStack('Admin', {
      adminRoleArn: 'arn:aws:iam::123456789012:role/ops/platform-admin',
    });
    Template.fromStack(s).hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: 'arn:aws:iam::123456789012:role/ops/platform-admin',
    });
  });
});
