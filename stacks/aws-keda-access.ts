/**
 * What the KEDA operator's IAM role must allow, derived from the cluster's own triggers: for every
 * `aws-sqs-queue` trigger, either read access to that queue (the operator's identity) or the right to
 * assume the role the trigger authenticates as (the workload's IRSA role or a fixed role ARN).
 */
import { IRSA_ROLE_ANNOTATION } from '../constructs/aws/irsa-role.js';
import { PropError } from '../constructs/k8s/validation.js';
import type { ClusterConfig } from './environment-types.js';

export interface KedaAwsAccess {
  /** Queues the operator reads itself. */
  readonly sqsQueueArns: string[];
  /** Roles the operator assumes for workload-owned or fixed-role triggers. */
  readonly assumableRoleArns: string[];
}

/** `https://sqs.<region>.amazonaws.com/<account>/<name>` -> `arn:aws:sqs:<region>:<account>:<name>`. */
export function sqsQueueArnFromUrl(prop: string, url: string): string {
  const m =
    /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/(\d{12})\/([A-Za-z0-9_-]{1,80}(\.fifo)?)$/.exec(
      url,
    );
  if (!m)
    throw new PropError(
      prop,
      url,
      'must be an SQS queue URL https://sqs.<region>.amazonaws.com/<account>/<queue>',
    );
  const region = m[1] as string;
  const partition = m[2] ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return `arn:${partition}:sqs:${region}:${m[3]}:${m[4]}`;
}

export function kedaAwsAccess(cluster: ClusterConfig): KedaAwsAccess {
  const queues = new Set<string>();
  const roles = new Set<string>();
  for (const tenant of cluster.tenants) {
    const auths = new Map((tenant.triggerAuthentications ?? []).map((a) => [a.name, a]));
    for (const workload of tenant.workloads) {
      const scaling = workload.scaling.spec;
      if (scaling.kind !== 'keda') continue;
      scaling.options.triggers.forEach((trigger, i) => {
        if (trigger.type !== 'aws-sqs-queue') return;
        const prop = `tenants.${tenant.name}.workloads.${workload.name}.scaling.triggers[${i}]`;
        const authName = trigger.authentication?.name;
        const identity = authName !== undefined ? auths.get(authName)?.podIdentity?.render() : undefined;
        if (!identity || identity.provider !== 'aws') {
          throw new PropError(
            `${prop}.authentication`,
            authName,
            'must name a TriggerAuthentication of the tenant with PodIdentity.aws()',
          );
        }
        if (identity.roleArn !== undefined) {
          roles.add(identity.roleArn);
        } else if (identity.identityOwner === 'workload') {
          const roleArn = workload.identity?.serviceAccountAnnotations[IRSA_ROLE_ANNOTATION];
          if (roleArn === undefined) {
            throw new PropError(
              `${prop}.authentication`,
              authName,
              `uses identityOwner "workload" but workload ${workload.name} has no IRSA identity`,
            );
          }
          roles.add(roleArn);
        } else {
          queues.add(sqsQueueArnFromUrl(`${prop}.queueUrl`, trigger.metadata.queueURL as string));
        }
      });
    }
  }
  return { sqsQueueArns: [...queues].sort(), assumableRoleArns: [...roles].sort() };
}
