import { ApiObject, type Duration } from 'cdk8s';
import { Construct } from 'constructs';
import type { IScalableWorkload, ScaledResource } from '../scalable-workload.js';
import { type ScalingBehavior, renderScalingBehavior } from '../scaling-behavior.js';
import {
  PropError,
  checkDnsLabel,
  checkDnsSubdomain,
  checkInteger,
  checkMinMax,
  checkNumber,
  checkOneOf,
} from '../validation.js';
import { type MetricTargetType, type Trigger, type TriggerJson, renderTriggers } from './trigger.js';

/** A scale target that is not a construct of this app. */
export interface ScaleTargetRef {
  /** API version of the target. @default 'apps/v1' (KEDA's default) */
  readonly apiVersion?: string;
  /** Kind of the target; it must have a `/scale` subresource. @default 'Deployment' (KEDA's default) */
  readonly kind?: string;
  /** Name of the target, in the ScaledObject's namespace. */
  readonly name: string;
}

/**
 * Replicas KEDA falls back to when a trigger keeps failing (`spec.fallback`). It does not fire when an
 * external scaler is unreachable (KEDA issue 8056): keep the decision runtime highly available instead.
 */
export interface ScaledObjectFallback {
  /** Consecutive failed polls before falling back. */
  readonly failureThreshold: number;
  /** Replicas to run while falling back. */
  readonly replicas: number;
  /**
   * How `replicas` is applied: exactly (`static`), keep the current count, or the higher/lower of the two;
   * `scalingModifiers` passes failed triggers to the formula as nil instead.
   * @default 'static'
   */
  readonly behavior?:
    'static' | 'currentReplicas' | 'currentReplicasIfHigher' | 'currentReplicasIfLower' | 'scalingModifiers';
}

/** A formula composing the metrics of named triggers into one (`advanced.scalingModifiers`). */
export interface ScalingModifiers {
  /** expr-lang formula over trigger names, e.g. `max(predicted, queue)`. */
  readonly formula: string;
  /** Target value of the composed metric. */
  readonly target: number;
  /** Composed value needed to wake from zero. @default 0 */
  readonly activationTarget?: number;
  /** Metric type of the composed metric. @default 'AverageValue' */
  readonly metricType?: MetricTargetType;
}

/** Options of the HPA that KEDA creates. */
export interface HorizontalPodAutoscalerConfig {
  /** Name of the HPA. @default `keda-hpa-<scaledobject name>` */
  readonly name?: string;
  /** Scaling behaviour of the HPA. @default Kubernetes' defaults */
  readonly behavior?: ScalingBehavior;
}

/** `spec.advanced` of a ScaledObject. */
export interface ScaledObjectAdvanced {
  /** The generated HPA's name and behaviour. @default KEDA's defaults */
  readonly horizontalPodAutoscalerConfig?: HorizontalPodAutoscalerConfig;
  /** Compose trigger metrics with a formula. @default unset (the largest trigger metric wins) */
  readonly scalingModifiers?: ScalingModifiers;
  /** Restore the target's original replica count when the ScaledObject is deleted. @default false */
  readonly restoreToOriginalReplicaCount?: boolean;
}

/** Manual override of a ScaledObject through KEDA's pause annotations. */
export class Pause {
  /** Scale to `replicas` and stop autoscaling (`autoscaling.keda.sh/paused-replicas`). */
  static at(replicas: number): Pause {
    checkInteger('pause.at', replicas, 0);
    return new Pause({ 'autoscaling.keda.sh/paused-replicas': String(replicas) });
  }

  /** Stop autoscaling at the current replica count (`autoscaling.keda.sh/paused: "true"`). */
  static scaling(): Pause {
    return new Pause({ 'autoscaling.keda.sh/paused': 'true' });
  }

  /** Keep scaling out, never in (`autoscaling.keda.sh/paused-scale-in: "true"`). */
  static scaleIn(): Pause {
    return new Pause({ 'autoscaling.keda.sh/paused-scale-in': 'true' });
  }

  /** Keep scaling in, never out (`autoscaling.keda.sh/paused-scale-out: "true"`). */
  static scaleOut(): Pause {
    return new Pause({ 'autoscaling.keda.sh/paused-scale-out': 'true' });
  }

  private constructor(
    /** The annotations this pause sets on the ScaledObject. */
    readonly annotations: Readonly<Record<string, string>>,
  ) {}
}

/** Props for a {@link ScaledObject}. */
export interface ScaledObjectProps {
  /** `metadata.name`. @default the target's name */
  readonly name?: string;
  /** Namespace. @default the target workload's namespace (required when `target` is a plain reference) */
  readonly namespace?: string;
  /** What KEDA scales: a workload construct of this app, or a reference to one in the same namespace. */
  readonly target: IScalableWorkload | ScaleTargetRef;
  /** Replicas while any trigger is active or no idle count is set; 0 lets KEDA scale to zero. */
  readonly minReplicas: number;
  /** Upper bound of the HPA. */
  readonly maxReplicas: number;
  /** Replicas while no trigger is active; KEDA only supports 0 and requires it below `minReplicas`. @default unset */
  readonly idleReplicas?: number;
  /** How often KEDA polls the triggers. @default 30 s (KEDA's default) */
  readonly pollingInterval?: Duration;
  /** Time after the last active trigger before scaling to zero/idle. @default 300 s (KEDA's default) */
  readonly cooldownPeriod?: Duration;
  /** Delay after creation before the cooldown may start. @default 0 s (KEDA's default) */
  readonly initialCooldownPeriod?: Duration;
  /** Triggers; the largest recommendation wins unless `advanced.scalingModifiers` composes them. */
  readonly triggers: readonly Trigger[];
  /** Replicas to fall back to when triggers keep failing. @default no fallback */
  readonly fallback?: ScaledObjectFallback;
  /** HPA options, scaling modifiers and restore-on-delete. @default KEDA's defaults */
  readonly advanced?: ScaledObjectAdvanced;
  /** Manual override through KEDA's pause annotations. @default not paused */
  readonly pause?: Pause;
}

/** JSON of `spec.advanced`. */
interface AdvancedJson {
  horizontalPodAutoscalerConfig?: { name?: string; behavior?: ReturnType<typeof renderScalingBehavior> };
  scalingModifiers?: { formula: string; target: string; activationTarget?: string; metricType?: string };
  restoreToOriginalReplicaCount?: boolean;
}

function isWorkload(target: IScalableWorkload | ScaleTargetRef): target is IScalableWorkload {
  return 'node' in target && 'horizontallyScaledOn' in target;
}

/**
 * A KEDA `ScaledObject` (keda.sh/v1alpha1): KEDA drives an HPA for the target from the triggers, and
 * scales it to zero (or `idleReplicas`) when no trigger is active.
 */
export class ScaledObject extends Construct {
  readonly name: string;
  readonly namespace: string;
  /** Resources whose utilisation drives scaling (from cpu/memory triggers), sorted. */
  readonly horizontallyScaledOn: readonly ScaledResource[];
  /** The triggers, as given. */
  readonly triggers: readonly Trigger[];
  /** The HPA's bounds. */
  readonly minReplicas: number;
  readonly maxReplicas: number;

  constructor(scope: Construct, id: string, props: ScaledObjectProps) {
    super(scope, id);
    const target = props.target;
    const workload = isWorkload(target) ? target : undefined;
    this.name = props.name ?? target.name;
    checkDnsSubdomain('name', this.name);
    const namespace = props.namespace ?? workload?.namespace;
    if (namespace === undefined) {
      throw new PropError('namespace', namespace, 'is required when target is not a workload construct');
    }
    checkDnsLabel('namespace', namespace);
    if (workload && workload.namespace !== namespace) {
      throw new PropError(
        'namespace',
        namespace,
        `must be the target's namespace ("${workload.namespace}"): KEDA only scales targets in its own namespace`,
      );
    }
    this.namespace = namespace;
    this.triggers = [...props.triggers];

    const triggers = renderTriggers('triggers', props.triggers, namespace);
    const onlyResourceTriggers = props.triggers.every((t) => t.scaledResource !== undefined);
    this.horizontallyScaledOn = [
      ...new Set(
        props.triggers.map((t) => t.scaledResource).filter((r): r is ScaledResource => r !== undefined),
      ),
    ].sort();

    checkInteger('minReplicas', props.minReplicas, 0);
    checkInteger('maxReplicas', props.maxReplicas, 1);
    checkMinMax('minReplicas', props.minReplicas, 'maxReplicas', props.maxReplicas);
    this.minReplicas = props.minReplicas;
    this.maxReplicas = props.maxReplicas;
    if (props.minReplicas === 0 && onlyResourceTriggers) {
      throw new PropError(
        'minReplicas',
        0,
        'must be >= 1 when every trigger is cpu or memory (KEDA cannot scale to zero on resource metrics alone)',
      );
    }
    if (props.idleReplicas !== undefined) {
      checkInteger('idleReplicas', props.idleReplicas, 0);
      if (props.idleReplicas !== 0) {
        throw new PropError('idleReplicas', props.idleReplicas, 'must be 0 (the only value KEDA supports)');
      }
      if (props.idleReplicas >= props.minReplicas) {
        throw new PropError(
          'idleReplicas',
          props.idleReplicas,
          `must be less than minReplicas (${props.minReplicas})`,
        );
      }
    }

    const spec: Record<string, unknown> = {
      scaleTargetRef: workload
        ? { apiVersion: workload.apiVersion, kind: workload.kind, name: workload.name }
        : renderTargetRef(target as ScaleTargetRef),
    };
    if (props.pollingInterval !== undefined) {
      spec.pollingInterval = seconds('pollingInterval', props.pollingInterval, 1);
    }
    if (props.cooldownPeriod !== undefined)
      spec.cooldownPeriod = seconds('cooldownPeriod', props.cooldownPeriod, 0);
    if (props.initialCooldownPeriod !== undefined) {
      spec.initialCooldownPeriod = seconds('initialCooldownPeriod', props.initialCooldownPeriod, 0);
    }
    if (props.idleReplicas !== undefined) spec.idleReplicaCount = props.idleReplicas;
    spec.minReplicaCount = props.minReplicas;
    spec.maxReplicaCount = props.maxReplicas;
    if (props.fallback !== undefined) {
      spec.fallback = renderFallback(
        props.fallback,
        props.triggers,
        props.maxReplicas,
        props.advanced?.scalingModifiers,
      );
    }
    const advanced = props.advanced ? renderAdvanced(props.advanced, props.triggers) : undefined;
    if (advanced && Object.keys(advanced).length > 0) spec.advanced = advanced;
    spec.triggers = triggers satisfies TriggerJson[];

    new ApiObject(this, 'Resource', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: {
        name: this.name,
        namespace,
        ...(props.pause ? { annotations: { ...props.pause.annotations } } : {}),
      },
      spec,
    });
  }
}

function renderTargetRef(ref: ScaleTargetRef): { apiVersion?: string; kind?: string; name: string } {
  checkDnsSubdomain('target.name', ref.name);
  const out: { apiVersion?: string; kind?: string; name: string } = { name: ref.name };
  if (ref.apiVersion !== undefined) {
    if (!/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(ref.apiVersion)) {
      throw new PropError('target.apiVersion', ref.apiVersion, 'must be an API version like "apps/v1"');
    }
    out.apiVersion = ref.apiVersion;
  }
  if (ref.kind !== undefined) {
    if (!/^[A-Z][A-Za-z0-9]*$/.test(ref.kind))
      throw new PropError('target.kind', ref.kind, 'must be a kind like "StatefulSet"');
    out.kind = ref.kind;
  }
  return out;
}

function seconds(prop: string, duration: Duration, min: number): number {
  const value = duration.toSeconds({ integral: false });
  checkInteger(prop, value, min, 2_147_483_647);
  return value;
}

function renderFallback(
  fallback: ScaledObjectFallback,
  triggers: readonly Trigger[],
  maxReplicas: number,
  modifiers: ScalingModifiers | undefined,
): Record<string, unknown> {
  checkInteger('fallback.failureThreshold', fallback.failureThreshold, 0);
  if (fallback.behavior !== undefined) {
    checkOneOf('fallback.behavior', fallback.behavior, [
      'static',
      'currentReplicas',
      'currentReplicasIfHigher',
      'currentReplicasIfLower',
      'scalingModifiers',
    ]);
  }
  checkInteger('fallback.replicas', fallback.replicas, 0);
  if (fallback.replicas > maxReplicas) {
    throw new PropError(
      'fallback.replicas',
      fallback.replicas,
      `must not exceed maxReplicas (${maxReplicas})`,
    );
  }
  if (triggers.every((t) => t.scaledResource !== undefined)) {
    throw new PropError(
      'fallback',
      triggers.map((t) => t.type),
      'needs at least one trigger that is not cpu or memory (KEDA does not support fallback for resource metrics)',
    );
  }
  // KEDA's CheckFallbackValid (apis/keda/v1alpha1/scaledobject_types.go): fallback replaces an
  // AverageValue metric only. With scalingModifiers the composed metric's type decides; without, some
  // non-cpu/memory trigger must use AverageValue, and a trigger with no metricType counts as one.
  if (modifiers?.metricType === 'Value') {
    throw new PropError(
      'fallback',
      fallback,
      'cannot be used with advanced.scalingModifiers.metricType "Value": KEDA supports fallback only for AverageValue metrics',
    );
  }
  const metricTriggers = triggers.filter((t) => t.scaledResource === undefined);
  if (modifiers === undefined && metricTriggers.every((t) => t.metricType === 'Value')) {
    throw new PropError(
      'fallback',
      fallback,
      `needs a trigger with metricType "AverageValue": KEDA refuses fallback when every non-cpu/memory trigger uses "Value" (triggers: ${metricTriggers.map((t) => t.name ?? t.type).join(', ')})`,
    );
  }
  if (fallback.behavior === 'scalingModifiers' && modifiers === undefined) {
    throw new PropError('fallback.behavior', fallback.behavior, 'requires advanced.scalingModifiers');
  }
  return {
    failureThreshold: fallback.failureThreshold,
    replicas: fallback.replicas,
    ...(fallback.behavior !== undefined ? { behavior: fallback.behavior } : {}),
  };
}

function renderAdvanced(advanced: ScaledObjectAdvanced, triggers: readonly Trigger[]): AdvancedJson {
  const out: AdvancedJson = {};
  const hpa = advanced.horizontalPodAutoscalerConfig;
  if (hpa) {
    const hpaJson: NonNullable<AdvancedJson['horizontalPodAutoscalerConfig']> = {};
    if (hpa.name !== undefined) {
      checkDnsSubdomain('advanced.horizontalPodAutoscalerConfig.name', hpa.name);
      hpaJson.name = hpa.name;
    }
    if (hpa.behavior !== undefined) {
      hpaJson.behavior = renderScalingBehavior(
        'advanced.horizontalPodAutoscalerConfig.behavior',
        hpa.behavior,
      );
    }
    if (Object.keys(hpaJson).length > 0) out.horizontalPodAutoscalerConfig = hpaJson;
  }
  if (advanced.scalingModifiers) out.scalingModifiers = renderModifiers(advanced.scalingModifiers, triggers);
  if (advanced.restoreToOriginalReplicaCount !== undefined) {
    out.restoreToOriginalReplicaCount = advanced.restoreToOriginalReplicaCount;
  }
  return out;
}

/** expr-lang words that are not variables (operators, literals, builtins used without a call). */
const EXPR_WORDS = new Set([
  'true',
  'false',
  'nil',
  'and',
  'or',
  'not',
  'in',
  'matches',
  'contains',
  'let',
  'if',
  'else',
]);

function renderModifiers(
  modifiers: ScalingModifiers,
  triggers: readonly Trigger[],
): AdvancedJson['scalingModifiers'] {
  const prop = 'advanced.scalingModifiers';
  const formula = modifiers.formula.trim();
  if (formula === '') throw new PropError(`${prop}.formula`, modifiers.formula, 'must not be empty');
  checkNumber(`${prop}.target`, modifiers.target, 0);
  if (modifiers.target <= 0) throw new PropError(`${prop}.target`, modifiers.target, 'must be > 0');
  if (modifiers.activationTarget !== undefined) {
    checkNumber(`${prop}.activationTarget`, modifiers.activationTarget, 0);
  }
  if (modifiers.metricType !== undefined) {
    checkOneOf(`${prop}.metricType`, modifiers.metricType, ['AverageValue', 'Value']);
  }
  for (const name of formulaVariables(formula)) {
    const trigger = triggers.find((t) => t.name === name);
    if (trigger === undefined) {
      const named = triggers
        .filter((t) => t.name !== undefined && t.scaledResource === undefined)
        .map((t) => t.name);
      throw new PropError(
        `${prop}.formula`,
        modifiers.formula,
        `refers to "${name}", which is not the name of a trigger (named triggers: ${named.length > 0 ? named.join(', ') : 'none'})`,
      );
    }
    if (trigger.scaledResource !== undefined) {
      throw new PropError(
        `${prop}.formula`,
        modifiers.formula,
        `refers to the ${trigger.type} trigger "${name}"; KEDA keeps cpu/memory metrics out of formulas`,
      );
    }
  }
  return {
    formula,
    target: String(modifiers.target),
    ...(modifiers.activationTarget !== undefined
      ? { activationTarget: String(modifiers.activationTarget) }
      : {}),
    ...(modifiers.metricType !== undefined ? { metricType: modifiers.metricType } : {}),
  };
}

/** Variable names an expr-lang formula reads: identifiers that are not calls, members, keywords or `let` bindings. */
export function formulaVariables(formula: string): string[] {
  const code = formula.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  const bound = new Set([...code.matchAll(/\blet\s+([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string));
  const names: string[] = [];
  for (const match of code.matchAll(/(?<![\w.$#])[A-Za-z_][A-Za-z0-9_]*/g)) {
    const name = match[0];
    const rest = code.slice((match.index ?? 0) + name.length);
    if (/^\s*\(/.test(rest)) continue; // a function call such as max(...)
    if (EXPR_WORDS.has(name) || bound.has(name) || names.includes(name)) continue;
    names.push(name);
  }
  return names;
}
