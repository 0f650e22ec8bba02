import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EksManagedNodeGroup } from '../../constructs/aws/eks-managed-node-group.js';
import { ElasticEksCluster } from '../../constructs/aws/elastic-eks-cluster.js';
import {
  MixedInstancesNodeGroup,
  type MixedInstancesNodeGroupProps,
} from '../../constructs/aws/mixed-instances-node-group.js';
import { SpotInterruptionQueue } from '../../constructs/aws/spot-interruption-queue.js';
import type { NodePoolInfo } from '../../constructs/k8s/cluster-info.js';
import { KubernetesVersion } from '../../constructs/k8s/kubernetes-version.js';
import { clusterStack, testApp, TEST_ENV, type Json } from './support.js';

const SYSTEM: NodePoolInfo = {
  name: 'system',
  role: 'system',
  capacityType: 'on-demand',
  instanceTypes: ['m7i.large'],
  minSize: 2,
  maxSize: 3,
};
const SPOT: NodePoolInfo = {
  name: 'spot',
  role: 'user',
  capacityType: 'spot',
  instanceTypes: ['c7i.xlarge', 'c6i.xlarge', 'c7a.xlarge'],
  minSize: 0,
  maxSize: 20,
  labels: { workload: 'batch' },
};

// GIVEN one cluster with a system group, a spot group, a mixed group from a type list (with the
// interruption queue) and a mixed group from attribute-based requirements, synthesized once
const { stack, eks } = clusterStack();
const nodeRole = new iam.Role(stack, 'NodeRole', {
  assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
});
const queue = new SpotInterruptionQueue(stack, 'Interruption', { namePrefix: 'test-use1' });
new EksManagedNodeGroup(stack, 'System', { cluster: eks, pool: SYSTEM, nodeRole });
new EksManagedNodeGroup(stack, 'Spot', { cluster: eks, pool: SPOT, nodeRole });
const general = new MixedInstancesNodeGroup(stack, 'General', {
  cluster: eks,
  name: 'general',
  instanceTypes: ['m7i.xlarge', 'm6i.xlarge', 'm7a.xlarge'],
  minSize: 1,
  maxSize: 10,
  onDemandBaseCapacity: 1,
  onDemandPercentageAboveBaseCapacity: 20,
  taints: [{ key: 'dedicated', value: 'web', effect: 'NoSchedule' }],
  interruptionQueue: queue,
});
new MixedInstancesNodeGroup(stack, 'Flex', {
  cluster: eks,
  name: 'flex',
  instanceRequirements: { vCpu: { min: 4, max: 4 }, memoryMiB: { min: 16384, max: 16384 } },
  minSize: 0,
  maxSize: 5,
  onDemandBaseCapacity: 0,
  onDemandPercentageAboveBaseCapacity: 0,
  spotAllocationStrategy: autoscaling.SpotAllocationStrategy.CAPACITY_OPTIMIZED,
});
const template = Template.fromStack(stack);
const resources: Record<string, Json> = template.toJSON().Resources;

function nodegroup(name: string): Json {
  return Object.values(template.findResources('AWS::EKS::Nodegroup')).find(
    (r: Json) => r.Properties.NodegroupName === `test-use1-${name}`,
  );
}
function asg(name: string): Json {
  return Object.values(template.findResources('AWS::AutoScaling::AutoScalingGroup')).find(
    (r: Json) => r.Properties.AutoScalingGroupName === `test-use1-${name}`,
  );
}
function launchTemplateOf(ref: Json): Json {
  return resources[ref.Ref].Properties.LaunchTemplateData;
}
/** The user data of a self-managed group as text, with tokens shown as `${Ref}`/`${Attr}`. */
function userData(name: string): string {
  const lt = launchTemplateOf(
    asg(name).Properties.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId,
  );
  const join = lt.UserData['Fn::Base64']['Fn::Join'];
  return join[1].map((p: Json) => (typeof p === 'string' ? p : `\${${JSON.stringify(p)}}`)).join(join[0]);
}

describe('EksManagedNodeGroup', () => {
  it('runs the system pool on-demand on AL2023, tainted CriticalAddonsOnly', () => {
    const p = nodegroup('system').Properties;
    assert.equal(p.AmiType, 'AL2023_x86_64_STANDARD');
    assert.equal(p.CapacityType, 'ON_DEMAND');
    assert.deepEqual(p.Taints, [{ Key: 'CriticalAddonsOnly', Value: 'true', Effect: 'NO_SCHEDULE' }]);
    assert.deepEqual(p.InstanceTypes, ['m7i.large']);
    assert.deepEqual(p.ScalingConfig, { MinSize: 2, MaxSize: 3, DesiredSize: 2 });
    assert.equal(p.Labels['elasticai.io/capacity-type'], 'on-demand');
  });

  it('runs the spot pool on several same-size types, labelled for Placement', () => {
    const p = nodegroup('spot').Properties;
    assert.equal(p.CapacityType, 'SPOT');
    assert.deepEqual(p.InstanceTypes, ['c7i.xlarge', 'c6i.xlarge', 'c7a.xlarge']);
    assert.deepEqual(p.Labels, {
      workload: 'batch',
      'elasticai.io/capacity-type': 'spot',
      'elasticai.io/node-pool': 'spot',
    });
    assert.equal(p.Taints, undefined);
  });

  it('starts nodes from an IMDSv2-only template with an encrypted gp3 root volume', () => {
    for (const name of ['system', 'spot']) {
      const lt = launchTemplateOf(nodegroup(name).Properties.LaunchTemplate.Id);
      assert.deepEqual(lt.MetadataOptions, {
        HttpEndpoint: 'enabled',
        HttpPutResponseHopLimit: 1,
        HttpTokens: 'required',
      });
      assert.deepEqual(lt.BlockDeviceMappings, [
        {
          DeviceName: '/dev/xvda',
          Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeSize: 50, VolumeType: 'gp3' },
        },
      ]);
      // EKS picks the AMI from amiType and adds its own NodeConfig: no image, no user data here
      assert.equal(lt.ImageId, undefined);
      assert.equal(lt.UserData, undefined);
    }
  });

  it('carries the auto-discovery and node-template tags on the nodegroup (informational: EKS tags the ASG itself)', () => {
    const tags = nodegroup('system').Properties.Tags;
    assert.equal(tags['k8s.io/cluster-autoscaler/enabled'], 'true');
    assert.equal(tags['k8s.io/cluster-autoscaler/test-use1'], 'owned');
    assert.equal(tags['k8s.io/cluster-autoscaler/node-template/taint/CriticalAddonsOnly'], 'true:NoSchedule');
    assert.equal(
      tags['k8s.io/cluster-autoscaler/node-template/label/elasticai.io/capacity-type'],
      'on-demand',
    );
  });
});

describe('MixedInstancesNodeGroup', () => {
  it('mixes an on-demand base and percentage with price-capacity-optimized spot and rebalancing', () => {
    const p = asg('general').Properties;
    assert.deepEqual(p.MixedInstancesPolicy.InstancesDistribution, {
      OnDemandAllocationStrategy: 'prioritized',
      OnDemandBaseCapacity: 1,
      OnDemandPercentageAboveBaseCapacity: 20,
      SpotAllocationStrategy: 'price-capacity-optimized',
    });
    assert.deepEqual(p.MixedInstancesPolicy.LaunchTemplate.Overrides, [
      { InstanceType: 'm7i.xlarge' },
      { InstanceType: 'm6i.xlarge' },
      { InstanceType: 'm7a.xlarge' },
    ]);
    assert.equal(p.CapacityRebalance, true);
    assert.equal(p.MinSize, '1');
    assert.equal(p.MaxSize, '10');
    assert.equal(p.DesiredCapacity, undefined, 'cluster-autoscaler owns the desired capacity');
  });

  it('selects types by attributes (single vCPU/memory shape) with the chosen spot strategy', () => {
    const p = asg('flex').Properties;
    assert.deepEqual(p.MixedInstancesPolicy.InstancesDistribution, {
      OnDemandAllocationStrategy: 'lowest-price',
      OnDemandBaseCapacity: 0,
      OnDemandPercentageAboveBaseCapacity: 0,
      SpotAllocationStrategy: 'capacity-optimized',
    });
    assert.deepEqual(p.MixedInstancesPolicy.LaunchTemplate.Overrides, [
      {
        InstanceRequirements: {
          VCpuCount: { Min: 4, Max: 4 },
          MemoryMiB: { Min: 16384, Max: 16384 },
          BurstablePerformance: 'excluded',
          InstanceGenerations: ['current'],
          CpuManufacturers: ['intel', 'amd'],
        },
      },
    ]);
  });

  it('tags the ASG for auto-discovery and for scale from zero (labels and taints)', () => {
    const tags = Object.fromEntries(
      asg('general').Properties.Tags.map((t: Json) => [
        t.Key,
        { value: t.Value, propagate: t.PropagateAtLaunch },
      ]),
    );
    assert.deepEqual(tags['k8s.io/cluster-autoscaler/enabled'], { value: 'true', propagate: false });
    assert.deepEqual(tags['k8s.io/cluster-autoscaler/test-use1'], { value: 'owned', propagate: false });
    assert.deepEqual(tags['k8s.io/cluster-autoscaler/node-template/label/elasticai.io/node-pool'], {
      value: 'general',
      propagate: false,
    });
    assert.deepEqual(tags['k8s.io/cluster-autoscaler/node-template/taint/dedicated'], {
      value: 'web:NoSchedule',
      propagate: false,
    });
    assert.deepEqual(tags['kubernetes.io/cluster/test-use1'], { value: 'owned', propagate: true });
    assert.deepEqual(tags['aws-node-termination-handler/managed'], { value: 'true', propagate: true });
    // the capacity label differs per node, so it is not templated
    assert.equal(tags['k8s.io/cluster-autoscaler/node-template/label/elasticai.io/capacity-type'], undefined);
    // without an interruption queue the handler leaves the group alone
    const flexTags = asg('flex').Properties.Tags.map((t: Json) => t.Key);
    assert.equal(flexTags.includes('aws-node-termination-handler/managed'), false);
  });

  it('boots AL2023 from SSM for the cluster minor, IMDSv2 only, encrypted gp3, in the cluster security group', () => {
    const lt = launchTemplateOf(
      asg('general').Properties.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification
        .LaunchTemplateId,
    );
    assert.deepEqual(lt.MetadataOptions, {
      HttpEndpoint: 'enabled',
      HttpPutResponseHopLimit: 1,
      HttpTokens: 'required',
    });
    assert.deepEqual(lt.BlockDeviceMappings[0].Ebs, {
      DeleteOnTermination: true,
      Encrypted: true,
      VolumeSize: 50,
      VolumeType: 'gp3',
    });
    const param = template.toJSON().Parameters[lt.ImageId.Ref];
    assert.equal(param.Type, 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>');
    assert.equal(
      param.Default,
      '/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/x86_64/standard/recommended/image_id',
    );
    assert.deepEqual(lt.SecurityGroupIds, [
      {
        'Fn::GetAtt': [Object.keys(template.findResources('AWS::EKS::Cluster'))[0], 'ClusterSecurityGroupId'],
      },
    ]);
    assert.ok(lt.IamInstanceProfile, 'instance profile of the group role');
  });

  it('joins the cluster through nodeadm (not bootstrap.sh), labelling each node with its own purchase option', () => {
    const text = userData('general');
    assert.match(text, /^MIME-Version: 1.0\nContent-Type: multipart\/mixed; boundary="ELASTICAI-NODEADM"/);
    assert.match(
      text,
      /Content-Type: application\/node.eks.aws\n\n---\napiVersion: node.eks.aws\/v1alpha1\nkind: NodeConfig/,
    );
    assert.match(
      text,
      / {4}name: test-use1\n {4}apiServerEndpoint: \$\{\{"Fn::GetAtt":\["EksCluster[0-9A-F]+","Endpoint"\]\}\}/,
    );
    assert.match(
      text,
      / {4}certificateAuthority: \$\{\{"Fn::GetAtt":\["EksCluster[0-9A-F]+","CertificateAuthorityData"\]\}\}/,
    );
    assert.match(text, / {4}cidr: 172\.20\.0\.0\/16\n/);
    assert.match(text, / {6}- --node-labels=elasticai.io\/node-pool=general\n/);
    assert.match(text, / {6}- --register-with-taints=dedicated=web:NoSchedule\n/);
    assert.match(text, /instance-life-cycle/);
    assert.match(text, /X-aws-ec2-metadata-token-ttl-seconds/, 'IMDSv2 token, as the template requires');
    assert.match(text, /cat > \/etc\/eks\/nodeadm.d\/90-elasticai-capacity.yaml <<EOF/);
    assert.match(text, / {6}- --node-labels=elasticai.io\/capacity-type=\$capacity\n/);
    assert.doesNotMatch(text, /bootstrap\.sh/);
  });

  it('registers its own node role with an EC2_LINUX access entry before instances launch', () => {
    const entries = Object.entries(template.findResources('AWS::EKS::AccessEntry')).filter(
      ([, r]: [string, Json]) => r.Properties.Type === 'EC2_LINUX',
    );
    assert.equal(entries.length, 2, 'one per self-managed group');
    const roleLogicalId = stack.getLogicalId(general.role.node.defaultChild as never);
    const [entryId] =
      entries.find(([, r]: [string, Json]) => r.Properties.PrincipalArn['Fn::GetAtt'][0] === roleLogicalId) ??
      [];
    assert.ok(entryId);
    const asgId = Object.keys(template.findResources('AWS::AutoScaling::AutoScalingGroup')).find(
      (k) => resources[k].Properties.AutoScalingGroupName === 'test-use1-general',
    ) as string;
    assert.ok(resources[asgId].DependsOn.includes(entryId));
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })],
      }),
      ManagedPolicyArns: Match.arrayWith([
        Match.objectLike({
          'Fn::Join': ['', Match.arrayWith([':iam::aws:policy/AmazonEKSWorkerNodePolicy'])],
        }),
      ]),
    });
  });

  it('notifies the interruption queue from a termination lifecycle hook', () => {
    const hooks = Object.values(template.findResources('AWS::AutoScaling::LifecycleHook')) as Json[];
    assert.equal(hooks.length, 1);
    const h = hooks[0].Properties;
    assert.equal(h.LifecycleTransition, 'autoscaling:EC2_INSTANCE_TERMINATING');
    assert.equal(h.DefaultResult, 'CONTINUE');
    assert.equal(h.HeartbeatTimeout, 300);
    const queueId = stack.getLogicalId(queue.queue.node.defaultChild as never);
    assert.deepEqual(h.NotificationTargetARN, { 'Fn::GetAtt': [queueId, 'Arn'] });
  });
});

describe('node group props', () => {
  // GIVEN a scratch cluster that is never synthesized (refused constructs stay out of the test stack)
  const scratch = new Stack(testApp(), 'Scratch', { env: TEST_ENV });
  const cluster = new ElasticEksCluster(scratch, 'Eks', {
    clusterName: 'scratch',
    kubernetesVersion: KubernetesVersion.V1_35,
    logRetentionDays: 7,
    region: 'us-east-1',
  });
  const role = new iam.Role(scratch, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  let n = 0;
  const mixed = (overrides: Partial<MixedInstancesNodeGroupProps>) => () =>
    new MixedInstancesNodeGroup(scratch, `M${n++}`, {
      cluster,
      name: 'general',
      instanceTypes: ['m7i.xlarge', 'm6i.xlarge'],
      minSize: 1,
      maxSize: 10,
      onDemandBaseCapacity: 1,
      onDemandPercentageAboveBaseCapacity: 20,
      ...overrides,
    });
  const managed = (pool: Partial<NodePoolInfo>) => () =>
    new EksManagedNodeGroup(scratch, `G${n++}`, { cluster, nodeRole: role, pool: { ...SPOT, ...pool } });

  it('refuses an on-demand percentage outside 0-100', () => {
    assert.throws(
      mixed({ onDemandPercentageAboveBaseCapacity: 101 }),
      /^PropError: onDemandPercentageAboveBaseCapacity: must be between 0 and 100 \(got 101\)$/,
    );
    assert.throws(
      mixed({ onDemandPercentageAboveBaseCapacity: -5 }),
      /onDemandPercentageAboveBaseCapacity: must be between 0 and 100 \(got -5\)/,
    );
    assert.throws(
      mixed({ onDemandPercentageAboveBaseCapacity: 12.5 }),
      /onDemandPercentageAboveBaseCapacity: must be an integer \(got 12.5\)/,
    );
  });

  it('refuses an on-demand base larger than the max size', () => {
    assert.throws(
      mixed({ onDemandBaseCapacity: 11 }),
      /^PropError: onDemandBaseCapacity: must not exceed maxSize \(10\) \(got 11\)$/,
    );
    assert.throws(mixed({ minSize: 11 }), /minSize: must not exceed maxSize \(10\) \(got 11\)/);
  });

  it('refuses unequal instance sizes in one group, naming the types', () => {
    assert.throws(
      mixed({ instanceTypes: ['m7i.xlarge', 'm7i.2xlarge'] }),
      /instanceTypes: must all have equal vCPU and memory for cluster-autoscaler \(m7i.xlarge = 4 vCPU \/ 16384 MiB, m7i.2xlarge = 8 vCPU \/ 32768 MiB\); m7i.2xlarge differ from m7i.xlarge/,
    );
    assert.throws(
      managed({ instanceTypes: ['c7i.xlarge', 'm7i.xlarge'] }),
      /nodePools.spot.instanceTypes: must all have equal vCPU and memory.*m7i.xlarge differ from c7i.xlarge/,
    );
  });

  it('refuses attribute ranges that span several shapes, and both or neither selection', () => {
    assert.throws(
      mixed({
        instanceTypes: undefined,
        instanceRequirements: { vCpu: { min: 4, max: 8 }, memoryMiB: { min: 16384, max: 16384 } },
      }),
      /instanceRequirements.vCpu: must be a single value \(min = max\).*\(got \{"min":4,"max":8\}\)/,
    );
    assert.throws(
      mixed({ instanceRequirements: { vCpu: { min: 4, max: 4 }, memoryMiB: { min: 16384, max: 16384 } } }),
      /exactly one of instanceTypes and instanceRequirements/,
    );
    assert.throws(
      mixed({ instanceTypes: undefined }),
      /exactly one of instanceTypes and instanceRequirements/,
    );
  });

  it('refuses pools a managed group cannot run', () => {
    assert.throws(
      managed({ capacityType: 'mixed' }),
      /nodePools.spot.capacityType: must be on-demand or spot for a managed node group.*\(got "mixed"\)/,
    );
    assert.throws(
      managed({ instanceTypes: ['c7i.xlarge'] }),
      /nodePools.spot.instanceTypes: must list at least two instance types for a spot pool/,
    );
    assert.throws(
      managed({ role: 'system' }),
      /nodePools.spot.capacityType: must be on-demand for a system pool \(got "spot"\)/,
    );
    assert.throws(
      managed({ minSize: 5, maxSize: 2 }),
      /nodePools.spot.minSize: must not exceed nodePools.spot.maxSize \(2\) \(got 5\)/,
    );
  });

  it('refuses zones outside the cluster VPC instead of synthesizing groups with no subnets', () => {
    // GIVEN the scratch VPC in us-east-1a..c and a pool in us-west-2a
    assert.throws(
      managed({ zones: ['us-east-1a', 'us-west-2a'] }),
      /^PropError: nodePools\.spot\.zones: names zones outside the cluster's VPC \(us-west-2a\); the VPC has us-east-1a, us-east-1b, us-east-1c/,
    );
    assert.throws(
      mixed({ zones: ['eu-west-1a'] }),
      /^PropError: zones: names zones outside the cluster's VPC \(eu-west-1a\)/,
    );
    assert.throws(mixed({ zones: ['us-east-1a', 'us-east-1a'] }), /zones: lists us-east-1a twice/);
  });

  it('refuses a node group name over 63 characters', () => {
    const longCluster = new ElasticEksCluster(new Stack(testApp(), 'Long', { env: TEST_ENV }), 'Eks', {
      clusterName: 'c'.repeat(40),
      kubernetesVersion: KubernetesVersion.V1_35,
      logRetentionDays: 7,
      region: 'us-east-1',
    });
    assert.throws(
      () =>
        new EksManagedNodeGroup(longCluster, 'G', {
          cluster: longCluster,
          nodeRole: role,
          pool: { ...SPOT, name: 'p'.repeat(40) },
        }),
      /^PropError: nodePools\.p+\.name: makes the node group name "c{40}-p{40}" 81 characters long; EKS allows 63/,
    );
  });

  it('refuses bad label and taint keys, unknown effects, repeated taint keys and the labels it sets itself', () => {
    assert.throws(
      managed({ labels: { 'bad key!': 'x' } }),
      /^PropError: nodePools\.spot\.labels: is not a valid Kubernetes label key \(got "bad key!"\)$/,
    );
    assert.throws(
      managed({ taints: [{ key: 'bad key!', effect: 'NoSchedule' }] }),
      /^PropError: nodePools\.spot\.taints\[0\]\.key: is not a valid Kubernetes taint key \(got "bad key!"\)$/,
    );
    assert.throws(
      managed({ taints: [{ key: 'x', effect: 'Never' as never }] }),
      /^PropError: nodePools\.spot\.taints\[0\]\.effect: must be one of NoSchedule, PreferNoSchedule, NoExecute \(got "Never"\)$/,
    );
    assert.throws(
      managed({
        taints: [
          { key: 'x', value: 'a', effect: 'NoSchedule' },
          { key: 'x', value: 'b', effect: 'NoExecute' },
        ],
      }),
      /nodePools\.spot\.taints\[1\]\.key: must not repeat a taint key/,
    );
    assert.throws(
      managed({ labels: { 'elasticai.io/capacity-type': 'on-demand' } }),
      /nodePools\.spot\.labels: must not set elasticai\.io\/capacity-type/,
    );
    assert.throws(
      mixed({ taints: [{ key: 'x', effect: 'Never' as never }] }),
      /^PropError: taints\[0\]\.effect: must be one of/,
    );
    assert.throws(
      mixed({ labels: { 'elasticai.io/node-pool': 'other' } }),
      /^PropError: labels: must not set elasticai\.io\/node-pool/,
    );
  });

  it('refuses unknown roles and capacity types instead of defaulting them', () => {
    assert.throws(
      managed({ capacityType: 'reserved' as never }),
      /^PropError: nodePools\.spot\.capacityType: must be "on-demand" or "spot" \(got "reserved"\)$/,
    );
    assert.throws(
      managed({ role: 'admin' as never }),
      /^PropError: nodePools\.spot\.role: must be "system" or "user" \(got "admin"\)$/,
    );
  });

  it('refuses two node groups with the same pool name in one cluster', () => {
    // GIVEN a managed pool "twice" already in the cluster  WHEN another managed or mixed pool takes it
    new EksManagedNodeGroup(scratch, 'Twice', { cluster, nodeRole: role, pool: { ...SPOT, name: 'twice' } });
    assert.throws(
      managed({ name: 'twice' }),
      /^PropError: nodePools\.twice\.name: must be unique among the cluster's node groups \(Scratch\/Twice uses it\) \(got "twice"\)$/,
    );
    assert.throws(
      mixed({ name: 'twice' }),
      /^PropError: name: must be unique among the cluster's node groups/,
    );
  });

  it('refuses an allowed instance type that cannot have the required shape', () => {
    // GIVEN 4 vCPU / 16 GiB requirements and c7i.large (2 vCPU / 4 GiB)
    assert.throws(
      mixed({
        instanceTypes: undefined,
        instanceRequirements: {
          vCpu: { min: 4, max: 4 },
          memoryMiB: { min: 16384, max: 16384 },
          allowedInstanceTypes: ['m7i.xlarge', 'c7i.large'],
        },
      }),
      /^PropError: instanceRequirements\.allowedInstanceTypes\[1\]: can never match the required 4 vCPU \/ 16384 MiB \(c7i\.large has 2 vCPU \/ 4096 MiB\) \(got "c7i\.large"\)$/,
    );
  });
});
