/**
 * Well-known Azure built-in role definition ids (GUIDs). They are the same in every tenant and
 * subscription; the ids are those listed in Microsoft's "Azure built-in roles" reference
 * (learn.microsoft.com/azure/role-based-access-control/built-in-roles) and returned by
 * `az role definition list --name "<role name>" --query "[].name"`.
 */
export const BuiltInRole = Object.freeze({
  /** Query Prometheus metrics of an Azure Monitor workspace (read-only data plane). */
  monitoringDataReader: 'b0d8363b-8ddd-447d-831f-62ca05bff136',
  /** Receive (peek, read, settle) messages of a Service Bus namespace, queue or subscription. */
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  /**
   * Full data-plane access to a Service Bus entity. KEDA's azure-servicebus scaler reads queue runtime
   * properties (active message count), which needs the Manage claim: no narrower built-in role carries
   * it (kedacore/keda issues 806 and 7822), so it is granted on the single queue, never the namespace.
   */
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419',
} as const);

/** Name of a role in {@link BuiltInRole}. */
export type BuiltInRoleName = keyof typeof BuiltInRole;

/**
 * The subscription-scoped resource id of a built-in role definition, as ARM role assignments take it:
 * `/subscriptions/<subscription>/providers/Microsoft.Authorization/roleDefinitions/<guid>`. The
 * subscription is read from `scope`, the resource id the role is assigned on.
 */
export function roleDefinitionId(scope: string, role: BuiltInRoleName): string {
  const match = /^\/subscriptions\/([^/]+)(\/|$)/i.exec(scope);
  if (!match) {
    throw new Error(
      `role assignment scope: must be an Azure resource id under /subscriptions/ (got ${JSON.stringify(scope)})`,
    );
  }
  return `/subscriptions/${match[1]}/providers/Microsoft.Authorization/roleDefinitions/${BuiltInRole[role]}`;
}
