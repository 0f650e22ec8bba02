import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { oraclePolicy, replicasNeeded } from '../../../runtime/simulation/oracle-policy.js';
import { readyDelayRows, simulate } from '../../../runtime/simulation/simulator.js';
import { readEventLog, readTrace } from '../../../runtime/simulation/trace.js';
import type { PolicyContext, Trace } from '../../../runtime/simulation/types.js';
import { SHARED_DIR } from '../../support/paths.js';
import { contextOf, scripted, traceOf } from './helpers.js';

const TRACES = join(SHARED_DIR, 'traces');

describe('oraclePolicy', () => {
  it('asks at row t for the most any row t+1 .. t+d needs (d = 1 + ceil(startup / Δ))', () => {
    // GIVEN demands 5, 25, 12, 40, 8 at capacity 10 (needs 1, 3, 2, 4, 1), startup 60 s (d = 2)
    const trace = traceOf([5, 25, 12, 40, 8]);
    const context = contextOf({ startupSeconds: 60, maxReplicas: 10 });
    // WHEN simulated with 3 initial replicas (row 1 is served before any new replica can be ready)
    const run = simulate(trace, oraclePolicy(), context, { initialReplicas: 3 });
    // THEN decisions are max(need[t+1], need[t+2]) with the last row's need past the end
    assert.deepEqual(replicasNeeded(trace, context), [1, 3, 2, 4, 1]);
    assert.deepEqual(run.desired, [3, 4, 4, 1, 1]);
    assert.equal(run.measures.violationIntervals, 0);
  });

  it('counts a missing value as no need and clamps needs to [min, max]', () => {
    // GIVEN a NaN row, min 2 and max 3
    const trace = traceOf([NaN, 100, 0]);
    // WHEN / THEN
    assert.deepEqual(replicasNeeded(trace, contextOf({ minReplicas: 2, maxReplicas: 3 })), [2, 3, 2]);
  });

  const real: [string, () => Trace, number, number][] = [
    [
      'NASA per minute',
      () => readTrace(join(TRACES, 'nasa-http-1995', 'nasa_http_requests_per_minute.csv')),
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
      45,
    ],
  ];
  for (const [name, load, capacity, startup] of real) {
    it(`has no violation on ${name} when the initial replicas cover the rows before its first replicas are ready`, () => {
      // GIVEN a real trace and enough initial replicas for rows 0 .. d−1 (no policy can add any sooner)
      const trace = load();
      const context = contextOf({
        intervalSeconds: trace.intervalSeconds,
        capacityPerReplica: capacity,
        startupSeconds: startup,
        maxReplicas: 100000,
      });
      const need = replicasNeeded(trace, context);
      const initialReplicas = Math.max(...need.slice(0, readyDelayRows(context)));
      // WHEN simulated
      const run = simulate(trace, oraclePolicy(), context, { initialReplicas });
      // THEN no row lacks capacity
      assert.equal(run.measures.violationIntervals, 0);
      assert.equal(run.measures.unservedShare, 0);
    });
  }

  it('costs no more than any zero-violation decision sequence (exhaustive over small traces)', () => {
    // GIVEN every trace of 4 rows with demands in {0, 1, 2, NaN} at capacity 1, max 2 replicas,
    // startups 0, 60, 90 s (Δ = 60 s) and initial replicas 0..2
    const levels = [0, 1, 2, NaN];
    const sequences: number[][] = [];
    for (let s = 0; s < 81; s++)
      sequences.push([s % 3, Math.floor(s / 3) % 3, Math.floor(s / 9) % 3, Math.floor(s / 27) % 3]);
    let feasibleCases = 0;
    for (let code = 0; code < 256; code++) {
      const demands = [
        code % 4,
        Math.floor(code / 4) % 4,
        Math.floor(code / 16) % 4,
        Math.floor(code / 64) % 4,
      ].map((k) => levels[k] as number);
      const trace = traceOf(demands);
      for (const startupSeconds of [0, 60, 90]) {
        const context: PolicyContext = contextOf({
          capacityPerReplica: 1,
          startupSeconds,
          minReplicas: 0,
          maxReplicas: 2,
        });
        for (let initialReplicas = 0; initialReplicas <= 2; initialReplicas++) {
          // WHEN every decision sequence is simulated
          let best = Infinity;
          for (const seq of sequences) {
            const m = simulate(trace, scripted(seq), context, { initialReplicas }).measures;
            if (m.violationIntervals === 0) best = Math.min(best, m.replicaIntervals);
          }
          if (best === Infinity) continue;
          feasibleCases++;
          // THEN the oracle has no violation and the lowest cost
          const oracle = simulate(trace, oraclePolicy(), context, { initialReplicas }).measures;
          const label = `demands ${demands.join(',')} startup ${startupSeconds} initial ${initialReplicas}`;
          assert.equal(oracle.violationIntervals, 0, label);
          assert.equal(oracle.replicaIntervals, best, label);
        }
      }
    }
    assert.ok(feasibleCases > 1000, `${feasibleCases} feasible cases`);
  });
});
