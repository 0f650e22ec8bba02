import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { History } from '../../../runtime/engine/history.js';
import {
  BlockSeasonalNaive,
  BlockSeasonalPeak,
  DampedTrend,
  HoltWinters,
  SeasonalNaive,
  SeasonalPeak,
} from '../../../runtime/engine/models.js';
import type { ForecastModel } from '../../../runtime/engine/models.js';
import { ResidualWindow } from '../../../runtime/engine/quantile.js';

/** Feeds `values` to `model` through a history, as the forecaster does. */
function feed(model: ForecastModel, values: number[], capacity = 2000): History {
  const history = new History(capacity);
  for (const value of values) {
    history.push(value);
    model.observe(value, history);
  }
  return history;
}

const daily = (i: number): number => 100 + 50 * Math.sin((2 * Math.PI * i) / 24);

/** A noisy Float32 series. */
const noisy = (i: number): number => Math.fround(100 + 40 * Math.sin(i / 7) + ((i * 13) % 17));

/**
 * Feeds 400 points of `valueAt` to a block model and to the plain model it stands for (which reads a
 * shared history), asserting after each point that both are ready together and forecast the same 60 steps.
 */
function assertSameForecasts(
  block: ForecastModel,
  plain: ForecastModel,
  valueAt: (i: number) => number,
): void {
  const history = new History(120);
  for (let i = 0; i < 400; i++) {
    const value = valueAt(i);
    history.push(value);
    block.observe(value, history);
    plain.observe(value, history);
    const a = new Float64Array(60);
    const b = new Float64Array(60);
    const ready = block.forecast(a, history);
    assert.equal(ready, plain.forecast(b, history), `i=${i}`);
    if (ready) assert.deepEqual(a, b, `i=${i}`);
  }
}

describe('History', () => {
  it('returns values by lag and NaN beyond what it holds', () => {
    // GIVEN a ring of 3
    const history = new History(3);
    // WHEN four values are pushed
    for (const v of [1, 2, 3, 4]) history.push(v);
    // THEN the latest three are reachable by lag, the first was overwritten
    assert.deepEqual([history.back(1), history.back(2), history.back(3)], [4, 3, 2]);
    assert.ok(Number.isNaN(history.back(4)));
    assert.equal(history.length, 3);
  });
});

describe('SeasonalNaive', () => {
  it('repeats the last season exactly, across horizons longer than one season', () => {
    // GIVEN two days of an hourly daily pattern
    const model = new SeasonalNaive('seasonal-naive-daily', 24);
    const history = feed(
      model,
      Array.from({ length: 48 }, (_, i) => daily(i)),
    );
    // WHEN forecasting 30 hours ahead
    const out = new Float64Array(30);
    assert.equal(model.forecast(out, history), true);
    // THEN each step equals the same hour one (or two) days earlier
    for (let h = 1; h <= 30; h++) assert.ok(Math.abs((out[h - 1] ?? 0) - daily(47 + h)) < 1e-3, `h=${h}`);
  });

  it('falls back one more season when the slot is missing, and is not ready before one season', () => {
    const model = new SeasonalNaive('s', 4);
    const short = feed(model, [1, 2, 3]);
    assert.equal(model.forecast(new Float64Array(1), short), false);
    // GIVEN 1,2,3,4 then 1,NaN,3,4: the forecast for the NaN slot comes from the first season
    const history = feed(model, [1, 2, 3, 4, 1, Number.NaN, 3, 4]);
    const out = new Float64Array(2);
    assert.equal(model.forecast(out, history), true);
    assert.deepEqual([...out], [1, 2]);
  });
});

describe('BlockSeasonalNaive', () => {
  const WEEK = 10_080;
  /** A weekly pattern at 1-minute resolution, constant within each 5-minute block from minute 0. */
  const stepped = (minute: number): number => {
    const block = Math.floor((minute % WEEK) / 5);
    return 200 + 150 * Math.round(Math.sin((2 * Math.PI * block) / 2016) * 8) + (block % 7) * 3;
  };
  /** The same week with a different value every minute. */
  const minutely = (minute: number): number => stepped(minute) + ((minute * 37) % 11);

  function forecastOf(model: ForecastModel, steps: number): Float64Array | undefined {
    const out = new Float64Array(steps);
    return model.forecast(out, new History(1)) ? out : undefined;
  }

  it('forecasts a pure weekly pattern at 1-minute resolution from a ring of 2,016 blocks', () => {
    // GIVEN a week and a bit of a weekly pattern that is constant within 5-minute blocks
    const model = new BlockSeasonalNaive('seasonal-naive-weekly', WEEK, 5, 'mean');
    for (let m = 0; m < WEEK + 1234; m++) model.observe(stepped(m));
    // WHEN forecasting two hours ahead
    const out = forecastOf(model, 120);
    // THEN every minute is exact, and the model holds a week in 2,016 Float32 values
    assert.ok(out !== undefined);
    for (let h = 1; h <= 120; h++) assert.equal(out[h - 1], stepped(WEEK + 1233 + h), `h=${h}`);
    assert.ok(model.bytes <= 2016 * 4 + 64, `${model.bytes} bytes`);
  });

  it('summarises each block by its mean or its maximum', () => {
    // GIVEN a week whose minutes differ within each block
    const mean = new BlockSeasonalNaive('m', WEEK, 5, 'mean');
    const max = new BlockSeasonalNaive('x', WEEK, 5, 'max');
    for (let m = 0; m < WEEK + 3; m++) {
      mean.observe(minutely(m));
      max.observe(minutely(m));
    }
    // WHEN forecasting 12 minutes ahead (minutes WEEK+3 … WEEK+14: blocks 0 to 2 of last week)
    const byMean = forecastOf(mean, 12);
    const byMax = forecastOf(max, 12);
    assert.ok(byMean !== undefined && byMax !== undefined);
    // THEN each minute gets the mean, or the maximum, of its 5-minute block a week earlier
    for (let h = 1; h <= 12; h++) {
      const block = Math.floor((h + 2) / 5);
      const values = [0, 1, 2, 3, 4].map((i) => minutely(block * 5 + i));
      const expectedMean = Math.fround(values.reduce((a, b) => a + b, 0) / 5);
      assert.equal(byMean[h - 1], expectedMean, `mean h=${h}`);
      assert.equal(byMax[h - 1], Math.max(...values), `max h=${h}`);
    }
  });

  it('aligns blocks on its first point, wherever that falls in the week', () => {
    // GIVEN a model started 3 minutes into a 5-minute block of the pattern (minute 3 of the week)
    const start = 3;
    const model = new BlockSeasonalNaive('w', WEEK, 5, 'max');
    for (let m = start; m < start + WEEK + 7; m++) model.observe(minutely(m));
    // WHEN forecasting 10 minutes ahead
    const out = forecastOf(model, 10);
    assert.ok(out !== undefined);
    // THEN each forecast is the maximum of the model's own 5-point block (counted from its first point)
    // that held the same minute a week earlier, so it never under-forecasts that minute last week
    for (let h = 1; h <= 10; h++) {
      const minute = start + WEEK + 6 + h;
      const own = Math.floor((minute - WEEK - start) / 5);
      const block = [0, 1, 2, 3, 4].map((i) => minutely(start + own * 5 + i));
      assert.equal(out[h - 1], Math.max(...block), `h=${h}`);
      assert.ok((out[h - 1] ?? 0) >= minutely(minute - WEEK));
    }
  });

  it('leaves missing points out of their block, and cannot forecast from a block with none', () => {
    // GIVEN a week where minutes 1 and 3 are missing, and minutes 10–14 (a whole block) are too
    const missing = (m: number): boolean => m === 1 || m === 3 || (m >= 10 && m < 15);
    const model = new BlockSeasonalNaive('w', WEEK, 5, 'mean');
    for (let m = 0; m < WEEK; m++) model.observe(missing(m) ? Number.NaN : minutely(m));
    // WHEN forecasting the first block of the next week
    const first = forecastOf(model, 5);
    // THEN it is the mean of the three points present
    assert.ok(first !== undefined);
    const present = [0, 2, 4].map(minutely);
    assert.equal(first[0], Math.fround(present.reduce((a, b) => a + b, 0) / 3));
    // AND a horizon reaching the all-missing block cannot be forecast
    assert.equal(forecastOf(model, 11), undefined);
    // AND points missing this week do not stop forecasts from last week's blocks
    for (let m = WEEK; m < WEEK + 15; m++) model.observe(Number.NaN);
    assert.ok(forecastOf(model, 6) !== undefined);
  });

  it('is not ready before a full season, and repeats the last season for horizons beyond it', () => {
    // GIVEN a season of 12 points in blocks of 3
    const model = new BlockSeasonalNaive('s', 12, 3, 'mean');
    const season = [1, 2, 3, 10, 20, 30, 5, 5, 5, 7, 8, 9];
    for (let i = 0; i < 11; i++) model.observe(season[i] ?? 0);
    assert.equal(forecastOf(model, 1), undefined);
    model.observe(season[11] ?? 0);
    // WHEN one more point arrives (the next block is being filled) and it forecasts 30 steps ahead
    model.observe(100);
    const out = forecastOf(model, 30);
    assert.ok(out !== undefined);
    // THEN every step is its block's mean one season back, and the slot of the block still being
    // filled (steps 12 and 24) is what that block holds so far
    const blockMeans = [2, 20, 5, 8];
    for (let h = 1; h <= 30; h++) {
      const expected = h % 12 === 0 ? 100 : blockMeans[Math.floor((h % 12) / 3)];
      assert.equal(out[h - 1], expected, `h=${h}`);
    }
  });

  it('equals the plain seasonal naive when a block is one point', () => {
    // GIVEN the same noisy series fed to both models, period 50
    // THEN at every point both are ready together and forecast the same 60 steps
    assertSameForecasts(new BlockSeasonalNaive('b', 50, 1, 'max'), new SeasonalNaive('p', 50), noisy);
  });

  it('rejects a period that is not a whole number of blocks', () => {
    assert.throws(
      () => new BlockSeasonalNaive('w', 10, 3),
      /period 10 is not a whole number of 3-point blocks/,
    );
  });
});

describe('BlockSeasonalPeak', () => {
  it('equals the plain seasonal peak when a block is one point, gaps included', () => {
    // GIVEN the same noisy series with missing points fed to both models, period 50, ±4 points
    // THEN at every point both are ready together and forecast the same 60 steps
    assertSameForecasts(new BlockSeasonalPeak('b', 50, 1, 4), new SeasonalPeak('p', 50, 4), (i) =>
      i % 23 === 5 ? Number.NaN : noisy(i),
    );
  });

  it('forecasts the highest one-minute block within ±30 min of the same time yesterday (10-second points)', () => {
    // GIVEN two days of 10-second points, flat at 10, with one 10-second burst of 90 yesterday at
    // 12:00:20 and a missing minute at 13:00
    const day = 8640;
    const model = new BlockSeasonalPeak('seasonal-peak-daily', day, 6, 30);
    const noon = 12 * 360;
    const values = Array.from({ length: day + noon - 200 }, (_, i) => {
      if (i === noon + 2) return 90;
      if (i >= 13 * 360 && i < 13 * 360 + 6) return Number.NaN;
      return 10;
    });
    feed(model, values);
    // WHEN forecasting 600 steps (100 minutes: today 11:26:40 to 13:06:40)
    const out = new Float64Array(600);
    assert.equal(model.forecast(out), true);
    // THEN 90 exactly for the slots within 30 one-minute blocks of the burst's block, 10 elsewhere
    // (the missing minute is left out, not a failure)
    const start = noon - 200; // the point forecast 1 step ahead
    for (let h = 1; h <= 600; h++) {
      const minute = Math.floor((start + h - 1) / 6);
      const expected = Math.abs(minute - noon / 6) <= 30 ? 90 : 10;
      assert.equal(out[h - 1], expected, `h=${h}`);
    }
    // and its state is 1,470 Float32 blocks, not a day of points
    assert.equal(model.bytes, 1470 * 4 + 48);
  });

  it('is not ready before a season and its jitter, and refuses bad blocks or jitter', () => {
    const model = new BlockSeasonalPeak('p', 12, 3, 1);
    feed(
      model,
      Array.from({ length: 14 }, () => 1),
    );
    assert.equal(model.forecast(new Float64Array(3)), false);
    feed(model, [1]); // 15 points: 5 blocks, a season of 4 and 1 of jitter
    assert.equal(model.forecast(new Float64Array(3)), true);
    assert.throws(
      () => new BlockSeasonalPeak('p', 10, 3, 1),
      /period 10 is not a whole number of 3-point blocks/,
    );
    assert.throws(() => new BlockSeasonalPeak('p', 12, 3, 4), /jitter 4 must be 0\.\.3 blocks/);
  });
});

describe('HoltWinters', () => {
  it('learns a seasonal series with a trend to within 2% a day ahead', () => {
    // GIVEN ten days of hourly data: daily pattern plus a slow upward trend
    const series = Array.from({ length: 240 }, (_, i) => daily(i) + 0.2 * i);
    const model: ForecastModel = new HoltWinters('holt-winters-daily', 24, {
      alpha: 0.3,
      beta: 0.05,
      gamma: 0.3,
      phi: 1,
    });
    const history = feed(model, series);
    // WHEN forecasting the next 24 hours
    const out = new Float64Array(24);
    assert.equal(model.forecast(out, history), true);
    // THEN every hour is within 2% of the truth
    for (let h = 1; h <= 24; h++) {
      const truth = daily(239 + h) + 0.2 * (239 + h);
      assert.ok(Math.abs((out[h - 1] ?? 0) - truth) / truth < 0.02, `h=${h}: ${out[h - 1]} vs ${truth}`);
    }
  });

  it('is not ready before a full season and skips missing points without NaN', () => {
    const model: ForecastModel = new HoltWinters('hw', 24, { alpha: 0.3, beta: 0.05, gamma: 0.3, phi: 0.9 });
    const history = feed(
      model,
      Array.from({ length: 23 }, (_, i) => daily(i)),
    );
    assert.equal(model.forecast(new Float64Array(1), history), false);
    const later = feed(model, [daily(23), Number.NaN, Number.NaN, daily(26)]);
    const out = new Float64Array(3);
    assert.equal(model.forecast(out, later), true);
    assert.ok(out.every(Number.isFinite));
  });
});

describe('HoltWinters in blocks', () => {
  it('with 6-point blocks forecasts a noisy 10-second day at least as well as one index per point, in a sixth of the season', () => {
    // GIVEN four days at 10 seconds (8,640 points a day): a daily pattern plus noise of ±5
    const period = 8640;
    let seed = 7;
    const noise = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 10;
    const truth = (i: number): number => 100 + 50 * Math.sin((2 * Math.PI * i) / period);
    const series = Array.from({ length: 4 * period }, (_, i) => truth(i) + noise());
    const params = { alpha: 0.3, beta: 0.02, gamma: 0.2, phi: 0.9 };
    const fine: ForecastModel = new HoltWinters('hw', period, params);
    const blocks: ForecastModel = new HoltWinters('hw', period, params, undefined, 6);
    const history = feed(fine, series);
    feed(blocks, series);
    // WHEN both forecast the next hour
    const a = new Float64Array(360);
    const b = new Float64Array(360);
    assert.equal(fine.forecast(a, history), true);
    assert.equal(blocks.forecast(b, history), true);
    // THEN the block model's mean error is no worse: a minute's six points average out their noise
    const error = (out: Float64Array): number =>
      out.reduce((sum, v, h) => sum + Math.abs(v - truth(4 * period + h)), 0) / out.length;
    assert.ok(error(b) < 2 && error(b) <= error(a), `blocks ${error(b)} vs per point ${error(a)}`);
    // AND it keeps a sixth of the seasonal indices (plus a byte per block for the first season)
    assert.equal(fine.bytes, period * 4 + 32);
    assert.equal(blocks.bytes, (period / 6) * 5 + 32);
  });

  it('averages the finite points of each block in the first season, and refuses a block that does not divide it', () => {
    // GIVEN a 12-point season in blocks of 3, the first season with a missing point
    const model: ForecastModel = new HoltWinters(
      'hw',
      12,
      { alpha: 0, beta: 0, gamma: 0, phi: 1 },
      undefined,
      3,
    );
    const first = [10, Number.NaN, 20, 30, 30, 30, 50, 50, 50, 10, 10, 10];
    const history = feed(model, first);
    // THEN with nothing learnt after it, the forecast repeats the block means (15, 30, 50, 10)
    const out = new Float64Array(12);
    assert.equal(model.forecast(out, history), true);
    assert.deepEqual(
      [...out].map((v) => Math.round(v * 1000) / 1000),
      [15, 15, 15, 30, 30, 30, 50, 50, 50, 10, 10, 10],
    );
    assert.throws(
      () => new HoltWinters('hw', 12, { alpha: 0, beta: 0, gamma: 0, phi: 1 }, undefined, 5),
      /period 12 is not a whole number of 5-point blocks/,
    );
  });
});

describe('DampedTrend', () => {
  it('follows a ramp a few steps ahead and flattens far ahead', () => {
    // GIVEN a steady ramp +10 per step
    const model: ForecastModel = new DampedTrend('damped-trend', { alpha: 0.5, beta: 0.3, phi: 0.9 });
    const history = feed(
      model,
      Array.from({ length: 60 }, (_, i) => 100 + 10 * i),
    );
    // WHEN forecasting
    const out = new Float64Array(50);
    model.forecast(out, history);
    // THEN one step ahead is close to the next ramp value, and growth per step shrinks with damping
    assert.ok(Math.abs((out[0] ?? 0) - 700) < 15, `got ${out[0]}`);
    assert.ok((out[49] ?? 0) - (out[48] ?? 0) < (out[1] ?? 0) - (out[0] ?? 0));
  });

  it('forecasts level + Σφ^k × trend exactly at every horizon, short paths first or long', () => {
    // GIVEN two models with an unusual φ fed the same ramp (so the damped sums are not yet tabled)
    const phi = 0.937;
    const a = new DampedTrend('a', { alpha: 0.5, beta: 0.3, phi });
    const b = new DampedTrend('b', { alpha: 0.5, beta: 0.3, phi });
    const values = Array.from({ length: 40 }, (_, i) => 100 + 7 * i + (i % 3));
    feed(a, values);
    feed(b, values);
    // WHEN one forecasts 10 steps, then the other 2,000 (the table grows)
    const short = new Float64Array(10);
    const long = new Float64Array(2000);
    a.forecast(short);
    b.forecast(long);
    // THEN both equal the closed form to the bit: level + φ(1 − φ^h)/(1 − φ) × trend
    const level = long[0] as number;
    const trend = ((long[1] as number) - level) / phi ** 2;
    const base = level - phi * trend;
    for (let h = 1; h <= 2000; h++) {
      const expected = base + ((phi * (1 - phi ** h)) / (1 - phi)) * trend;
      assert.ok(Math.abs((long[h - 1] as number) - expected) <= 1e-9 * Math.abs(expected), `h=${h}`);
    }
    assert.deepEqual(short, long.subarray(0, 10));
  });

  it('re-anchors on the recent level after relearn', () => {
    const model: ForecastModel = new DampedTrend('d', { alpha: 0.1, beta: 0, phi: 1 });
    const history = feed(model, [...Array(50).fill(100), ...Array(5).fill(300)]);
    model.relearn(history, 5);
    const out = new Float64Array(1);
    model.forecast(out, history);
    assert.equal(out[0], 300);
  });
});

describe('ResidualWindow', () => {
  it('matches a sorted nearest-rank quantile and keeps only the newest values', () => {
    const window = new ResidualWindow(100);
    const values = Array.from(
      { length: 250 },
      (_, i) => Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i) * 3),
    );
    for (const v of values) window.push(v);
    // Residuals are kept as Float32.
    const kept = values
      .slice(-100)
      .map(Math.fround)
      .sort((a, b) => a - b);
    for (const q of [0.05, 0.5, 0.9, 0.95, 1]) assert.equal(window.quantile(q), kept[Math.ceil(q * 100) - 1]);
    window.clear();
    assert.ok(Number.isNaN(window.quantile(0.5)));
  });
});
