/**
 * The per-series forecasting ensemble: feeds every model each point, back-tests each one on the
 * forecasts it made `leadSteps` ago, weights them by an asymmetric loss (under-forecasting costs
 * `underForecastPenalty` times more than over-forecasting: a missing pod is worse than an idle one),
 * and returns a point path plus an upper quantile of the peak over the lead time.
 *
 * Errors are measured as log ratios ln((actual + c) / (forecast + c)) with c a tenth of the series'
 * typical level, so a 20% miss weighs the same at night and at the daily peak.
 */
import { History } from './history.js';
import type { ForecastModel } from './models.js';
import {
  BlockSeasonalNaive,
  BlockSeasonalPeak,
  DampedTrend,
  HoltWinters,
  RecentPeak,
  SeasonalNaive,
  SeasonalPeak,
} from './models.js';
import { ResidualWindow } from './quantile.js';
import { StateArena } from './state-arena.js';

/** What the back-test compares: the peak over the lead time (scaling) or the whole path (accuracy). */
export type BacktestTarget = 'lead-peak' | 'path';

export interface ForecasterOptions {
  /** Seconds per point. */
  readonly intervalSeconds: number;
  /** Steps between a decision and the first interval a pod requested by it serves, and beyond. */
  readonly leadSteps: number;
  /** Length of the forecast path returned (≥ leadSteps), e.g. the node-provisioning horizon. */
  readonly horizonSteps: number;
  /** @default 'lead-peak' */
  readonly backtest?: BacktestTarget;
  /** Weight of under-forecasting relative to over-forecasting in the back-test loss. @default 3 */
  readonly underForecastPenalty?: number;
  /** Quantile of the lead-time peak reported as `upper`. @default 0.95 */
  readonly upperQuantile?: number;
  /** Half-life, in points, of the back-test loss average. @default 288 */
  readonly lossHalfLife?: number;
  /**
   * Cap on upper ÷ point peak. Spikes no model can foresee would otherwise push the quantile (and the
   * standing replica count) to the spike height all the time; those are served by reacting instead.
   * @default 1.5
   */
  readonly maxMargin?: number;
  /** Residuals kept for the upper quantile. @default 512 */
  readonly residualWindow?: number;
  /** Model families to weigh (see {@link MODEL_FAMILIES}). @default all of them */
  readonly modelFamilies?: readonly ModelFamily[];
}

/**
 * The model families the default ensemble is made of; a workload may restrict itself to some.
 * `seasonal-naive` is both seasonal naive models; `seasonal-naive-daily` or `seasonal-naive-weekly`
 * keeps one (the weekly one holds 7.9 KiB of a 1-minute engine's 22.2).
 */
export const MODEL_FAMILIES = [
  'damped-trend',
  'smoothed-level',
  'recent-peak',
  'seasonal-naive',
  'seasonal-naive-daily',
  'seasonal-naive-weekly',
  'holt-winters',
  'seasonal-peak',
] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

/** One model's standing in the back-test. */
export interface ModelScore {
  readonly model: string;
  /** Exponentially weighted asymmetric loss (lower is better); NaN before its first back-test. */
  readonly loss: number;
  readonly weight: number;
}

export interface Forecast {
  /** Ensemble point forecasts 1..horizonSteps ahead. */
  readonly path: Float64Array;
  /** Max of the point path over steps 1..leadSteps. */
  readonly leadPeak: number;
  /** Upper quantile of the actual peak over steps 1..leadSteps. */
  readonly upper: number;
  /** Upper quantile of the peak over the whole horizon (same calibration, for node headroom). */
  readonly horizonUpper: number;
  /** The model with the highest weight, or `last-value` during warm-up. */
  readonly model: string;
  readonly scores: readonly ModelScore[];
  /** Back-tested residuals so far (the quantile uses a default margin until 30 exist). */
  readonly residuals: number;
}

/** Seasonal periods in points for the interval, keeping only those of at most `maxDaily` points a day. */
export function seasonalPeriods(
  intervalSeconds: number,
  maxDaily: number,
): { daily?: number; weekly?: number } {
  const periods: { daily?: number; weekly?: number } = {};
  const daily = 86_400 / intervalSeconds;
  if (!Number.isInteger(daily) || daily > maxDaily) return periods;
  if (daily >= 2) periods.daily = daily;
  periods.weekly = daily * 7;
  return periods;
}

/**
 * The most points a day may have for the seasonal models to be built: a day at 1 second. Below a
 * minute they keep the day in one-minute blocks and the week in 5-minute ones, so their size does not
 * grow with the points; Holt-Winters' blocks count their points in a byte, which bounds a block to
 * 255 points (60 at 1 second).
 */
export const MAX_DAILY_POINTS = 86_400;
/** Margin used until enough residuals exist: the peak may be 30% above the point forecast. */
const WARMUP_LOG_MARGIN = Math.log(1.3);
const MIN_RESIDUALS = 30;

/** A model of the default ensemble, built only when kept (so only kept models take state). */
interface ModelFactory {
  readonly name: string;
  make(arena: StateArena): ForecastModel;
}

// Smoothing parameters, shared by every engine (models only read them).
const DAMPED_TREND = Object.freeze({ alpha: 0.5, beta: 0.1, phi: 0.9 });
const SMOOTHED_LEVEL = Object.freeze({ alpha: 0.15, beta: 0, phi: 1 });
const HOLT_WINTERS = Object.freeze({ alpha: 0.3, beta: 0.02, gamma: 0.2, phi: 0.9 });

function defaultModels(
  intervalSeconds: number,
  target: BacktestTarget,
  families: readonly ModelFamily[] | undefined,
  arena: StateArena,
): ForecastModel[] {
  const all = modelFactories(intervalSeconds, target);
  if (families === undefined) return all.map((m) => m.make(arena));
  const kept = all.filter((m) => families.some((f) => m.name === f || m.name.startsWith(`${f}-`)));
  // Seasonal families need a day of points per season; a short interval list may leave none.
  const chosen = kept.length > 0 ? kept : all.filter((m) => m.name === 'smoothed-level');
  return chosen.map((m) => m.make(arena));
}

function modelFactories(intervalSeconds: number, target: BacktestTarget): ModelFactory[] {
  const { daily, weekly } = seasonalPeriods(intervalSeconds, MAX_DAILY_POINTS);
  const recent = Math.max(2, Math.round(300 / intervalSeconds));
  const models: ModelFactory[] = [
    { name: 'damped-trend', make: () => new DampedTrend('damped-trend', DAMPED_TREND) },
    { name: 'smoothed-level', make: () => new DampedTrend('smoothed-level', SMOOTHED_LEVEL) },
    { name: 'recent-peak-5m', make: () => new RecentPeak('recent-peak-5m', recent) },
  ];
  // Blocks of a season hold the statistic the back-test scores: the block's maximum for the lead-time
  // peak, its mean for the path.
  const aggregate = target === 'lead-peak' ? 'max' : 'mean';
  if (daily !== undefined) {
    // Below a minute, the daily models keep the day in one-minute blocks (1,440 values each) instead
    // of reading a day of points from the shared history, which then stays short.
    const block = dailyBlockPoints(daily);
    // ±30 minutes around the same time yesterday (at least ±1 point, or ±1 block).
    const jitter = Math.max(1, Math.round(1800 / (intervalSeconds * block)));
    models.push(
      {
        name: 'seasonal-naive-daily',
        make: (arena) =>
          block === 1
            ? new SeasonalNaive('seasonal-naive-daily', daily)
            : new BlockSeasonalNaive('seasonal-naive-daily', daily, block, aggregate, arena),
      },
      {
        name: 'holt-winters-daily',
        make: (arena) => new HoltWinters('holt-winters-daily', daily, HOLT_WINTERS, arena, block),
      },
      {
        name: 'seasonal-peak-daily',
        make: (arena) =>
          block === 1
            ? new SeasonalPeak('seasonal-peak-daily', daily, jitter)
            : new BlockSeasonalPeak('seasonal-peak-daily', daily, block, jitter, arena),
      },
    );
  }
  if (weekly !== undefined) {
    // Below 5 minutes, the week is kept in its own ring of 5-minute blocks (2,016 values). At 5 minutes
    // and coarser, a block would be one point: the weekly model reads the shared history, which then
    // holds the week (and the daily model can fall back through it over gaps).
    const block = weeklyBlockPoints(intervalSeconds, weekly);
    models.push({
      name: 'seasonal-naive-weekly',
      make: (arena) =>
        block === 1
          ? new SeasonalNaive('seasonal-naive-weekly', weekly)
          : new BlockSeasonalNaive('seasonal-naive-weekly', weekly, block, aggregate, arena),
    });
  }
  return models;
}

/** Seconds the weekly model's blocks span at least. */
const WEEKLY_BLOCK_SECONDS = 300;

/**
 * Points per block of the weekly model: the fewest that span {@link WEEKLY_BLOCK_SECONDS} and divide
 * the week (5 at 1 minute, 1 at 5 minutes and coarser).
 */
export function weeklyBlockPoints(intervalSeconds: number, weekly: number): number {
  let points = Math.max(1, Math.ceil(WEEKLY_BLOCK_SECONDS / intervalSeconds - 1e-9));
  while (weekly % points !== 0) points++;
  return points;
}

/** Most seasonal indices Holt-Winters keeps for a day: one per minute. */
const MAX_DAILY_SLOTS = 1_440;

/**
 * Points per Holt-Winters seasonal index: the fewest that keep the day within {@link MAX_DAILY_SLOTS}
 * indices and divide it (1 at 1 minute and coarser, 6 at 10 seconds).
 */
export function dailyBlockPoints(daily: number): number {
  let points = Math.max(1, Math.ceil(daily / MAX_DAILY_SLOTS - 1e-9));
  while (daily % points !== 0) points++;
  return points;
}

export class Forecaster {
  readonly history: History;
  readonly models: readonly ForecastModel[];
  private readonly lead: number;
  private readonly horizon: number;
  private readonly target: BacktestTarget;
  private readonly penalty: number;
  private readonly quantileLevel: number;
  private readonly maxLogMargin: number;
  private readonly decay: number;
  /**
   * Per model, what the back-test scores of the forecasts made at each of the last lead+1 points: the
   * first `lead` steps of the path, or in lead-peak mode only their peak (lead × lead values per
   * model would be 357 KiB per 1-second workload).
   */
  private readonly pastPaths: Float64Array;
  /** Values kept per model and point in {@link pastPaths}: 1 (the peak) or `lead` (the path). */
  private readonly pathLength: number;
  private readonly pastValid: Uint8Array;
  /** The ensemble's lead peak made at each of the last lead+1 points. */
  private readonly pastPeaks: Float64Array;
  private readonly losses: Float64Array;
  private readonly lossWeights: Float64Array;
  private readonly weights: Float64Array;
  private readonly residuals: ResidualWindow;
  private readonly scratch: Float64Array;
  private readonly combined: Float64Array;
  private readonly ready: Uint8Array;
  /** Exponentially weighted mean of |value|: the scale behind the log-ratio offset. */
  private level = Number.NaN;
  private step = 0;
  private lastValue = Number.NaN;

  constructor(
    options: ForecasterOptions,
    models?: ForecastModel[],
    arena: StateArena = StateArena.standalone,
  ) {
    this.lead = options.leadSteps;
    this.horizon = Math.max(options.horizonSteps, options.leadSteps);
    this.target = options.backtest ?? 'lead-peak';
    this.penalty = options.underForecastPenalty ?? 3;
    this.quantileLevel = options.upperQuantile ?? 0.95;
    this.maxLogMargin = Math.log(options.maxMargin ?? 1.5);
    this.decay = 0.5 ** (1 / (options.lossHalfLife ?? 288));
    this.models = models ?? defaultModels(options.intervalSeconds, this.target, options.modelFamilies, arena);
    // As deep as the deepest lag a model reads (below 5 minutes, a day and the seasonal peak's ±30 min:
    // the weekly model keeps its own ring), at least the lead and 64, plus the lead again and one.
    let depth = 0;
    for (const model of this.models) depth = Math.max(depth, model.depth);
    this.history = new History(Math.max(depth, this.lead, 64) + this.lead + 1, arena);
    const n = this.models.length;
    const slots = this.lead + 1;
    this.pathLength = this.target === 'lead-peak' ? 1 : this.lead;
    this.pastPaths = arena.float64(n * slots * this.pathLength);
    this.pastValid = arena.uint8(n * slots);
    this.pastPeaks = arena.float64(slots).fill(Number.NaN);
    this.losses = arena.float64(n);
    this.lossWeights = arena.float64(n);
    this.weights = arena.float64(n);
    this.residuals = new ResidualWindow(options.residualWindow ?? 512, arena);
    this.scratch = arena.float64(this.horizon);
    this.combined = arena.float64(this.horizon);
    this.ready = arena.uint8(n);
  }

  /** Bytes of state held for this series. */
  get bytes(): number {
    let total =
      this.history.bytes + this.residuals.bytes + this.pastPaths.byteLength + this.pastPeaks.byteLength;
    total += this.losses.byteLength * 3 + this.scratch.byteLength * 2;
    for (const model of this.models) total += model.bytes;
    return total;
  }

  /** Feeds the next point (NaN when missing) and refits every model incrementally. */
  observe(value: number): void {
    this.history.push(value);
    if (Number.isFinite(value)) {
      this.lastValue = value;
      const magnitude = Math.abs(value);
      this.level = Number.isFinite(this.level) ? 0.99 * this.level + 0.01 * magnitude : magnitude;
    }
    for (const model of this.models) model.observe(value, this.history);
    this.backtest();
    this.forecastAll();
    this.step++;
  }

  /** Re-anchors every model on the last `window` points and forgets stale residuals (level shift). */
  relearn(window: number): void {
    for (const model of this.models) model.relearn(this.history, window);
    this.residuals.clear();
    this.pastValid.fill(0);
    this.pastPeaks.fill(Number.NaN);
    this.forecastAll();
  }

  private offset(): number {
    return Math.max(0.1 * (Number.isFinite(this.level) ? this.level : 0), 1e-6);
  }

  /**
   * The residual the upper quantile is learned on: the miss scaled by √forecast, since the variance of
   * counts of independent requests grows with their level (a 95% margin is wider at night in relative
   * terms and narrower at the peak, where it costs most). Measured on the policy suite, this beat
   * log-ratio residuals on cost at equal violations.
   */
  private peakResidual(actual: number, forecast: number): number {
    const c = this.offset();
    return (Math.max(actual, 0) - Math.max(forecast, 0)) / Math.sqrt(Math.max(forecast, 0) + c);
  }

  /** peak + margin·√peak, capped at maxMargin × peak. */
  private widen(peak: number, margin: number): number {
    const c = this.offset();
    const upper = peak + margin * Math.sqrt(peak + c);
    return Math.max(0, Math.min(upper, (peak + c) * Math.exp(this.maxLogMargin) - c));
  }

  private logRatio(actual: number, forecast: number): number {
    const c = this.offset();
    return Math.log((Math.max(actual, 0) + c) / (Math.max(forecast, 0) + c));
  }

  private asymmetric(error: number): number {
    return error > 0 ? this.penalty * error : -error;
  }

  /** Scores the forecasts made `lead` points ago against what happened since. */
  private backtest(): void {
    const lead = this.lead;
    if (this.step < lead) return;
    let actualPeak = Number.NEGATIVE_INFINITY;
    for (let lag = lead; lag >= 1; lag--) {
      const actual = this.history.back(lag);
      if (!Number.isFinite(actual)) return;
      actualPeak = Math.max(actualPeak, actual);
    }
    const slot = (this.step - lead) % (lead + 1);
    const peak = this.pastPeaks[slot] ?? Number.NaN;
    if (Number.isFinite(peak)) this.residuals.push(this.peakResidual(actualPeak, peak));
    for (let m = 0; m < this.models.length; m++) {
      if (!this.pastValid[m * (lead + 1) + slot]) continue;
      const base = (m * (lead + 1) + slot) * this.pathLength;
      const loss =
        this.target === 'lead-peak'
          ? this.asymmetric(this.logRatio(actualPeak, this.pastPaths[base] ?? 0))
          : this.pathLoss(base);
      const w = this.lossWeights[m] ?? 0;
      this.losses[m] = (this.decay * w * (this.losses[m] ?? 0) + loss) / (this.decay * w + 1);
      this.lossWeights[m] = this.decay * w + 1;
    }
  }

  private pathLoss(base: number): number {
    let sum = 0;
    for (let h = 0; h < this.lead; h++) {
      const actual = this.history.back(this.lead - h);
      sum += this.asymmetric(this.logRatio(actual, this.pastPaths[base + h] ?? 0));
    }
    return sum / this.lead;
  }

  /** Runs every model forward, combines them with the current weights and records the paths. */
  private forecastAll(): void {
    const lead = this.lead;
    const slot = this.step % (lead + 1);
    this.updateWeights();
    this.combined.fill(0);
    let totalWeight = 0;
    for (let m = 0; m < this.models.length; m++) {
      const model = this.models[m] as ForecastModel;
      const ok = model.forecast(this.scratch, this.history);
      this.ready[m] = ok ? 1 : 0;
      this.pastValid[m * (lead + 1) + slot] = ok ? 1 : 0;
      if (!ok) continue;
      const base = (m * (lead + 1) + slot) * this.pathLength;
      if (this.pathLength === 1) {
        let peak = Number.NEGATIVE_INFINITY;
        for (let h = 0; h < lead; h++) peak = Math.max(peak, this.scratch[h] ?? 0);
        this.pastPaths[base] = peak;
      } else {
        this.pastPaths.set(this.scratch.subarray(0, lead), base);
      }
      const weight = this.weights[m] ?? 0;
      if (weight <= 0) continue;
      totalWeight += weight;
      for (let h = 0; h < this.horizon; h++)
        this.combined[h] = (this.combined[h] ?? 0) + weight * (this.scratch[h] ?? 0);
    }
    if (totalWeight > 0) {
      for (let h = 0; h < this.horizon; h++)
        this.combined[h] = Math.max(0, (this.combined[h] ?? 0) / totalWeight);
    } else {
      this.combined.fill(Number.isFinite(this.lastValue) ? Math.max(0, this.lastValue) : 0);
    }
    this.pastPeaks[slot] = this.peakOf(lead);
  }

  /**
   * Inverse-square loss weights over the models that can forecast and are within 1.5× of the best
   * loss; equal weights while no model has been back-tested yet.
   */
  private updateWeights(): void {
    const n = this.models.length;
    let best = Number.POSITIVE_INFINITY;
    for (let m = 0; m < n; m++) {
      if ((this.lossWeights[m] ?? 0) >= 5) best = Math.min(best, this.losses[m] ?? Number.POSITIVE_INFINITY);
    }
    for (let m = 0; m < n; m++) {
      const tested = (this.lossWeights[m] ?? 0) >= 5;
      if (!Number.isFinite(best)) this.weights[m] = 1;
      else if (!tested) this.weights[m] = 0;
      else {
        const loss = this.losses[m] ?? 0;
        this.weights[m] = loss <= 1.5 * best + 1e-12 ? 1 / (loss + 1e-3) ** 2 : 0;
      }
    }
  }

  private peakOf(steps: number): number {
    let peak = 0;
    for (let h = 0; h < steps; h++) peak = Math.max(peak, this.combined[h] ?? 0);
    return peak;
  }

  /** The ensemble's one-step-ahead point forecast (cheap: no quantile), NaN before the first point. */
  nextValue(): number {
    return this.step === 0 ? Number.NaN : (this.combined[0] ?? Number.NaN);
  }

  /** The current forecast (a view: copy `path` if you keep it past the next `observe`). */
  forecast(): Forecast {
    const warm = this.residuals.length >= MIN_RESIDUALS;
    const margin = warm ? this.residuals.quantile(this.quantileLevel) : Number.NaN;
    const c = this.offset();
    const widen = (peak: number): number =>
      warm ? this.widen(peak, margin) : Math.max(0, (peak + c) * Math.exp(WARMUP_LOG_MARGIN) - c);
    const leadPeak = this.peakOf(this.lead);
    return {
      path: this.combined,
      leadPeak,
      upper: widen(leadPeak),
      horizonUpper: widen(this.peakOf(this.horizon)),
      model: this.chosenModel(),
      scores: this.models.map((model, m) => ({
        model: model.name,
        loss: (this.lossWeights[m] ?? 0) > 0 ? (this.losses[m] ?? Number.NaN) : Number.NaN,
        weight: this.normalisedWeight(m),
      })),
      residuals: this.residuals.length,
    };
  }

  private normalisedWeight(m: number): number {
    let total = 0;
    for (let i = 0; i < this.models.length; i++) if (this.ready[i]) total += this.weights[i] ?? 0;
    return total > 0 && this.ready[m] ? (this.weights[m] ?? 0) / total : 0;
  }

  private chosenModel(): string {
    let bestIndex = -1;
    let bestWeight = 0;
    for (let m = 0; m < this.models.length; m++) {
      const weight = this.normalisedWeight(m);
      if (weight > bestWeight) {
        bestWeight = weight;
        bestIndex = m;
      }
    }
    return bestIndex < 0 ? 'last-value' : (this.models[bestIndex]?.name ?? 'last-value');
  }
}
