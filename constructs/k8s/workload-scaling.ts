import type { Duration } from 'cdk8s';
import type { Metric } from './metric.js';
import type { ScalingBehavior } from './scaling-behavior.js';
import type { ScaledResource } from './scalable-workload.js';
import type { Trigger } from './keda/trigger.js';
import type { Pause, ScaledObjectFallback, ScalingModifiers } from './keda/scaled-object.js';
import { PropError, checkNonEmpty } from './validation.js';

/** Options of an autoscaling/v2 HorizontalPodAutoscaler. */
export interface HpaScalingOptions {
  /** Metrics the HPA scales on; the largest recommendation wins. */
  readonly metrics: readonly Metric[];
  /**
   * Scaling behaviour. @default unset, so the HPA controller's built-in rules apply (scale up at once,
   * to at most max(2 × current, 4) replicas per sync; scale down after a 300 s stabilization window)
   */
  readonly behavior?: ScalingBehavior;
}

/** Options of a KEDA ScaledObject. */
export interface KedaScalingOptions {
  /** KEDA triggers; the largest metric wins unless `scalingModifiers` composes them. */
  readonly triggers: readonly Trigger[];
  /** How often KEDA polls the triggers. @default 30 s (KEDA's default) */
  readonly pollingInterval?: Duration;
  /** Idle time before scaling to `idleReplicas`/0. @default 300 s (KEDA's default) */
  readonly cooldownPeriod?: Duration;
  /** Replicas while no trigger is active (must be below replicas.min). @default unset */
  readonly idleReplicas?: number;
  /** Replicas KEDA sets when a trigger keeps failing. @default no fallback */
  readonly fallback?: ScaledObjectFallback;
  /** Compose trigger metrics with a formula, e.g. `max(predicted, queue)`. @default unset */
  readonly scalingModifiers?: ScalingModifiers;
  /** Behaviour of the HPA KEDA creates. @default Kubernetes' defaults (see HpaScalingOptions.behavior) */
  readonly behavior?: ScalingBehavior;
  /** Pause autoscaling with KEDA's annotations, e.g. `Pause.at(3)` to pin 3 replicas. @default not paused */
  readonly pause?: Pause;
}

/** How an AutoscaledWorkload scales horizontally: a plain HPA or a KEDA ScaledObject. */
export class WorkloadScaling {
  /** A Kubernetes HorizontalPodAutoscaler (autoscaling/v2). */
  static hpa(options: HpaScalingOptions): WorkloadScaling {
    checkNonEmpty('scaling.metrics', options.metrics);
    return new WorkloadScaling({ kind: 'hpa', options });
  }

  /** A KEDA ScaledObject (which creates and drives an HPA itself). */
  static keda(options: KedaScalingOptions): WorkloadScaling {
    checkNonEmpty('scaling.triggers', options.triggers);
    return new WorkloadScaling({ kind: 'keda', options });
  }

  private constructor(
    /** @internal */
    readonly spec:
      { kind: 'hpa'; options: HpaScalingOptions } | { kind: 'keda'; options: KedaScalingOptions },
  ) {}

  /** Resources whose utilisation drives scaling (for VPA conflict checks). */
  get scaledResources(): ScaledResource[] {
    const resources =
      this.spec.kind === 'hpa'
        ? this.spec.options.metrics.map((m) => m.scaledResource)
        : this.spec.options.triggers.map((t) => t.scaledResource);
    return [...new Set(resources.filter((r): r is ScaledResource => r !== undefined))].sort();
  }

  /** @internal Checks that the replica bounds suit this kind of scaling. */
  checkReplicas(min: number): void {
    if (this.spec.kind === 'hpa' && min < 1) {
      throw new PropError(
        'replicas.min',
        min,
        'must be >= 1 with HPA scaling; use WorkloadScaling.keda() to scale to zero',
      );
    }
  }
}
