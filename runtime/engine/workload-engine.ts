/**
 * One workload's decision engine: forecaster + anomaly detector + policy, fed one point at a time.
 * Deterministic and causal: the same points in the same order give the same decisions, and a decision
 * only depends on points already observed.
 */
import type { Assessment } from './anomaly.js';
import type { ModelScore } from './forecaster.js';
import type { DecisionRule } from './policy.js';
import { PredictivePolicy } from './policy.js';
import { SeriesMonitor } from './series-monitor.js';
import { StateArena } from './state-arena.js';
import type { EngineSettings, ResolvedEngineSettings } from './settings.js';
import { EngineSettingsError, MAX_REPLICAS, leadStepsOf, resolveEngineSettings } from './settings.js';

/** Why the engine asked for what it asked for: shown by the API, dashboard, CLI and logs. */
export interface Decision {
  /** Epoch seconds of the point the decision follows. */
  readonly timestamp: number;
  readonly desiredReplicas: number;
  /** The rule that bound the result. */
  readonly rule: DecisionRule;
  readonly inputs: {
    /** The demand value as received (may be NaN / negative when the signal is broken). */
    readonly demand: number;
    readonly capacityPerReplica: number;
    readonly targetUtilization: number;
    readonly leadSeconds: number;
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly override?: number;
  };
  readonly forecast: {
    readonly model: string;
    readonly leadPeak: number;
    readonly upper: number;
    readonly upperQuantile: number;
    readonly scores: readonly ModelScore[];
    /**
     * Factor [0, 1] applied to the pre-scale (what the forecast asks above current demand) and to the
     * headroom: 1 while recent pre-scales were needed at least `minPrescaleUse` of the time.
     */
    readonly prescaleTrust: number;
    /** Share of recent pre-scaled replicas the demand then needed (NaN until 10 pre-scales were judged). */
    readonly prescaleNeededShare: number;
  };
  readonly anomaly: Assessment;
  readonly replicasFor: {
    readonly currentDemand: number;
    readonly forecast: number;
    readonly surge: number;
    readonly stabilized: number;
  };
  /** Extra pods predicted within the node-provisioning horizon (for node headroom). */
  readonly headroomPods: number;
  /** One line for humans. */
  readonly summary: string;
}

export class WorkloadEngine {
  readonly settings: ResolvedEngineSettings;
  private readonly monitor: SeriesMonitor;
  private readonly policy: PredictivePolicy;

  constructor(settings: EngineSettings) {
    this.settings = resolveEngineSettings(settings);
    const s = this.settings;
    const lead = leadStepsOf(s);
    const horizon = Math.max(lead, Math.ceil(s.nodeProvisioningSeconds / s.intervalSeconds) + lead);
    const monitorOptions = {
      intervalSeconds: s.intervalSeconds,
      leadSteps: lead,
      horizonSteps: horizon,
      upperQuantile: s.upperQuantile,
      maxMargin: s.maxForecastMargin,
      underForecastPenalty: s.underForecastPenalty,
      ...(s.modelFamilies.length > 0 ? { modelFamilies: s.modelFamilies } : {}),
    };
    const policySettings = {
      capacityPerReplica: s.capacityPerReplica,
      targetUtilization: s.targetUtilization,
      minReplicas: s.minReplicas,
      maxReplicas: s.maxReplicas,
      stabilizationSteps: Math.max(1, Math.round(s.scaleDownStabilizationSeconds / s.intervalSeconds)),
      leadSteps: lead,
      minPrescaleUse: s.minPrescaleUse,
    };
    // Every typed array of the engine in one buffer (see StateArena).
    const parts = StateArena.build((arena) => ({
      monitor: new SeriesMonitor(monitorOptions, arena),
      policy: new PredictivePolicy(policySettings, arena),
    }));
    this.monitor = parts.monitor;
    this.policy = parts.policy;
  }

  /** Bytes of state held for this workload. */
  get bytes(): number {
    return this.monitor.bytes + this.policy.bytes + 64;
  }

  /**
   * Feeds the demand of the interval starting at `timestamp` (epoch seconds). Missing intervals
   * between calls are treated as gaps; NaN, Infinity and negative values are broken-signal points.
   */
  observe(timestamp: number, value: number): Assessment {
    return this.monitor.observe(timestamp, value);
  }

  /** The decision after the points seen so far; `override` is a manual replica count. */
  decide(override?: number): Decision {
    if (override !== undefined && (!Number.isInteger(override) || override < 0 || override > MAX_REPLICAS)) {
      throw new EngineSettingsError('override', override, `must be an integer in [0, ${MAX_REPLICAS}]`);
    }
    const s = this.settings;
    const m = this.monitor;
    const forecast = m.forecaster.forecast();
    const out = this.policy.decide({
      demand: m.demand,
      previousDemand: m.previousDemand,
      forecast,
      anomaly: m.assessment,
      ...(override === undefined ? {} : { override }),
    });
    return {
      timestamp: m.timestamp,
      desiredReplicas: out.desiredReplicas,
      rule: out.rule,
      inputs: {
        demand: m.value,
        capacityPerReplica: s.capacityPerReplica,
        targetUtilization: s.targetUtilization,
        leadSeconds: s.leadSeconds,
        minReplicas: s.minReplicas,
        maxReplicas: s.maxReplicas,
        ...(override === undefined ? {} : { override }),
      },
      forecast: {
        model: forecast.model,
        leadPeak: forecast.leadPeak,
        upper: forecast.upper,
        upperQuantile: s.upperQuantile,
        scores: forecast.scores,
        prescaleTrust: out.prescaleTrust,
        prescaleNeededShare: out.prescaleNeededShare,
      },
      anomaly: m.assessment,
      replicasFor: {
        currentDemand: out.forCurrentDemand,
        forecast: out.forForecast,
        surge: out.forSurge,
        stabilized: out.stabilized,
      },
      headroomPods: out.headroomPods,
      summary: summarize(out.desiredReplicas, out.rule, m.assessment.state, forecast.model, forecast.upper),
    };
  }

  /** Epoch seconds of the newest point observed (NaN before the first). */
  get timestamp(): number {
    return this.monitor.timestamp;
  }

  /** Demand points kept: {@link recentDemand} reads NaN beyond them. */
  get historyPoints(): number {
    return this.monitor.forecaster.history.capacity;
  }

  /** The newest demand value as the engine kept it: NaN for a gap or a broken-signal point. */
  get lastDemand(): number {
    return this.monitor.forecaster.history.back(1);
  }

  /**
   * The newest `count` demand values on the interval grid, oldest first, ending at {@link timestamp}:
   * NaN for gaps and broken-signal points, and for steps older than the history kept.
   */
  recentDemand(count: number): number[] {
    const history = this.monitor.forecaster.history;
    return Array.from({ length: count }, (_, i) => history.back(count - i));
  }

  /** observe + decide. */
  step(timestamp: number, value: number, override?: number): Decision {
    this.observe(timestamp, value);
    return this.decide(override);
  }
}

/** A decision's one line for humans (the service's decision log rebuilds it from the same fields). */
export function summarize(
  desired: number,
  rule: DecisionRule,
  anomalyState: Assessment['state'],
  model: string,
  upper: number,
): string {
  const why: Record<DecisionRule, string> = {
    override: 'manual override',
    'hold-broken-signal': `holding: signal ${anomalyState}`,
    'current-demand': 'current demand at target utilisation',
    forecast: `forecast peak ≤ ${upper.toFixed(1)} (${model})`,
    surge: 'surge: current demand extrapolated over the lead time',
    'scale-down-stabilization': 'scale-down held by the stabilization window',
    'min-replicas': 'minReplicas',
    'max-replicas': 'maxReplicas',
  };
  return `${desired} replicas: ${why[rule]}`;
}
