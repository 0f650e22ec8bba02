/**
 * cdk-nag (AwsSolutions) acknowledgements of an EKS cluster stack. Each one names one construct path
 * and one finding (rule id plus the exact policy or resource for granular rules) with the reason a
 * reviewer needs. A path that no longer exists is an error, so no acknowledgement outlives its finding.
 */
import { CfnElement, type Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import {
  autoScalingGroupArnPattern,
  nodegroupArnPattern,
} from '../constructs/aws/cluster-autoscaler-role.js';
import type { ClusterConfig } from './environment-types.js';

/** One acknowledgement: construct path below the stack, finding id, reason. */
export interface NagAcknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

const managedPolicy = (name: string): string =>
  `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`;

/** How cdk-nag prints an ARN built from tokens (`<AWS::Partition>`, `<AWS::AccountId>`). */
export function nagArn(stack: Stack, arn: string): string {
  const resolved: unknown = stack.resolve(arn);
  if (typeof resolved === 'string') return resolved;
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`cannot render ${JSON.stringify(resolved)} as cdk-nag does`);
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref === undefined) throw new Error(`cannot render ${JSON.stringify(part)} as cdk-nag does`);
      return `<${ref}>`;
    })
    .join(join[0]);
}

const NODE_POLICIES_REASON =
  'EKS worker nodes need exactly these AWS managed policies (EKS user guide, "Amazon EKS node IAM role"): ' +
  'node registration, the VPC CNI on the node role, and image pulls (ECR pull-only).';
const KUBECTL_REASON =
  'Role of the kubectl handler Lambda that aws-eks-v2 creates to apply Helm charts and manifests; ' +
  'its policies are fixed by aws-cdk-lib (basic execution, VPC access for the private endpoint, ECR read for the kubectl layer).';

/** The acknowledgements for one cluster's stack. */
export function awsNagAcknowledgements(stack: Stack, cluster: ClusterConfig): NagAcknowledgement[] {
  const asgArn = `AwsSolutions-IAM5[Resource::${nagArn(stack, autoScalingGroupArnPattern(stack))}]`;
  const acks: NagAcknowledgement[] = [
    // Control plane and kubectl handler: resources aws-eks-v2 creates itself.
    {
      path: 'Eks/Cluster/Role',
      id: managedPolicy('AmazonEKSClusterPolicy'),
      reason:
        'The EKS cluster service role requires the AmazonEKSClusterPolicy managed policy (EKS user guide, "Amazon EKS cluster IAM role").',
    },
    ...[
      'service-role/AWSLambdaBasicExecutionRole',
      'service-role/AWSLambdaVPCAccessExecutionRole',
      'AmazonEC2ContainerRegistryReadOnly',
    ].map((p) => ({
      path: 'Eks/Cluster/KubectlProvider/Handler/ServiceRole',
      id: managedPolicy(p),
      reason: KUBECTL_REASON,
    })),
    {
      path: 'Eks/Cluster/KubectlProvider/Handler/ServiceRole',
      id: `AwsSolutions-IAM4[Policy::${JSON.stringify({
        'Fn::If': [
          `${stack.getLogicalId(findCfn(stack, 'Eks/Cluster/KubectlProvider/Handler/HasEcrPublic'))}`,
          {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly',
              ],
            ],
          },
          { Ref: 'AWS::NoValue' },
        ],
      })}]`,
      reason: `${KUBECTL_REASON} Public ECR read is attached only in partitions where the kubectl layer image is pulled from ECR Public.`,
    },
    ...['service-role/AWSLambdaBasicExecutionRole', 'service-role/AWSLambdaVPCAccessExecutionRole'].map(
      (p) => ({
        path: 'Eks/Cluster/KubectlProvider/Provider/framework-onEvent/ServiceRole',
        id: managedPolicy(p),
        reason:
          'Role of the custom-resource provider framework Lambda (aws-cdk-lib) that fronts the kubectl handler; policies fixed by aws-cdk-lib.',
      }),
    ),
    {
      path: 'Eks/Cluster/KubectlProvider/Provider/framework-onEvent/ServiceRole/DefaultPolicy',
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(findCfn(stack, 'Eks/Cluster/KubectlProvider/Handler'))}.Arn>:*]`,
      reason:
        'The provider framework may invoke any version/alias of the one kubectl handler function it fronts (ARN suffix :*), nothing else.',
    },
    {
      path: 'Eks/Cluster/KubectlProvider/Handler',
      id: 'AwsSolutions-L1',
      reason:
        'The kubectl handler runtime is pinned by aws-cdk-lib 2.276 to match the kubectl/helm layer; it is upgraded with aws-cdk-lib, not here.',
    },
    // Shared node role of the managed node groups.
    ...['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryPullOnly'].map(
      (p) => ({
        path: 'ManagedNodeRole',
        id: managedPolicy(p),
        reason: NODE_POLICIES_REASON,
      }),
    ),
    // cluster-autoscaler and the termination handler.
    {
      path: 'ClusterAutoscalerRole/Role/DefaultPolicy',
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only the Describe*/Get* calls of cluster-autoscaler (DescribeAutoScalingGroups, DescribeAutoScalingInstances, DescribeLaunchConfigurations, DescribeScalingActivities, DescribeTags, DescribeImages, DescribeInstanceTypes, DescribeLaunchTemplateVersions, GetInstanceTypesFromInstanceRequirements): these EC2/Auto Scaling actions support no resource-level scoping.',
    },
    {
      path: 'ClusterAutoscalerRole/Role/DefaultPolicy',
      id: asgArn,
      reason: `SetDesiredCapacity/TerminateInstanceInAutoScalingGroup on any group of this account and region, but conditioned on aws:ResourceTag/k8s.io/cluster-autoscaler/${cluster.name}=owned and k8s.io/cluster-autoscaler/enabled=true: only this cluster's discovered groups.`,
    },
    {
      path: 'ClusterAutoscalerRole/Role/DefaultPolicy',
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, nodegroupArnPattern(stack, cluster.name))}]`,
      reason: `eks:DescribeNodegroup on the managed node groups of cluster ${cluster.name} only (labels and taints for scale from zero); node group names and ids are generated.`,
    },
    {
      path: 'NodeTerminationHandlerRole/Role/DefaultPolicy',
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only ec2:DescribeInstances, autoscaling:DescribeAutoScalingInstances and autoscaling:DescribeTags, which support no resource-level scoping (NTH maps an instance to its node and group).',
    },
    {
      path: 'NodeTerminationHandlerRole/Role/DefaultPolicy',
      id: asgArn,
      reason:
        'autoscaling:CompleteLifecycleAction conditioned on aws:ResourceTag/aws-node-termination-handler/managed=true: only the groups the handler drains.',
    },
  ];
  for (const pool of cluster.nodePools) {
    if (pool.capacityType !== 'mixed') continue;
    const base = `Pool-${pool.name}`;
    acks.push(
      ...['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryPullOnly'].map(
        (p) => ({
          path: `${base}/NodeRole`,
          id: managedPolicy(p),
          reason: NODE_POLICIES_REASON,
        }),
      ),
      {
        path: `${base}/Asg`,
        id: 'AwsSolutions-AS3',
        reason:
          'cluster-autoscaler, not people, drives this group; every scaling activity is in the ASG activity history and CloudTrail, and instance terminations reach the termination handler through the lifecycle hook and EventBridge, so SNS notifications would have no consumer.',
      },
      {
        path: `${base}/Asg`,
        id: 'AwsSolutions-EC26',
        reason:
          'The group launches from a launch template (MixedInstancesPolicy) whose only block device is an encrypted gp3 root volume (asserted by test/aws/mixed-instances-node-group.test.ts); the rule cannot see through the mixed-instances launch template.',
      },
    );
  }
  return acks;
}

/** Applies the acknowledgements to a cluster's stack. */
export function applyAwsNagSuppressions(stack: Stack, cluster: ClusterConfig): void {
  for (const ack of awsNagAcknowledgements(stack, cluster)) {
    Validations.of(findConstruct(stack, ack.path)).acknowledge({ id: ack.id, reason: ack.reason });
  }
}

function findConstruct(stack: Stack, path: string): IConstruct {
  let node: IConstruct = stack;
  for (const part of path.split('/')) {
    const child = node.node.tryFindChild(part);
    if (!child)
      throw new Error(`cdk-nag acknowledgement for a missing construct: ${stack.node.path}/${path}`);
    node = child;
  }
  return node;
}

/** The CfnElement at `path` (its default child when `path` is an L2 construct). */
function findCfn(stack: Stack, path: string): CfnElement {
  const c = findConstruct(stack, path);
  const el = c.node.defaultChild ?? c;
  if (!(el instanceof CfnElement))
    throw new Error(`not a CloudFormation element: ${stack.node.path}/${path}`);
  return el;
}
