import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hpaPolicy, hpaScaleUpLimit, type HpaOptions } from '../../../runtime/simulation/hpa-policy.js';
import { simulate } from '../../../runtime/simulation/simulator.js';
import type { PolicyContext } from '../../../runtime/simulation/types.js';
import { contextOf, traceOf } from './helpers.js';

/** The HPA's decisions for these demands. */
function hpaDecisions(
  demands: readonly number[],
  delta: number,
  target: number,
  context: Partial<PolicyContext>,
  initialReplicas: number,
  options: HpaOptions = {},
): readonly number[] {
  const ctx = contextOf({ intervalSeconds: delta, ...context });
  return simulate(traceOf(demands, delta), hpaPolicy(target, options), ctx, { initialReplicas }).desired;
}

describe('hpaPolicy (Kubernetes HPA, behavior unset, External AverageValue)', () => {
  it('keeps the replica count while the usage ratio stays within the 0.1 tolerance', () => {
    // GIVEN 4 replicas, 5 per replica as target (0.5 × capacity 10), one 15 s sync per row end (Δ = 60 s)
    // and metrics 20 (ratio 1), 21.9 (1.095), 18.1 (0.905), 22.1 (1.105), 17.9 (0.716 of 5 replicas)
    const desired = hpaDecisions([20, 21.9, 18.1, 22.1, 17.9], 60, 0.5, {}, 4);
    // THEN it holds 4 inside the band, goes to ceil(22.1 / 5) = 5 outside it,
    // and does not go back to ceil(17.9 / 5) = 4 within the 300 s stabilization window
    assert.deepEqual(desired, [4, 4, 4, 5, 5]);
  });

  it('treats a ratio of exactly 1.1 as Go float64 does (1 − 1.1 is −0.10000000000000009: outside)', () => {
    // GIVEN 4 replicas at target 5 and a metric of 22 (ratio 1.1)
    const desired = hpaDecisions([22], 60, 0.5, {}, 4);
    // THEN it scales to ceil(22 / 5) = 5, as upstream does
    assert.deepEqual(desired, [5]);
  });

  it('clamps each sync to max(2 × current, 4): four syncs in a 60 s row double 4 → 64', () => {
    // GIVEN 1 replica, target 10 per replica and a metric asking for 100
    const desired = hpaDecisions([1000, 1000, 1000], 60, 1, {}, 1);
    // THEN the sync at 60 s goes to 4, the syncs at 75, 90, 105, 120 s to 8, 16, 32, 64, then 100
    assert.deepEqual(desired, [4, 64, 100]);
    assert.equal(hpaScaleUpLimit(0), 4);
    assert.equal(hpaScaleUpLimit(3), 6);
  });

  it('holds the highest recommendation of the last 300 s, then drops', () => {
    // GIVEN 10 replicas, target 10 per replica, metric 100 in row 0 and 20 afterwards (Δ = 60 s)
    const desired = hpaDecisions([100, 20, 20, 20, 20, 20, 20, 20], 60, 1, {}, 10);
    // THEN syncs up to 105 s still see row 0 and recommend 10; the sync at 405 s still has that record
    // (exactly 300 s old, kept: only older ones are dropped) and the one at 420 s scales to ceil(20 / 10) = 2
    assert.deepEqual(desired, [10, 10, 10, 10, 10, 10, 2, 2]);
  });

  it('respects minReplicas and maxReplicas, and the first sync records the starting count', () => {
    // GIVEN min 2, max 5, 2 replicas, a metric of 0 and then 1000 (target 10 per replica)
    const desired = hpaDecisions([0, 1000, 1000, 1000], 60, 1, { minReplicas: 2, maxReplicas: 5 }, 2);
    // THEN 0 recommends 0 but min holds 2; 1000 goes to 4 (the clamp), then 5 (max)
    assert.deepEqual(desired, [2, 4, 5, 5]);
  });

  it('with Δ = 10 s, rows without a sync keep the previous count and some rows are never seen', () => {
    // GIVEN 1 replica, target 10, Δ = 10 s: syncs at 15 s (sees row 0), 30 s (row 2), 45 s (row 3), 60 s (row 5)
    const desired = hpaDecisions([30, 50, 20, 60, 0, 80], 10, 1, {}, 1);
    // THEN row 0 has no sync; 15 s: 30 → 3; 30 s: 20 → 2 but 3 is held; row 3 has no sync;
    // 45 s: 60 → 6; 60 s: 80 → 8. Row 1's 50 and row 4's 0 are never read.
    assert.deepEqual(desired, [1, 3, 3, 3, 6, 8]);
  });

  it('with Δ = 1800 s, each of the 120 syncs per row applies its own clamp and the window is 300 s', () => {
    // GIVEN 1 replica, target 10, max 1000, metric 10000 for two rows then 0 (half-hour rows)
    const desired = hpaDecisions([10000, 10000, 0, 0], 1800, 1, { maxReplicas: 1000 }, 1);
    // THEN 1800 s: 4; 1815..1920 s: 8, 16, ..., 512, 1000; 5400 s sees 0 but holds 1000 until the
    // sync at 5700 s, 300 s after the last record of 1000 (5385 s), drops to min 1
    assert.deepEqual(desired, [4, 1000, 1000, 1]);
  });

  it('skips the sync on a missing value and keeps the replicas', () => {
    // GIVEN 2 replicas, target 10 and a NaN in row 1
    const desired = hpaDecisions([20, NaN, 100, 100], 60, 1, {}, 2);
    // THEN row 1 keeps 2; the syncs reading row 1 (135–165 s) do nothing; 180 s reads 100 → 4; then 8, 10
    assert.deepEqual(desired, [2, 2, 4, 10]);
  });

  it('reads negative and infinite values as 0, unlike a missing one', () => {
    // GIVEN no stabilization window so that a 0 shows at once, 2 replicas, target 10
    const noWindow = { downscaleStabilizationSeconds: 0 };
    // WHEN row 1 is NaN, Infinity or negative
    // THEN NaN keeps 2; Infinity and −3 recommend 0, clamped to min 1
    assert.deepEqual(hpaDecisions([20, NaN], 60, 1, {}, 2, noWindow), [2, 2]);
    assert.deepEqual(hpaDecisions([20, Infinity], 60, 1, {}, 2, noWindow), [2, 1]);
    assert.deepEqual(hpaDecisions([20, -3], 60, 1, {}, 2, noWindow), [2, 1]);
  });

  it('with minReplicas 0 scales to zero as KEDA does: after a 300 s cooldown, and back to 1 on activity', () => {
    // GIVEN min 0, 1 replica, target 10, demand 10, then zeros, then 10 again (KEDA polls every 30 s)
    const desired = hpaDecisions([10, 0, 0, 0, 0, 0, 0, 0, 10, 10], 60, 1, { minReplicas: 0 }, 1);
    // THEN the last activity was read at 60 s; the poll at 390 s (> 60 + 300) scales to 0;
    // the poll at 540 s reads row 8's 10 and scales to 1; the HPA holds 1 (ratio 1)
    assert.deepEqual(desired, [1, 1, 1, 1, 1, 1, 0, 0, 1, 1]);
  });

  it('uses milli-units so that target × capacity rounding noise does not add a replica', () => {
    // GIVEN target 0.7 × capacity 30 (= 20.999999999999996 in floating point) and a metric of 42 on 1 replica
    const desired = hpaDecisions([42], 60, 0.7, { capacityPerReplica: 30 }, 1);
    // THEN ceil(42 / 21) = 2, not 3
    assert.deepEqual(desired, [2]);
  });

  it('refuses a non-positive target', () => {
    // GIVEN / WHEN / THEN
    assert.throws(() => hpaPolicy(0), /hpa target: must be a positive number \(got 0\)/);
    assert.throws(() => hpaPolicy(NaN), /hpa target: must be a positive number \(got NaN\)/);
  });
});
