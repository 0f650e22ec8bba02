import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { hpaPolicy } from '../../../runtime/simulation/hpa-policy.js';
import {
  compareRuns,
  defaultInitialReplicas,
  readyDelayRows,
  simulate,
} from '../../../runtime/simulation/simulator.js';
import { readEventLog, readTrace } from '../../../runtime/simulation/trace.js';
import type { PolicyFactory, Trace } from '../../../runtime/simulation/types.js';
import { SHARED_DIR } from '../../support/paths.js';
import { contextOf, measuresOf, prefix, scripted, traceOf } from './helpers.js';

const TRACES = join(SHARED_DIR, 'traces');

describe('simulate: time model', () => {
  it('with startup 0, a decision at row t serves from row t + 1', () => {
    // GIVEN demands 10, 25, 25, 5 (capacity 10), 1 initial replica and decisions 3, 3, 1, 1
    const trace = traceOf([10, 25, 25, 5]);
    // WHEN simulated
    const run = simulate(trace, scripted([3, 3, 1, 1]), contextOf(), { initialReplicas: 1 });
    // THEN ready replicas follow the decisions one row later
    assert.deepEqual(run.ready, [1, 3, 3, 1]);
    assert.deepEqual(run.desired, [3, 3, 1, 1]);
    // AND the measures are: no violation (10 is not above 10), cost 1+3+3+1, idle 0+5+5+5 of 80
    assert.deepEqual(run.measures, {
      policy: 'scripted',
      rows: 4,
      violationIntervals: 0,
      unservedShare: 0,
      replicaIntervals: 8,
      overProvisioningShare: 15 / 80,
      scalingChanges: 2,
    });
  });

  it('with startup 1.5 Δ, added replicas serve 1 + ceil(1.5) = 3 rows after the decision and cost while starting', () => {
    // GIVEN Δ = 60 s, startup 90 s, demand jumping to 30 at row 1, a policy asking for 3 at once
    const context = contextOf({ startupSeconds: 90 });
    assert.equal(readyDelayRows(context), 3);
    // WHEN simulated
    const run = simulate(traceOf([10, 30, 30, 30, 30]), scripted([3, 3, 3, 3, 3]), context, {
      initialReplicas: 1,
    });
    // THEN the new replicas serve from row 3; rows 1 and 2 are violations with 20 unserved each
    assert.deepEqual(run.ready, [1, 1, 1, 3, 3]);
    assert.equal(run.measures.violationIntervals, 2);
    assert.equal(run.measures.unservedShare, 40 / 130);
    // AND starting replicas are paid for: 1 + 3 + 3 + 3 + 3
    assert.equal(run.measures.replicaIntervals, 13);
    assert.equal(run.measures.overProvisioningShare, 0);
    assert.equal(run.measures.scalingChanges, 1);
  });

  it('removes starting replicas before ready ones, newest first', () => {
    // GIVEN startup 120 s (ready 3 rows after the decision), 1 initial replica,
    // +2 requested at row 0 (ready row 3), +2 more at row 1 (ready row 4), then a cut to 4 at row 2
    const context = contextOf({ startupSeconds: 120 });
    // WHEN simulated
    const run = simulate(traceOf([0, 0, 0, 0, 0]), scripted([3, 5, 4, 4, 4]), context, {
      initialReplicas: 1,
    });
    // THEN the cut took one of the newest batch: 2 join at row 3, 1 at row 4
    assert.deepEqual(run.ready, [1, 1, 1, 3, 4]);
    assert.equal(run.measures.replicaIntervals, 1 + 3 + 5 + 4 + 4);
  });

  it('removes ready replicas once no starting one is left', () => {
    // GIVEN 3 ready replicas, +3 starting at row 0, then a cut to 2 at row 1 (startup 120 s)
    const context = contextOf({ startupSeconds: 120 });
    // WHEN simulated
    const run = simulate(traceOf([0, 0, 0, 0, 0]), scripted([6, 2, 2, 2, 2]), context, {
      initialReplicas: 3,
    });
    // THEN the 3 starting ones and 1 ready one go at once, and nothing joins later
    assert.deepEqual(run.ready, [3, 3, 2, 2, 2]);
    assert.equal(run.measures.replicaIntervals, 3 + 6 + 2 + 2 + 2);
  });

  it('counts NaN, negative and infinite demand as no demand in the measures', () => {
    // GIVEN broken values next to a real one
    const run = simulate(traceOf([NaN, -5, Infinity, 15]), scripted([1, 1, 1, 1]), contextOf(), {
      initialReplicas: 1,
    });
    // THEN only the real value counts: one violation with 5 of 15 unserved
    assert.equal(run.measures.violationIntervals, 1);
    assert.equal(run.measures.unservedShare, 5 / 15);
    assert.equal(run.measures.overProvisioningShare, 30 / 40);
  });

  it('gives an over-provisioning share in [0, 1] when capacity × replicas overflows a number', () => {
    // GIVEN a capacity so large that two intervals of ready capacity sum past Number.MAX_VALUE
    const context = contextOf({ capacityPerReplica: 1e308 });
    // WHEN one replica serves demands 1, 2, 3
    const run = simulate(traceOf([1, 2, 3]), scripted([1, 1, 1]), context, { initialReplicas: 1 });
    // THEN almost all capacity is idle: the share is a number just below 1, not NaN
    assert.ok(run.measures.overProvisioningShare > 0.999 && run.measures.overProvisioningShare <= 1);
    assert.equal(run.measures.unservedShare, 0);
    assert.equal(run.measures.violationIntervals, 0);
  });

  it('gives an unserved share in [0, 1] when the demand summed over the rows overflows a number', () => {
    // GIVEN demands near Number.MAX_VALUE, which sum to Infinity over two rows, and 1 replica of 1
    const run = simulate(
      traceOf([1e308, 1e308, 1e308]),
      scripted([1, 1, 1]),
      contextOf({ capacityPerReplica: 1 }),
      {
        initialReplicas: 1,
      },
    );
    // THEN every row is a violation and (nearly) all demand is unserved: a share of 1, not NaN
    assert.equal(run.measures.violationIntervals, 3);
    assert.equal(run.measures.unservedShare, 1);
  });

  it('clamps decisions to [min, max]', () => {
    // GIVEN min 2, max 5 and decisions outside
    const run = simulate(
      traceOf([0, 0, 0]),
      scripted([0, 9, 3]),
      contextOf({ minReplicas: 2, maxReplicas: 5 }),
      {
        initialReplicas: 2,
      },
    );
    // THEN
    assert.deepEqual(run.desired, [2, 5, 3]);
    assert.deepEqual(run.ready, [2, 2, 5]);
  });

  it('throws when a policy returns something that is not a non-negative integer', () => {
    // GIVEN / WHEN / THEN NaN, fractions, negatives and infinities are policy bugs
    for (const bad of [NaN, 2.5, -1, Infinity]) {
      assert.throws(
        () => simulate(traceOf([0, 0]), scripted([1, bad]), contextOf()),
        new RegExp(
          `policy scripted: decision at row 1 \\(line 3\\) must be a non-negative integer \\(got ${bad}\\)`,
        ),
      );
    }
  });

  it('starts from clamp(ceil(first finite demand / capacity), min, max) by default and tells the policy', () => {
    // GIVEN a trace starting with a missing value, then 35 (capacity 10)
    const trace = traceOf([NaN, 35, 0]);
    let told: number | undefined;
    const spy: PolicyFactory = (context) => {
      told = context.initialReplicas;
      return { name: 'spy', decide: () => 1 };
    };
    // WHEN simulated
    const run = simulate(trace, spy, contextOf());
    // THEN 4 replicas serve row 0, and the policy was told so
    assert.equal(run.ready[0], 4);
    assert.equal(told, 4);
    assert.equal(defaultInitialReplicas(trace, contextOf({ minReplicas: 5 })), 5);
    assert.equal(defaultInitialReplicas(traceOf([NaN]), contextOf({ minReplicas: 0 })), 0);
  });

  it('refuses an invalid context with the field and value', () => {
    // GIVEN / WHEN / THEN
    assert.throws(
      () => simulate(traceOf([1, 2]), scripted([1, 1]), contextOf({ intervalSeconds: 30 })),
      /context.intervalSeconds: must equal the trace's interval \(60\) \(got 30\)/,
    );
    assert.throws(
      () => simulate(traceOf([1, 2]), scripted([1, 1]), contextOf({ capacityPerReplica: 0 })),
      /context.capacityPerReplica: must be a positive number \(got 0\)/,
    );
    assert.throws(
      () => simulate(traceOf([1, 2]), scripted([1, 1]), contextOf({ minReplicas: 3, maxReplicas: 2 })),
      /context.maxReplicas: must be an integer not below minReplicas \(3\) \(got 2\)/,
    );
    assert.throws(
      () => simulate(traceOf([1, 2]), scripted([1, 1]), contextOf(), { initialReplicas: 1.5 }),
      /initialReplicas: must be a non-negative integer \(got 1.5\)/,
    );
  });
});

describe('simulate: causality', () => {
  const cases: [string, () => Trace, number, number][] = [
    [
      'NASA per minute',
      () => prefix(readTrace(join(TRACES, 'nasa-http-1995', 'nasa_http_requests_per_minute.csv')), 3000),
      10,
      120,
    ],
    [
      'NYC taxi per 30 min',
      () => readTrace(join(TRACES, 'nab', 'realKnownCause', 'nyc_taxi.csv')),
      1000,
      600,
    ],
    [
      'Azure LLM per 10 s',
      () => readEventLog(join(TRACES, 'azure-llm-inference-2023', 'AzureLLMInferenceTrace_code.csv'), 10),
      2,
      30,
    ],
  ];
  for (const [name, load, capacity, startup] of cases) {
    it(`hpa on every tested prefix of ${name} decides as on the whole trace`, () => {
      // GIVEN a real trace and an HPA at target 0.7
      const trace = load();
      const context = contextOf({
        intervalSeconds: trace.intervalSeconds,
        capacityPerReplica: capacity,
        startupSeconds: startup,
        maxReplicas: 1000,
      });
      const full = simulate(trace, hpaPolicy(0.7), context);
      // WHEN run on prefixes
      for (const n of [1, 2, 17, Math.floor(trace.rows.length / 3), trace.rows.length - 1]) {
        const part = simulate(prefix(trace, n), hpaPolicy(0.7), context);
        // THEN the decisions for the prefix are the same
        assert.deepEqual(part.desired, full.desired.slice(0, n), `prefix ${n}`);
        assert.deepEqual(part.ready, full.ready.slice(0, n), `prefix ${n}`);
      }
    });
  }
});

describe('compareRuns', () => {
  it('gives violation and cost ratios and the share of the cost gap closed', () => {
    // GIVEN three runs' measures, WHEN compared
    const c = compareRuns(
      measuresOf('predictive', 2, 80),
      measuresOf('hpa', 8, 100),
      measuresOf('oracle', 0, 60),
    );
    // THEN
    assert.deepEqual(c, {
      policy: 'predictive',
      baseline: 'hpa',
      violationRatio: 0.25,
      costRatio: 0.8,
      costGapClosed: 0.5,
    });
    assert.equal(compareRuns(measuresOf('a', 1, 1), measuresOf('b', 0, 1)).violationRatio, Infinity);
    assert.ok(Number.isNaN(compareRuns(measuresOf('a', 0, 1), measuresOf('b', 0, 1)).costGapClosed));
  });
});
