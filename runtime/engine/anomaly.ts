/**
 * Causal anomaly detection on one series. Each point is compared with the one-step forecast made
 * before it arrived, on a log-ratio scale normalised by a robust running spread:
 *
 * - a broken signal (missing value, NaN/Infinity, negative, or a sudden drop to zero where the series
 *   has been well above zero) must be held through: the policy never scales down on it;
 * - a surge (far above forecast) is real demand until proven otherwise: serve it at once;
 * - a level shift (a run of same-signed errors, found with a two-sided CUSUM) makes the forecaster
 *   re-learn from recent points instead of slowly un-learning the old level.
 */

export type SignalState =
  'warming-up' | 'normal' | 'surge' | 'level-shift' | 'missing' | 'invalid' | 'drop-to-zero';

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
  /** Running robust spread of log-ratio errors (EW mean absolute error). */
  private spread = Number.NaN;
  private level = Number.NaN;
  private upSum = 0;
  private downSum = 0;
  private seen = 0;
  private zeroRun = 0;
  /** The forecast before a large jump, kept to see whether the jump persists (a level shift). */
  private jump: { reference: number; offset: number; sigma: number; sign: number; count: number } | undefined;
  /** Exponentially weighted share of zero values among accepted points. */
  private zeroRate = 0;

  constructor(options: AnomalyOptions = {}) {
    this.surgeZ = options.surgeZ ?? 4;
    this.threshold = options.shiftThreshold ?? 8;
    this.slack = options.shiftSlack ?? 0.75;
    this.warmup = options.warmup ?? 12;
    this.zeroHold = options.zeroHoldPoints ?? 10;
  }

  /** Bytes of state. */
  readonly bytes = 64;

  /**
   * Scores `value` against `expected` (the one-step forecast made before `value` was seen; NaN when
   * there is none yet). Call once per point, in order.
   */
  assess(value: number, expected: number): Assessment {
    if (Number.isNaN(value)) return { state: 'missing', score: 1, zScore: 0 };
    if (!Number.isFinite(value) || value < 0) return { state: 'invalid', score: 1, zScore: 0 };
    const dropToZero = this.isDropToZero(value);
    this.zeroRun = value === 0 ? this.zeroRun + 1 : 0;
    if (dropToZero) return { state: 'drop-to-zero', score: 1, zScore: 0 };

    this.seen++;
    this.zeroRate = 0.99 * this.zeroRate + (value === 0 ? 0.01 : 0);
    const offset = Math.max(0.1 * (Number.isFinite(this.level) ? this.level : value), 1e-6);
    this.level = Number.isFinite(this.level) ? 0.98 * this.level + 0.02 * value : value;
    if (!Number.isFinite(expected)) return { state: 'warming-up', score: 0, zScore: 0 };

    const error = Math.log((value + offset) / (Math.max(expected, 0) + offset));
    const sigma = Number.isFinite(this.spread) ? Math.max(this.spread * MAD_TO_SIGMA, 0.02) : Number.NaN;
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
    const score = Math.max(pointScore(z), Math.min(1, cusum / (2 * this.threshold)));
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
   * A jump of ≥ surgeZ starts a watch against the forecast from before it; if the next points stay
   * beyond 3σ of that old forecast on the same side, the level has shifted. Needed because the
   * ensemble itself adapts within a point or two, so errors against it alone stop accumulating.
   */
  private jumpPersists(value: number, z: number, expected: number, offset: number, sigma: number): boolean {
    const jump = this.jump;
    if (jump === undefined) {
      if (Math.abs(z) >= this.surgeZ) {
        this.jump = { reference: Math.max(expected, 0), offset, sigma, sign: Math.sign(z), count: 1 };
      }
      return false;
    }
    const zReference = Math.log((value + jump.offset) / (jump.reference + jump.offset)) / jump.sigma;
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

/** Maps |z| to [0, 1): 0 up to 2σ, 0.5 near 3.2σ, about 0.9 at 5σ. */
function pointScore(z: number): number {
  const excess = Math.max(0, Math.abs(z) - 2);
  return 1 - Math.exp(-(excess * excess) / 2);
}
