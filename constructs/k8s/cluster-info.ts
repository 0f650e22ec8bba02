import { Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import type { KubernetesVersion } from './kubernetes-version.js';

/** The cloud a cluster runs on; decides the node-group naming and identity conventions. */
export type Cloud = 'aws' | 'azure';

/**
 * How a node pool buys its capacity. `mixed` is an AWS Auto Scaling group with a MixedInstancesPolicy
 * (an on-demand base plus spot above it); its nodes can be either.
 */
export type CapacityType = 'on-demand' | 'spot' | 'mixed';

/** A node taint as the kubelet registers it. */
export interface NodeTaint {
  readonly key: string;
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** Cloud-neutral description of one node pool (EKS node group / ASG, AKS agent pool). */
export interface NodePoolInfo {
  /** Pool name; AKS limits it to 12 lowercase alphanumerics, so keep names short on Azure. */
  readonly name: string;
  /** `system` pools run cluster add-ons only (tainted `CriticalAddonsOnly`). */
  readonly role: 'system' | 'user';
  readonly capacityType: CapacityType;
  /** Instance types (EC2) or VM sizes (Azure). All must have equal vCPU and memory for the autoscaler. */
  readonly instanceTypes: readonly string[];
  readonly minSize: number;
  readonly maxSize: number;
  /** Extra node labels (the cloud's own capacity labels are added by the cloud). @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** Extra node taints. @default [] */
  readonly taints?: readonly NodeTaint[];
  /**
   * On-demand/spot split of a `mixed` pool (AWS MixedInstancesPolicy). @default required for `mixed`,
   * unused otherwise
   */
  readonly mixed?: {
    /** On-demand nodes always kept before any spot. */
    readonly onDemandBase: number;
    /** Percentage of nodes above the base that are on-demand (0 = all spot). */
    readonly onDemandPercentageAboveBase: number;
  };
  /** Availability zones (AKS zone numbers or AWS AZ names). @default all of the region's */
  readonly zones?: readonly string[];
}

/** Cloud-neutral description of one cluster, read by every construct that must fit the cluster. */
export interface ClusterInfo {
  readonly name: string;
  readonly cloud: Cloud;
  readonly kubernetesVersion: KubernetesVersion;
  readonly nodePools: readonly NodePoolInfo[];
  /**
   * Whether the cluster runs the Vertical Pod Autoscaler (its CRDs and recommender): AKS's managed
   * VPA add-on, or the chart installed by GitOpsAddons or Helm. VerticalPodAutoscaler objects are
   * refused at synth in a cluster without it, since they could not even be applied.
   * @default false
   */
  readonly verticalPodAutoscaler?: boolean;
}

/** Props for a {@link ClusterChart}. */
export interface ClusterChartProps extends ChartProps {
  /** The cluster the chart's objects are applied to. */
  readonly cluster: ClusterInfo;
}

/**
 * A chart bound to one cluster. Constructs inside it read the cluster (its version, its node pools)
 * through {@link ClusterChart.find} to validate choices such as spot-only placement.
 */
export class ClusterChart extends Chart {
  /** The nearest enclosing ClusterChart, or undefined outside one. */
  static find(scope: Construct): ClusterChart | undefined {
    const found = scope.node.scopes.filter((c): c is ClusterChart => c instanceof ClusterChart);
    return found[found.length - 1];
  }

  readonly cluster: ClusterInfo;

  constructor(scope: Construct, id: string, props: ClusterChartProps) {
    super(scope, id, props);
    this.cluster = props.cluster;
  }
}

/** True when at least one pool of the cluster can run spot nodes. */
export function hasSpotCapacity(cluster: ClusterInfo): boolean {
  return cluster.nodePools.some((p) => p.capacityType === 'spot' || p.capacityType === 'mixed');
}
