/**
 * Which Azure workload identities an AKS cluster of the table needs, and the table rewritten with
 * their client ids. The table carries the placeholder client id `00000000-0000-0000-0000-000000000000`
 * where the Pulumi program creates the identity (workloads and the decision runtime); any other GUID is
 * kept as given (an identity managed elsewhere). KEDA TriggerAuthentications with
 * `PodIdentity.azureWorkload()` and no `identityId` get the KEDA identity's client id, which the AKS KEDA
 * add-on needs to pick the federated identity.
 */
import { DECISION_RUNTIME_NAME, DECISION_RUNTIME_NAMESPACE } from '../constructs/k8s/decision-runtime.js';
import { PodIdentity, type PodIdentityJson } from '../constructs/k8s/keda/trigger-authentication.js';
import { WorkloadIdentity } from '../constructs/k8s/workload-identity.js';
import type {
  ClusterConfig,
  TenantConfig,
  TriggerAuthenticationConfig,
  WorkloadConfig,
} from './environment-types.js';

/** The client id the table uses where the stack creates the identity. */
export const PLACEHOLDER_CLIENT_ID = '00000000-0000-0000-0000-000000000000';

/** The AKS KEDA add-on runs the operator here (not in `keda` as the Helm chart does). */
export const AKS_KEDA_NAMESPACE = 'kube-system';
/** Service account of the KEDA operator, the one KEDA's Azure scalers authenticate as. */
export const AKS_KEDA_SERVICE_ACCOUNT = 'keda-operator';
/** Namespace of the decision runtime (the platform namespace). */
export const RUNTIME_NAMESPACE: string = DECISION_RUNTIME_NAMESPACE;
/** Service account the decision runtime runs as (the DecisionRuntime's default name). */
export const RUNTIME_SERVICE_ACCOUNT: string = DECISION_RUNTIME_NAME;
/**
 * The query endpoint the table uses where the Pulumi program creates the cluster's Azure Monitor
 * workspace (managed Prometheus): its real endpoint carries a suffix Azure picks, known only after
 * `pulumi up` creates it. The stack puts the workspace's endpoint in its place.
 */
export const PLACEHOLDER_AZURE_MONITOR_QUERY_ENDPOINT =
  'https://amw-placeholder-0000.placeholder.prometheus.monitor.azure.com';

const CLIENT_ID_ANNOTATION = 'azure.workload.identity/client-id';
const TENANT_ID_ANNOTATION = 'azure.workload.identity/tenant-id';

/** A workload whose Azure identity the stack creates. */
export interface WorkloadIdentityNeed {
  /** `<tenant>/<workload>`. */
  readonly key: string;
  readonly tenant: string;
  readonly workload: string;
  /** Namespace and service account of the workload's pods (both named after tenant and workload). */
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** Client ids to write into the table. */
export interface AzureClientIds {
  /** The KEDA operator's identity. */
  readonly keda: string;
  /** Workload identities by `<tenant>/<workload>`. */
  readonly workloads: Readonly<Record<string, string>>;
  /** The decision runtime's identity (needed when the table's runtime has the placeholder). @default none */
  readonly runtime?: string;
}

function azureClientId(workload: WorkloadConfig): string | undefined {
  return workload.identity?.serviceAccountAnnotations[CLIENT_ID_ANNOTATION];
}

/** Workloads of the cluster with an Azure workload identity whose client id is the placeholder. */
export function workloadIdentityNeeds(cluster: ClusterConfig): WorkloadIdentityNeed[] {
  return cluster.tenants.flatMap((tenant) =>
    tenant.workloads
      .filter((w) => azureClientId(w) === PLACEHOLDER_CLIENT_ID)
      .map((w) => ({
        key: `${tenant.name}/${w.name}`,
        tenant: tenant.name,
        workload: w.name,
        namespace: tenant.name,
        serviceAccount: w.name,
      })),
  );
}

function bindTriggerAuthentication(
  auth: TriggerAuthenticationConfig,
  kedaClientId: string,
): TriggerAuthenticationConfig {
  const json: PodIdentityJson | undefined = auth.podIdentity?.render();
  if (json?.provider !== 'azure-workload' || json.identityId !== undefined) return auth;
  return {
    ...auth,
    podIdentity: PodIdentity.azureWorkload({
      identityId: kedaClientId,
      identityTenantId: json.identityTenantId,
      identityAuthorityHost: json.identityAuthorityHost,
    }),
  };
}

function bindWorkload(tenant: string, workload: WorkloadConfig, ids: AzureClientIds): WorkloadConfig {
  if (azureClientId(workload) !== PLACEHOLDER_CLIENT_ID) return workload;
  const key = `${tenant}/${workload.name}`;
  const clientId = ids.workloads[key];
  if (clientId === undefined) throw new Error(`no client id given for workload identity ${key}`);
  const tenantId = workload.identity?.serviceAccountAnnotations[TENANT_ID_ANNOTATION];
  return { ...workload, identity: WorkloadIdentity.azureWorkload(clientId, tenantId) };
}

/** Whether the table's runtime uses the identity the stack creates (placeholder client id). */
export function runtimeNeedsIdentity(cluster: ClusterConfig): boolean {
  return cluster.runtime?.identity?.serviceAccountAnnotations[CLIENT_ID_ANNOTATION] === PLACEHOLDER_CLIENT_ID;
}

function bindRuntime(cluster: ClusterConfig, ids: AzureClientIds): ClusterConfig['runtime'] {
  const runtime = cluster.runtime;
  if (!runtime || !runtimeNeedsIdentity(cluster)) return runtime;
  if (ids.runtime === undefined)
    throw new Error(`no client id given for the decision runtime of ${cluster.name}`);
  const tenantId = runtime.identity?.serviceAccountAnnotations[TENANT_ID_ANNOTATION];
  return { ...runtime, identity: WorkloadIdentity.azureWorkload(ids.runtime, tenantId) };
}

/** The cluster with placeholder client ids replaced (see the module comment). */
export function bindAzureClientIds(cluster: ClusterConfig, ids: AzureClientIds): ClusterConfig {
  const tenants: TenantConfig[] = cluster.tenants.map((tenant) => ({
    ...tenant,
    triggerAuthentications: tenant.triggerAuthentications?.map((a) => bindTriggerAuthentication(a, ids.keda)),
    workloads: tenant.workloads.map((w) => bindWorkload(tenant.name, w, ids)),
  }));
  const runtime = bindRuntime(cluster, ids);
  return { ...cluster, tenants, ...(runtime ? { runtime } : {}) };
}
