/**
 * Per-workload engine settings, their documented defaults, and validation that names the bad field.
 * The runtime service fills these from a ScaledObject's trigger metadata; the simulator from flags.
 */
import type { ModelFamily } from './forecaster.js';
import { MODEL_FAMILIES } from './forecaster.js';

export interface EngineSettings {
  /** Seconds between points of the demand series. */
  readonly intervalSeconds: number;
  /** Demand one replica serves per interval at 100% utilisation (same unit as the series). */
  readonly capacityPerReplica: number;
  /**
   * Seconds from asking for a pod to it serving: pod start-up plus metric and polling lag.
   */
  readonly leadSeconds: number;
  /** Utilisation the current demand is served at (the forecast path adds its own quantile margin). @default 0.8 */
  readonly targetUtilization?: number;
  /** @default 1 */
  readonly minReplicas?: number;
  /** @default 1000 */
  readonly maxReplicas?: number;
  /** Quantile of the lead-time peak to provision for. @default 0.95 */
  readonly upperQuantile?: number;
  /** Cap on the forecast upper quantile ÷ point forecast (unforeseeable spikes are reacted to). @default 1.5 */
  readonly maxForecastMargin?: number;
  /** Weight of under-forecasting vs over-forecasting when back-testing models. @default 3 */
  readonly underForecastPenalty?: number;
  /**
   * Share of pre-scaled replicas (asked above what current demand needs, ahead of a forecast rise) that
   * must turn out needed within the lead time for pre-scaling to be trusted in full. Below it, each
   * pre-scale (and the node headroom) is scaled by the share ÷ this. 0 trusts every forecast in full.
   * @default 0.3
   */
  readonly minPrescaleUse?: number;
  /** Window over which the highest recommendation wins before scaling down. @default 120 */
  readonly scaleDownStabilizationSeconds?: number;
  /** Horizon for node headroom (time to provision a node). @default 180 */
  readonly nodeProvisioningSeconds?: number;
  /** Forecast model families to weigh; empty means all. @default [] (all of MODEL_FAMILIES) */
  readonly modelFamilies?: readonly ModelFamily[];
}

export type ResolvedEngineSettings = Required<EngineSettings>;

/** A setting with a bad value; `field` is the setting's name as the caller wrote it. */
export class EngineSettingsError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${field}: ${reason} (got ${JSON.stringify(value) ?? String(value)})`);
    this.name = 'EngineSettingsError';
  }
}

function positive(field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new EngineSettingsError(field, value, 'must be a finite number > 0');
  }
}

function nonNegative(field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new EngineSettingsError(field, value, 'must be a finite number ≥ 0');
  }
}

/** The most replicas a decision asks: Kubernetes' replica counts are int32. */
export const MAX_REPLICAS = 2_147_483_647;

function replicaCount(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_REPLICAS)
    throw new EngineSettingsError(field, value, `must be an integer in [0, ${MAX_REPLICAS}]`);
}

function fraction(field: string, value: number, inclusiveOne: boolean): void {
  const ok = typeof value === 'number' && value > 0 && (inclusiveOne ? value <= 1 : value < 1);
  if (!ok) throw new EngineSettingsError(field, value, `must be in (0, 1${inclusiveOne ? ']' : ')'}`);
}

/** Applies defaults and validates; throws EngineSettingsError naming the first bad field. */
export function resolveEngineSettings(settings: EngineSettings): ResolvedEngineSettings {
  positive('intervalSeconds', settings.intervalSeconds);
  positive('capacityPerReplica', settings.capacityPerReplica);
  nonNegative('leadSeconds', settings.leadSeconds);
  const resolved: ResolvedEngineSettings = {
    targetUtilization: 0.8,
    minReplicas: 1,
    maxReplicas: 1000,
    upperQuantile: 0.95,
    maxForecastMargin: 1.5,
    underForecastPenalty: 3,
    minPrescaleUse: 0.3,
    scaleDownStabilizationSeconds: 120,
    nodeProvisioningSeconds: 180,
    modelFamilies: [],
    ...stripUndefined(settings),
    intervalSeconds: settings.intervalSeconds,
    capacityPerReplica: settings.capacityPerReplica,
    leadSeconds: settings.leadSeconds,
  };
  fraction('targetUtilization', resolved.targetUtilization, true);
  replicaCount('minReplicas', resolved.minReplicas);
  replicaCount('maxReplicas', resolved.maxReplicas);
  if (resolved.maxReplicas < 1)
    throw new EngineSettingsError('maxReplicas', resolved.maxReplicas, 'must be ≥ 1');
  if (resolved.minReplicas > resolved.maxReplicas) {
    throw new EngineSettingsError(
      'minReplicas',
      resolved.minReplicas,
      `must not exceed maxReplicas (${resolved.maxReplicas})`,
    );
  }
  fraction('upperQuantile', resolved.upperQuantile, false);
  if (!(resolved.maxForecastMargin >= 1)) {
    throw new EngineSettingsError('maxForecastMargin', resolved.maxForecastMargin, 'must be a number ≥ 1');
  }
  positive('underForecastPenalty', resolved.underForecastPenalty);
  if (!(
    typeof resolved.minPrescaleUse === 'number' &&
    resolved.minPrescaleUse >= 0 &&
    resolved.minPrescaleUse <= 1
  )) {
    throw new EngineSettingsError('minPrescaleUse', resolved.minPrescaleUse, 'must be in [0, 1]');
  }
  nonNegative('scaleDownStabilizationSeconds', resolved.scaleDownStabilizationSeconds);
  nonNegative('nodeProvisioningSeconds', resolved.nodeProvisioningSeconds);
  for (const family of resolved.modelFamilies) {
    if (!(MODEL_FAMILIES as readonly string[]).includes(family)) {
      throw new EngineSettingsError('modelFamilies', family, `must be one of ${MODEL_FAMILIES.join(', ')}`);
    }
  }
  if (leadStepsOf(resolved) > 1440)
    throw new EngineSettingsError('leadSeconds', settings.leadSeconds, 'must be at most 1439 intervals');
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Steps from a decision to the first interval a pod it requests serves (see simulation/types.ts). */
export function leadStepsOf(settings: ResolvedEngineSettings): number {
  return 1 + Math.ceil(settings.leadSeconds / settings.intervalSeconds);
}
