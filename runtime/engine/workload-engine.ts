/**
 * One workload's decision engine: forecaster + anomaly detector + policy, fed one point at a time.
 * Deterministic and causal: the same points in the same order give the same decisions, and a decision
 * only depends on points already observed.
 */
import type { Assessment } from './anomaly.js';
import { AnomalyDetector, isBrokenSignal } from './anomaly.js';
import type { ModelScore } from './forecaster.js';
import { Forecaster } from './forecaster.js';
import type { DecisionRule } from './policy.js';
import { PredictivePolicy } from './policy.js';
import type { EngineSettings, ResolvedEngineSettings } from './settings.js';
import { EngineSettingsError, leadStepsOf, resolveEngineSettings } from './settings.js';

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

/** Gaps longer than this many points are not replayed point by point (history holds at most that). */
const MAX_REPLAYED_GAP = 20_160;
/** Points re-learned from after a level shift. */
const RELEARN_WINDOW = 6;

export class WorkloadEngine {
  readonly settings: ResolvedEngineSettings;
  private readonly forecaster: Forecaster;
  private readonly detector = new AnomalyDetector();
  private readonly policy: PredictivePolicy;
  private lastTimestamp = Number.NaN;
  private lastDemand = Number.NaN;
  private lastAssessment: Assessment = { state: 'warming-up', score: 0, zScore: 0 };
  private lastValue = Number.NaN;

  constructor(settings: EngineSettings) {
    this.settings = resolveEngineSettings(settings);
    const s = this.settings;
    const lead = leadStepsOf(s);
    const horizon = Math.max(lead, Math.ceil(s.nodeProvisioningSeconds / s.intervalSeconds) + lead);
    this.forecaster = new Forecaster({
      intervalSeconds: s.intervalSeconds,
      leadSteps: lead,
      horizonSteps: horizon,
      upperQuantile: s.upperQuantile,
      maxMargin: s.maxForecastMargin,
      underForecastPenalty: s.underForecastPenalty,
    });
    this.policy = new PredictivePolicy({
      capacityPerReplica: s.capacityPerReplica,
      targetUtilization: s.targetUtilization,
      minReplicas: s.minReplicas,
      maxReplicas: s.maxReplicas,
      stabilizationSteps: Math.max(1, Math.round(s.scaleDownStabilizationSeconds / s.intervalSeconds)),
      leadSteps: lead,
    });
  }

  /** Bytes of state held for this workload. */
  get bytes(): number {
    return this.forecaster.bytes + this.detector.bytes + this.policy.bytes + 64;
  }

  /**
   * Feeds the demand of the interval starting at `timestamp` (epoch seconds). Missing intervals
   * between calls are treated as gaps; NaN, Infinity and negative values are broken-signal points.
   */
  observe(timestamp: number, value: number): Assessment {
    if (!Number.isFinite(timestamp))
      throw new EngineSettingsError('timestamp', timestamp, 'must be a finite number');
    if (timestamp <= this.lastTimestamp) {
      throw new EngineSettingsError(
        'timestamp',
        timestamp,
        `must be after the previous point (${this.lastTimestamp})`,
      );
    }
    this.replayGap(timestamp);
    this.lastTimestamp = timestamp;
    const expected = this.forecaster.forecast().path[0] ?? Number.NaN;
    const assessment = this.detector.assess(
      value,
      this.forecaster.history.length > 0 ? expected : Number.NaN,
    );
    this.lastAssessment = assessment;
    this.lastValue = value;
    const usable = !isBrokenSignal(assessment.state);
    this.forecaster.observe(usable ? value : Number.NaN);
    if (assessment.state === 'level-shift') {
      this.forecaster.relearn(RELEARN_WINDOW);
      this.detector.reset();
    }
    this.lastDemand = usable ? value : Number.NaN;
    return assessment;
  }

  /** Intervals with no point: feed NaN so seasonal slots stay aligned. */
  private replayGap(timestamp: number): void {
    if (!Number.isFinite(this.lastTimestamp)) return;
    const missing = Math.round((timestamp - this.lastTimestamp) / this.settings.intervalSeconds) - 1;
    for (let i = 0; i < Math.min(missing, MAX_REPLAYED_GAP); i++) this.forecaster.observe(Number.NaN);
  }

  /** The decision after the points seen so far; `override` is a manual replica count. */
  decide(override?: number): Decision {
    if (override !== undefined && (!Number.isInteger(override) || override < 0)) {
      throw new EngineSettingsError('override', override, 'must be an integer ≥ 0');
    }
    const s = this.settings;
    const forecast = this.forecaster.forecast();
    const demand = isBrokenSignal(this.lastAssessment.state) ? Number.NaN : this.lastValue;
    const previous = this.previousDemand;
    const out = this.policy.decide({
      demand,
      previousDemand: previous,
      forecast,
      anomaly: this.lastAssessment,
      ...(override === undefined ? {} : { override }),
    });
    this.previousDemand = this.lastDemand;
    return {
      timestamp: this.lastTimestamp,
      desiredReplicas: out.desiredReplicas,
      rule: out.rule,
      inputs: {
        demand: this.lastValue,
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
      },
      anomaly: this.lastAssessment,
      replicasFor: {
        currentDemand: out.forCurrentDemand,
        forecast: out.forForecast,
        surge: out.forSurge,
        stabilized: out.stabilized,
      },
      headroomPods: out.headroomPods,
      summary: summarize(out.desiredReplicas, out.rule, this.lastAssessment, forecast.model, forecast.upper),
    };
  }

  private previousDemand = Number.NaN;

  /** observe + decide. */
  step(timestamp: number, value: number, override?: number): Decision {
    this.observe(timestamp, value);
    return this.decide(override);
  }
}

function summarize(
  desired: number,
  rule: DecisionRule,
  anomaly: Assessment,
  model: string,
  upper: number,
): string {
  const why: Record<DecisionRule, string> = {
    override: 'manual override',
    'hold-broken-signal': `holding: signal ${anomaly.state}`,
    'current-demand': 'current demand at target utilisation',
    forecast: `forecast peak ≤ ${upper.toFixed(1)} (${model})`,
    surge: 'surge: current demand extrapolated over the lead time',
    'scale-down-stabilization': 'scale-down held by the stabilization window',
    'min-replicas': 'minReplicas',
    'max-replicas': 'maxReplicas',
  };
  return `${desired} replicas: ${why[rule]}`;
}
