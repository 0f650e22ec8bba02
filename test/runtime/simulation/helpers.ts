import type { PolicyContext, PolicyFactory, RunMeasures, Trace } from '../../../runtime/simulation/types.js';

/** A trace of the given demands at interval `delta` seconds, starting at epoch 0. */
export function traceOf(demands: readonly number[], delta = 60): Trace {
  return {
    rows: demands.map((demand, i) => ({ timestamp: i * delta, demand, line: i + 2 })),
    intervalSeconds: delta,
    source: 'test',
  };
}

/** The first `n` rows of a trace. */
export function prefix(trace: Trace, n: number): Trace {
  return { ...trace, rows: trace.rows.slice(0, n) };
}

/** A context with small defaults. */
export function contextOf(overrides: Partial<PolicyContext> = {}): PolicyContext {
  return {
    intervalSeconds: 60,
    capacityPerReplica: 10,
    startupSeconds: 0,
    minReplicas: 1,
    maxReplicas: 100,
    ...overrides,
  };
}

/** A policy that returns a fixed script of decisions. */
export function scripted(decisions: readonly number[]): PolicyFactory {
  return () => ({ name: 'scripted', decide: (_row, i) => decisions[i] as number });
}

/** Measures of a 10-row run with only violations and cost set (for comparing runs). */
export function measuresOf(
  policy: string,
  violationIntervals: number,
  replicaIntervals: number,
): RunMeasures {
  return {
    policy,
    rows: 10,
    violationIntervals,
    unservedShare: 0,
    replicaIntervals,
    overProvisioningShare: 0,
    scalingChanges: 0,
  };
}
