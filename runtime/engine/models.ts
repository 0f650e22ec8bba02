/**
 * The forecasting models the ensemble chooses between. Each is incremental (O(1) or O(horizon) per
 * point, no refit over the whole history) and causal: it only ever sees values already observed.
 */
import type { History } from './history.js';
import { StateArena } from './state-arena.js';

export interface ForecastModel {
  /** Stable name shown in explanations, e.g. `holt-winters-daily`. */
  readonly name: string;
  /** Feeds the next value (NaN when missing). `history.back(1)` already holds it. */
  observe(value: number, history: History): void;
  /** Writes the forecasts 1..out.length steps ahead into `out`; false when it cannot forecast yet. */
  forecast(out: Float64Array, history: History): boolean;
  /** Re-anchors on the level of the last `window` values after a level shift. */
  relearn(history: History, window: number): void;
  /** Bytes of state held (history excluded). */
  readonly bytes: number;
  /** The deepest lag of the shared history it reads: the forecaster keeps at least this many points. */
  readonly depth: number;
}

/** Mean of the finite values among the last `window` of `history`, NaN when there are none. */
export function recentMean(history: History, window: number): number {
  let sum = 0;
  let count = 0;
  for (let lag = 1; lag <= window; lag++) {
    const value = history.back(lag);
    if (Number.isFinite(value)) {
      sum += value;
      count++;
    }
  }
  return count === 0 ? Number.NaN : sum / count;
}

/**
 * Seasonal naive: tomorrow at 10:00 equals today at 10:00. A missing value falls back to the same slot
 * one more season back while the history still holds it.
 */
export class SeasonalNaive implements ForecastModel {
  readonly bytes = 0;
  constructor(
    readonly name: string,
    private readonly period: number,
  ) {}

  get depth(): number {
    return this.period;
  }

  observe(): void {}

  forecast(out: Float64Array, history: History): boolean {
    if (history.length < this.period) return false;
    for (let h = 1; h <= out.length; h++) {
      let lag = Math.ceil(h / this.period) * this.period - h + 1;
      let value = history.back(lag);
      while (!Number.isFinite(value) && lag + this.period <= history.length) {
        lag += this.period;
        value = history.back(lag);
      }
      if (!Number.isFinite(value)) return false;
      out[h - 1] = value;
    }
    return true;
  }

  relearn(): void {}
}

/** How {@link BlockSeasonalNaive} summarises the points of one block. */
export type BlockAggregate = 'mean' | 'max';

/**
 * A ring of per-block aggregates (`blockPoints` points each) of a series: a long season kept at a
 * coarser resolution. Blocks are aligned on the first point observed; missing (NaN) points are left out
 * of their block, and a block with no finite point is missing (NaN).
 */
class BlockRing {
  readonly blocks: Float32Array;
  /** Ring position of the next completed block, and completed blocks held (≤ blocks.length). */
  private next = 0;
  stored = 0;
  /** Points observed so far: blocks end after every `blockPoints`-th point. */
  observed = 0;
  /** The block being filled. */
  private sum = 0;
  private count = 0;
  private peak = Number.NEGATIVE_INFINITY;

  constructor(
    capacity: number,
    readonly blockPoints: number,
    private readonly aggregate: BlockAggregate,
    arena: StateArena,
  ) {
    this.blocks = arena.float32(capacity).fill(Number.NaN);
  }

  get bytes(): number {
    return this.blocks.byteLength + 48;
  }

  /** Completed blocks so far. */
  get completed(): number {
    return Math.floor(this.observed / this.blockPoints);
  }

  observe(value: number): void {
    if (Number.isFinite(value)) {
      this.sum += value;
      this.count++;
      if (value > this.peak) this.peak = value;
    }
    this.observed++;
    if (this.observed % this.blockPoints !== 0) return;
    this.blocks[this.next] = this.partial();
    this.next = (this.next + 1) % this.blocks.length;
    if (this.stored < this.blocks.length) this.stored++;
    this.sum = 0;
    this.count = 0;
    this.peak = Number.NEGATIVE_INFINITY;
  }

  /** The completed block `lag` blocks back (1 is the latest, at most the ring's length), NaN when it had no finite point. */
  block(lag: number): number {
    const size = this.blocks.length;
    return this.blocks[(this.next - lag + size) % size] ?? Number.NaN;
  }

  /** The summary of the block being filled so far, NaN when none of its points is finite. */
  partial(): number {
    if (this.count === 0) return Number.NaN;
    return this.aggregate === 'max' ? this.peak : this.sum / this.count;
  }

  /** Blocks back (0: the one being filled) of the block holding the point `h` steps ahead, `period` points ago or more. */
  lagOf(h: number, period: number): number {
    const source = this.observed - 1 + h - Math.ceil(h / period) * period;
    return this.completed - Math.floor(source / this.blockPoints);
  }
}

/**
 * A seasonal model over a {@link BlockRing} of `period / blockPoints` blocks, plus `extraBlocks`
 * older ones. It reads no shared history.
 */
abstract class BlockSeasonalModel implements ForecastModel {
  readonly depth = 0;
  protected readonly ring: BlockRing;

  constructor(
    readonly name: string,
    protected readonly period: number,
    blockPoints: number,
    extraBlocks: number,
    aggregate: BlockAggregate,
    arena: StateArena,
  ) {
    this.ring = new BlockRing(period / blockPoints + extraBlocks, blockPoints, aggregate, arena);
  }

  get bytes(): number {
    return this.ring.bytes;
  }

  observe(value: number): void {
    this.ring.observe(value);
  }

  abstract forecast(out: Float64Array): boolean;

  relearn(): void {}
}

/** `period` if it is a whole number of `blockPoints`-point blocks; a RangeError naming `model` otherwise. */
function checkBlocks(model: string, period: number, blockPoints: number): number {
  if (!Number.isInteger(blockPoints) || blockPoints < 1 || period % blockPoints !== 0 || period < 1) {
    throw new RangeError(`${model}: period ${period} is not a whole number of ${blockPoints}-point blocks`);
  }
  return period;
}

/**
 * Seasonal naive over a long season kept at a coarser resolution: the value `period` points ago is
 * read from a ring of per-block aggregates (`blockPoints` points each) instead of the raw history, so a
 * week of 1-minute points costs 2,016 five-minute blocks instead of 10,080 points. Blocks are aligned
 * on the first point observed; missing (NaN) points are left out of their block, and a block with no
 * finite point is missing. With `blockPoints` 1 it is the plain seasonal naive of the same period.
 */
export class BlockSeasonalNaive extends BlockSeasonalModel {
  constructor(
    name: string,
    period: number,
    blockPoints: number,
    aggregate: BlockAggregate = 'mean',
    arena: StateArena = StateArena.standalone,
  ) {
    super(name, checkBlocks('BlockSeasonalNaive', period, blockPoints), blockPoints, 0, aggregate, arena);
  }

  forecast(out: Float64Array): boolean {
    const ring = this.ring;
    const size = ring.blocks.length;
    if (ring.stored < size) return false;
    for (let h = 1; h <= out.length; h++) {
      const lag = ring.lagOf(h, this.period);
      // lag 0: the slot lies in the block still being filled (horizons of a season or more). Its
      // points so far stand for it, or, when all are missing, the same block one season earlier.
      let value = lag >= 1 ? ring.block(lag) : ring.partial();
      if (lag < 1 && !Number.isFinite(value)) value = ring.block(size);
      if (!Number.isFinite(value)) return false;
      out[h - 1] = value;
    }
    return true;
  }
}

/** `jitterBlocks` if it is 0..seasonBlocks - 1; a RangeError otherwise. */
function checkJitter(jitterBlocks: number, seasonBlocks: number): number {
  if (!Number.isInteger(jitterBlocks) || jitterBlocks < 0 || jitterBlocks >= seasonBlocks) {
    throw new RangeError(`BlockSeasonalPeak: jitter ${jitterBlocks} must be 0..${seasonBlocks - 1} blocks`);
  }
  return jitterBlocks;
}

/**
 * {@link SeasonalPeak} over block maxima: the highest block within ±`jitterBlocks` blocks of the
 * block holding the same slot one season ago. Below a minute a day is kept as 1,440 one-minute maxima
 * (5.6 KiB) instead of every point (34 KiB at 10 seconds).
 */
export class BlockSeasonalPeak extends BlockSeasonalModel {
  constructor(
    name: string,
    period: number,
    blockPoints: number,
    private readonly jitterBlocks: number,
    arena: StateArena = StateArena.standalone,
  ) {
    // A season of blocks, and the jitter beyond it (the window of the next slot reaches that far back).
    super(
      name,
      checkBlocks('BlockSeasonalPeak', period, blockPoints),
      blockPoints,
      checkJitter(jitterBlocks, period / blockPoints),
      'max',
      arena,
    );
  }

  forecast(out: Float64Array): boolean {
    const ring = this.ring;
    if (ring.stored < ring.blocks.length) return false;
    let centre = Number.NaN;
    let peak = Number.NaN;
    for (let h = 1; h <= out.length; h++) {
      const lag = ring.lagOf(h, this.period);
      // Consecutive horizons mostly fall in the same block: its window's peak is computed once.
      if (lag !== centre) {
        centre = lag;
        peak = this.windowPeak(lag);
      }
      if (!Number.isFinite(peak)) return false;
      out[h - 1] = peak;
    }
    return true;
  }

  /** Highest finite block at lags centre ± jitter (0 is the block being filled; none newer exists). */
  private windowPeak(centre: number): number {
    const ring = this.ring;
    const oldest = Math.min(centre + this.jitterBlocks, ring.blocks.length);
    let peak = Number.NEGATIVE_INFINITY;
    for (let lag = Math.max(0, centre - this.jitterBlocks); lag <= oldest; lag++) {
      const value = lag === 0 ? ring.partial() : ring.block(lag);
      if (Number.isFinite(value) && value > peak) peak = value;
    }
    return Number.isFinite(peak) ? peak : Number.NaN;
  }
}

/** Smoothing parameters of Holt's and Holt-Winters' methods. */
export interface SmoothingParameters {
  /** Level smoothing α in (0, 1]. */
  readonly alpha: number;
  /** Trend smoothing β in [0, 1]. */
  readonly beta: number;
  /** Trend damping φ in (0, 1]: long horizons flatten instead of extrapolating a line forever. */
  readonly phi: number;
}

/** Σ_{k=1..h} φ^k: the damped trend multiplier at horizon h. */
function dampedSum(phi: number, h: number): number {
  return phi === 1 ? h : (phi * (1 - phi ** h)) / (1 - phi);
}

/** Tables of {@link dampedSum} by φ, shared by every engine (φ is one of a few constants). */
const DAMPED_SUMS = new Map<number, Float64Array>();

/**
 * dampedSum(φ, h) at index h − 1 for h = 1..length, the same values the closed form gives. Computing
 * `φ ** h` per step of every path took over half of a 1-second engine's time (301-step paths).
 */
function dampedSums(phi: number, length: number): Float64Array {
  let table = DAMPED_SUMS.get(phi);
  if (table === undefined || table.length < length) {
    if (DAMPED_SUMS.size >= 16) DAMPED_SUMS.clear(); // only tests build many φ
    table = new Float64Array(Math.max(length, 2 * (table?.length ?? 0), 64));
    for (let h = 1; h <= table.length; h++) table[h - 1] = dampedSum(phi, h);
    DAMPED_SUMS.set(phi, table);
  }
  return table;
}

/** Holt's damped linear trend: the short-horizon model that follows ramps. */
export class DampedTrend implements ForecastModel {
  readonly bytes = 24;
  readonly depth = 0;
  private level = Number.NaN;
  private trend = 0;

  constructor(
    readonly name: string,
    private readonly params: SmoothingParameters,
  ) {}

  observe(value: number): void {
    const { alpha, beta, phi } = this.params;
    if (!Number.isFinite(value)) {
      if (Number.isFinite(this.level)) this.level += phi * this.trend;
      this.trend *= phi;
      return;
    }
    if (!Number.isFinite(this.level)) {
      this.level = value;
      return;
    }
    const previous = this.level;
    this.level = alpha * value + (1 - alpha) * (previous + phi * this.trend);
    this.trend = beta * (this.level - previous) + (1 - beta) * phi * this.trend;
  }

  forecast(out: Float64Array): boolean {
    if (!Number.isFinite(this.level)) return false;
    const sums = dampedSums(this.params.phi, out.length);
    for (let h = 1; h <= out.length; h++) out[h - 1] = this.level + (sums[h - 1] as number) * this.trend;
    return true;
  }

  relearn(history: History, window: number): void {
    const mean = recentMean(history, window);
    if (Number.isFinite(mean)) this.level = mean;
    this.trend = 0;
  }
}

/** Smoothing parameters of Holt-Winters: Holt's plus the seasonal smoothing γ. */
export interface SeasonalSmoothingParameters extends SmoothingParameters {
  readonly gamma: number;
}

/**
 * Additive Holt-Winters with a damped trend and one season (daily by default). Initialised from the
 * first full season; each point updates level, trend and its slot's seasonal index in O(1). With
 * `blockPoints` > 1 a seasonal index stands for that many consecutive points (a 10-second daily season
 * in 1,440 one-minute slots, not 8,640): it is the block's mean in the first season, and each of its
 * points updates it with gamma / blockPoints, so it moves as far per season as a one-point slot.
 */
export class HoltWinters implements ForecastModel {
  readonly depth = 0;
  private readonly season: Float32Array;
  /** Finite points averaged into each block during the first season (blocks only). */
  private readonly firstSeasonCounts: Uint8Array | undefined;
  private level = Number.NaN;
  private trend = 0;
  /** Slot (point of the period) of the next value. */
  private slot = 0;
  private seen = 0;

  constructor(
    readonly name: string,
    private readonly period: number,
    private readonly params: SeasonalSmoothingParameters,
    arena: StateArena = StateArena.standalone,
    private readonly blockPoints = 1,
  ) {
    // (Counts of up to 255 points per block: a day of 1-second points in 1,440 slots has 60.)
    if (
      !Number.isInteger(blockPoints) ||
      blockPoints < 1 ||
      blockPoints > 255 ||
      period % blockPoints !== 0
    ) {
      throw new RangeError(
        `HoltWinters: period ${period} is not a whole number of ${blockPoints}-point blocks`,
      );
    }
    this.season = arena.float32(period / blockPoints);
    this.firstSeasonCounts = blockPoints > 1 ? arena.uint8(period / blockPoints) : undefined;
  }

  get bytes(): number {
    return this.season.byteLength + (this.firstSeasonCounts?.byteLength ?? 0) + 32;
  }

  private block(slot: number): number {
    return this.blockPoints === 1 ? slot : Math.floor(slot / this.blockPoints);
  }

  observe(value: number): void {
    const slot = this.slot;
    this.slot = (slot + 1) % this.period;
    if (!Number.isFinite(this.level)) {
      this.collectFirstSeason(slot, value);
      return;
    }
    const { alpha, beta, phi } = this.params;
    const block = this.block(slot);
    const seasonal = this.season[block] ?? 0;
    if (!Number.isFinite(value)) {
      this.level += phi * this.trend;
      this.trend *= phi;
      return;
    }
    const gamma = this.params.gamma / this.blockPoints;
    const previous = this.level;
    this.level = alpha * (value - seasonal) + (1 - alpha) * (previous + phi * this.trend);
    this.trend = beta * (this.level - previous) + (1 - beta) * phi * this.trend;
    this.season[block] = gamma * (value - this.level) + (1 - gamma) * seasonal;
  }

  /** Until one season is seen, the seasonal array holds raw values (block means); then deviations. */
  private collectFirstSeason(slot: number, value: number): void {
    const counts = this.firstSeasonCounts;
    if (counts === undefined) this.season[slot] = value;
    else {
      const block = this.block(slot);
      if (slot % this.blockPoints === 0) {
        this.season[block] = Number.NaN;
        counts[block] = 0;
      }
      if (Number.isFinite(value)) {
        const n = (counts[block] ?? 0) + 1;
        counts[block] = n;
        const mean = this.season[block] ?? Number.NaN;
        this.season[block] = n === 1 ? value : mean + (value - mean) / n;
      }
    }
    this.seen++;
    if (this.seen < this.period) return;
    let sum = 0;
    let count = 0;
    for (const v of this.season) {
      if (Number.isFinite(v)) {
        sum += v;
        count++;
      }
    }
    if (count === 0) {
      this.seen = 0;
      return;
    }
    this.level = sum / count;
    for (let i = 0; i < this.season.length; i++) {
      const v = this.season[i] ?? Number.NaN;
      this.season[i] = Number.isFinite(v) ? v - this.level : 0;
    }
  }

  forecast(out: Float64Array): boolean {
    if (!Number.isFinite(this.level)) return false;
    const sums = dampedSums(this.params.phi, out.length);
    for (let h = 1; h <= out.length; h++) {
      const seasonal = this.season[this.block((this.slot + h - 1) % this.period)] ?? 0;
      out[h - 1] = this.level + (sums[h - 1] as number) * this.trend + seasonal;
    }
    return true;
  }

  relearn(history: History, window: number): void {
    if (!Number.isFinite(this.level)) return;
    let sum = 0;
    let count = 0;
    for (let lag = 1; lag <= window; lag++) {
      const value = history.back(lag);
      if (!Number.isFinite(value)) continue;
      const slot = (((this.slot - lag) % this.period) + this.period) % this.period;
      sum += value - (this.season[this.block(slot)] ?? 0);
      count++;
    }
    if (count > 0) this.level = sum / count;
    this.trend = 0;
  }
}

/**
 * The highest value of the last `window` points, held flat: what a reactive autoscaler with a
 * scale-down stabilization window effectively predicts. It wins the back-test on bursty series where
 * bursts recur within minutes and no smooth model can foresee their onset.
 */
export class RecentPeak implements ForecastModel {
  readonly bytes = 0;
  constructor(
    readonly name: string,
    private readonly window: number,
  ) {}

  get depth(): number {
    return this.window;
  }

  observe(): void {}

  forecast(out: Float64Array, history: History): boolean {
    let peak = Number.NEGATIVE_INFINITY;
    for (let lag = 1; lag <= this.window; lag++) {
      const value = history.back(lag);
      if (Number.isFinite(value) && value > peak) peak = value;
    }
    if (!Number.isFinite(peak)) return false;
    out.fill(peak);
    return true;
  }

  relearn(): void {}
}

/**
 * Seasonal peak: the highest value within ±`jitter` points of the same slot one season ago. Daily
 * batch jobs and cron-driven bursts recur at about the same time but rarely to the minute; an exact
 * seasonal naive misses them by a few points, this does not.
 */
export class SeasonalPeak implements ForecastModel {
  readonly bytes = 0;
  constructor(
    readonly name: string,
    private readonly period: number,
    private readonly jitter: number,
  ) {}

  get depth(): number {
    return this.period + this.jitter;
  }

  observe(): void {}

  forecast(out: Float64Array, history: History): boolean {
    if (history.length < this.period + this.jitter) return false;
    // Horizons 1..n look at lags centre(h) ± jitter, centre falling by one per step (within a season):
    // one pass over the union of lags, then a sliding maximum over it.
    for (let h = 1; h <= out.length; h++) {
      const centre = Math.ceil(h / this.period) * this.period - h + 1;
      const peak = this.slotPeak(history, centre);
      if (!Number.isFinite(peak)) return false;
      out[h - 1] = peak;
    }
    return true;
  }

  /**
   * Highest finite value at lags centre ± jitter. Consecutive horizons, and consecutive points, move
   * the window by one lag, so the previous maximum is updated with the lag that entered and rescanned
   * only when the one that left was the maximum.
   */
  private slotPeak(history: History, centre: number): number {
    const low = Math.max(1, centre - this.jitter);
    const high = centre + this.jitter;
    // The cached window, in today's lags (every push since moved it one lag further back).
    const shift = history.pushes - this.cachedPushes;
    if (this.cachedHigh + shift === high + 1 && this.cachedLow + shift === low + 1) {
      // The window moved one lag closer: add lag `low`, drop lag `high + 1`.
      const added = history.back(low);
      const dropped = history.back(high + 1);
      if (Number.isFinite(added) && added > this.cachedPeak) this.cachedPeak = added;
      else if (dropped === this.cachedPeak) this.cachedPeak = this.scan(history, low, high);
    } else {
      this.cachedPeak = this.scan(history, low, high);
    }
    this.cachedLow = low;
    this.cachedHigh = high;
    this.cachedPushes = history.pushes;
    return this.cachedPeak;
  }

  private scan(history: History, low: number, high: number): number {
    let peak = Number.NEGATIVE_INFINITY;
    for (let lag = low; lag <= high; lag++) {
      const value = history.back(lag);
      if (Number.isFinite(value) && value > peak) peak = value;
    }
    return peak;
  }

  private cachedLow = 0;
  private cachedHigh = 0;
  private cachedPushes = -1;
  private cachedPeak = Number.NEGATIVE_INFINITY;

  relearn(): void {}
}
