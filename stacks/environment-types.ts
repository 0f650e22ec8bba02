import type { AutoscaledWorkloadProps } from '../constructs/k8s/autoscaled-workload.js';
import type { AutoscalerProfile } from '../constructs/k8s/autoscaler-profile.js';
import type { ClusterInfo } from '../constructs/k8s/cluster-info.js';
import type { DecisionRuntimeProps } from '../constructs/k8s/decision-runtime.js';
import type { HeadroomProps } from '../constructs/k8s/headroom.js';
import type { GitOpsAddonsProps } from '../constructs/k8s/gitops-addons.js';
import type { TriggerAuthenticationProps } from '../constructs/k8s/keda/trigger-authentication.js';
import type { MetricsScraping } from '../constructs/k8s/metrics-scraping.js';
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

/**
 * The decision runtime of a cluster: the DecisionRuntime props the table chooses. The platform chart
 * fills in the rest: the namespace (`elasticai-system`), the history days (the environment's
 * `metricsHistoryDays`), the tenants (each tenant's namespace, capped at its pod quota), and where not
 * given here KEDA's namespace, the scraping namespaces and ServiceMonitor flavour of the cloud, and on a
 * GitOps-delivered EKS cluster the IRSA role the CDK stack creates under a fixed name.
 */
export type ClusterRuntimeConfig = Omit<DecisionRuntimeProps, 'namespace' | 'historyDays' | 'tenants'>;

/**
 * ElasticAI's alerts (`RuntimeAlerts`) and Grafana dashboard (`GrafanaDashboard`) on a cluster with a
 * decision runtime. Where they go follows the runtime's metrics pipeline (see `buildClusterCharts`):
 * a PrometheusRule and a dashboard ConfigMap in the platform namespace beside a Prometheus operator
 * (the runtime's `monitoring.coreos.com/v1` ServiceMonitor), Azure Monitor rule groups created by the
 * Pulumi stack on AKS managed Prometheus, an Amazon Managed Prometheus rule groups namespace created by
 * the CDK stack where the runtime reads an AMP workspace.
 */
export interface ClusterObservabilityConfig {
  /** Write the runtime's alerts. @default true */
  readonly alerts?: boolean;
  /**
   * A dashboard ConfigMap for an in-cluster Grafana's dashboard sidecar (label `grafana_dashboard: "1"`,
   * platform namespace: the sidecar must search all namespaces, as kube-prometheus-stack's does).
   * @default true beside a Prometheus operator (kube-prometheus-stack ships Grafana with the sidecar);
   * false on AMP and Azure Monitor, whose Grafana (Amazon / Azure Managed Grafana) has no sidecar
   */
  readonly grafanaDashboard?: boolean;
  /**
   * `job` label of the runtime's scrape targets, where no ServiceMonitor of the runtime names it (the
   * collector feeding an AMP workspace must otherwise name the job `elasticai-runtime` and keep the
   * pods' `namespace` label, as a ServiceMonitor does). @default the runtime's name
   */
  readonly runtimeJob?: string;
  /**
   * Who scrapes the cluster's other metrics, on every cluster (with or without a runtime):
   * cluster-autoscaler, the KEDA operator, AWS Node Termination Handler, and the tenants' declared
   * metrics ports (`TenantProps.monitoring`). Their NetworkPolicies let in only its namespaces.
   * @default the runtime's pipeline (`clusterScraping`): `prometheusOperator()` beside a Prometheus
   * operator (the runtime's `monitoring.coreos.com/v1` ServiceMonitor: its labels and interval, the
   * namespaces let into the runtime's HTTP port), `azureManagedPrometheus()` on AKS with managed
   * Prometheus, else `collector()` from the `monitoring` namespace (Amazon Managed Prometheus' agent)
   */
  readonly scraping?: MetricsScraping;
}

/** A team's namespace with its quota, network allows, group and workloads. */
export interface TenantConfig extends Omit<TenantProps, 'name'> {
  readonly name: string;
  readonly triggerAuthentications?: readonly TriggerAuthenticationConfig[];
  readonly workloads: readonly WorkloadConfig[];
}

// ---- Azure (AKS) settings, read only by the Pulumi program (stacks/pulumi-program.ts, stacks/azure-*.ts) ----

/** A Service Bus queue that KEDA triggers of the cluster scale on, and the workloads that consume it. */
export interface AzureServiceBusQueueConfig {
  /** Resource group of the Service Bus namespace (created outside this package). */
  readonly resourceGroupName: string;
  /** Service Bus namespace name (the trigger's `namespace`). */
  readonly namespace: string;
  /** Queue name (the trigger's `queueName`). */
  readonly queue: string;
  /**
   * Workloads (`<tenant>/<workload>`) that receive from the queue: their workload identities get
   * Azure Service Bus Data Receiver on this queue only. KEDA's identity always gets the role its scaler
   * needs on every listed queue. @default []
   */
  readonly receivers?: readonly string[];
}

/** Azure-only settings of an AKS cluster (ignored for EKS clusters). */
export interface AzureClusterSettings {
  /** Resource group the program creates for the cluster. @default `rg-elasticai-<cluster name>` */
  readonly resourceGroupName?: string;
  /** Spot price cap per spot pool name, USD per node-hour; -1 pays up to on-demand. @default -1 */
  readonly spotMaxPrice?: Readonly<Record<string, number>>;
  /**
   * Azure Monitor managed Prometheus for the cluster (the decision runtime's metric source). @default true
   */
  readonly managedPrometheus?: boolean;
  /** Network policy engine on Azure CNI overlay. @default 'cilium' */
  readonly networkPolicy?: 'cilium' | 'calico';
  /** Entra ID groups given cluster-admin. @default [] */
  readonly adminGroupObjectIds?: readonly string[];
  /** Service Bus queues read by the cluster's KEDA triggers and workloads. @default [] */
  readonly serviceBusQueues?: readonly AzureServiceBusQueueConfig[];
}

/** One cluster of an environment: where it runs, its node pools, platform add-ons and tenants. */
export interface ClusterConfig extends ClusterInfo {
  /** AWS region or Azure location. */
  readonly region: string;
  /** EKS-only settings (account, zones, API endpoint, admin role, runtime hook). @default none */
  readonly aws?: AwsClusterSettings;
  /** Cluster-autoscaler tuning (flags on EKS, `autoScalerProfile` on AKS). @default upstream defaults */
  readonly autoscalerProfile?: Partial<AutoscalerProfile>;
  /**
   * KEDA and metrics-server installed by GitOps objects (Flux or Argo CD) in the synthesized output.
   * @default none: the cluster's CDK/Pulumi stack installs them (AKS add-ons, EKS Helm charts)
   */
  readonly gitopsAddons?: GitOpsAddonsProps;
  /** Spare node capacity kept ahead of demand. @default none */
  readonly headroom?: Omit<HeadroomProps, 'namespace'>;
  /**
   * ElasticAI's decision runtime (KEDA external scaler + REST API) in the platform chart, for triggers
   * built with `DecisionRuntime.reference().trigger(...)` and `HeadroomScaling.fromRuntime`.
   * @default not deployed
   */
  readonly runtime?: ClusterRuntimeConfig;
  /**
   * Alerts and dashboard of the runtime (only with `runtime`), and who scrapes the cluster's platform
   * components and tenants (every cluster). @default see ClusterObservabilityConfig
   */
  readonly observability?: ClusterObservabilityConfig;
  readonly tenants: readonly TenantConfig[];
  /** AKS-only settings (resource group, spot prices, monitoring, Service Bus access). @default none */
  readonly azure?: AzureClusterSettings;
}

/** One environment: its clusters and the settings that differ between environments. */
export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  /** Days control-plane and runtime logs are kept (EKS log group / Azure workspace retention). */
  readonly logRetentionDays: number;
  /**
   * Days of metric history the decision runtime learns from (its `historyDays`): at most 20,160 points
   * per workload, so more than 14 days reach only workloads with intervals over a minute.
   */
  readonly metricsHistoryDays: number;
  readonly clusters: readonly ClusterConfig[];
}

// ---- AWS (EKS) settings, read only by the CDK app (stacks/cdk-app.ts, stacks/aws-*.ts) ----

/** The decision runtime on EKS: its IRSA role and image. Unset parts are skipped. */
export interface AwsRuntimeSettings {
  /**
   * Folder with the runtime's Dockerfile, staged by synth as a Docker image asset (built and pushed
   * only by `cdk deploy`). On a cluster whose charts the CDK stack applies, the runtime Deployment runs
   * this image instead of `runtime.image`. @default no image asset
   */
  readonly imageAssetDirectory?: string;
  /**
   * Amazon Managed Service for Prometheus workspace the runtime may query (read only).
   * @default none: the runtime's role has no AWS permission
   */
  readonly prometheusWorkspaceArn?: string;
}

/** AWS-only settings of an EKS cluster (ignored for AKS clusters). */
export interface AwsClusterSettings {
  /**
   * Account the cluster's stack deploys to.
   * @default CDK_DEFAULT_ACCOUNT (the CLI's credentials), else an environment-agnostic stack
   */
  readonly account?: string;
  /** Availability zones of the cluster's VPC. @default `<region>a`, `<region>b`, `<region>c` */
  readonly availabilityZones?: readonly string[];
  /**
   * CIDRs that may reach a public Kubernetes API endpoint (in addition to private access).
   * @default none: private endpoint only
   */
  readonly publicEndpointCidrs?: readonly string[];
  /** IAM role given cluster-admin through an EKS access entry. @default none */
  readonly adminRoleArn?: string;
  /**
   * The decision runtime's image asset and Managed Prometheus workspace. The runtime's IRSA role exists
   * whenever this or `ClusterConfig.runtime` is set. @default no image asset, no workspace access
   */
  readonly runtime?: AwsRuntimeSettings;
}
