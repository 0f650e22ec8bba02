import { CfnJson } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { checkDnsLabel } from '../k8s/validation.js';

/** ServiceAccount annotation the EKS pod-identity webhook reads (IRSA). */
export const IRSA_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** Props for an {@link IrsaRole}. */
export interface IrsaRoleProps {
  /** The cluster's IAM OIDC provider. */
  readonly openIdConnectProvider: iam.IOpenIdConnectProvider;
  /** Namespace of the ServiceAccount. */
  readonly namespace: string;
  /** Name of the ServiceAccount allowed to assume the role. */
  readonly serviceAccount: string;
  /** What the role is for. */
  readonly description: string;
}

/**
 * An IAM role for one Kubernetes ServiceAccount (IRSA): only a web-identity token for exactly
 * `system:serviceaccount:<namespace>:<name>` with audience `sts.amazonaws.com`, issued by the
 * cluster's OIDC provider, can assume it. Permissions are added by the owner, statement by statement.
 */
export class IrsaRole extends Construct {
  readonly role: iam.Role;
  readonly namespace: string;
  readonly serviceAccount: string;

  constructor(scope: Construct, id: string, props: IrsaRoleProps) {
    super(scope, id);
    checkDnsLabel('namespace', props.namespace);
    checkDnsLabel('serviceAccount', props.serviceAccount);
    this.namespace = props.namespace;
    this.serviceAccount = props.serviceAccount;
    const issuer = props.openIdConnectProvider.openIdConnectProviderIssuer;
    // The issuer is a deploy-time value, so the condition keys are built with CfnJson.
    const conditions = new CfnJson(this, 'TrustConditions', {
      value: {
        [`${issuer}:aud`]: 'sts.amazonaws.com',
        [`${issuer}:sub`]: `system:serviceaccount:${props.namespace}:${props.serviceAccount}`,
      },
    });
    this.role = new iam.Role(this, 'Role', {
      description: props.description,
      assumedBy: new iam.OpenIdConnectPrincipal(props.openIdConnectProvider).withConditions({
        StringEquals: conditions,
      }),
    });
  }

  /** Annotations binding a ServiceAccount to this role. */
  get serviceAccountAnnotations(): Record<string, string> {
    return { [IRSA_ROLE_ANNOTATION]: this.role.roleArn };
  }
}
