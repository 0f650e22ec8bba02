/**
 * `npm run bench:policy`: predictive vs hpa (target 0.7) vs oracle on real traces. Prints one table per
 * trace and a summary against the goal: at most half of HPA's violation intervals with no more
 * replica-intervals than HPA, and the share of the HPA-to-oracle cost gap closed.
 *
 * `--tuning '{"upperQuantile":0.9}'` runs the engine with other settings (for exploring, not for
 * per-trace tuning: the suite always uses one setting for every trace).
 */
import type { PredictiveTuning } from '../../runtime/simulation/predictive-policy.js';
import { predictivePolicy } from '../../runtime/simulation/predictive-policy.js';
import { hpaPolicy } from '../../runtime/simulation/hpa-policy.js';
import { oraclePolicy } from '../../runtime/simulation/oracle-policy.js';
import { compareRuns } from '../../runtime/simulation/simulator.js';
import type { PolicyFactory, RunMeasures } from '../../runtime/simulation/types.js';
import { meetsGoal, policySuite, runOnSuiteTrace } from './policy-suite.js';

const tuningIndex = process.argv.indexOf('--tuning');
const tuning = (tuningIndex > 0 ? JSON.parse(process.argv[tuningIndex + 1] ?? '{}') : {}) as PredictiveTuning;
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

function row(m: RunMeasures, ms: number): string {
  return [
    m.policy.padEnd(10),
    String(m.violationIntervals).padStart(9),
    (m.unservedShare * 100).toFixed(3).padStart(9),
    String(m.replicaIntervals).padStart(10),
    (m.overProvisioningShare * 100).toFixed(1).padStart(7),
    String(m.scalingChanges).padStart(8),
    ms.toFixed(0).padStart(7),
  ].join(' ');
}

let met = 0;
let total = 0;
const gaps: number[] = [];
for (const entry of policySuite()) {
  if (only !== undefined && entry.name !== only) continue;
  const run = (factory: PolicyFactory): { measures: RunMeasures; ms: number } => {
    const start = performance.now();
    const measures = runOnSuiteTrace(entry, factory);
    return { measures, ms: performance.now() - start };
  };
  const predictive = run(predictivePolicy(tuning));
  const hpa = run(hpaPolicy(0.7));
  const oracle = run(oraclePolicy());
  const comparison = compareRuns(predictive.measures, hpa.measures, oracle.measures);
  const ok = meetsGoal(predictive.measures, hpa.measures);
  total++;
  if (ok) met++;
  gaps.push(comparison.costGapClosed);
  console.log(
    `\n${entry.name}: ${entry.trace.rows.length} rows of ${entry.trace.intervalSeconds}s; ${entry.note}`,
  );
  console.log('policy     violations unserved% replica-int  over%  changes     ms');
  for (const r of [predictive, hpa, oracle]) console.log(row(r.measures, r.ms));
  console.log(
    `predictive vs hpa: violations ×${comparison.violationRatio.toFixed(2)}, cost ×${comparison.costRatio.toFixed(3)}, ` +
      `closes ${(comparison.costGapClosed * 100).toFixed(0)}% of the hpa→oracle cost gap — goal ${ok ? 'MET' : 'NOT MET'}`,
  );
}
console.log(`\ngoal (≤ ½ hpa violations at ≤ hpa cost) met on ${met} of ${total} traces`);
