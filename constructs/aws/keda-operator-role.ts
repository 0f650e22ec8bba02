import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { PropError } from '../k8s/validation.js';
import { IrsaRole } from './irsa-role.js';

/** Props for a {@link KedaOperatorRole}. */
export interface KedaOperatorRoleProps {
  readonly openIdConnectProvider: iam.IOpenIdConnectProvider;
  /**
   * Queues of `aws-sqs-queue` triggers that authenticate as the KEDA operator
   * (`podIdentity.identityOwner: keda`): the operator may read their attributes, nothing else.
   * @default []
   */
  readonly sqsQueueArns?: readonly string[];
  /**
   * Roles KEDA assumes for triggers whose identity is the workload's (`identityOwner: workload`, the
   * ServiceAccount's IRSA role) or a fixed `podIdentity.roleArn`. Each of those roles must trust this
   * one and carry the scaler's permissions itself. @default []
   */
  readonly assumableRoleArns?: readonly string[];
  /** KEDA's namespace. @default 'keda' */
  readonly namespace?: string;
  /** The operator's ServiceAccount (the chart's `serviceAccount.operator.name`). @default 'keda-operator' */
  readonly serviceAccount?: string;
}

const SQS_ARN = /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/**
 * The IRSA role of the KEDA operator, with per-trigger permissions only: `sqs:GetQueueAttributes` on
 * the named queues, `sts:AssumeRole` on the named roles, never a managed full-access policy. With
 * neither, the role has no permissions at all.
 */
export class KedaOperatorRole extends IrsaRole {
  readonly sqsQueueArns: readonly string[];
  readonly assumableRoleArns: readonly string[];

  constructor(scope: Construct, id: string, props: KedaOperatorRoleProps) {
    super(scope, id, {
      openIdConnectProvider: props.openIdConnectProvider,
      namespace: props.namespace ?? 'keda',
      serviceAccount: props.serviceAccount ?? 'keda-operator',
      description: 'KEDA operator: per-trigger scaler permissions',
    });
    this.sqsQueueArns = [...new Set(props.sqsQueueArns ?? [])].sort();
    this.assumableRoleArns = [...new Set(props.assumableRoleArns ?? [])].sort();
    for (const arn of this.sqsQueueArns) {
      if (!SQS_ARN.test(arn)) throw new PropError('sqsQueueArns', arn, 'must be an SQS queue ARN');
    }
    for (const arn of this.assumableRoleArns) {
      if (!ROLE_ARN.test(arn)) throw new PropError('assumableRoleArns', arn, 'must be an IAM role ARN');
    }
    if (this.sqsQueueArns.length > 0) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadTriggerQueues',
          actions: ['sqs:GetQueueAttributes'],
          resources: [...this.sqsQueueArns],
        }),
      );
    }
    if (this.assumableRoleArns.length > 0) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'AssumeWorkloadRoles',
          actions: ['sts:AssumeRole'],
          resources: [...this.assumableRoleArns],
        }),
      );
    }
  }
}
