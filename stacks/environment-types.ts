import type { AutoscaledWorkloadProps } from '../constructs/k8s/autoscaled-workload.js';
import type { AutoscalerProfile } from '../constructs/k8s/autoscaler-profile.js';
import type { ClusterInfo } from '../constructs/k8s/cluster-info.js';
import type { HeadroomProps } from '../constructs/k8s/headroom.js';
import type { GitOpsAddonsProps } from '../constructs/k8s/gitops-addons.js';
import type { TriggerAuthenticationProps } from '../constructs/k8s/keda/trigger-authentication.js';
import type { TenantProps } from '../constructs/k8s/tenant.js';
import type { VerticalPodAutoscalerProps } from '../constructs/k8s/vertical-pod-autoscaler.js';

/** The environments ElasticAI ships a configuration for. */
export type EnvironmentName = 'dev' | 'staging' | 'prod';

/** One workload of a tenant: the workload construct's props, plus an optional VPA. */
export interface WorkloadConfig extends Omit<AutoscaledWorkloadProps, 'namespace' | 'name'> {
  readonly name: string;
  /** A VerticalPodAutoscaler for the workload (recommendation-only unless stated). @default none */
  readonly vpa?: Omit<VerticalPodAutoscalerProps, 'target'>;
}

/** A KEDA TriggerAuthentication created in the tenant's namespace, referenced by triggers by name. */
export interface TriggerAuthenticationConfig extends Omit<TriggerAuthenticationProps, 'namespace'> {
  readonly name: string;
}

/** A team's namespace with its quota, network allows, group and workloads. */
export interface TenantConfig extends Omit<TenantProps, 'name'> {
  readonly name: string;
  readonly triggerAuthentications?: readonly TriggerAuthenticationConfig[];
  readonly workloads: readonly WorkloadConfig[];
}

/** One cluster of an environment: where it runs, its node pools, platform add-ons and tenants. */
export interface ClusterConfig extends ClusterInfo {
  /** AWS region or Azure location. */
  readonly region: string;
  /** Cluster-autoscaler tuning (flags on EKS, `autoScalerProfile` on AKS). @default upstream defaults */
  readonly autoscalerProfile?: Partial<AutoscalerProfile>;
  /**
   * KEDA and metrics-server installed by GitOps objects (Flux or Argo CD) in the synthesized output.
   * @default none: the cluster's CDK/Pulumi stack installs them (AKS add-ons, EKS Helm charts)
   */
  readonly gitopsAddons?: GitOpsAddonsProps;
  /** Spare node capacity kept ahead of demand. @default none */
  readonly headroom?: Omit<HeadroomProps, 'namespace'>;
  readonly tenants: readonly TenantConfig[];
}

/** One environment: its clusters and the settings that differ between environments. */
export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  /** Days control-plane and runtime logs are kept (EKS log group / Azure workspace retention). */
  readonly logRetentionDays: number;
  /** Days of metric history the decision runtime learns from. */
  readonly metricsHistoryDays: number;
  readonly clusters: readonly ClusterConfig[];
}
