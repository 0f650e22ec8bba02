import type { IConstruct } from 'constructs';
import type { ResourceAmounts } from './resources.js';

/** A resource whose utilisation can drive horizontal scaling. */
export type ScaledResource = 'cpu' | 'memory';

/**
 * What other constructs (VPA, headroom, KEDA objects) need to know about a workload: how to reference
 * it, and which resources its horizontal autoscaler reacts to (so a VPA does not fight it).
 */
export interface IScalableWorkload extends IConstruct {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  /** Resources whose utilisation drives the workload's HPA or KEDA cpu/memory triggers. */
  readonly horizontallyScaledOn: readonly ScaledResource[];
}

/** What a workload can claim from its namespace at its largest (max replicas, plus rollout surge). */
export interface PeakDemand {
  /** Pods at the peak. */
  readonly pods: number;
  /** Requests and limits of each of its containers. */
  readonly containers: readonly ResourceAmounts[];
  /** Sum over all pods at the peak. */
  readonly total: ResourceAmounts;
}

/**
 * A construct whose pods count against its namespace's ResourceQuota and LimitRange, so a Tenant can
 * check at synth that its quota lets every workload reach its max replicas.
 */
export interface IQuotaConsumer extends IConstruct {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly peakDemand: PeakDemand;
}

/** True for constructs that declare their peak demand. */
export function isQuotaConsumer(construct: IConstruct): construct is IQuotaConsumer {
  return typeof (construct as Partial<IQuotaConsumer>).peakDemand === 'object';
}

/** Peak demand of `pods` identical pods with the given containers. */
export function peakDemandOf(pods: number, containers: readonly ResourceAmounts[]): PeakDemand {
  const sum = (pick: (a: ResourceAmounts) => number) => pods * containers.reduce((n, c) => n + pick(c), 0);
  return {
    pods,
    containers,
    total: {
      cpuRequestMillis: sum((c) => c.cpuRequestMillis),
      cpuLimitMillis: sum((c) => c.cpuLimitMillis),
      memoryRequestKiB: sum((c) => c.memoryRequestKiB),
      memoryLimitKiB: sum((c) => c.memoryLimitKiB),
    },
  };
}
