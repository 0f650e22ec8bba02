/**
 * Forecast accuracy on the M4 hourly subset (414 series, 48-step horizon) with sMAPE and MASE as M4
 * defines them. The engine's ensemble is run in accuracy mode: back-tested on the whole 48-step path
 * with a symmetric loss, fed each training series point by point, then asked for 48 steps.
 */
import { join } from 'node:path';
import { Forecaster } from '../../runtime/engine/forecaster.js';
import {
  M4_HOURLY_HORIZON,
  evaluateM4,
  loadM4Hourly,
  seasonalNaiveForecast,
} from '../../runtime/evaluation/m4-metrics.js';
import { SHARED_DIR } from '../support/paths.js';

const series = loadM4Hourly(join(SHARED_DIR, 'traces', 'm4-hourly'));

function engineForecast(train: readonly number[], horizon: number): number[] {
  const forecaster = new Forecaster({
    intervalSeconds: 3600,
    leadSteps: horizon,
    horizonSteps: horizon,
    backtest: 'path',
    underForecastPenalty: 1,
  });
  for (const value of train) forecaster.observe(value);
  return Array.from(forecaster.forecast().path);
}

const start = performance.now();
const engine = evaluateM4(series, engineForecast);
const ms = performance.now() - start;
const naive = evaluateM4(series, (train, h) => seasonalNaiveForecast(train, 24, h));
console.log(`M4 hourly: ${engine.series} series, horizon ${M4_HOURLY_HORIZON}`);
console.log('method              sMAPE    MASE');
console.log(
  `engine ensemble   ${engine.smape.toFixed(3).padStart(7)} ${engine.mase.toFixed(3).padStart(7)}   (${ms.toFixed(0)} ms)`,
);
console.log(
  `seasonal naive    ${naive.smape.toFixed(3).padStart(7)} ${naive.mase.toFixed(3).padStart(7)}   (published 13.912 / 1.193)`,
);
console.log('best published                      MASE 0.80 (M4 hourly)');
