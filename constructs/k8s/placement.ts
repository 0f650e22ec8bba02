import type { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { ClusterChart, hasSpotCapacity } from './cluster-info.js';

/** Node label EKS managed node groups set to `SPOT` or `ON_DEMAND`. */
export const EKS_CAPACITY_TYPE_LABEL = 'eks.amazonaws.com/capacityType';
/** Label (and NoSchedule taint key) AKS puts on spot pools, value `spot`. */
export const AKS_SCALESET_PRIORITY_LABEL = 'kubernetes.azure.com/scalesetpriority';
/**
 * Label ElasticAI puts on the nodes of its own groups (`spot` / `on-demand`), including
 * self-managed mixed-instances groups, which EKS does not label.
 */
export const ELASTICAI_CAPACITY_LABEL = 'elasticai.io/capacity-type';

/** Which kind of capacity a workload may run on. */
export type PlacementKind = 'on-demand-only' | 'spot-preferred' | 'spot-only';

const SPOT_TOLERATION: k8s.Toleration = {
  key: AKS_SCALESET_PRIORITY_LABEL,
  operator: 'Equal',
  value: 'spot',
  effect: 'NoSchedule',
};

/** Node-selector expressions that select spot nodes, one per cloud convention (ORed terms). */
const SPOT_SELECTORS: k8s.NodeSelectorRequirement[] = [
  { key: EKS_CAPACITY_TYPE_LABEL, operator: 'In', values: ['SPOT'] },
  { key: AKS_SCALESET_PRIORITY_LABEL, operator: 'In', values: ['spot'] },
  { key: ELASTICAI_CAPACITY_LABEL, operator: 'In', values: ['spot'] },
];

/**
 * Where a workload's pods may be scheduled, rendered as tolerations and node affinity that work on
 * both EKS (`eks.amazonaws.com/capacityType`) and AKS (`kubernetes.azure.com/scalesetpriority`).
 */
export class Placement {
  /**
   * Never on spot. Uses `NotIn` so nodes without any capacity label (self-managed on-demand groups)
   * qualify, and does not tolerate the AKS spot taint.
   */
  static onDemandOnly(): Placement {
    return new Placement('on-demand-only');
  }

  /**
   * Prefer spot, fall back to on-demand when spot is short or reclaimed. Tolerates the AKS spot taint.
   * @param weight preference weight 1-100. @default 100
   */
  static spotPreferred(weight = 100): Placement {
    if (!Number.isInteger(weight) || weight < 1 || weight > 100) {
      throw new Error(`placement.spotPreferred weight: must be an integer between 1 and 100 (got ${weight})`);
    }
    return new Placement('spot-preferred', weight);
  }

  /** Only on spot nodes: cheapest, for interruption-tolerant work. Requires a spot pool in the cluster. */
  static spotOnly(): Placement {
    return new Placement('spot-only');
  }

  private constructor(
    readonly kind: PlacementKind,
    private readonly weight = 100,
  ) {}

  /** True if pods can only run on spot capacity. */
  get requiresSpot(): boolean {
    return this.kind === 'spot-only';
  }

  /**
   * Synth-time check against the cluster of the enclosing ClusterChart: a spot-only placement in a
   * cluster without any spot pool could never schedule. `prop` and `what` name the placement's owner.
   */
  validateIn(scope: Construct, prop: string, what: string): string[] {
    const cluster = ClusterChart.find(scope)?.cluster;
    if (!cluster || !this.requiresSpot || hasSpotCapacity(cluster)) return [];
    const pools = cluster.nodePools.map((p) => `${p.name} (${p.capacityType})`).join(', ');
    return [
      `${prop}: spot-only ${what} cannot run in cluster "${cluster.name}", which has no spot pool (pools: ${pools})`,
    ];
  }

  /**
   * The pod-spec fields that implement this placement: `affinity` always, `tolerations` only when
   * there are any (so manifests carry no empty lists). Spread into a pod spec.
   */
  podSpecFields(): { tolerations?: k8s.Toleration[]; affinity: k8s.Affinity } {
    const tolerations = this.tolerations();
    return {
      ...(tolerations.length > 0 ? { tolerations } : {}),
      affinity: { nodeAffinity: this.nodeAffinity() },
    };
  }

  /** Tolerations for the pod spec. */
  tolerations(): k8s.Toleration[] {
    return this.kind === 'on-demand-only' ? [] : [{ ...SPOT_TOLERATION }];
  }

  /** Node affinity for the pod spec. */
  nodeAffinity(): k8s.NodeAffinity {
    switch (this.kind) {
      case 'on-demand-only':
        return {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: SPOT_SELECTORS.map((s) => ({ ...s, operator: 'NotIn' })),
              },
            ],
          },
        };
      case 'spot-preferred':
        return {
          preferredDuringSchedulingIgnoredDuringExecution: SPOT_SELECTORS.map((s) => ({
            weight: this.weight,
            preference: { matchExpressions: [{ ...s }] },
          })),
        };
      case 'spot-only':
        return {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: SPOT_SELECTORS.map((s) => ({ matchExpressions: [{ ...s }] })),
          },
        };
    }
  }
}
