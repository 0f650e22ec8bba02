import type { Duration } from 'cdk8s';
import { checkInteger, checkNonEmpty, checkOneOf, wholeSeconds } from './validation.js';

/**
 * HPA scaling behaviour (autoscaling/v2 `behavior`), shared by plain HPAs and by KEDA's
 * `advanced.horizontalPodAutoscalerConfig.behavior`.
 *
 * Leaving a direction unset keeps Kubernetes' own defaults (scale-up: no stabilization, at most
 * max(4 pods, 100%) per 15 s; scale-down: 300 s stabilization, up to 100% per 15 s).
 */
export class ScalingPolicy {
  /** Change by at most `pods` pods per `period`. */
  static pods(pods: number, period: Duration): ScalingPolicy {
    return new ScalingPolicy('Pods', pods, period);
  }

  /** Change by at most `percent` of the current replicas per `period`. */
  static percent(percent: number, period: Duration): ScalingPolicy {
    return new ScalingPolicy('Percent', percent, period);
  }

  private constructor(
    readonly type: 'Pods' | 'Percent',
    readonly value: number,
    readonly period: Duration,
  ) {}

  /** @internal */
  render(prop: string): { type: 'Pods' | 'Percent'; value: number; periodSeconds: number } {
    checkInteger(`${prop}.value`, this.value, 1);
    const periodSeconds = wholeSeconds(`${prop}.period`, this.period, 1, 1800);
    return { type: this.type, value: this.value, periodSeconds };
  }
}

/** Rules for one scaling direction. */
export interface ScalingRules {
  /** Window over which the most conservative recommendation wins. @default Kubernetes' (0 s up, 300 s down) */
  readonly stabilizationWindow?: Duration;
  /** Which policy wins when several apply; `Disabled` forbids scaling in this direction. @default 'Max' */
  readonly selectPolicy?: 'Max' | 'Min' | 'Disabled';
  /** Rate limits. @default Kubernetes' defaults for the direction */
  readonly policies?: readonly ScalingPolicy[];
}

/** Scaling behaviour in both directions. */
export interface ScalingBehavior {
  /** @default Kubernetes' scale-up defaults */
  readonly scaleUp?: ScalingRules;
  /** @default Kubernetes' scale-down defaults */
  readonly scaleDown?: ScalingRules;
}

/** JSON of one direction, as both the HPA and KEDA's CRD expect it. */
export interface ScalingRulesJson {
  stabilizationWindowSeconds?: number;
  selectPolicy?: string;
  policies?: { type: string; value: number; periodSeconds: number }[];
}

/** Validates and renders behaviour; `prop` names the behaviour prop in error messages. */
export function renderScalingBehavior(
  prop: string,
  behavior: ScalingBehavior,
): { scaleUp?: ScalingRulesJson; scaleDown?: ScalingRulesJson } {
  const out: { scaleUp?: ScalingRulesJson; scaleDown?: ScalingRulesJson } = {};
  if (behavior.scaleUp) out.scaleUp = renderRules(`${prop}.scaleUp`, behavior.scaleUp);
  if (behavior.scaleDown) out.scaleDown = renderRules(`${prop}.scaleDown`, behavior.scaleDown);
  return out;
}

function renderRules(prop: string, rules: ScalingRules): ScalingRulesJson {
  const out: ScalingRulesJson = {};
  if (rules.stabilizationWindow !== undefined) {
    out.stabilizationWindowSeconds = wholeSeconds(
      `${prop}.stabilizationWindow`,
      rules.stabilizationWindow,
      0,
      3600,
    );
  }
  if (rules.selectPolicy !== undefined) {
    checkOneOf(`${prop}.selectPolicy`, rules.selectPolicy, ['Max', 'Min', 'Disabled']);
    out.selectPolicy = rules.selectPolicy;
  }
  if (rules.policies !== undefined) {
    checkNonEmpty(`${prop}.policies`, rules.policies);
    out.policies = rules.policies.map((p, i) => p.render(`${prop}.policies[${i}]`));
  }
  return out;
}
