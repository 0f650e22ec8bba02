import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelFamily } from '../../../runtime/engine/forecaster.js';
import {
  Forecaster,
  MODEL_FAMILIES,
  dailyBlockPoints,
  weeklyBlockPoints,
} from '../../../runtime/engine/forecaster.js';
import {
  BlockSeasonalNaive,
  BlockSeasonalPeak,
  SeasonalNaive,
  SeasonalPeak,
} from '../../../runtime/engine/models.js';

const DAY = 1440;

/**
 * Requests per minute with a daily cycle whose height depends on the day of the week (weekends at a
 * third of weekdays): a pattern the daily models get wrong every Saturday and Monday.
 */
function weeklyDemand(minute: number): number {
  const day = Math.floor(minute / DAY) % 7;
  const height = day >= 5 ? 100 : 300;
  return 50 + height * (1 - Math.cos((2 * Math.PI * (minute % DAY)) / DAY));
}

function forecaster(intervalSeconds: number, backtest?: 'lead-peak' | 'path'): Forecaster {
  return new Forecaster({
    intervalSeconds,
    leadSteps: 3,
    horizonSteps: 6,
    ...(backtest === undefined ? {} : { backtest }),
  });
}

describe('Forecaster memory layout', () => {
  it('at 1 minute keeps a day of history and the week in its own ring of 2,016 blocks', () => {
    // GIVEN a 1-minute forecaster
    const f = forecaster(60);
    // THEN the weekly model is the block model, and the history holds a day and the seasonal peak's ±30 min
    const weekly = f.models.find((m) => m.name === 'seasonal-naive-weekly');
    assert.ok(weekly instanceof BlockSeasonalNaive);
    assert.equal(weeklyBlockPoints(60, 10_080), 5);
    assert.ok(f.history.capacity >= DAY + 30 && f.history.capacity < DAY + 64, `${f.history.capacity}`);
    assert.ok(f.bytes < 25_000, `${f.bytes} bytes`);
  });

  it('keeps at most 1,440 Holt-Winters seasonal indices a day: one-minute blocks below a minute', () => {
    assert.deepEqual(
      [8640, 5760, 4320, 2880, 1920, 1440, 288, 24].map(dailyBlockPoints),
      [6, 4, 3, 2, 2, 1, 1, 1],
    );
    // A 10-second forecaster holds 1,440 seasonal indices
    const f = forecaster(10);
    const hw = f.models.find((m) => m.name === 'holt-winters-daily');
    assert.ok(hw && hw.bytes <= 1440 * 5 + 32, `${hw?.bytes} bytes`);
  });

  it('below a minute keeps the day in one-minute blocks, the week in 5-minute ones, and minutes of history', () => {
    for (const [interval, block] of [
      [1, 60],
      [5, 12],
      [10, 6],
      [15, 4],
      [30, 2],
    ] as const) {
      // GIVEN a sub-minute forecaster
      const f = forecaster(interval);
      // THEN the daily seasonal naive and seasonal peak read their own rings of 1,440 one-minute blocks
      // (the peak's ±30 min beyond the day: 1,470)
      const naive = f.models.find((m) => m.name === 'seasonal-naive-daily');
      const peak = f.models.find((m) => m.name === 'seasonal-peak-daily');
      assert.ok(naive instanceof BlockSeasonalNaive, `${interval} s`);
      assert.ok(peak instanceof BlockSeasonalPeak, `${interval} s`);
      assert.equal(dailyBlockPoints(86_400 / interval), block);
      assert.equal(naive.bytes, 1440 * 4 + 48);
      assert.equal(peak.bytes, 1470 * 4 + 48);
      // and the weekly model 2,016 five-minute blocks
      const weekly = f.models.find((m) => m.name === 'seasonal-naive-weekly');
      assert.ok(weekly instanceof BlockSeasonalNaive, `${interval} s`);
      assert.equal(weekly.bytes, 2016 * 4 + 48);
      // and the shared history only what the short models and the back-test read: max(5 min, lead, 64) + lead + 1
      assert.equal(f.history.capacity, Math.max(300 / interval, 64) + 3 + 1, `${interval} s`);
      assert.ok(
        f.bytes < 32_000,
        `${interval} s: ${f.bytes} bytes (10 s: 73,932 with a day of points, an index per point and no weekly model)`,
      );
    }
    // At a minute nothing changes: the plain models on a day of history
    const minute = forecaster(60);
    assert.ok(minute.models.find((m) => m.name === 'seasonal-naive-daily') instanceof SeasonalNaive);
    assert.ok(minute.models.find((m) => m.name === 'seasonal-peak-daily') instanceof SeasonalPeak);
  });

  it('keeps one of the two seasonal naive models when asked, and both for the family', () => {
    const names = (modelFamilies: ModelFamily[]): string[] =>
      new Forecaster({ intervalSeconds: 60, leadSteps: 3, horizonSteps: 6, modelFamilies }).models.map(
        (m) => m.name,
      );
    assert.deepEqual(names(['seasonal-naive']), ['seasonal-naive-daily', 'seasonal-naive-weekly']);
    assert.deepEqual(names(['seasonal-naive-daily', 'damped-trend']), [
      'damped-trend',
      'seasonal-naive-daily',
    ]);
    assert.deepEqual(names(['seasonal-naive-weekly']), ['seasonal-naive-weekly']);
    // Dropping the weekly model frees its 2,016 blocks
    const all = new Forecaster({ intervalSeconds: 60, leadSteps: 3, horizonSteps: 6 });
    const withoutWeekly = new Forecaster({
      intervalSeconds: 60,
      leadSteps: 3,
      horizonSteps: 6,
      modelFamilies: MODEL_FAMILIES.filter((f) => f !== 'seasonal-naive' && f !== 'seasonal-naive-weekly'),
    });
    assert.equal(withoutWeekly.models.length, all.models.length - 1);
    assert.ok(all.bytes - withoutWeekly.bytes >= 2016 * 4, `${all.bytes} - ${withoutWeekly.bytes}`);
  });

  it('at 5 minutes and coarser keeps the plain weekly seasonal naive on a week of history, as before', () => {
    for (const [interval, weekly] of [
      [300, 2016],
      [3600, 168],
    ] as const) {
      const f = forecaster(interval);
      assert.equal(weeklyBlockPoints(interval, weekly), 1);
      assert.ok(f.models.find((m) => m.name === 'seasonal-naive-weekly') instanceof SeasonalNaive);
      // max(week, lead, 64) + lead + 1
      assert.equal(f.history.capacity, weekly + 4);
    }
  });

  it('keeps every model as deep a history as it reads', () => {
    for (const interval of [10, 30, 60, 120, 300, 1800, 3600]) {
      const f = forecaster(interval);
      for (const model of f.models)
        assert.ok(model.depth <= f.history.capacity, `${interval}s ${model.name}`);
    }
  });

  it('picks blocks of at least 5 minutes that divide the week', () => {
    assert.equal(weeklyBlockPoints(120, 5040), 3);
    assert.equal(weeklyBlockPoints(90, 6720), 4);
    assert.equal(weeklyBlockPoints(100, 6048), 3);
  });
});

describe('Forecaster weekly model at 1 minute', () => {
  it('foresees the weekend from last week where the daily models cannot', () => {
    // GIVEN 15 days at 1 minute (Monday to the second Monday), then the second Saturday's morning
    const f = forecaster(60);
    const saturday = 12 * DAY;
    for (let m = 0; m < saturday + 600; m++) f.observe(weeklyDemand(m));
    // WHEN forecasting the next minutes of Saturday
    const forecast = f.forecast();
    // THEN the weekly model carries the ensemble and the lead peak is within 5% of the truth
    assert.equal(forecast.model, 'seasonal-naive-weekly');
    let truth = 0;
    for (let h = 1; h <= 3; h++) truth = Math.max(truth, weeklyDemand(saturday + 599 + h));
    assert.ok(Math.abs(forecast.leadPeak - truth) / truth < 0.05, `${forecast.leadPeak} vs ${truth}`);
  });

  it('forecasts the path from block means in accuracy mode and lead peaks from block maxima', () => {
    // GIVEN the same week and a day fed to a scaling and an accuracy forecaster
    const scaling = forecaster(60);
    const accuracy = forecaster(60, 'path');
    for (let m = 0; m < 8 * DAY + 2; m++) {
      scaling.observe(weeklyDemand(m));
      accuracy.observe(weeklyDemand(m));
    }
    // WHEN each weekly model forecasts 6 minutes ahead
    const out = (f: Forecaster): Float64Array => {
      const path = new Float64Array(6);
      const weekly = f.models.find((m) => m.name === 'seasonal-naive-weekly');
      assert.ok(weekly?.forecast(path, f.history));
      return path;
    };
    const byMax = out(scaling);
    const byMean = out(accuracy);
    // THEN the maximum covers every minute of last week's block and the mean sits inside it
    for (let h = 1; h <= 6; h++) {
      const lastWeek = 8 * DAY + 1 + h - 7 * DAY;
      const block = Math.floor(lastWeek / 5) * 5;
      const values = [0, 1, 2, 3, 4].map((i) => weeklyDemand(block + i));
      assert.ok(Math.abs((byMax[h - 1] ?? 0) - Math.max(...values)) < 1e-3, `max h=${h}`);
      assert.ok((byMean[h - 1] ?? 0) >= Math.min(...values) - 1e-3, `mean h=${h}`);
      assert.ok((byMean[h - 1] ?? 0) <= Math.max(...values) + 1e-3, `mean h=${h}`);
    }
  });
});
