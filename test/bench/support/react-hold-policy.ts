/**
 * React-and-hold: the simplest causal policy with a reserve. It asks for what the highest demand of
 * the last `window` rows needs at `utilization`. A window of one row is an idealised reactive
 * autoscaler (no tolerance, no scale-up limit); longer windows keep burst capacity for a while after
 * a burst, betting that another one follows. The reach analysis (policy-reach.bench.ts) sweeps it as a
 * yardstick next to the engine's own settings.
 */
import { measuredDemand } from '../../../runtime/simulation/simulator.js';
import type { PolicyFactory } from '../../../runtime/simulation/types.js';

export function reactHoldPolicy(utilization: number, window: number): PolicyFactory {
  if (!(utilization > 0 && utilization <= 1)) {
    throw new RangeError(`utilization: must be in (0, 1] (got ${utilization})`);
  }
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`window: must be an integer ≥ 1 (got ${window})`);
  }
  return (context) => {
    const recent = new Float64Array(window);
    let next = 0;
    const perReplica = utilization * context.capacityPerReplica;
    return {
      name: `hold u${utilization} w${window}`,
      decide(row) {
        recent[next] = measuredDemand(row.demand);
        next = (next + 1) % window;
        let peak = 0;
        for (const value of recent) peak = Math.max(peak, value);
        // Float noise (10.000000001 → 11) is not a reason for a replica.
        return Math.ceil(peak / perReplica - 1e-9);
      },
    };
  };
}
