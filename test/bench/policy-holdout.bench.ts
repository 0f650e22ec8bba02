/**
 * The policy on traces it was never tuned on: the 414 M4 hourly series as demand traces, each sized
 * like the suite's (the peak needs about 40 replicas), predictive against the hpa (target 0.7) with the
 * engine's defaults. M4 measured the forecaster's accuracy; no policy setting was ever chosen on it.
 *
 * `node build/test/bench/policy-holdout.bench.js`, part of `npm run bench` (about 15 s).
 */
import { join } from 'node:path';
import { loadM4Hourly } from '../../runtime/evaluation/m4-metrics.js';
import { hpaPolicy } from '../../runtime/simulation/hpa-policy.js';
import { predictivePolicy } from '../../runtime/simulation/predictive-policy.js';
import { SHARED_DIR } from '../support/paths.js';
import { m4DemandTrace, meetsGoal, runOnSuiteTrace } from './policy-suite.js';

const series = loadM4Hourly(join(SHARED_DIR, 'traces', 'm4-hourly'));
const start = performance.now();
let met = 0;
let cheaper = 0;
let fewerViolations = 0;
let noWorse = 0;
const violationRatios: number[] = [];
const costRatios: number[] = [];
for (const s of series) {
  const entry = m4DemandTrace(s);
  const hpa = runOnSuiteTrace(entry, hpaPolicy(0.7));
  const predictive = runOnSuiteTrace(entry, predictivePolicy());
  const isCheaper = predictive.replicaIntervals <= hpa.replicaIntervals;
  const isFewer = predictive.violationIntervals <= hpa.violationIntervals;
  if (meetsGoal(predictive, hpa)) met++;
  if (isCheaper) cheaper++;
  if (isFewer) fewerViolations++;
  if (isCheaper && isFewer) noWorse++;
  violationRatios.push(predictive.violationIntervals / Math.max(1, hpa.violationIntervals));
  costRatios.push(predictive.replicaIntervals / hpa.replicaIntervals);
}
const quartiles = (values: number[], digits: number): string => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): string =>
    (sorted[Math.floor(q * (sorted.length - 1))] ?? Number.NaN).toFixed(digits);
  return `×${at(0.25)} / ×${at(0.5)} / ×${at(0.75)}`;
};
const share = (n: number): string => `${n} (${((100 * n) / series.length).toFixed(0)}%)`;
console.log(
  `M4 hourly as demand, ${series.length} series (train + test; per series capacity = peak / 40, ` +
    `startup 120 s), ${((performance.now() - start) / 1000).toFixed(1)} s`,
);
console.log(`goal met (≤ ½ hpa violations at ≤ hpa cost): ${share(met)}`);
console.log(`no worse than hpa on both measures:          ${share(noWorse)}`);
console.log(`cost ≤ hpa: ${share(cheaper)}; violations ≤ hpa: ${share(fewerViolations)}`);
console.log(
  `predictive ÷ hpa, quartiles: violations ${quartiles(violationRatios, 2)}, cost ${quartiles(costRatios, 3)}`,
);
