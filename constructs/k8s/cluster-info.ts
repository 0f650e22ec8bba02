import { Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import type { KubernetesVersion } from './kubernetes-version.js';
import { duplicateObjectErrors } from './duplicate-objects.js';

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

const CLUSTER_CHART = Symbol.for('elasticai.ClusterChart');

/**
 * A chart bound to one cluster. Constructs inside it read the cluster (its version, its node pools)
 * through {@link ClusterChart.find} to validate choices such as spot-only placement.
 */
export class ClusterChart extends Chart {
  /**
   * True for a ClusterChart. Not `instanceof`: cdk8s's Chart answers `instanceof` for every chart, so
   * `x instanceof ClusterChart` is true of a plain Chart too.
   */
  static isClusterChart(x: unknown): x is ClusterChart {
    return typeof x === 'object' && x !== null && CLUSTER_CHART in x;
  }

  /** The nearest enclosing ClusterChart, or undefined outside one. */
  static find(scope: Construct): ClusterChart | undefined {
    const found = scope.node.scopes.filter((c) => ClusterChart.isClusterChart(c));
    return found[found.length - 1];
  }

  readonly cluster: ClusterInfo;
  /** The brand {@link ClusterChart.isClusterChart} looks for. */
  readonly [CLUSTER_CHART] = true;

  constructor(scope: Construct, id: string, props: ClusterChartProps) {
    super(scope, id, props);
    this.cluster = props.cluster;
    this.node.addValidation({
      validate: () => duplicateObjectErrors(this, (c) => ClusterChart.isClusterChart(c)),
    });
  }
}

/** True when at least one pool of the cluster can run spot nodes. */
export function hasSpotCapacity(cluster: ClusterInfo): boolean {
  return cluster.nodePools.some((p) => p.capacityType === 'spot' || p.capacityType === 'mixed');
}
