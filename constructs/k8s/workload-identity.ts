import { checkIamRoleArn } from './aws-arns.js';
import { PropError } from './validation.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The cloud identity a workload's pods assume, without any credential in the manifest: AWS IRSA
 * (the EKS pod-identity webhook projects a web-identity token for the annotated role) or Azure
 * workload identity (the AKS webhook federates the ServiceAccount with a managed identity).
 */
export class WorkloadIdentity {
  /** IAM Roles for Service Accounts: annotates the ServiceAccount with the role to assume. */
  static awsIrsa(roleArn: string): WorkloadIdentity {
    checkIamRoleArn('identity.roleArn', roleArn);
    return new WorkloadIdentity({ 'eks.amazonaws.com/role-arn': roleArn }, {});
  }

  /**
   * Azure workload identity: the ServiceAccount names the managed identity's client id, and the pods
   * carry the `azure.workload.identity/use` label the AKS webhook selects on.
   */
  static azureWorkload(clientId: string, tenantId?: string): WorkloadIdentity {
    if (!GUID.test(clientId)) throw new PropError('identity.clientId', clientId, 'must be a GUID');
    if (tenantId !== undefined && !GUID.test(tenantId)) {
      throw new PropError('identity.tenantId', tenantId, 'must be a GUID');
    }
    return new WorkloadIdentity(
      {
        'azure.workload.identity/client-id': clientId,
        ...(tenantId ? { 'azure.workload.identity/tenant-id': tenantId } : {}),
      },
      { 'azure.workload.identity/use': 'true' },
    );
  }

  private constructor(
    /** Annotations of the workload's ServiceAccount. */
    readonly serviceAccountAnnotations: Readonly<Record<string, string>>,
    /** Labels of the workload's pods. */
    readonly podLabels: Readonly<Record<string, string>>,
  ) {}
}
