import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import {
  evaluateM4,
  loadM4Hourly,
  M4_HOURLY_HORIZON,
  M4_HOURLY_PERIOD,
  mase,
  seasonalNaiveForecast,
  seasonalNaiveScale,
  smape,
} from '../../../runtime/evaluation/m4-metrics.js';
import { SHARED_DIR } from '../../support/paths.js';

const M4_DIR = join(SHARED_DIR, 'traces', 'm4-hourly');

describe('M4 metrics', () => {
  it('computes sMAPE = 200/h Σ |y − ŷ| / (|y| + |ŷ|)', () => {
    // GIVEN actual 100, 200 and forecast 110, 150
    // WHEN / THEN 100 · (10/210 + 50/350)
    assert.ok(Math.abs(smape([100, 200], [110, 150]) - 100 * (10 / 210 + 50 / 350)) < 1e-12);
    assert.equal(smape([0, 5], [0, 5]), 0);
  });

  it('computes MASE scaled by the in-sample seasonal naive MAE', () => {
    // GIVEN in-sample 1..6 with m = 2 (scale = mean |y_t − y_{t−2}| = 2), actual 7, 8, forecast 6, 10
    // WHEN / THEN MAE 1.5 / 2
    assert.equal(seasonalNaiveScale([1, 2, 3, 4, 5, 6], 2), 2);
    assert.equal(mase([1, 2, 3, 4, 5, 6], [7, 8], [6, 10], 2), 0.75);
    assert.throws(
      () => mase([1, 2], [1], [1], 2),
      /insample: needs more than m \(2\) values for MASE \(got 2\)/,
    );
    assert.throws(() => smape([1, 2], [1]), /forecast: must have one value per actual value \(2\) \(got 1\)/);
  });

  it('forecasts seasonal naive as the last season repeated', () => {
    // GIVEN / WHEN / THEN
    assert.deepEqual(seasonalNaiveForecast([1, 2, 3, 4, 5, 6], 3, 5), [4, 5, 6, 4, 5]);
  });

  it('reproduces the published hourly sNaive scores on all 414 series (sMAPE 13.912, MASE 1.193)', () => {
    // GIVEN the M4 hourly train/test files and the published scores
    const series = loadM4Hourly(M4_DIR);
    const published = readFileSync(join(M4_DIR, 'm4_hourly_published_scores.csv'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('sNaive,'))
      ?.split(',');
    const publishedSmape = Number(published?.[2]);
    const publishedMase = Number(published?.[3]);
    // WHEN seasonal naive (m = 24) forecasts the 48-step horizon of each series
    const result = evaluateM4(series, (train, h) => seasonalNaiveForecast(train, M4_HOURLY_PERIOD, h));
    // THEN
    assert.equal(series.length, 414);
    assert.ok(series.every((s) => s.test.length === M4_HOURLY_HORIZON));
    assert.equal(result.series, 414);
    assert.ok(Math.abs(result.smape - publishedSmape) < 0.0005, `sMAPE ${result.smape} vs ${publishedSmape}`);
    assert.ok(Math.abs(result.mase - publishedMase) < 0.0005, `MASE ${result.mase} vs ${publishedMase}`);
  });
});
