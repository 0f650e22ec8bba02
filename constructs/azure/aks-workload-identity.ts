import * as pulumi from '@pulumi/pulumi';
import { RoleAssignment } from '@pulumi/azure-native/authorization/roleAssignment.js';
import { FederatedIdentityCredential } from '@pulumi/azure-native/managedidentity/federatedIdentityCredential.js';
import { UserAssignedIdentity } from '@pulumi/azure-native/managedidentity/userAssignedIdentity.js';
import { checkDnsLabel, checkDnsSubdomain, PropError } from '../k8s/validation.js';
import { type BuiltInRoleName, BuiltInRole, roleDefinitionId } from './builtin-roles.js';

/** The audience Entra ID expects in Kubernetes service-account tokens it exchanges. */
export const AZURE_TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

/** One role the identity gets, on one resource only. */
export interface AksRoleGrant {
  /** A built-in role (see {@link BuiltInRole}). */
  readonly role: BuiltInRoleName;
  /** Resource id the role is assigned on: the narrowest resource that works (a queue, a workspace). */
  readonly scope: pulumi.Input<string>;
}

/** Props for an {@link AksWorkloadIdentity}. */
export interface AksWorkloadIdentityProps {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  /** Azure name of the user-assigned identity, e.g. `id-prod-weu-keda`. */
  readonly identityName: string;
  /** OIDC issuer URL of the AKS cluster whose service-account tokens are trusted. */
  readonly oidcIssuerUrl: pulumi.Input<string>;
  /** Namespace of the Kubernetes service account. */
  readonly namespace: string;
  /** Name of the Kubernetes service account. */
  readonly serviceAccount: string;
  /** Role assignments, each scoped to one resource. @default none */
  readonly roles?: readonly AksRoleGrant[];
  /** Azure tags. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

const IDENTITY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/;

/**
 * Microsoft Entra Workload ID for one Kubernetes service account: a user-assigned managed identity, a
 * federated identity credential trusting the cluster's OIDC issuer for exactly
 * `system:serviceaccount:<namespace>:<serviceAccount>` (audience `api://AzureADTokenExchange`), and
 * least-privilege role assignments, each on a single resource. Pods of that service account get the
 * identity's tokens through the AKS workload-identity webhook (`WorkloadIdentity.azureWorkload(clientId)`
 * on the workload, `PodIdentity.azureWorkload({ identityId })` for KEDA).
 */
export class AksWorkloadIdentity extends pulumi.ComponentResource {
  readonly identity: UserAssignedIdentity;
  readonly federatedCredential: FederatedIdentityCredential;
  readonly roleAssignments: readonly RoleAssignment[];
  /** The identity's client id, for the service-account annotation / TriggerAuthentication. */
  readonly clientId: pulumi.Output<string>;
  readonly principalId: pulumi.Output<string>;
  /** `system:serviceaccount:<namespace>:<serviceAccount>`. */
  readonly subject: string;

  constructor(name: string, props: AksWorkloadIdentityProps, opts?: pulumi.ComponentResourceOptions) {
    if (!IDENTITY_NAME.test(props.identityName)) {
      throw new PropError(
        'identityName',
        props.identityName,
        'must be 3-128 letters, digits, "-" or "_", starting with a letter or digit',
      );
    }
    checkDnsLabel('namespace', props.namespace);
    checkDnsSubdomain('serviceAccount', props.serviceAccount);
    (props.roles ?? []).forEach((grant, i) => {
      if (!Object.hasOwn(BuiltInRole, grant.role)) {
        throw new PropError(
          `roles[${i}].role`,
          grant.role,
          `must be one of ${Object.keys(BuiltInRole).join(', ')}`,
        );
      }
    });
    super('elasticai:azure:AksWorkloadIdentity', name, {}, opts);
    this.subject = `system:serviceaccount:${props.namespace}:${props.serviceAccount}`;
    this.identity = new UserAssignedIdentity(
      `${name}-identity`,
      {
        resourceGroupName: props.resourceGroupName,
        location: props.location,
        resourceName: props.identityName,
        tags: { ...(props.tags ?? {}) },
      },
      { parent: this },
    );
    this.federatedCredential = new FederatedIdentityCredential(
      `${name}-federation`,
      {
        resourceGroupName: props.resourceGroupName,
        resourceName: this.identity.name,
        federatedIdentityCredentialResourceName: `${props.namespace}-${props.serviceAccount}`.replace(
          /\./g,
          '-',
        ),
        issuer: props.oidcIssuerUrl,
        subject: this.subject,
        audiences: [AZURE_TOKEN_EXCHANGE_AUDIENCE],
      },
      { parent: this },
    );
    this.roleAssignments = (props.roles ?? []).map(
      (grant, i) =>
        new RoleAssignment(
          `${name}-${grant.role}-${i}`,
          {
            principalId: this.identity.principalId,
            // Without it ARM may look the new principal up before Entra ID replicated it, and fail.
            principalType: 'ServicePrincipal',
            scope: grant.scope,
            roleDefinitionId: pulumi
              .output(grant.scope)
              .apply((scope) => roleDefinitionId(scope, grant.role)),
          },
          { parent: this },
        ),
    );
    this.clientId = this.identity.clientId;
    this.principalId = this.identity.principalId;
    this.registerOutputs({ clientId: this.clientId, principalId: this.principalId });
  }
}
