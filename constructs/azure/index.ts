// Entry point `elasticai/azure`: Pulumi ComponentResources for AKS. Importing it loads Pulumi,
// @pulumi/azure-native (per module) and @pulumi/kubernetes, never aws-cdk-lib.
export * from './aks-autoscaler-profile.js';
export * from './aks-cluster.js';
export * from './aks-control-plane-logs.js';
export * from './aks-managed-prometheus.js';
export * from './aks-manifests.js';
export * from './aks-node-pool.js';
export * from './aks-pool-spec.js';
export * from './aks-workload-identity.js';
export * from './builtin-roles.js';
export * from './kubeconfig.js';
