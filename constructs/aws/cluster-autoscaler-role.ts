import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { CA_ENABLED_TAG, clusterOwnedTag } from './autoscaler-tags.js';
import { IrsaRole } from './irsa-role.js';

/** ARN pattern of every Auto Scaling group of the stack's account and region (narrowed by tag conditions). */
export function autoScalingGroupArnPattern(scope: Construct): string {
  return Stack.of(scope).formatArn({
    service: 'autoscaling',
    resource: 'autoScalingGroup',
    resourceName: '*:autoScalingGroupName/*',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** ARN pattern of the managed node groups of one cluster. */
export function nodegroupArnPattern(scope: Construct, clusterName: string): string {
  return Stack.of(scope).formatArn({
    service: 'eks',
    resource: 'nodegroup',
    resourceName: `${clusterName}/*/*`,
  });
}

/** Props for a {@link ClusterAutoscalerRole}. */
export interface ClusterAutoscalerRoleProps {
  readonly openIdConnectProvider: iam.IOpenIdConnectProvider;
  /** Cluster name: the discovery tag that scopes the write actions. */
  readonly clusterName: string;
  /** Namespace of the autoscaler's ServiceAccount. @default 'kube-system' */
  readonly namespace?: string;
  /** Name of the autoscaler's ServiceAccount. @default 'cluster-autoscaler' */
  readonly serviceAccount?: string;
}

/** Read actions cluster-autoscaler's AWS provider calls (its README, "Full Cluster Autoscaler Features Policy"). */
export const CLUSTER_AUTOSCALER_READ_ACTIONS = [
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeAutoScalingInstances',
  'autoscaling:DescribeLaunchConfigurations',
  'autoscaling:DescribeScalingActivities',
  'autoscaling:DescribeTags',
  'ec2:DescribeImages',
  'ec2:DescribeInstanceTypes',
  'ec2:DescribeLaunchTemplateVersions',
  'ec2:GetInstanceTypesFromInstanceRequirements',
];

/** The only writes: resize a group and remove one chosen instance. */
export const CLUSTER_AUTOSCALER_WRITE_ACTIONS = [
  'autoscaling:SetDesiredCapacity',
  'autoscaling:TerminateInstanceInAutoScalingGroup',
];

/**
 * The IRSA role of cluster-autoscaler. Writes are allowed only on Auto Scaling groups carrying this
 * cluster's discovery tags (`k8s.io/cluster-autoscaler/<cluster>=owned` and
 * `k8s.io/cluster-autoscaler/enabled=true`); reads are the Describe/Get calls the AWS provider makes
 * (AWS offers no resource scoping for them), plus `eks:DescribeNodegroup` on this cluster's managed
 * node groups only (labels and taints for scale from zero).
 */
export class ClusterAutoscalerRole extends IrsaRole {
  constructor(scope: Construct, id: string, props: ClusterAutoscalerRoleProps) {
    super(scope, id, {
      openIdConnectProvider: props.openIdConnectProvider,
      namespace: props.namespace ?? 'kube-system',
      serviceAccount: props.serviceAccount ?? 'cluster-autoscaler',
      description: `cluster-autoscaler of EKS cluster ${props.clusterName}`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ScaleOwnedGroupsOnly',
        actions: CLUSTER_AUTOSCALER_WRITE_ACTIONS,
        resources: [autoScalingGroupArnPattern(this)],
        conditions: {
          StringEquals: {
            [`aws:ResourceTag/${clusterOwnedTag(props.clusterName)}`]: 'owned',
            [`aws:ResourceTag/${CA_ENABLED_TAG}`]: 'true',
          },
        },
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DiscoverGroupsAndInstanceTypes',
        actions: CLUSTER_AUTOSCALER_READ_ACTIONS,
        resources: ['*'],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnManagedNodegroups',
        actions: ['eks:DescribeNodegroup'],
        resources: [nodegroupArnPattern(this, props.clusterName)],
      }),
    );
  }
}
