import type { IConstruct } from 'constructs';

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
