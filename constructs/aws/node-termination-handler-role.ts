import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { autoScalingGroupArnPattern } from './cluster-autoscaler-role.js';
import { IrsaRole } from './irsa-role.js';
import { NTH_MANAGED_TAG } from './node-termination-handler.js';

/** Props for a {@link NodeTerminationHandlerRole}. */
export interface NodeTerminationHandlerRoleProps {
  readonly openIdConnectProvider: iam.IOpenIdConnectProvider;
  /** The queue NTH reads. */
  readonly queue: sqs.IQueue;
  /** Namespace of NTH's ServiceAccount. @default 'kube-system' */
  readonly namespace?: string;
  /** NTH's ServiceAccount. @default 'aws-node-termination-handler' */
  readonly serviceAccount?: string;
}

/**
 * The IRSA role of AWS Node Termination Handler in queue mode (the permissions its README lists):
 * receive and delete messages of its own queue only; complete lifecycle actions only on groups tagged
 * `aws-node-termination-handler/managed`; and the Describe calls it needs to map an instance to its
 * node and group (not resource-scopable).
 */
export class NodeTerminationHandlerRole extends IrsaRole {
  constructor(scope: Construct, id: string, props: NodeTerminationHandlerRoleProps) {
    super(scope, id, {
      openIdConnectProvider: props.openIdConnectProvider,
      namespace: props.namespace ?? 'kube-system',
      serviceAccount: props.serviceAccount ?? 'aws-node-termination-handler',
      description: 'AWS Node Termination Handler (queue mode)',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ConsumeOwnQueue',
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'],
        resources: [props.queue.queueArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CompleteLifecycleOfManagedGroups',
        actions: ['autoscaling:CompleteLifecycleAction'],
        resources: [autoScalingGroupArnPattern(this)],
        conditions: { StringEquals: { [`aws:ResourceTag/${NTH_MANAGED_TAG}`]: 'true' } },
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'MapInstancesToNodes',
        actions: [
          'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeTags',
          'ec2:DescribeInstances',
        ],
        resources: ['*'],
      }),
    );
  }
}
