// Entry point `elasticai/k8s`: the cloud-neutral cdk8s constructs. Importing it loads neither AWS nor
// Azure code.
export * from './autoscaled-workload.js';
export * from './autoscaler-profile.js';
export * from './cluster-autoscaler.js';
export * from './cluster-info.js';
export * from './decision-runtime.js';
export * from './gitops-addons.js';
export * from './headroom.js';
export * from './health-check.js';
export * from './keda/index.js';
export * from './kubernetes-version.js';
export * from './metric.js';
export * from './placement.js';
export * from './pod-security.js';
export * from './resources.js';
export * from './runtime-history.js';
export * from './runtime-trigger.js';
export * from './scalable-workload.js';
export * from './scaling-behavior.js';
export * from './system-namespace.js';
export * from './tenant.js';
export * from './validation.js';
export * from './vertical-pod-autoscaler.js';
export * from './workload-identity.js';
export * from './workload-scaling.js';
