import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simulate } from '../../runtime/simulation/simulator.js';
import type { RunMeasures, Trace } from '../../runtime/simulation/types.js';
import { contextOf, measuresOf, traceOf } from '../runtime/simulation/helpers.js';
import { m4DemandTrace, meetsGoal } from './policy-suite.js';
import { reachOf } from './support/reach.js';
import { reactHoldPolicy } from './support/react-hold-policy.js';

const context = contextOf({ startupSeconds: 60 });
const trace = (demand: number[]): Trace => traceOf(demand);
const measures = (violationIntervals: number, replicaIntervals: number): RunMeasures =>
  measuresOf('p', violationIntervals, replicaIntervals);

describe('reactHoldPolicy', () => {
  it('asks for the highest demand of the window at the utilisation', () => {
    // GIVEN a burst of one row
    const demand = [10, 95, 10, 10, 10, 10];
    // WHEN it holds for 3 rows at 50%
    const run = simulate(trace(demand), reactHoldPolicy(0.5, 3), context, { initialReplicas: 2 });
    // THEN the burst's 19 replicas are asked for on the burst row and the 2 after, then 2 again
    assert.deepEqual(run.desired, [2, 19, 19, 19, 2, 2]);
  });

  it('reacts to the latest row only with a window of one, and counts missing demand as none', () => {
    const run = simulate(trace([10, 95, Number.NaN, -5, 21]), reactHoldPolicy(1, 1), context, {
      initialReplicas: 1,
    });
    assert.deepEqual(run.desired, [1, 10, 1, 1, 3]);
  });

  it('rejects a utilisation outside (0, 1] and a window that is not a positive integer', () => {
    assert.throws(() => reactHoldPolicy(0, 1), /utilization: must be in \(0, 1\] \(got 0\)/);
    assert.throws(() => reactHoldPolicy(1.2, 1), /utilization/);
    assert.throws(() => reactHoldPolicy(0.8, 0), /window: must be an integer ≥ 1 \(got 0\)/);
    assert.throws(() => reactHoldPolicy(0.8, 1.5), /window/);
  });
});

describe('m4DemandTrace', () => {
  it('turns an M4 series into hourly demand, train then test, sized for a 40-replica peak', () => {
    const entry = m4DemandTrace({ id: 'H0', train: [10, 20, 400], test: [30, NaN] });
    assert.equal(entry.trace.intervalSeconds, 3600);
    assert.deepEqual(
      entry.trace.rows.map((r) => r.demand),
      [10, 20, 400, 30, NaN],
    );
    assert.equal((entry.trace.rows[4]?.timestamp ?? 0) - (entry.trace.rows[0]?.timestamp ?? 0), 4 * 3600);
    assert.equal(entry.capacityPerReplica, 10);
    assert.equal(entry.startupSeconds, 120);
  });
});

describe('meetsGoal', () => {
  it('needs at most half the HPA violations (rounded down) and no more cost', () => {
    const hpa = measures(5, 1000);
    assert.equal(meetsGoal(measures(2, 1000), hpa), true);
    assert.equal(meetsGoal(measures(3, 900), hpa), false, '3 > floor(5 / 2)');
    assert.equal(meetsGoal(measures(2, 1001), hpa), false, 'costs more');
    assert.equal(meetsGoal(measures(0, 10), measures(0, 100)), true, 'zero of zero');
    assert.equal(meetsGoal(measures(1, 10), measures(1, 100)), false, 'floor(1 / 2) is 0');
  });
});

describe('reachOf', () => {
  it('finds the members meeting the goal, the fewest misses at HPA cost and the least cost at half', () => {
    // GIVEN an HPA with 10 violations at cost 1000 and four members around it
    const hpa = measures(10, 1000);
    const runs = [
      { label: 'cheap-missy', measures: measures(8, 800) },
      { label: 'fits', measures: measures(5, 990) },
      { label: 'fits-better', measures: measures(4, 1000) },
      { label: 'dear-exact', measures: measures(0, 1300) },
    ];
    // WHEN the reach is taken
    const reach = reachOf(runs, hpa);
    // THEN
    assert.deepEqual(reach.meeting, ['fits', 'fits-better']);
    assert.equal(reach.fewestViolationsAtHpaCost?.label, 'fits-better');
    assert.equal(reach.leastCostAtHalfViolations?.label, 'fits');
  });

  it('reports nothing when no member is cheap enough or accurate enough', () => {
    const reach = reachOf([{ label: 'dear-missy', measures: measures(9, 1100) }], measures(10, 1000));
    assert.deepEqual(reach.meeting, []);
    assert.equal(reach.fewestViolationsAtHpaCost, undefined);
    assert.equal(reach.leastCostAtHalfViolations, undefined);
  });
});
