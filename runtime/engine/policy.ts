/**
 * The predictive scaling policy: forecast + current demand + capacity → desired replicas, and which
 * rule decided it. Rules, in order of precedence:
 *
 * 1. `override`: a manual replica count wins (it is still reported against what the policy wanted).
 * 2. `hold-broken-signal`: the signal is missing/invalid/dropped to zero: keep the last decision.
 * 3. otherwise the largest of
 *    - `current-demand`: what the demand just seen needs at the target utilisation (never below it),
 *    - `forecast`: the upper quantile of the peak demand before newly requested pods could serve; what
 *      it asks above current demand (the pre-scale) is scaled back when recent pre-scales were mostly
 *      not needed (see PrescaleLedger),
 *    - `surge`: on a surge, the current demand extrapolated over the lead time,
 *    - `scale-down-stabilization`: the highest of those over the stabilization window (damping),
 *    then `min-replicas` / `max-replicas` bounds.
 */
import type { Assessment } from './anomaly.js';
import { isBrokenSignal } from './anomaly.js';
import type { Forecast } from './forecaster.js';
import { PrescaleLedger } from './prescale-ledger.js';
import { MAX_REPLICAS } from './settings.js';
import { StateArena } from './state-arena.js';

export type DecisionRule =
  | 'override'
  | 'hold-broken-signal'
  | 'current-demand'
  | 'forecast'
  | 'surge'
  | 'scale-down-stabilization'
  | 'min-replicas'
  | 'max-replicas';

export interface PolicySettings {
  readonly capacityPerReplica: number;
  readonly targetUtilization: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Steps over which the highest recommendation wins (scale-down damping). */
  readonly stabilizationSteps: number;
  /** Steps from a decision to the replicas it adds serving: the window a pre-scale is judged on. */
  readonly leadSteps: number;
  /** Needed share of pre-scaled replicas below which pre-scaling is scaled back (0: never). */
  readonly minPrescaleUse: number;
}

export interface PolicyInput {
  /** Demand in the latest interval (NaN when missing). */
  readonly demand: number;
  /** Demand in the interval before (NaN when missing). */
  readonly previousDemand: number;
  readonly forecast: Forecast;
  readonly anomaly: Assessment;
  readonly override?: number;
}

export interface PolicyOutcome {
  readonly desiredReplicas: number;
  readonly rule: DecisionRule;
  /** Replicas the current demand needs at the target utilisation (NaN when the signal is broken). */
  readonly forCurrentDemand: number;
  /**
   * Replicas the forecast rule asks: current demand's plus the pre-scale, the replicas the forecast
   * upper quantile needs at full utilisation beyond it, times {@link prescaleTrust}.
   */
  readonly forForecast: number;
  /** Factor [0, 1] applied to this decision's pre-scale and headroom (1: trusted in full). */
  readonly prescaleTrust: number;
  /** Share of recent pre-scaled replicas the demand then needed (NaN until 10 have been judged). */
  readonly prescaleNeededShare: number;
  /** Replicas the surge extrapolation needs (0 when not surging). */
  readonly forSurge: number;
  /** Replicas after scale-down stabilization, before bounds. */
  readonly stabilized: number;
  /** Extra pods predicted over the node-provisioning horizon, for node pre-scaling. */
  readonly headroomPods: number;
}

/** A surge is extrapolated to at most this multiple of the current demand. */
const SURGE_CAP = 1.25;
/** Relative drop below which the replica count is kept. */
const SCALE_DOWN_TOLERANCE = 0.1;

/** Keeps the recommendations of the last `stabilizationSteps` decisions and the last decision. */
export class PredictivePolicy {
  private readonly window: Int32Array;
  private next = 0;
  private filled = 0;
  private last: number;
  private readonly ledger: PrescaleLedger;

  constructor(
    private readonly settings: PolicySettings,
    arena: StateArena = StateArena.standalone,
  ) {
    this.window = arena.int32(Math.max(1, settings.stabilizationSteps));
    this.last = settings.minReplicas;
    this.ledger = new PrescaleLedger(settings.leadSteps, settings.minPrescaleUse, arena);
  }

  get bytes(): number {
    return this.window.byteLength + this.ledger.bytes + 32;
  }

  /** The last decision (min replicas before the first). */
  get lastDecision(): number {
    return this.last;
  }

  decide(input: PolicyInput): PolicyOutcome {
    const s = this.settings;
    const perReplica = s.capacityPerReplica;
    const broken = isBrokenSignal(input.anomaly.state) || !Number.isFinite(input.demand);
    const forCurrent = broken ? Number.NaN : replicasFor(input.demand, perReplica * s.targetUtilization);
    // Judge the pre-scale made a lead time ago on the demand seen since, then trust the next one by it.
    this.ledger.observe(forCurrent);
    const forecastNeed = replicasFor(input.forecast.upper, perReplica);
    const prescale = broken ? 0 : Math.max(0, forecastNeed - forCurrent);
    const trust = this.ledger.trust(forCurrent, prescale);
    const judged = { trust, share: this.ledger.neededShare(forCurrent, prescale) };
    this.ledger.record(broken ? 0 : forCurrent, prescale);
    const forForecast = broken ? forecastNeed : forCurrent + scaled(prescale, trust);
    const headroom = (desired: number): number => {
      const extra = Math.max(
        0,
        replicasFor(input.forecast.horizonUpper, perReplica * s.targetUtilization) - desired,
      );
      // Never more pods than maxReplicas allows: node headroom for pods that cannot exist is waste.
      return Math.min(scaled(extra, this.ledger.trust(desired, extra)), Math.max(0, s.maxReplicas - desired));
    };
    if (input.override !== undefined) {
      this.last = input.override;
      const held = input.override;
      return outcome(held, 'override', Number.NaN, forForecast, 0, held, headroom(held), judged);
    }
    if (broken) {
      // Hold: never scale down on a broken signal; also never grow on it (there is no evidence). Within
      // the bounds: the last decision may be an override outside them.
      const held = Math.min(Math.max(this.last, s.minReplicas), s.maxReplicas);
      return outcome(held, 'hold-broken-signal', Number.NaN, forForecast, 0, held, headroom(held), judged);
    }
    const forSurge = input.anomaly.state === 'surge' ? this.surgeNeed(input) : 0;
    let raw = forCurrent;
    let rule: DecisionRule = 'current-demand';
    if (forForecast > raw) {
      raw = forForecast;
      rule = 'forecast';
    }
    if (forSurge > raw) {
      raw = forSurge;
      rule = 'surge';
    }
    let stabilized = this.stabilize(raw);
    // Hysteresis: a scale-down of less than 10% is not worth a change (the HPA's tolerance).
    if (stabilized < this.last && stabilized >= this.last * (1 - SCALE_DOWN_TOLERANCE))
      stabilized = this.last;
    if (stabilized > raw) rule = 'scale-down-stabilization';
    let desired = stabilized;
    if (desired < s.minReplicas) {
      desired = s.minReplicas;
      rule = 'min-replicas';
    } else if (desired > s.maxReplicas) {
      desired = s.maxReplicas;
      rule = 'max-replicas';
    }
    this.last = desired;
    return outcome(desired, rule, forCurrent, forForecast, forSurge, stabilized, headroom(desired), judged);
  }

  /** Current demand plus one more step of its latest growth, capped at SURGE_CAP × demand. */
  private surgeNeed(input: PolicyInput): number {
    const growth = Number.isFinite(input.previousDemand)
      ? Math.max(0, input.demand - input.previousDemand)
      : 0;
    const projected = Math.min(input.demand + growth, SURGE_CAP * input.demand);
    return replicasFor(projected, this.settings.capacityPerReplica * this.settings.targetUtilization);
  }

  private stabilize(raw: number): number {
    this.window[this.next] = Math.min(raw, MAX_REPLICAS);
    this.next = (this.next + 1) % this.window.length;
    if (this.filled < this.window.length) this.filled++;
    let highest = raw;
    for (let i = 0; i < this.filled; i++) highest = Math.max(highest, this.window[i] ?? 0);
    return highest;
  }
}

/** `replicas` × `trust`, rounded up (a trusted pre-scale keeps every replica it asked for). */
function scaled(replicas: number, trust: number): number {
  return trust >= 1 ? replicas : Math.ceil(replicas * trust - 1e-9);
}

/** Replicas needed to serve `demand` at `perReplica` each; 0 for no demand, never NaN. */
export function replicasFor(demand: number, perReplica: number): number {
  if (!Number.isFinite(demand) || demand <= 0) return 0;
  // Guard against 10.000000001 → 11 from float noise. Capped where Kubernetes' int32 replica counts
  // end (a tiny perReplica would give Infinity, and the policy keeps replica counts in Int32Arrays).
  return Math.min(Math.ceil(demand / perReplica - 1e-9), MAX_REPLICAS);
}

function outcome(
  desiredReplicas: number,
  rule: DecisionRule,
  forCurrentDemand: number,
  forForecast: number,
  forSurge: number,
  stabilized: number,
  headroomPods: number,
  judged: { trust: number; share: number },
): PolicyOutcome {
  return {
    desiredReplicas,
    rule,
    forCurrentDemand,
    forForecast,
    prescaleTrust: judged.trust,
    prescaleNeededShare: judged.share,
    forSurge,
    stabilized,
    headroomPods,
  };
}
