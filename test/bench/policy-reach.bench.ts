/**
 * How far the policy goal is within reach, trace by trace: the engine's main settings swept and the
 * best kept *for each trace separately* (a hindsight fit, which the engine never gets to make), next to
 * a react-and-hold yardstick (support/react-hold-policy.ts). Where no fitted setting of either family
 * meets the goal, a change of defaults cannot meet it either; it needs information the engine does not
 * have (a burst's start before it is seen) or a different trade-off.
 *
 * `node build/test/bench/policy-reach.bench.js [--only <trace>]`, part of `npm run bench`.
 */
import { hpaPolicy } from '../../runtime/simulation/hpa-policy.js';
import { predictivePolicy } from '../../runtime/simulation/predictive-policy.js';
import type { PolicyFactory, RunMeasures } from '../../runtime/simulation/types.js';
import { policySuite, runOnSuiteTrace } from './policy-suite.js';
import type { LabelledRun, Reach } from './support/reach.js';
import { reachOf } from './support/reach.js';
import { reactHoldPolicy } from './support/react-hold-policy.js';

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

interface Member {
  readonly label: string;
  readonly factory: (intervalSeconds: number) => PolicyFactory;
}

/** 6 utilisations × 3 damping windows (in intervals) × 2 quantiles. */
const ENGINE_SETTINGS: Member[] = [];
for (const targetUtilization of [0.7, 0.75, 0.8, 0.85, 0.9, 1])
  for (const steps of [1, 2, 4])
    for (const upperQuantile of [0.95, 0.99])
      ENGINE_SETTINGS.push({
        label: `u${targetUtilization} d${steps} q${upperQuantile}`,
        factory: (interval) =>
          predictivePolicy({
            targetUtilization,
            upperQuantile,
            scaleDownStabilizationSeconds: steps * interval,
          }),
      });

/** 4 utilisations × 8 hold windows (in intervals). */
const HOLD_SETTINGS: Member[] = [];
for (const utilization of [0.6, 0.7, 0.8, 1])
  for (const window of [1, 2, 3, 5, 8, 12, 20, 40])
    HOLD_SETTINGS.push({
      label: `u${utilization} w${window}`,
      factory: () => reactHoldPolicy(utilization, window),
    });

function describe(reach: Reach, hpa: RunMeasures): string {
  const ratio = (r: LabelledRun): string =>
    `×${(r.measures.violationIntervals / Math.max(1, hpa.violationIntervals)).toFixed(2)} violations ` +
    `(${r.measures.violationIntervals}) at ×${(r.measures.replicaIntervals / hpa.replicaIntervals).toFixed(3)} cost, ${r.label}`;
  const fewest = reach.fewestViolationsAtHpaCost;
  const cheapest = reach.leastCostAtHalfViolations;
  return [
    `${reach.meeting.length} meet the goal`,
    `fewest violations at ≤ hpa cost: ${fewest ? ratio(fewest) : 'none that cheap'}`,
    `least cost at ≤ ½ hpa violations: ${cheapest ? ratio(cheapest) : 'none with that few'}`,
  ].join('\n      ');
}

const meetingByEngineSetting = new Map<string, string[]>();
const outOfReach: string[] = [];
const withinEngineReach: string[] = [];
let traces = 0;
for (const entry of policySuite()) {
  if (only !== undefined && entry.name !== only) continue;
  traces++;
  const hpa = runOnSuiteTrace(entry, hpaPolicy(0.7));
  const sweep = (members: Member[]): Reach =>
    reachOf(
      members.map((m) => ({
        label: m.label,
        measures: runOnSuiteTrace(entry, m.factory(entry.trace.intervalSeconds)),
      })),
      hpa,
    );
  const engine = sweep(ENGINE_SETTINGS);
  const hold = sweep(HOLD_SETTINGS);
  for (const label of engine.meeting)
    meetingByEngineSetting.set(label, [...(meetingByEngineSetting.get(label) ?? []), entry.name]);
  if (engine.meeting.length > 0) withinEngineReach.push(entry.name);
  if (engine.meeting.length === 0 && hold.meeting.length === 0) outOfReach.push(entry.name);
  console.log(
    `\n${entry.name}: hpa ${hpa.violationIntervals} violations, ${hpa.replicaIntervals} replica-intervals`,
  );
  console.log(
    `  engine, ${ENGINE_SETTINGS.length} settings, each fitted to this trace:\n      ${describe(engine, hpa)}`,
  );
  console.log(`  react-and-hold, ${HOLD_SETTINGS.length} settings:\n      ${describe(hold, hpa)}`);
}

const ranked = [...meetingByEngineSetting.entries()].sort((a, b) => b[1].length - a[1].length);
const most = ranked[0]?.[1].length ?? 0;
console.log(
  `\nsome engine setting, fitted per trace, meets the goal on ${withinEngineReach.length} of ${traces}`,
);
console.log(
  `no setting of either family meets the goal on ${outOfReach.length} of ${traces} traces` +
    (outOfReach.length > 0 ? `: ${outOfReach.join(', ')}` : ''),
);
const tied = ranked.filter(([, names]) => names.length === most);
console.log(
  `one engine setting for every trace meets it on at most ${most} of ${traces} (${tied.length} settings do):`,
);
for (const [label, names] of tied.slice(0, 3)) console.log(`  ${label}: ${names.join(', ')}`);
