import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { NodePoolInfo, NodeTaint } from '../k8s/cluster-info.js';
import { ELASTICAI_CAPACITY_LABEL } from '../k8s/placement.js';
import { checkDnsLabel, checkInteger, checkMinMax, PropError } from '../k8s/validation.js';
import { autoDiscoveryTags, nodeTemplateTags } from './autoscaler-tags.js';
import type { ElasticEksCluster } from './elastic-eks-cluster.js';
import { checkEqualInstanceSizes } from './instance-sizes.js';
import { NodeLaunchTemplate } from './node-launch-template.js';
import { checkNodeLabels, checkNodeTaints, checkPoolZones, claimPoolName } from '../k8s/node-pool-checks.js';

/** Label with the ElasticAI pool name on every node. */
export const NODE_POOL_LABEL = 'elasticai.io/node-pool';

/** The taint that keeps everything but critical add-ons off system nodes. */
export const CRITICAL_ADDONS_TAINT: NodeTaint = {
  key: 'CriticalAddonsOnly',
  value: 'true',
  effect: 'NoSchedule',
};

/** Props for an {@link EksManagedNodeGroup}. */
export interface EksManagedNodeGroupProps {
  readonly cluster: ElasticEksCluster;
  /** The pool: `on-demand` or `spot` (a `mixed` pool is a {@link MixedInstancesNodeGroup}). */
  readonly pool: NodePoolInfo;
  /** Node role shared by the cluster's managed groups (EKS creates its EC2_LINUX access entry). */
  readonly nodeRole: iam.IRole;
  /** Root volume size in GiB. @default 50 */
  readonly rootVolumeGiB?: number;
}

/** Longest node group name EKS takes. */
export const MAX_NODEGROUP_NAME = 63;

const EFFECTS: Record<NodeTaint['effect'], eks.TaintEffect> = {
  NoSchedule: eks.TaintEffect.NO_SCHEDULE,
  PreferNoSchedule: eks.TaintEffect.PREFER_NO_SCHEDULE,
  NoExecute: eks.TaintEffect.NO_EXECUTE,
};

/**
 * An EKS managed node group for an `on-demand` or `spot` pool, on Amazon Linux 2023
 * (`AL2023_X86_64_STANDARD`) from an IMDSv2-only launch template with an encrypted gp3 root volume.
 *
 * - `system` pools must be on-demand and always carry the `CriticalAddonsOnly=true:NoSchedule` taint.
 * - `spot` pools need at least two instance types (spot capacity is diversified across pools), and
 *   every group's types must have equal vCPU and memory (cluster-autoscaler).
 * - Nodes are labelled `elasticai.io/capacity-type` (`spot` / `on-demand`) and `elasticai.io/node-pool`;
 *   the pool's own labels may not set either. Labels and taints must be valid Kubernetes keys and values,
 *   taint effects known and taint keys unique; zones must be zones of the cluster's VPC; the node group
 *   name `<cluster>-<pool>` must fit EKS's 63 characters; pool names are unique per cluster.
 *
 * cluster-autoscaler: EKS tags the group's Auto Scaling group with the two auto-discovery tags itself
 * (`k8s.io/cluster-autoscaler/enabled`, `k8s.io/cluster-autoscaler/<cluster>`), and the autoscaler
 * reads a managed group's labels and taints with `eks:DescribeNodegroup` to scale it from zero.
 * Tags on the `AWS::EKS::Nodegroup` are NOT copied to its ASG, so the node-template tags this
 * construct also puts on the nodegroup are informational only; it does not tag the EKS-owned ASG.
 */
export class EksManagedNodeGroup extends Construct {
  readonly nodegroup: eks.Nodegroup;
  /** Labels the nodes register with. */
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly NodeTaint[];

  constructor(scope: Construct, id: string, props: EksManagedNodeGroupProps) {
    super(scope, id);
    const { pool, cluster } = props;
    const p = `nodePools.${pool.name}`;
    checkDnsLabel(`${p}.name`, pool.name);
    const nodegroupName = `${cluster.clusterName}-${pool.name}`;
    if (nodegroupName.length > MAX_NODEGROUP_NAME) {
      throw new PropError(
        `${p}.name`,
        pool.name,
        `makes the node group name "${nodegroupName}" ${nodegroupName.length} characters long; EKS allows ${MAX_NODEGROUP_NAME} (cluster name, "-", pool name)`,
      );
    }
    if (pool.role !== 'system' && pool.role !== 'user') {
      throw new PropError(`${p}.role`, pool.role, 'must be "system" or "user"');
    }
    if (pool.capacityType !== 'on-demand' && pool.capacityType !== 'spot' && pool.capacityType !== 'mixed') {
      throw new PropError(`${p}.capacityType`, pool.capacityType, 'must be "on-demand" or "spot"');
    }
    if (pool.capacityType === 'mixed') {
      throw new PropError(
        `${p}.capacityType`,
        pool.capacityType,
        'must be on-demand or spot for a managed node group; use MixedInstancesNodeGroup',
      );
    }
    if (pool.role === 'system' && pool.capacityType !== 'on-demand') {
      throw new PropError(`${p}.capacityType`, pool.capacityType, 'must be on-demand for a system pool');
    }
    checkInteger(`${p}.minSize`, pool.minSize, 0);
    checkInteger(`${p}.maxSize`, pool.maxSize, 1);
    checkMinMax(`${p}.minSize`, pool.minSize, `${p}.maxSize`, pool.maxSize);
    if (pool.capacityType === 'spot' && pool.instanceTypes.length < 2) {
      throw new PropError(
        `${p}.instanceTypes`,
        pool.instanceTypes,
        'must list at least two instance types for a spot pool',
      );
    }
    checkEqualInstanceSizes(`${p}.instanceTypes`, pool.instanceTypes);
    checkNodeLabels(`${p}.labels`, pool.labels ?? {}, [ELASTICAI_CAPACITY_LABEL, NODE_POOL_LABEL]);
    checkNodeTaints(`${p}.taints`, pool.taints ?? []);
    if (pool.zones !== undefined) checkPoolZones(`${p}.zones`, pool.zones, cluster.vpc.availabilityZones);
    claimPoolName(cluster, `${p}.name`, pool.name, this.node.path);

    const taints = [...(pool.taints ?? [])];
    if (pool.role === 'system' && !taints.some((t) => t.key === CRITICAL_ADDONS_TAINT.key)) {
      taints.push(CRITICAL_ADDONS_TAINT);
    }
    this.taints = taints;
    this.labels = {
      ...(pool.labels ?? {}),
      [ELASTICAI_CAPACITY_LABEL]: pool.capacityType,
      [NODE_POOL_LABEL]: pool.name,
    };

    const template = new NodeLaunchTemplate(this, 'LaunchTemplate', { rootVolumeGiB: props.rootVolumeGiB });
    const lt = template.launchTemplate;
    this.nodegroup = new eks.Nodegroup(this, 'Nodegroup', {
      cluster: cluster.cluster,
      nodegroupName,
      nodeRole: props.nodeRole,
      amiType: eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
      capacityType: pool.capacityType === 'spot' ? eks.CapacityType.SPOT : eks.CapacityType.ON_DEMAND,
      instanceTypes: pool.instanceTypes.map((t) => new ec2.InstanceType(t)),
      minSize: pool.minSize,
      maxSize: pool.maxSize,
      desiredSize: pool.minSize,
      subnets: {
        subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
        ...(pool.zones ? { availabilityZones: [...pool.zones] } : {}),
      },
      labels: { ...this.labels },
      ...(taints.length > 0
        ? { taints: taints.map((t) => ({ key: t.key, value: t.value, effect: EFFECTS[t.effect] })) }
        : {}),
      launchTemplateSpec: { id: lt.launchTemplateId as string, version: lt.latestVersionNumber },
      tags: { ...autoDiscoveryTags(cluster.clusterName), ...nodeTemplateTags(this.labels, taints) },
    });
  }
}
