/**
 * What a family of policies can reach on one trace against the HPA: how many members meet the goal,
 * the fewest violations any member has at no more cost than the HPA, and the least cost of any member
 * with at most half the HPA's violations.
 */
import type { RunMeasures } from '../../../runtime/simulation/types.js';

export interface LabelledRun {
  readonly label: string;
  readonly measures: RunMeasures;
}

export interface Reach {
  /** Members meeting the goal (≤ ½ HPA violations at ≤ HPA cost). */
  readonly meeting: readonly string[];
  /** The member with the fewest violations at ≤ HPA cost (ties: cheaper), if any is that cheap. */
  readonly fewestViolationsAtHpaCost?: LabelledRun;
  /** The cheapest member with ≤ ½ HPA violations, if any has that few. */
  readonly leastCostAtHalfViolations?: LabelledRun;
}

export function reachOf(runs: readonly LabelledRun[], hpa: RunMeasures): Reach {
  const halfViolations = Math.floor(hpa.violationIntervals / 2);
  const affordable = runs.filter((r) => r.measures.replicaIntervals <= hpa.replicaIntervals);
  const fewMisses = runs.filter((r) => r.measures.violationIntervals <= halfViolations);
  const fewest = [...affordable].sort(
    (a, b) =>
      a.measures.violationIntervals - b.measures.violationIntervals ||
      a.measures.replicaIntervals - b.measures.replicaIntervals,
  )[0];
  const cheapest = [...fewMisses].sort(
    (a, b) =>
      a.measures.replicaIntervals - b.measures.replicaIntervals ||
      a.measures.violationIntervals - b.measures.violationIntervals,
  )[0];
  return {
    meeting: fewMisses.filter((r) => r.measures.replicaIntervals <= hpa.replicaIntervals).map((r) => r.label),
    ...(fewest ? { fewestViolationsAtHpaCost: fewest } : {}),
    ...(cheapest ? { leastCostAtHalfViolations: cheapest } : {}),
  };
}
