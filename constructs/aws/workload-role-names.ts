/**
 * Deterministic IAM role names of the in-cluster components that call AWS. The CDK stack creates the
 * roles with these names; the GitOps synth (which runs without CDK and before any deploy) writes the
 * same ARNs into the ServiceAccount annotations and Helm values, so dev and staging clusters delivered
 * by Flux or Argo CD get working identities too. Pure: no aws-cdk-lib import, so the manifest synth
 * stays light.
 */
import { AWS_REGION_NAME, awsPartitionOf } from '../k8s/aws-regions.js';
import { PropError } from '../k8s/validation.js';

/** ServiceAccount annotation the EKS pod-identity webhook reads (IRSA). */
export const IRSA_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** Components with a well-known role. */
export type AwsWorkloadComponent = 'cluster-autoscaler' | 'keda-operator' | 'decision-runtime';

/** IAM role names are at most 64 characters. */
const MAX_ROLE_NAME = 64;

/** `elasticai-<cluster>-<component>`; throws when that exceeds IAM's 64 characters. */
export function awsWorkloadRoleName(clusterName: string, component: AwsWorkloadComponent): string {
  const name = `elasticai-${clusterName}-${component}`;
  if (name.length > MAX_ROLE_NAME) {
    throw new PropError(
      'name',
      clusterName,
      `is too long for the IAM role name "${name}" (max ${MAX_ROLE_NAME})`,
    );
  }
  return name;
}

/**
 * The role's ARN in `account` (a 12-digit account id), in the partition of the cluster's `region`
 * (`arn:aws-cn:…` in China, `arn:aws-us-gov:…` in GovCloud, `arn:aws-eusc:…` in the European Sovereign
 * Cloud; `awsPartitionOf`): IAM refuses a role ARN of another
 * partition, so the pods would get no credentials.
 */
export function awsWorkloadRoleArn(
  account: string,
  region: string,
  clusterName: string,
  component: AwsWorkloadComponent,
): string {
  if (!/^\d{12}$/.test(account))
    throw new PropError('aws.account', account, 'must be a 12-digit AWS account id');
  if (!AWS_REGION_NAME.test(region)) throw new PropError('region', region, 'must be an AWS region name');
  return `arn:${awsPartitionOf(region)}:iam::${account}:role/${awsWorkloadRoleName(clusterName, component)}`;
}
