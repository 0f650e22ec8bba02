/**
 * Forecast accuracy as the M4 competition measures it (Makridakis et al., 2020; the M4 `Evaluation` code):
 * - sMAPE = (200 / h) Σ |y − ŷ| / (|y| + |ŷ|) over the h forecast steps (in percent);
 * - MASE = ((1 / h) Σ |y − ŷ|) / ((1 / (n − m)) Σ_{t=m+1..n} |y_t − y_{t−m}|), the in-sample MAE of the
 *   seasonal naive method with period m (24 for hourly) on the n training values;
 * - the reported number is the mean over series.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsvLines, TraceError } from '../simulation/trace.js';

/** M4's hourly seasonality and horizon. */
export const M4_HOURLY_PERIOD = 24;
export const M4_HOURLY_HORIZON = 48;

/** One M4 series: its training values and the held-out test values. */
export interface M4Series {
  readonly id: string;
  readonly train: readonly number[];
  readonly test: readonly number[];
}

function checkLengths(actual: readonly number[], forecast: readonly number[]): void {
  if (actual.length !== forecast.length || actual.length === 0) {
    throw new RangeError(
      `forecast: must have one value per actual value (${actual.length}) (got ${forecast.length})`,
    );
  }
}

/** Symmetric MAPE in percent (0..200). A step where both values are 0 counts as 0 error. */
export function smape(actual: readonly number[], forecast: readonly number[]): number {
  checkLengths(actual, forecast);
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const y = actual[i] as number;
    const f = forecast[i] as number;
    const denominator = Math.abs(y) + Math.abs(f);
    if (denominator > 0) sum += Math.abs(y - f) / denominator;
  }
  return (200 * sum) / actual.length;
}

/** In-sample MAE of the seasonal naive forecast with period m: (1/(n−m)) Σ_{t≥m} |y_t − y_{t−m}|. */
export function seasonalNaiveScale(insample: readonly number[], m: number): number {
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`m: must be a positive integer (got ${m})`);
  if (insample.length <= m) {
    throw new RangeError(`insample: needs more than m (${m}) values for MASE (got ${insample.length})`);
  }
  let sum = 0;
  for (let t = m; t < insample.length; t++)
    sum += Math.abs((insample[t] as number) - (insample[t - m] as number));
  return sum / (insample.length - m);
}

/** Mean absolute scaled error with the in-sample seasonal naive MAE (period m) as scale. */
export function mase(
  insample: readonly number[],
  actual: readonly number[],
  forecast: readonly number[],
  m: number,
): number {
  checkLengths(actual, forecast);
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs((actual[i] as number) - (forecast[i] as number));
  return sum / actual.length / seasonalNaiveScale(insample, m);
}

/** The seasonal naive forecast: the last full season repeated over the horizon. */
export function seasonalNaiveForecast(insample: readonly number[], m: number, horizon: number): number[] {
  if (insample.length < m)
    throw new RangeError(`insample: needs at least m (${m}) values (got ${insample.length})`);
  const n = insample.length;
  return Array.from({ length: horizon }, (_, k) => insample[n - m + (k % m)] as number);
}

/** Mean sMAPE and MASE of `forecast(series)` over all series. */
export function evaluateM4(
  series: readonly M4Series[],
  forecast: (train: readonly number[], horizon: number) => readonly number[],
  m = M4_HOURLY_PERIOD,
): { readonly smape: number; readonly mase: number; readonly series: number } {
  let s = 0;
  let q = 0;
  for (const x of series) {
    const f = forecast(x.train, x.test.length);
    s += smape(x.test, f);
    q += mase(x.train, x.test, f, m);
  }
  return { smape: s / series.length, mase: q / series.length, series: series.length };
}

function readSeriesFile(path: string, name: string): Map<string, number[]> {
  const lines = parseCsvLines(readFileSync(path, 'utf8'), name);
  const out = new Map<string, number[]>();
  for (const l of lines.slice(1)) {
    const [id = '', ...rest] = l.fields;
    if (id === '') throw new TraceError(`${name} line ${l.line}: missing series id (column 1)`, l.line);
    const values: number[] = [];
    for (let k = 0; k < rest.length; k++) {
      const f = (rest[k] as string).trim();
      if (f === '') {
        // ragged rows: the series ends at the first empty field; anything after it must be empty too
        const extra = rest.slice(k).findIndex((x) => x.trim() !== '');
        if (extra >= 0) {
          throw new TraceError(
            `${name} line ${l.line}: value after the end of series ${id} (column ${k + extra + 2})`,
            l.line,
          );
        }
        break;
      }
      const v = Number(f);
      if (!Number.isFinite(v)) {
        throw new TraceError(`${name} line ${l.line}: "${f}" is not a number (column ${k + 2})`, l.line);
      }
      values.push(v);
    }
    out.set(id, values);
  }
  return out;
}

/** Reads `Hourly-train.csv` and `Hourly-test.csv` from `dir` (M4's quoted, ragged layout). */
export function loadM4Hourly(dir: string): M4Series[] {
  const train = readSeriesFile(join(dir, 'Hourly-train.csv'), 'Hourly-train.csv');
  const test = readSeriesFile(join(dir, 'Hourly-test.csv'), 'Hourly-test.csv');
  const out: M4Series[] = [];
  for (const [id, values] of train) {
    const t = test.get(id);
    if (!t) throw new TraceError(`Hourly-test.csv: no test values for series ${id}`, 0);
    out.push({ id, train: values, test: t });
  }
  return out;
}
