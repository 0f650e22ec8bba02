/**
 * What the KEDA operator's IAM role must allow, derived from the cluster's own triggers: for every
 * `aws-sqs-queue` trigger, either read access to that queue (the operator's identity) or the right to
 * assume the role the trigger authenticates as (the workload's IRSA role or a fixed role ARN).
 */
import { IRSA_ROLE_ANNOTATION } from '../constructs/aws/irsa-role.js';
import {
  parseSqsQueueUrl,
  parseSqsVpcEndpointQueueUrl,
  sqsQueueArn,
} from '../constructs/k8s/keda/aws-sqs.js';
import { PropError } from '../constructs/k8s/validation.js';
import type { ClusterConfig } from './environment-types.js';

export interface KedaAwsAccess {
  /** Queues the operator reads itself. */
  readonly sqsQueueArns: string[];
  /** Roles the operator assumes for workload-owned or fixed-role triggers. */
  readonly assumableRoleArns: string[];
}

/**
 * An SQS queue URL's ARN, in the partition of the URL's region: `https://sqs.<region>.amazonaws.com/
 * <account>/<name>` -> `arn:aws:sqs:<region>:<account>:<name>`, and likewise for the China, GovCloud,
 * ISO, ISO-B, ISO-E, ISO-F and European Sovereign Cloud endpoints, the commercial FIPS and dual-stack
 * ones and the legacy `<region>.queue.amazonaws.com` (`parseSqsQueueUrl`). A URL on an SQS interface VPC endpoint's own DNS name,
 * `https://vpce-<id>.sqs.<region>.vpce.amazonaws.com/<account>/<name>` (regional or zonal), maps to
 * `arn:aws:sqs:<region>:<account>:<name>` likewise (`parseSqsVpcEndpointQueueUrl`); VPC endpoints of
 * the other partitions are refused until their domains are confirmed.
 */
export function sqsQueueArnFromUrl(prop: string, url: string): string {
  const vpce = parseSqsVpcEndpointQueueUrl(url);
  if (vpce) {
    if (!vpce.queue)
      throw new PropError(
        prop,
        url,
        'must be a queue URL on the VPC endpoint https://vpce-<id>.sqs.<region>.vpce.amazonaws.com/<account>/<queue>',
      );
    if (vpce.hostProblem !== undefined) throw new PropError(prop, url, vpce.hostProblem);
    return sqsQueueArn(vpce.queue);
  }
  const queue = parseSqsQueueUrl(url);
  if (!queue)
    throw new PropError(
      prop,
      url,
      'must be an SQS queue URL https://sqs.<region>.amazonaws.com/<account>/<queue>',
    );
  if (queue.hostProblem !== undefined) throw new PropError(prop, url, queue.hostProblem);
  return sqsQueueArn(queue);
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
