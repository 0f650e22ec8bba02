// Public API of the AWS (aws-cdk-lib) constructs. Nothing here imports Azure or Pulumi code.
export * from './autoscaler-tags.js';
export * from './cluster-autoscaler-role.js';
export * from './decision-runtime-role.js';
export * from './eks-helm-addons.js';
export * from './eks-managed-node-group.js';
export * from './elastic-eks-cluster.js';
export * from './instance-sizes.js';
export * from './irsa-role.js';
export * from './workload-role-names.js';
export * from './keda-operator-role.js';
export * from './mixed-instances-node-group.js';
export * from './node-launch-template.js';
export * from './node-termination-handler.js';
export * from './node-termination-handler-role.js';
export * from './nodeadm-user-data.js';
export * from './spot-interruption-queue.js';
