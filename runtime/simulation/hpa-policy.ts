/**
 * A faithful model of the Kubernetes HorizontalPodAutoscaler as KEDA creates it by default (no `behavior`),
 * scaling on one External metric with an AverageValue target: the demand of the latest complete trace row.
 *
 * Follows kubernetes `pkg/controller/podautoscaler`:
 * - `reconcileAutoscaler`: the first sync records the current replica count as a recommendation
 *   (`recordInitialRecommendation`); a workload at 0 replicas with minReplicas ≠ 0 is not scaled;
 *   outside [min, max] it is moved to the bound without looking at metrics; a failed metric read (a
 *   missing value here) skips the sync and keeps the replicas.
 * - `GetExternalPerPodMetricReplicas`: usageRatio = value / (target × current); within the tolerance (0.1)
 *   the proposal is the current count, else ceil(value / target); values and the target are milli-units
 *   (KEDA sends `int64(value × 1000)` milli-quantities).
 * - `normalizeDesiredReplicas`: `stabilizeRecommendation` (the highest proposal in the last 300 s, this
 *   one included, records older than now − 300 s dropped), then `convertDesiredReplicasWithRules`
 *   (at most max(2 × current, 4), and within [min, max]).
 *
 * Time: syncs happen every 15 s from the trace start (t = 15 s, 30 s, ...; rows are taken as consecutive,
 * gaps in the trace are not time). A sync at τ sees row floor(τ / Δ) − 1, the latest row whose interval
 * has ended. The decision for row t is the replica count after the last sync at or before (t + 1)·Δ.
 *
 * With minReplicas 0 it behaves as KEDA does for `minReplicaCount: 0`: the HPA gets minReplicas 1 and
 * KEDA's own loop (every 30 s) scales 0 → 1 when the metric is above 0 and 1+ → 0 once it has been 0
 * for the 300 s cooldown period.
 */
import { defaultInitialReplicas } from './simulator.js';
import type { PolicyContext, PolicyFactory, ScalingPolicy, Trace, TraceRow } from './types.js';

/** Tunables of the HPA model; the defaults are upstream's. */
export interface HpaOptions {
  /** `--horizontal-pod-autoscaler-sync-period`. @default 15 */
  readonly syncPeriodSeconds?: number;
  /** `--horizontal-pod-autoscaler-tolerance`. @default 0.1 */
  readonly tolerance?: number;
  /** `--horizontal-pod-autoscaler-downscale-stabilization`. @default 300 */
  readonly downscaleStabilizationSeconds?: number;
  /** KEDA `pollingInterval` (only used when minReplicas is 0). @default 30 */
  readonly kedaPollingIntervalSeconds?: number;
  /** KEDA `cooldownPeriod` (only used when minReplicas is 0). @default 300 */
  readonly kedaCooldownSeconds?: number;
}

/** Upstream's legacy (behavior unset) scale-up limit: max(scaleUpLimitFactor × current, scaleUpLimitMinimum). */
export function hpaScaleUpLimit(currentReplicas: number): number {
  return Math.max(2 * currentReplicas, 4);
}

/** Milli-units the way KEDA reports a metric value: int64(value × 1000), float noise below 1e-6 removed. */
function toMilli(value: number): number {
  return Math.floor(Math.round(value * 1e6) / 1000);
}

/**
 * An HPA with `targetAverageValue = target × capacityPerReplica` on the external metric "demand of the
 * latest complete row" (so `target` is the target utilisation, e.g. 0.7).
 */
export function hpaPolicy(target: number, options: HpaOptions = {}): PolicyFactory {
  if (!Number.isFinite(target) || target <= 0) {
    throw new RangeError(`hpa target: must be a positive number (got ${target})`);
  }
  const sync = options.syncPeriodSeconds ?? 15;
  const tolerance = options.tolerance ?? 0.1;
  const window = options.downscaleStabilizationSeconds ?? 300;
  const kedaPoll = options.kedaPollingIntervalSeconds ?? 30;
  const kedaCooldown = options.kedaCooldownSeconds ?? 300;
  if (!(sync > 0)) throw new RangeError(`syncPeriodSeconds: must be positive (got ${sync})`);
  if (!(kedaPoll > 0)) throw new RangeError(`kedaPollingIntervalSeconds: must be positive (got ${kedaPoll})`);

  return (context: PolicyContext, trace: Trace): ScalingPolicy => {
    const targetMilli = Math.round(target * context.capacityPerReplica * 1000);
    if (targetMilli < 1) {
      throw new RangeError(
        `hpa target: target × capacity must be at least 0.001 (got ${target} × ${context.capacityPerReplica})`,
      );
    }
    const delta = context.intervalSeconds;
    const kedaScaleToZero = context.minReplicas === 0;
    const hpaMin = Math.max(1, context.minReplicas);
    const hpaMax = context.maxReplicas;
    let current = context.initialReplicas ?? defaultInitialReplicas(trace, context);

    const seen: number[] = [];
    // Recommendations inside the stabilization window, oldest first (a queue: head index + arrays).
    const recTime: number[] = [];
    const recValue: number[] = [];
    let recHead = 0;
    let initialRecorded = false;
    let nextSync = 1; // sync k happens at k × sync seconds
    let nextPoll = 1;
    let lastActive = 0;

    /** The metric at time τ: the latest complete row's demand, or undefined when missing. */
    const metricAt = (tau: number): number | undefined => {
      const row = Math.floor(tau / delta) - 1;
      if (row < 0) return undefined;
      const v = seen[row] as number;
      if (Number.isNaN(v)) return undefined;
      return Number.isFinite(v) && v > 0 ? v : 0;
    };

    const stabilize = (tau: number, proposal: number): number => {
      const cutoff = tau - window;
      while (recHead < recTime.length && (recTime[recHead] as number) < cutoff) recHead++;
      let max = proposal;
      for (let i = recHead; i < recTime.length; i++) max = Math.max(max, recValue[i] as number);
      recTime.push(tau);
      recValue.push(proposal);
      if (recHead > 256) {
        recTime.splice(0, recHead);
        recValue.splice(0, recHead);
        recHead = 0;
      }
      return max;
    };

    const hpaSync = (tau: number): void => {
      if (!initialRecorded) {
        recTime.push(tau);
        recValue.push(current);
        initialRecorded = true;
      }
      if (current === 0 && hpaMin !== 0) return; // "scaling is disabled since the replica count of the target is zero"
      if (current > hpaMax) {
        current = hpaMax;
        return;
      }
      if (current < hpaMin) {
        current = hpaMin;
        return;
      }
      const value = metricAt(tau);
      if (value === undefined) return; // FailedGetExternalMetric: no change this sync
      const valueMilli = toMilli(value);
      let proposal = current;
      const usageRatio = valueMilli / (targetMilli * current);
      if (Math.abs(1 - usageRatio) > tolerance) proposal = Math.ceil(valueMilli / targetMilli);
      const stabilized = stabilize(tau, proposal);
      const maxAllowed = Math.min(hpaMax, hpaScaleUpLimit(current));
      current = stabilized < hpaMin ? hpaMin : stabilized > maxAllowed ? maxAllowed : stabilized;
    };

    const kedaPollAt = (tau: number): void => {
      const value = metricAt(tau);
      if (value === undefined) return;
      if (value > 0) {
        lastActive = tau;
        if (current === 0) current = 1;
      } else if (current > 0 && lastActive + kedaCooldown < tau) {
        current = 0;
      }
    };

    return {
      name: 'hpa',
      decide(row: TraceRow, index: number): number {
        seen[index] = row.demand;
        const end = (index + 1) * delta;
        for (;;) {
          const tSync = nextSync * sync;
          const tPoll = kedaScaleToZero ? nextPoll * kedaPoll : Infinity;
          const tau = Math.min(tSync, tPoll);
          if (tau > end) break;
          if (tPoll === tau) {
            kedaPollAt(tau);
            nextPoll++;
          }
          if (tSync === tau) {
            hpaSync(tau);
            nextSync++;
          }
        }
        return current;
      },
    };
  };
}
