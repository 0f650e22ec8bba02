/**
 * One series' forecaster and anomaly detector, fed one point at a time: the part of the engine that
 * `elasticai detect` runs on its own. It replays missing intervals as gaps (keeping seasonal slots
 * aligned), keeps broken points out of the models, and re-learns after a level shift.
 */
import type { Assessment } from './anomaly.js';
import { AnomalyDetector, isBrokenSignal } from './anomaly.js';
import type { ForecasterOptions } from './forecaster.js';
import { Forecaster } from './forecaster.js';
import { EngineSettingsError } from './settings.js';
import { StateArena } from './state-arena.js';

export type SeriesMonitorOptions = Partial<ForecasterOptions> &
  Pick<ForecasterOptions, 'intervalSeconds'> & {
    /** See AnomalyOptions.kind. @default 'demand' */
    readonly kind?: 'demand' | 'metric';
  };

/** Gaps longer than this many points are not replayed point by point. */
const MAX_REPLAYED_GAP = 20_160;
/** Points re-learned from after a level shift. */
const RELEARN_WINDOW = 6;

export class SeriesMonitor {
  readonly forecaster: Forecaster;
  private readonly detector: AnomalyDetector;
  private readonly intervalSeconds: number;
  private lastTimestamp = Number.NaN;
  private last: Assessment = { state: 'warming-up', score: 0, zScore: 0 };
  private lastValue = Number.NaN;
  private previousUsable = Number.NaN;
  private lastUsable = Number.NaN;

  constructor(options: SeriesMonitorOptions, arena: StateArena = StateArena.standalone) {
    if (!(options.intervalSeconds > 0) || !Number.isFinite(options.intervalSeconds)) {
      throw new EngineSettingsError(
        'intervalSeconds',
        options.intervalSeconds,
        'must be a finite number > 0',
      );
    }
    this.intervalSeconds = options.intervalSeconds;
    this.forecaster = new Forecaster({ leadSteps: 1, horizonSteps: 1, ...options }, undefined, arena);
    this.detector = new AnomalyDetector({ kind: options.kind ?? 'demand' });
  }

  /** The latest point's assessment. */
  get assessment(): Assessment {
    return this.last;
  }

  /** The latest value as received (NaN, negative or infinite when the signal is broken). */
  get value(): number {
    return this.lastValue;
  }

  /** The latest usable demand (NaN when the latest point was broken). */
  get demand(): number {
    return this.lastUsable;
  }

  /** The usable demand of the point before the latest one (NaN when missing or broken). */
  get previousDemand(): number {
    return this.previousUsable;
  }

  get timestamp(): number {
    return this.lastTimestamp;
  }

  get bytes(): number {
    return this.forecaster.bytes + this.detector.bytes + 64;
  }

  /**
   * Feeds the value of the interval starting at `timestamp` (epoch seconds); timestamps must increase.
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
    const gap = this.replayGap(timestamp);
    this.lastTimestamp = timestamp;
    const expected = this.forecaster.nextValue();
    const assessment = this.detector.assess(value, expected);
    const usable = !isBrokenSignal(assessment.state);
    this.forecaster.observe(usable ? value : Number.NaN);
    if (assessment.state === 'level-shift') {
      this.forecaster.relearn(RELEARN_WINDOW);
      this.detector.reset();
    }
    this.previousUsable = gap ? Number.NaN : this.lastUsable;
    this.lastUsable = usable ? value : Number.NaN;
    this.lastValue = value;
    this.last = assessment;
    return assessment;
  }

  /** Feeds NaN for intervals with no point; true when there was a gap. */
  private replayGap(timestamp: number): boolean {
    if (!Number.isFinite(this.lastTimestamp)) return false;
    const missing = Math.round((timestamp - this.lastTimestamp) / this.intervalSeconds) - 1;
    for (let i = 0; i < Math.min(missing, MAX_REPLAYED_GAP); i++) this.forecaster.observe(Number.NaN);
    return missing > 0;
  }
}
