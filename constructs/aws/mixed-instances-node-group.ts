import { Duration, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as hooktargets from 'aws-cdk-lib/aws-autoscaling-hooktargets';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { NodeTaint } from '../k8s/cluster-info.js';
import { ELASTICAI_CAPACITY_LABEL } from '../k8s/placement.js';
import { checkDnsLabel, checkInteger, checkMinMax, PropError } from '../k8s/validation.js';
import { autoDiscoveryTags, nodeTemplateTags } from './autoscaler-tags.js';
import { NODE_POOL_LABEL } from './eks-managed-node-group.js';
import { SERVICE_IPV4_CIDR, type ElasticEksCluster } from './elastic-eks-cluster.js';
import { checkEqualInstanceSizes, INSTANCE_SIZES } from './instance-sizes.js';
import { NodeLaunchTemplate } from './node-launch-template.js';
import { checkNodeLabels, checkNodeTaints, checkPoolZones, claimPoolName } from '../k8s/node-pool-checks.js';
import { nodeadmUserData } from './nodeadm-user-data.js';
import { NTH_MANAGED_TAG } from './node-termination-handler.js';
import type { SpotInterruptionQueue } from './spot-interruption-queue.js';

/** An inclusive range of an instance attribute. */
export interface AttributeRange {
  readonly min: number;
  readonly max: number;
}

/**
 * Attribute-based instance type selection: EC2 picks every current-generation, non-burstable x86
 * type in the ranges. cluster-autoscaler needs one node shape per group, so each range must be a
 * single value (min = max); that still spans every family and generation of that shape.
 */
export interface InstanceRequirements {
  /** vCPUs. */
  readonly vCpu: AttributeRange;
  /** Memory in MiB. */
  readonly memoryMiB: AttributeRange;
  /**
   * Allowed type name patterns, e.g. `['m*', 'c*']`; an exact type of known size must have the
   * required shape. @default every type matching the ranges
   */
  readonly allowedInstanceTypes?: readonly string[];
}

/** Props for a {@link MixedInstancesNodeGroup}. */
export interface MixedInstancesNodeGroupProps {
  readonly cluster: ElasticEksCluster;
  /** Pool name (node label `elasticai.io/node-pool`, ASG name `<cluster>-<name>`). */
  readonly name: string;
  /** Explicit instance types, equal vCPU and memory. Exactly one of this and `instanceRequirements`. */
  readonly instanceTypes?: readonly string[];
  /** Attribute-based selection instead of a type list. */
  readonly instanceRequirements?: InstanceRequirements;
  readonly minSize: number;
  readonly maxSize: number;
  /** On-demand nodes always kept before any spot; at most `maxSize`. */
  readonly onDemandBaseCapacity: number;
  /** Percentage (0-100) of nodes above the base that are on-demand; 0 = all spot above the base. */
  readonly onDemandPercentageAboveBaseCapacity: number;
  /** How spot capacity is chosen. @default SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED */
  readonly spotAllocationStrategy?: autoscaling.SpotAllocationStrategy;
  /**
   * Extra node labels (not `elasticai.io/capacity-type` or `elasticai.io/node-pool`: the group sets
   * them). @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
  /** Node taints: known effects, one per key. @default [] */
  readonly taints?: readonly NodeTaint[];
  /** Availability zones, among the cluster VPC's. @default all of the cluster VPC's */
  readonly zones?: readonly string[];
  /** Root volume size in GiB. @default 50 */
  readonly rootVolumeGiB?: number;
  /**
   * The termination handler's queue: adds a termination lifecycle hook that notifies it, and the
   * `aws-node-termination-handler/managed` tag so the handler drains this group's nodes.
   * @default no hook (instances are terminated without draining by the handler)
   */
  readonly interruptionQueue?: SpotInterruptionQueue;
}

/** SSM parameter of the EKS-optimized AL2023 x86_64 AMI for a Kubernetes minor. */
export function al2023AmiParameter(kubernetesVersion: string): string {
  return `/aws/service/eks/optimized-ami/${kubernetesVersion}/amazon-linux-2023/x86_64/standard/recommended/image_id`;
}

/**
 * A self-managed Auto Scaling group with a MixedInstancesPolicy: an on-demand base, a percentage of
 * on-demand above it and spot for the rest (price-capacity-optimized by default), from an instance
 * type list or attribute-based requirements, with capacity rebalancing on. EKS managed node groups
 * cannot mix purchase options in one group; this can.
 *
 * It is wired to the cluster explicitly (launch-template groups cannot use
 * `connectAutoScalingGroupCapacity`): the cluster security group, nodeadm user data on the
 * EKS-optimized AL2023 AMI for the cluster's minor (resolved from SSM at deploy), its own node role
 * with an `EC2_LINUX` access entry, IMDSv2 and an encrypted gp3 root volume. Each node labels itself
 * `elasticai.io/capacity-type=spot|on-demand` from its own purchase option at boot, so
 * `Placement.onDemandOnly()` never lands on a spot node of the group. The ASG carries the
 * cluster-autoscaler discovery tags and node-template tags for its fixed labels and taints (the
 * capacity label varies per node, so it is not templated).
 */
export class MixedInstancesNodeGroup extends Construct {
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly role: iam.Role;
  readonly labels: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: MixedInstancesNodeGroupProps) {
    super(scope, id);
    const { cluster } = props;
    checkDnsLabel('name', props.name);
    checkInteger('minSize', props.minSize, 0);
    checkInteger('maxSize', props.maxSize, 1);
    checkMinMax('minSize', props.minSize, 'maxSize', props.maxSize);
    checkInteger('onDemandPercentageAboveBaseCapacity', props.onDemandPercentageAboveBaseCapacity, 0, 100);
    checkInteger('onDemandBaseCapacity', props.onDemandBaseCapacity, 0);
    if (props.onDemandBaseCapacity > props.maxSize) {
      throw new PropError(
        'onDemandBaseCapacity',
        props.onDemandBaseCapacity,
        `must not exceed maxSize (${props.maxSize})`,
      );
    }
    if ((props.instanceTypes === undefined) === (props.instanceRequirements === undefined)) {
      throw new PropError(
        'instanceTypes',
        props.instanceTypes,
        'exactly one of instanceTypes and instanceRequirements must be set',
      );
    }
    if (props.instanceTypes) checkEqualInstanceSizes('instanceTypes', props.instanceTypes);
    if (props.instanceRequirements) checkRequirements(props.instanceRequirements);
    checkNodeLabels('labels', props.labels ?? {}, [ELASTICAI_CAPACITY_LABEL, NODE_POOL_LABEL]);
    checkNodeTaints('taints', props.taints ?? []);
    if (props.zones !== undefined) checkPoolZones('zones', props.zones, cluster.vpc.availabilityZones);
    claimPoolName(cluster, 'name', props.name, this.node.path);

    const taints = props.taints ?? [];
    this.labels = { ...(props.labels ?? {}), [NODE_POOL_LABEL]: props.name };

    this.role = new iam.Role(this, 'NodeRole', {
      description: `Nodes of self-managed group ${props.name} of EKS cluster ${cluster.clusterName}`,
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKSWorkerNodePolicy'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKS_CNI_Policy'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEC2ContainerRegistryPullOnly'),
      ],
    });
    // API authentication mode: an EC2_LINUX access entry puts the nodes in system:nodes.
    const accessEntry = new eks.AccessEntry(this, 'AccessEntry', {
      cluster: cluster.cluster,
      principal: this.role.roleArn,
      accessEntryType: eks.AccessEntryType.EC2_LINUX,
      accessPolicies: [],
    });

    const template = new NodeLaunchTemplate(this, 'LaunchTemplate', {
      rootVolumeGiB: props.rootVolumeGiB,
      role: this.role,
      securityGroup: cluster.clusterSecurityGroup,
      machineImage: ec2.MachineImage.fromSsmParameter(al2023AmiParameter(cluster.kubernetesVersion.version)),
      userData: nodeadmUserData({
        clusterName: cluster.clusterName,
        apiServerEndpoint: cluster.cluster.clusterEndpoint,
        certificateAuthority: cluster.cluster.clusterCertificateAuthorityData,
        serviceCidr: SERVICE_IPV4_CIDR,
        labels: this.labels,
        taints,
        labelCapacityFromInstanceLifecycle: true,
      }),
    });

    const overrides: autoscaling.LaunchTemplateOverrides[] = props.instanceTypes
      ? props.instanceTypes.map((t) => ({ instanceType: new ec2.InstanceType(t) }))
      : [{ instanceRequirements: renderRequirements(props.instanceRequirements as InstanceRequirements) }];

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Asg', {
      autoScalingGroupName: `${cluster.clusterName}-${props.name}`,
      vpc: cluster.vpc,
      vpcSubnets: {
        subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
        ...(props.zones ? { availabilityZones: [...props.zones] } : {}),
      },
      minCapacity: props.minSize,
      maxCapacity: props.maxSize,
      capacityRebalance: true,
      mixedInstancesPolicy: {
        launchTemplate: template.launchTemplate,
        launchTemplateOverrides: overrides,
        instancesDistribution: {
          onDemandBaseCapacity: props.onDemandBaseCapacity,
          onDemandPercentageAboveBaseCapacity: props.onDemandPercentageAboveBaseCapacity,
          // Attribute-based selection only allows lowest-price for on-demand.
          onDemandAllocationStrategy: props.instanceTypes
            ? autoscaling.OnDemandAllocationStrategy.PRIORITIZED
            : autoscaling.OnDemandAllocationStrategy.LOWEST_PRICE,
          spotAllocationStrategy:
            props.spotAllocationStrategy ?? autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
        },
      },
    });
    // Nodes join only once their access entry exists.
    this.autoScalingGroup.node.addDependency(accessEntry);

    const asgTags: Record<string, string> = {
      ...autoDiscoveryTags(cluster.clusterName),
      ...nodeTemplateTags(this.labels, taints),
    };
    for (const [key, value] of Object.entries(asgTags)) {
      Tags.of(this.autoScalingGroup).add(key, value, { applyToLaunchedInstances: false });
    }
    Tags.of(this.autoScalingGroup).add(`kubernetes.io/cluster/${cluster.clusterName}`, 'owned');
    Tags.of(this.autoScalingGroup).add('Name', `${cluster.clusterName}-${props.name}`);

    if (props.interruptionQueue) {
      Tags.of(this.autoScalingGroup).add(NTH_MANAGED_TAG, 'true');
      this.autoScalingGroup.addLifecycleHook('TerminationHook', {
        lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
        notificationTarget: new hooktargets.QueueHook(props.interruptionQueue.queue),
        heartbeatTimeout: Duration.minutes(5),
        defaultResult: autoscaling.DefaultResult.CONTINUE,
      });
    }
  }
}

function checkRequirements(r: InstanceRequirements): void {
  for (const [prop, range, min] of [
    ['instanceRequirements.vCpu', r.vCpu, 1],
    ['instanceRequirements.memoryMiB', r.memoryMiB, 512],
  ] as const) {
    checkInteger(`${prop}.min`, range.min, min);
    checkInteger(`${prop}.max`, range.max, min);
    checkMinMax(`${prop}.min`, range.min, `${prop}.max`, range.max);
    if (range.min !== range.max) {
      throw new PropError(
        prop,
        range,
        'must be a single value (min = max): cluster-autoscaler needs instance types of equal vCPU and memory in one group',
      );
    }
  }
  if (r.allowedInstanceTypes !== undefined && r.allowedInstanceTypes.length === 0) {
    throw new PropError(
      'instanceRequirements.allowedInstanceTypes',
      r.allowedInstanceTypes,
      'must not be empty',
    );
  }
  // An exact type this package knows the size of can only match when its size is the required shape.
  (r.allowedInstanceTypes ?? []).forEach((type, i) => {
    const size = INSTANCE_SIZES.get(type);
    if (size && (size.vcpu !== r.vCpu.min || size.memoryMiB !== r.memoryMiB.min)) {
      throw new PropError(
        `instanceRequirements.allowedInstanceTypes[${i}]`,
        type,
        `can never match the required ${r.vCpu.min} vCPU / ${r.memoryMiB.min} MiB (${type} has ${size.vcpu} vCPU / ${size.memoryMiB} MiB)`,
      );
    }
  });
}

function renderRequirements(
  r: InstanceRequirements,
): autoscaling.CfnAutoScalingGroup.InstanceRequirementsProperty {
  return {
    vCpuCount: { min: r.vCpu.min, max: r.vCpu.max },
    memoryMiB: { min: r.memoryMiB.min, max: r.memoryMiB.max },
    burstablePerformance: 'excluded',
    instanceGenerations: ['current'],
    cpuManufacturers: ['intel', 'amd'],
    ...(r.allowedInstanceTypes ? { allowedInstanceTypes: [...r.allowedInstanceTypes] } : {}),
  };
}
