import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { History } from '../../../runtime/engine/history.js';
import { DampedTrend, HoltWinters, SeasonalNaive } from '../../../runtime/engine/models.js';
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
    const kept = values.slice(-100).sort((a, b) => a - b);
    for (const q of [0.05, 0.5, 0.9, 0.95, 1]) assert.equal(window.quantile(q), kept[Math.ceil(q * 100) - 1]);
    window.clear();
    assert.ok(Number.isNaN(window.quantile(0.5)));
  });
});
