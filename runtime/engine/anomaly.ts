/**
 * Causal anomaly detection on one series. Each point is compared with the one-step forecast made
 * before it arrived, on a log-ratio scale normalised by a robust running spread:
 *
 * - a broken signal (missing value, NaN/Infinity, beyond ±{@link MAX_SIGNAL}, negative, or a sudden
 *   drop to zero where the series has been well above zero) must be held through: the policy never
 *   scales down on it;
 * - a surge (far above forecast) is real demand until proven otherwise: serve it at once;
 * - a level shift (a run of same-signed errors, found with a two-sided CUSUM) makes the forecaster
 *   re-learn from recent points instead of slowly un-learning the old level.
 */

export type SignalState =
  'warming-up' | 'normal' | 'surge' | 'level-shift' | 'missing' | 'invalid' | 'drop-to-zero';

/**
 * Magnitude from which a finite value is invalid. The engine keeps its history, seasons and residuals
 * in float32 (largest ≈ 3.4e38): a value beyond 1e38, or the difference of two such values, would be
 * stored as Infinity and poison the models for good. No real metric comes near it.
 */
export const MAX_SIGNAL = 1e38;

/** States in which the value must not drive a scale-down (nor be learned from). */
export function isBrokenSignal(state: SignalState): boolean {
  return state === 'missing' || state === 'invalid' || state === 'drop-to-zero';
}

export interface Assessment {
  readonly state: SignalState;
  /** Anomaly score in [0, 1]: 0 ordinary, 1 certainly anomalous. */
  readonly score: number;
  /** Robust z-score of the point against its forecast (0 when not computable). */
  readonly zScore: number;
}

export interface AnomalyOptions {
  /** |z| at or above which a point above forecast is a surge. @default 4 */
  readonly surgeZ?: number;
  /** CUSUM decision threshold h (in robust standard deviations). @default 8 */
  readonly shiftThreshold?: number;
  /** CUSUM slack k. @default 0.75 */
  readonly shiftSlack?: number;
  /** Points seen before anything but broken signals is reported. @default 12 */
  readonly warmup?: number;
  /** Consecutive zero points after which a zero level is accepted as real. @default 10 */
  readonly zeroHoldPoints?: number;
  /**
   * What the series is. `demand` (request rates, CPU): never negative, errors compared as log ratios
   * (a 20% miss is a 20% miss at any level), a sudden zero is a broken signal. `metric`: any real
   * value, errors compared in the series' own units, zeros are just values.
   * @default 'demand'
   */
  readonly kind?: 'demand' | 'metric';
}

/** Points a jump must persist (the jump included) to count as a level shift. */
const JUMP_PERSISTENCE = 3;

/** MAD to standard deviation for a normal distribution. */
const MAD_TO_SIGMA = 1.4826;

export class AnomalyDetector {
  private readonly surgeZ: number;
  private readonly threshold: number;
  private readonly slack: number;
  private readonly warmup: number;
  private readonly zeroHold: number;
  private readonly kind: 'demand' | 'metric';
  /** Running robust spread of log-ratio errors (EW mean absolute error). */
  private spread = Number.NaN;
  private level = Number.NaN;
  private upSum = 0;
  private downSum = 0;
  private seen = 0;
  private zeroRun = 0;
  /** The forecast before a large jump, kept to see whether the jump persists (a level shift). */
  private jump: { reference: number; offset: number; sigma: number; sign: number; count: number } | undefined;
  /** Anomaly likelihood state: short-term mean and long-term mean/variance of log(1 + |z|). */
  private shortRaw = 0;
  private longMean = Number.NaN;
  private longVariance = 0;
  private sinceAlert = Number.POSITIVE_INFINITY;
  /** Exponentially weighted share of zero values among accepted points. */
  private zeroRate = 0;

  constructor(options: AnomalyOptions = {}) {
    this.surgeZ = options.surgeZ ?? 4;
    this.threshold = options.shiftThreshold ?? 8;
    this.slack = options.shiftSlack ?? 0.75;
    this.warmup = options.warmup ?? 12;
    this.zeroHold = options.zeroHoldPoints ?? 10;
    this.kind = options.kind ?? 'demand';
  }

  /** Bytes of state. */
  readonly bytes = 64;

  /**
   * Scores `value` against `expected` (the one-step forecast made before `value` was seen; NaN when
   * there is none yet). Call once per point, in order.
   */
  assess(value: number, expected: number): Assessment {
    if (Number.isNaN(value)) return { state: 'missing', score: 1, zScore: 0 };
    if (!(Math.abs(value) < MAX_SIGNAL) || (value < 0 && this.kind === 'demand')) {
      return { state: 'invalid', score: 1, zScore: 0 };
    }
    const dropToZero = this.kind === 'demand' && this.isDropToZero(value);
    this.zeroRun = value === 0 ? this.zeroRun + 1 : 0;
    if (dropToZero) return { state: 'drop-to-zero', score: 1, zScore: 0 };

    this.seen++;
    this.zeroRate = 0.99 * this.zeroRate + (value === 0 ? 0.01 : 0);
    const offset = Math.max(0.1 * Math.abs(Number.isFinite(this.level) ? this.level : value), 1e-6);
    this.level = Number.isFinite(this.level) ? 0.98 * this.level + 0.02 * value : value;
    if (!Number.isFinite(expected)) return { state: 'warming-up', score: 0, zScore: 0 };

    const error = this.error(value, expected, offset);
    const floor = this.kind === 'metric' ? 0.02 * offset : 0.02;
    const sigma = Number.isFinite(this.spread) ? Math.max(this.spread * MAD_TO_SIGMA, floor) : Number.NaN;
    const z = Number.isFinite(sigma) ? error / sigma : 0;
    // Winsorised update so one spike does not blow the spread up.
    const clipped = Number.isFinite(sigma) ? Math.min(Math.abs(error), 4 * sigma) : Math.abs(error);
    this.spread = Number.isFinite(this.spread) ? 0.97 * this.spread + 0.03 * clipped : clipped;
    if (this.seen <= this.warmup) return { state: 'warming-up', score: 0, zScore: z };

    // Clipped so that one outlier cannot look like a level shift on its own (that is a surge).
    const step = Math.max(-3, Math.min(3, z));
    this.upSum = Math.max(0, this.upSum + step - this.slack);
    this.downSum = Math.max(0, this.downSum - step - this.slack);
    const cusum = Math.max(this.upSum, this.downSum);
    const score = this.likelihood(z);
    if (cusum >= this.threshold || this.jumpPersists(value, z, expected, offset, sigma)) {
      this.upSum = 0;
      this.downSum = 0;
      this.jump = undefined;
      return { state: 'level-shift', score, zScore: z };
    }
    if (z >= this.surgeZ) return { state: 'surge', score, zScore: z };
    return { state: 'normal', score, zScore: z };
  }

  /**
   * The anomaly score: how unusual the recent errors are for this series, as the Gaussian tail
   * probability of their short-term mean (log(1 + |z|) over about 3 points) against the long-term
   * distribution (about 500 points). A series whose spikes are routine stops scoring them high;
   * a quiet series scores its first spike near 1 (after the idea of Numenta's anomaly likelihood).
   */
  private likelihood(z: number): number {
    const raw = Math.log1p(Math.abs(z));
    this.shortRaw = 0.6 * this.shortRaw + 0.4 * raw;
    if (!Number.isFinite(this.longMean)) {
      this.longMean = raw;
      return 0;
    }
    const sd = Math.max(Math.sqrt(this.longVariance), 0.1);
    const x = (this.shortRaw - this.longMean) / sd;
    const delta = raw - this.longMean;
    this.longMean += LONG_RATE * delta;
    this.longVariance = (1 - LONG_RATE) * (this.longVariance + LONG_RATE * delta * delta);
    const likelihood = normalCdf(x);
    // One alert per episode: for a while after a near-certain anomaly, repeats are scored below it.
    this.sinceAlert++;
    if (likelihood >= ALERT_LIKELIHOOD) {
      const repeat = this.sinceAlert <= REFRACTORY_POINTS;
      this.sinceAlert = 0;
      if (repeat) return ALERT_LIKELIHOOD * likelihood;
    }
    return likelihood;
  }

  /** Forecast error: a log ratio for demand, a plain difference for other metrics. */
  private error(value: number, expected: number, offset: number): number {
    if (this.kind === 'metric') return value - expected;
    return Math.log((value + offset) / (Math.max(expected, 0) + offset));
  }

  /**
   * A jump of ≥ surgeZ starts a watch against the forecast from before it; if the next points stay
   * beyond 3σ of that old forecast on the same side, the level has shifted. Needed because the
   * ensemble itself adapts within a point or two, so errors against it alone stop accumulating.
   */
  private jumpPersists(value: number, z: number, expected: number, offset: number, sigma: number): boolean {
    const jump = this.jump;
    if (jump === undefined) {
      if (Math.abs(z) >= this.surgeZ) {
        this.jump = { reference: expected, offset, sigma, sign: Math.sign(z), count: 1 };
      }
      return false;
    }
    const zReference = this.error(value, jump.reference, jump.offset) / jump.sigma;
    if (Math.sign(zReference) === jump.sign && Math.abs(zReference) >= 3) {
      jump.count++;
      return jump.count >= JUMP_PERSISTENCE;
    }
    this.jump = undefined;
    return false;
  }

  /**
   * A zero where the recent level is clearly non-zero is a broken exporter or a counter reset far more
   * often than real demand vanishing; after `zeroHoldPoints` zeros in a row it is accepted as real.
   */
  private isDropToZero(value: number): boolean {
    if (value !== 0 || !Number.isFinite(this.level)) return false;
    if (this.zeroRun >= this.zeroHold) return false;
    // Series where zeros are ordinary (sparse queues, idle nights) are not "broken" when they hit 0.
    return this.level > 0 && this.seen > this.warmup && this.zeroRate < 0.02;
  }

  /** Forget the CUSUM after the forecaster re-learned. */
  reset(): void {
    this.upSum = 0;
    this.downSum = 0;
    this.jump = undefined;
  }
}

/** Likelihood from which a point is an alert, and how many points later a repeat is not. */
const ALERT_LIKELIHOOD = 0.99;
const REFRACTORY_POINTS = 12;

/** Weight of each point in the long-term error distribution (an effective window of ~500 points). */
const LONG_RATE = 0.002;

/** Φ(x), the standard normal CDF (Abramowitz–Stegun 7.1.26 for erf, |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
