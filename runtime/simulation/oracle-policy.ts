/**
 * The oracle: perfect foresight that requests replicas exactly the start-up time ahead. It is the lower
 * bound on cost (replica-intervals) for a run with no violations after the first rows (rows before the
 * first decision's replicas can be ready are served by the initial replicas, whatever the policy).
 *
 * need[r] = clamp(ceil(demand[r] / capacity), min, max) (missing, infinite or negative demand counts as 0,
 * as in the measures); the decision at row t is max(need[t+1 .. t+d]) with d = 1 + ceil(startup / Δ), rows
 * past the end taking the last row's need. Every replica ready at row r ∈ [t+1, t+d] must exist at row t+1
 * (it was requested at row r − d ≤ t at the latest and removals are immediate), so no zero-violation policy
 * can have fewer replicas at row t+1.
 */
import { clampReplicas, measuredDemand, readyDelayRows } from './simulator.js';
import type { PolicyContext, PolicyFactory, ScalingPolicy, Trace } from './types.js';

/** Replicas each row needs: clamp(ceil(demand / capacity), min, max). */
export function replicasNeeded(trace: Trace, context: PolicyContext): number[] {
  return trace.rows.map((r) =>
    clampReplicas(Math.ceil(measuredDemand(r.demand) / context.capacityPerReplica), context),
  );
}

/** The perfect-foresight policy (the only one that reads the whole trace). */
export function oraclePolicy(): PolicyFactory {
  return (context: PolicyContext, trace: Trace): ScalingPolicy => {
    const need = replicasNeeded(trace, context);
    const n = need.length;
    const d = readyDelayRows(context);
    // plan[t] = max(need[min(t+1, n−1) .. min(t+d, n−1)]), computed with a monotonic deque in O(n).
    const plan = new Array<number>(n);
    const deque: number[] = []; // indices into need, values decreasing
    let dqHead = 0;
    let added = 0; // next need index to push
    for (let t = 0; t < n; t++) {
      const hi = Math.min(t + d, n - 1);
      const lo = Math.min(t + 1, n - 1);
      while (added <= hi) {
        const v = need[added] as number;
        while (deque.length > dqHead && (need[deque[deque.length - 1] as number] as number) <= v) deque.pop();
        deque.push(added);
        added++;
      }
      while ((deque[dqHead] as number) < lo) dqHead++;
      plan[t] = need[deque[dqHead] as number] as number;
    }
    return {
      name: 'oracle',
      decide: (_row, index) => plan[index] as number,
    };
  };
}
