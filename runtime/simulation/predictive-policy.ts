/**
 * The `predictive` policy of the simulator: the decision engine fed one trace row at a time, exactly as
 * the runtime feeds it one metric point at a time.
 */
import type { EngineSettings } from '../engine/settings.js';
import { WorkloadEngine } from '../engine/workload-engine.js';
import type { Decision } from '../engine/workload-engine.js';
import type { PolicyFactory, ScalingPolicy } from './types.js';

/** Engine settings the simulator does not take from the policy context. */
export type PredictiveTuning = Omit<
  EngineSettings,
  'intervalSeconds' | 'capacityPerReplica' | 'leadSeconds' | 'minReplicas' | 'maxReplicas'
>;

/**
 * The engine as a policy. The lead time is the trace's start-up delay (the simulator has no metric or
 * polling lag beyond the one interval the time model already charges). `onDecision` sees every decision
 * with its explanation.
 */
export function predictivePolicy(
  tuning: PredictiveTuning = {},
  onDecision?: (d: Decision) => void,
): PolicyFactory {
  return (context) => {
    const engine = new WorkloadEngine({
      ...tuning,
      intervalSeconds: context.intervalSeconds,
      capacityPerReplica: context.capacityPerReplica,
      leadSeconds: context.startupSeconds,
      minReplicas: context.minReplicas,
      maxReplicas: context.maxReplicas,
    });
    const policy: ScalingPolicy = {
      name: 'predictive',
      decide(row) {
        const decision = engine.step(row.timestamp, row.demand);
        onDecision?.(decision);
        return decision.desiredReplicas;
      },
    };
    return policy;
  };
}
