// IAM role ARNs, checked by one rule wherever a construct takes one: the cloud-neutral constructs
// (WorkloadIdentity, PodIdentity, the GitOps KEDA add-on) and the AWS ones (through aws-checks). It lives
// here because `constructs/k8s` may not import `constructs/aws`; it imports only the PropError and the
// partitions of `aws-regions.ts`.
import { AWS_PARTITIONS } from './aws-regions.js';
import { PropError } from './validation.js';

/** `arn:<partition>:iam::<account>:role/<path and name>`, split into its fields. */
const ROLE_ARN_FIELDS = /^arn:([^:]*):iam::([^:]*):role\/(.*)$/;
/** IAM role names: 1-64 letters, digits and `+=,.@_-`. */
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** What a role path has between its first and last `/`: printable ASCII (`!` to `~`), `/` included. */
const ROLE_PATH_INNER = /^[\x21-\x7e]+$/;
/** The refusal of anything that does not have the form of a role ARN at all. */
const FORM = 'must be an IAM role ARN like "arn:aws:iam::123456789012:role/<name>"';
/** A role path, leading and trailing `/` included, is at most 512 characters. */
const MAX_ROLE_PATH = 512;

/**
 * Why `value` is not an IAM role ARN (a PropError reason), or undefined if it is one. The form is
 * `arn:<partition>:iam::<12-digit account>:role/<name>` or `...:role/<path>/<name>`: the partition one
 * of {@link AWS_PARTITIONS}, the role path (`/<path>/`, slashes included) at most 512 characters of
 * printable ASCII, the name 1-64 letters, digits and `+=,.@_-` (IAM's `Path` and `RoleName`).
 */
function iamRoleArnProblem(value: unknown): string | undefined {
  const m = typeof value === 'string' ? ROLE_ARN_FIELDS.exec(value) : null;
  if (!m) return FORM;
  const partition = m[1] as string;
  const account = m[2] as string;
  const rest = m[3] as string;
  if (!AWS_PARTITIONS.includes(partition)) {
    return `must be an IAM role ARN: its partition "${partition}" is not one of ${AWS_PARTITIONS.join(', ')}`;
  }
  if (!/^\d{12}$/.test(account)) return `must be an IAM role ARN: its account "${account}" is not 12 digits`;
  const slash = rest.lastIndexOf('/');
  const name = rest.slice(slash + 1);
  if (name.length === 0 || name.length > 64) {
    return `must be an IAM role ARN: its role name is ${name.length} characters long (1-64)`;
  }
  if (!ROLE_NAME.test(name)) {
    return `must be an IAM role ARN: its role name "${name}" has characters other than letters, digits and "+=,.@_-"`;
  }
  if (slash >= 0) {
    const path = `/${rest.slice(0, slash + 1)}`;
    if (path.length > MAX_ROLE_PATH) {
      return `must be an IAM role ARN: its role path is ${path.length} characters long (at most ${MAX_ROLE_PATH})`;
    }
    if (!ROLE_PATH_INNER.test(path.slice(1, -1))) {
      return `must be an IAM role ARN: its role path "${path}" is not "/" or "/<path>/" with printable ASCII (no spaces) between the slashes`;
    }
  }
  return undefined;
}

/**
 * Throws a PropError naming `prop`, the value and what is wrong with it unless `value` is an IAM role
 * ARN (see {@link iamRoleArnProblem}). CDK tokens are the caller's business: this checks literals.
 */
export function checkIamRoleArn(prop: string, value: unknown): void {
  const problem = iamRoleArnProblem(value);
  if (problem !== undefined) throw new PropError(prop, value, problem);
}
