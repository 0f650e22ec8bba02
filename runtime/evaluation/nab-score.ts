/**
 * Numenta Anomaly Benchmark scoring, as NAB's `sweeper.py` (scoring per row and threshold sweep) and
 * `runner.py` (normalisation) do it:
 * - the first min(floor(0.15·n), 750) rows of a file are probationary: not scored at all (a window
 *   entirely inside them counts neither as hit nor as miss);
 * - a detection at row i inside a window [left, right] of W rows is worth A_TP·σ(y)/σ(−1) with
 *   y = −(right − i + 1)/W and σ(y) = 2/(1 + e^{5y}) − 1; only the best (earliest) detection of a window
 *   counts; a window without one costs −A_FN;
 * - a detection outside every window is worth A_FP·σ(y) with y = |i − previous right edge| / (previous W − 1),
 *   and −A_FP before the first window (σ is −1 from y ≥ 3);
 * - the corpus score is normalised as 100·(S − S_null)/(S_perfect − S_null), S_null being the score with
 *   no detections and S_perfect = (number of windows) × A_TP.
 * Windows are given as timestamps and mapped to rows as NAB does (left edge: the row at or after the start;
 * right edge: the first row at the end timestamp, else the last row before it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsvLines, parseDemand, parseTimestamp, TraceError } from '../simulation/trace.js';

/** A NAB profile's cost matrix (`profiles.json`). */
export interface NabProfile {
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

/** An anomaly window: start and end timestamps (epoch seconds), both inclusive. */
export type NabWindow = readonly [start: number, end: number];

/** One data file of the corpus. */
export interface NabFile {
  /** Path relative to the corpus folder, e.g. `realKnownCause/nyc_taxi.csv`. */
  readonly name: string;
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
  readonly windows: readonly NabWindow[];
}

/** The corpus: its files and the profiles by name (`standard`, `reward_low_FP_rate`, `reward_low_FN_rate`). */
export interface NabCorpus {
  readonly files: readonly NabFile[];
  readonly profiles: Readonly<Record<string, NabProfile>>;
}

/** Score of one file at one set of detections. */
export interface NabFileScore {
  /** Raw (unnormalised) score. */
  readonly score: number;
  /** Windows detected / missed (scorable windows only). */
  readonly truePositives: number;
  readonly falseNegatives: number;
  /** Scored detections outside windows. */
  readonly falsePositives: number;
  /** Windows with at least one scored row (those that count for S_null). */
  readonly scorableWindows: number;
  /** All windows of the file (those that count for S_perfect). */
  readonly windows: number;
}

/** NAB's probationary length: min(floor(0.15·rows), 0.15·5000). */
export function probationaryLength(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750);
}

/** NAB's scaled sigmoid: 2/(1 + e^{5y}) − 1, and −1 from y ≥ 3. */
export function scaledSigmoid(y: number): number {
  if (y >= 3) return -1;
  return 2 / (1 + Math.exp(5 * y)) - 1;
}

interface RowWindow {
  readonly left: number;
  readonly right: number;
}

function windowRows(timestamps: readonly number[], windows: readonly NabWindow[]): RowWindow[] {
  const out: RowWindow[] = [];
  const sorted = [...windows].sort((a, b) => a[0] - b[0]);
  for (const [start, end] of sorted) {
    let left = timestamps.findIndex((t) => t >= start);
    let right = timestamps.findIndex((t) => t === end);
    if (right < 0) {
      right = -1;
      for (let i = 0; i < timestamps.length; i++) if ((timestamps[i] as number) <= end) right = i;
    }
    if (left < 0) left = timestamps.length;
    if (right < left) continue; // no row inside: NAB never enters such a window
    out.push({ left, right });
  }
  return out;
}

/**
 * The per-row sweep scores (what a detection at that row would be worth) and the window each row is in:
 * -1 outside windows, -2 probationary, else the window's index.
 */
function sweepRows(
  timestamps: readonly number[],
  windows: readonly NabWindow[],
  profile: NabProfile,
): { scores: Float64Array; windowOf: Int32Array; rowWindows: RowWindow[] } {
  const n = timestamps.length;
  const rowWindows = windowRows(timestamps, windows);
  const scores = new Float64Array(n);
  const windowOf = new Int32Array(n);
  const probation = probationaryLength(n);
  const maxTP = scaledSigmoid(-1);
  let w = 0;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    const win = rowWindows[w];
    const inWindow = win !== undefined && i >= win.left && i <= win.right;
    if (inWindow) {
      const width = win.right - win.left + 1;
      scores[i] = (scaledSigmoid(-(win.right - i + 1) / width) * profile.tpWeight) / maxTP;
      windowOf[i] = w;
    } else {
      // A one-row window would divide by zero in NAB; count such a following FP as far away (−A_FP).
      const y = prevRight < 0 || prevWidth <= 1 ? 3 : Math.abs(prevRight - i) / (prevWidth - 1);
      scores[i] = scaledSigmoid(y) * profile.fpWeight;
      windowOf[i] = -1;
    }
    if (i < probation) windowOf[i] = -2;
    if (inWindow && i === win.right) {
      prevRight = i;
      prevWidth = win.right - win.left + 1;
      w++;
    }
  }
  return { scores, windowOf, rowWindows };
}

/** Scores one file's detections (`detections[i]`: an alarm at row i) against its windows. */
export function scoreDetections(
  timestamps: readonly number[],
  detections: readonly boolean[],
  windows: readonly NabWindow[],
  profile: NabProfile,
): NabFileScore {
  if (detections.length !== timestamps.length) {
    throw new RangeError(
      `detections: must have one entry per row (${timestamps.length}) (got ${detections.length})`,
    );
  }
  const { scores, windowOf } = sweepRows(timestamps, windows, profile);
  const best = new Map<number, number>();
  const scorable = new Set<number>();
  let fpScore = 0;
  let falsePositives = 0;
  for (let i = 0; i < timestamps.length; i++) {
    const w = windowOf[i] as number;
    if (w >= 0) scorable.add(w);
    if (!detections[i] || w === -2) continue;
    if (w === -1) {
      fpScore += scores[i] as number;
      falsePositives++;
    } else if (!best.has(w) || (scores[i] as number) > (best.get(w) as number)) {
      best.set(w, scores[i] as number);
    }
  }
  let score = fpScore;
  for (const w of scorable)
    score += best.has(w) ? Math.max(-profile.fnWeight, best.get(w) as number) : -profile.fnWeight;
  return {
    score,
    truePositives: best.size,
    falseNegatives: scorable.size - best.size,
    falsePositives,
    scorableWindows: scorable.size,
    windows: windows.length,
  };
}

/** A file's detections, for corpus scoring. */
export interface NabDetections {
  readonly timestamps: readonly number[];
  readonly detections: readonly boolean[];
  readonly windows: readonly NabWindow[];
}

/** The normalised corpus score and its parts. */
export interface NabCorpusScore {
  /** 100·(S − S_null)/(S_perfect − S_null). */
  readonly score: number;
  readonly raw: number;
  readonly nullScore: number;
  readonly perfectScore: number;
  readonly perFile: readonly NabFileScore[];
}

function normalise(raw: number, nullScore: number, perfectScore: number): number {
  return perfectScore === nullScore ? 0 : (100 * (raw - nullScore)) / (perfectScore - nullScore);
}

/** Scores a corpus of detections and normalises it with the null and perfect detectors of `profile`. */
export function nabScore(files: readonly NabDetections[], profile: NabProfile): NabCorpusScore {
  const perFile = files.map((f) => scoreDetections(f.timestamps, f.detections, f.windows, profile));
  const raw = perFile.reduce((s, f) => s + f.score, 0);
  const nullScore = -perFile.reduce((s, f) => s + f.scorableWindows, 0) * profile.fnWeight;
  const perfectScore = perFile.reduce((s, f) => s + f.windows, 0) * profile.tpWeight;
  return { score: normalise(raw, nullScore, perfectScore), raw, nullScore, perfectScore, perFile };
}

/** A file's anomaly scores (in [0, 1]), for the threshold sweep. */
export interface NabAnomalyScores {
  readonly timestamps: readonly number[];
  readonly anomalyScores: readonly number[];
  readonly windows: readonly NabWindow[];
}

/** The best threshold found by the sweep: detections are rows with anomalyScore ≥ threshold. */
export interface NabThreshold {
  readonly threshold: number;
  /** Normalised corpus score at that threshold. */
  readonly score: number;
  readonly raw: number;
  readonly nullScore: number;
  readonly perfectScore: number;
}

/**
 * NAB's threshold optimisation (`sweeper.calcScoreByThreshold` over the whole corpus): every distinct
 * anomaly score is a candidate threshold (plus 1.1, no detections); the one with the highest corpus score
 * wins (the highest threshold on a tie). One pass over the rows sorted by score: O(N log N).
 */
export function bestThreshold(files: readonly NabAnomalyScores[], profile: NabProfile): NabThreshold {
  interface Point {
    readonly anomaly: number;
    readonly sweep: number;
    /** Global window id, or -1 outside windows. */
    readonly window: number;
  }
  const points: Point[] = [];
  let windowBase = 0;
  let nullScore = 0;
  let perfectScore = 0;
  for (const f of files) {
    if (f.anomalyScores.length !== f.timestamps.length) {
      throw new RangeError(
        `anomalyScores: must have one entry per row (${f.timestamps.length}) (got ${f.anomalyScores.length})`,
      );
    }
    const { scores, windowOf, rowWindows } = sweepRows(f.timestamps, f.windows, profile);
    const scorable = new Set<number>();
    for (let i = 0; i < f.timestamps.length; i++) {
      const w = windowOf[i] as number;
      if (w === -2) continue;
      if (w >= 0) scorable.add(w);
      points.push({
        anomaly: f.anomalyScores[i] as number,
        sweep: scores[i] as number,
        window: w >= 0 ? windowBase + w : -1,
      });
    }
    nullScore -= scorable.size * profile.fnWeight;
    perfectScore += f.windows.length * profile.tpWeight;
    windowBase += rowWindows.length;
  }
  points.sort((a, b) => b.anomaly - a.anomaly);
  const windowBest = new Map<number, number>();
  let raw = nullScore;
  let fp = 0;
  let threshold = 1.1;
  let best = { threshold: 1.1, raw: nullScore };
  let i = 0;
  while (i < points.length) {
    const level = (points[i] as Point).anomaly;
    for (; i < points.length && (points[i] as Point).anomaly === level; i++) {
      const p = points[i] as Point;
      if (p.window < 0) {
        fp += p.sweep;
      } else {
        const prev = windowBest.get(p.window) ?? -profile.fnWeight;
        if (p.sweep > prev) {
          raw += p.sweep - prev;
          windowBest.set(p.window, p.sweep);
        }
      }
    }
    threshold = level;
    if (raw + fp > best.raw) best = { threshold, raw: raw + fp };
  }
  return {
    threshold: best.threshold,
    score: normalise(best.raw, nullScore, perfectScore),
    raw: best.raw,
    nullScore,
    perfectScore,
  };
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (e) {
    throw new TraceError(`${path}: ${(e as Error).message}`, 0);
  }
}

/**
 * Reads a NAB corpus folder: `combined_windows.json` (file → list of [start, end] timestamps), every CSV it
 * lists (`timestamp,value`, timestamps in time order, possibly repeated or irregular as in NAB) and
 * `profiles.json`.
 */
export function loadNabCorpus(dir: string): NabCorpus {
  const windowsJson = readJson(join(dir, 'combined_windows.json'));
  if (typeof windowsJson !== 'object' || windowsJson === null || Array.isArray(windowsJson)) {
    throw new TraceError(`${join(dir, 'combined_windows.json')}: expected an object of file → windows`, 0);
  }
  const files: NabFile[] = [];
  for (const [name, raw] of Object.entries(windowsJson as Record<string, unknown>).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    if (!Array.isArray(raw))
      throw new TraceError(`combined_windows.json: ${name}: expected a list of windows`, 0);
    const windows: NabWindow[] = raw.map((w: unknown, k) => {
      const pair = Array.isArray(w) ? w.map((x: unknown) => parseTimestamp(String(x))) : [];
      const [s, e] = pair;
      if (pair.length !== 2 || s === undefined || e === undefined || e < s) {
        throw new TraceError(
          `combined_windows.json: ${name} window ${k}: expected [start, end] timestamps`,
          0,
        );
      }
      return [s, e] as const;
    });
    const path = join(dir, name);
    const lines = parseCsvLines(readFileSync(path, 'utf8'), name);
    const timestamps: number[] = [];
    const values: number[] = [];
    for (const l of lines.slice(1)) {
      const t = parseTimestamp(l.fields[0] ?? '');
      if (t === undefined)
        throw new TraceError(`${name} line ${l.line}: "${l.fields[0]}" is not a timestamp`, l.line);
      const v = parseDemand(l.fields[1] ?? '');
      if (v === undefined)
        throw new TraceError(`${name} line ${l.line}: "${l.fields[1]}" is not a number (column 2)`, l.line);
      if (timestamps.length > 0 && t < (timestamps[timestamps.length - 1] as number)) {
        throw new TraceError(`${name} line ${l.line}: time goes backwards`, l.line);
      }
      timestamps.push(t);
      values.push(v);
    }
    files.push({ name, timestamps, values, windows });
  }
  const profilesJson = readJson(join(dir, 'profiles.json')) as Record<
    string,
    { CostMatrix?: Record<string, unknown> }
  >;
  const profiles: Record<string, NabProfile> = {};
  for (const [name, p] of Object.entries(profilesJson)) {
    const m = p.CostMatrix ?? {};
    const num = (k: string): number => {
      const v = m[k];
      if (typeof v !== 'number')
        throw new TraceError(`profiles.json: ${name}.CostMatrix.${k}: expected a number`, 0);
      return v;
    };
    profiles[name] = { tpWeight: num('tpWeight'), fpWeight: num('fpWeight'), fnWeight: num('fnWeight') };
  }
  return { files, profiles };
}
