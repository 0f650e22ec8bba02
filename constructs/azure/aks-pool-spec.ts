import type { NodePoolInfo, NodeTaint } from '../k8s/cluster-info.js';
import { AKS_SCALESET_PRIORITY_LABEL, ELASTICAI_CAPACITY_LABEL } from '../k8s/placement.js';
import { checkInteger, checkMinMax, formatValue, PropError } from '../k8s/validation.js';
import { checkNodeLabels, checkNodeTaints } from '../k8s/node-pool-checks.js';

/** AKS agent pool names: 1-12 lowercase alphanumerics starting with a letter (Linux pools). */
const POOL_NAME = /^[a-z][a-z0-9]{0,11}$/;
/**
 * Azure VM size names as AKS takes them: `Standard_` then a capital family letter, e.g.
 * `Standard_D4s_v5`, `Standard_E8-4ds_v5` (constrained vCPU), `Standard_NC24ads_A100_v4`.
 */
const VM_SIZE = /^Standard_[A-Z][A-Za-z0-9]*(-\d+[A-Za-z0-9]*)?(_[A-Za-z0-9]+)*$/;
/** Azure availability zone numbers. */
const ZONE = /^[1-3]$/;
/** Nodes per AKS agent pool (VMSS) at most. */
const MAX_POOL_NODES = 1000;

/** The taint every AKS system pool carries so that only critical add-ons land there. */
export const CRITICAL_ADDONS_TAINT: NodeTaint = {
  key: 'CriticalAddonsOnly',
  value: 'true',
  effect: 'NoSchedule',
};
/** The taint AKS puts on every spot node; declared explicitly so Pulumi never sees a diff. */
export const SPOT_TAINT: NodeTaint = {
  key: AKS_SCALESET_PRIORITY_LABEL,
  value: 'spot',
  effect: 'NoSchedule',
};

/** Options that AKS needs beyond the cloud-neutral {@link NodePoolInfo}. */
export interface AksPoolOptions {
  /** Kubernetes minor of the control plane, e.g. `1.34`; pools run the same minor. */
  readonly kubernetesVersion: string;
  /**
   * Highest price per node-hour in US dollars a spot pool pays; `-1` pays up to the on-demand price
   * (never evicted for price, only for capacity). Only for spot pools. @default -1
   */
  readonly spotMaxPrice?: number;
  /** Zones used when the pool names none. @default ['1', '2', '3'] */
  readonly defaultZones?: readonly string[];
}

/** One agent pool's properties as AKS takes them (shared by the inline system pool and AgentPool). */
export interface AksPoolSpec {
  readonly name: string;
  readonly mode: 'System' | 'User';
  readonly vmSize: string;
  readonly osType: 'Linux';
  readonly type: 'VirtualMachineScaleSets';
  readonly orchestratorVersion: string;
  readonly availabilityZones: string[];
  /** Whether the managed cluster autoscaler sizes the pool (min < max). */
  readonly enableAutoScaling: boolean;
  readonly minCount?: number;
  readonly maxCount?: number;
  /** Initial node count; ignored after creation when autoscaling is on. */
  readonly count: number;
  readonly nodeLabels: Record<string, string>;
  readonly nodeTaints: string[];
  readonly scaleSetPriority?: 'Spot';
  readonly scaleSetEvictionPolicy?: 'Delete';
  readonly spotMaxPrice?: number;
}

/** `key=value:Effect` (or `key:Effect`), the form AKS takes taints in. */
export function renderTaint(taint: NodeTaint): string {
  return taint.value === undefined || taint.value === ''
    ? `${taint.key}:${taint.effect}`
    : `${taint.key}=${taint.value}:${taint.effect}`;
}

/** Throws unless `price` is -1 or a positive dollar price with at most 5 decimals (Azure's limits). */
export function checkSpotMaxPrice(prop: string, price: number): void {
  if (typeof price !== 'number' || !Number.isFinite(price)) {
    throw new PropError(prop, price, 'must be -1 or a positive price in US dollars per hour');
  }
  if (price === -1) return;
  if (price <= 0) {
    throw new PropError(
      prop,
      price,
      'must be -1 (pay up to the on-demand price) or a positive price in US dollars per hour',
    );
  }
  if (Math.abs(Math.round(price * 1e5) - price * 1e5) > 1e-6) {
    throw new PropError(prop, price, 'must have at most 5 decimal places (Azure rounds spot prices to 5)');
  }
}

/**
 * Validates one pool for AKS and returns its agent-pool properties. Errors name the prop as
 * `<prop>.<field>` (e.g. `nodePools[2].minSize`) and the bad value.
 */
export function aksPoolSpec(pool: NodePoolInfo, options: AksPoolOptions, prop = 'pool'): AksPoolSpec {
  if (typeof pool.name !== 'string' || !POOL_NAME.test(pool.name)) {
    throw new PropError(
      `${prop}.name`,
      pool.name,
      'must be 1-12 lowercase letters and digits starting with a letter (AKS agent pool name)',
    );
  }
  if (pool.role !== 'system' && pool.role !== 'user') {
    throw new PropError(`${prop}.role`, pool.role, 'must be "system" or "user"');
  }
  if (pool.capacityType !== 'on-demand' && pool.capacityType !== 'spot') {
    throw new PropError(
      `${prop}.capacityType`,
      pool.capacityType,
      'must be "on-demand" or "spot" on AKS (a "mixed" pool is an AWS MixedInstancesPolicy; use one pool of each)',
    );
  }
  const spot = pool.capacityType === 'spot';
  if (spot && pool.role === 'system') {
    throw new PropError(
      `${prop}.capacityType`,
      pool.capacityType,
      'must be "on-demand" for a system pool (AKS refuses spot system pools)',
    );
  }
  if (!Array.isArray(pool.instanceTypes) || pool.instanceTypes.length !== 1) {
    throw new PropError(
      `${prop}.instanceTypes`,
      pool.instanceTypes,
      'must list exactly one VM size on AKS (one pool per VM size)',
    );
  }
  const vmSize = pool.instanceTypes[0] as string;
  if (typeof vmSize !== 'string' || !VM_SIZE.test(vmSize)) {
    throw new PropError(
      `${prop}.instanceTypes[0]`,
      vmSize,
      'must be an Azure VM size like "Standard_D4s_v5"',
    );
  }
  checkInteger(`${prop}.minSize`, pool.minSize, pool.role === 'system' ? 1 : 0, MAX_POOL_NODES);
  checkInteger(`${prop}.maxSize`, pool.maxSize, 1, MAX_POOL_NODES);
  checkMinMax(`${prop}.minSize`, pool.minSize, `${prop}.maxSize`, pool.maxSize);
  const zones = [...(pool.zones ?? options.defaultZones ?? ['1', '2', '3'])];
  zones.forEach((zone, i) => {
    if (typeof zone !== 'string' || !ZONE.test(zone)) {
      throw new PropError(`${prop}.zones[${i}]`, zone, 'must be an Azure zone number "1", "2" or "3"');
    }
  });
  if (pool.mixed !== undefined) {
    throw new PropError(`${prop}.mixed`, pool.mixed, 'is only for AWS mixed pools');
  }
  if (options.spotMaxPrice !== undefined) {
    if (!spot) {
      throw new PropError(
        `${prop}.spotMaxPrice`,
        options.spotMaxPrice,
        `is only for spot pools ("${pool.name}" is ${pool.capacityType})`,
      );
    }
    checkSpotMaxPrice(`${prop}.spotMaxPrice`, options.spotMaxPrice);
  }

  const nodeLabels: Record<string, string> = {
    ...(pool.labels ?? {}),
    [ELASTICAI_CAPACITY_LABEL]: spot ? 'spot' : 'on-demand',
    ...(spot ? { [AKS_SCALESET_PRIORITY_LABEL]: 'spot' } : {}),
  };
  for (const [key, value] of Object.entries(pool.labels ?? {})) {
    if (key === ELASTICAI_CAPACITY_LABEL || key === AKS_SCALESET_PRIORITY_LABEL) {
      throw new PropError(
        `${prop}.labels`,
        { [key]: value },
        'must not set the capacity labels; they follow capacityType',
      );
    }
  }
  checkNodeLabels(`${prop}.labels`, pool.labels ?? {});
  const taints: NodeTaint[] = [...(pool.taints ?? [])];
  checkNodeTaints(`${prop}.taints`, taints);
  const required = [
    ...(pool.role === 'system' ? [CRITICAL_ADDONS_TAINT] : []),
    ...(spot ? [SPOT_TAINT] : []),
  ];
  const nodeTaints = [...new Set([...taints, ...required].map(renderTaint))];
  for (const taint of taints) {
    if (taint.key === AKS_SCALESET_PRIORITY_LABEL && !spot) {
      throw new PropError(
        `${prop}.taints`,
        formatValue(renderTaint(taint)),
        'must not carry the AKS spot taint on a non-spot pool',
      );
    }
  }

  const autoscaled = pool.minSize < pool.maxSize;
  return {
    name: pool.name,
    mode: pool.role === 'system' ? 'System' : 'User',
    vmSize,
    osType: 'Linux',
    type: 'VirtualMachineScaleSets',
    orchestratorVersion: options.kubernetesVersion,
    availabilityZones: zones,
    enableAutoScaling: autoscaled,
    ...(autoscaled ? { minCount: pool.minSize, maxCount: pool.maxSize } : {}),
    count: pool.minSize,
    nodeLabels,
    nodeTaints,
    ...(spot
      ? {
          scaleSetPriority: 'Spot' as const,
          scaleSetEvictionPolicy: 'Delete' as const,
          spotMaxPrice: options.spotMaxPrice ?? -1,
        }
      : {}),
  };
}

/**
 * Validates a cluster's pools as a whole for AKS: exactly one system pool (AKS needs one; this package
 * keeps add-ons on a single dedicated pool) and unique names. Returns the system pool and user pools.
 */
export function splitAksPools(
  pools: readonly NodePoolInfo[],
  prop = 'nodePools',
): { system: NodePoolInfo; user: NodePoolInfo[] } {
  const system = pools.filter((p) => p.role === 'system');
  if (system.length !== 1) {
    throw new PropError(
      prop,
      pools.map((p) => `${p.name} (${p.role})`),
      `must contain exactly one pool with role "system" on AKS (found ${system.length})`,
    );
  }
  const seen = new Set<string>();
  pools.forEach((p, i) => {
    if (seen.has(p.name))
      throw new PropError(`${prop}[${i}].name`, p.name, 'must be unique within the cluster');
    seen.add(p.name);
  });
  return { system: system[0] as NodePoolInfo, user: pools.filter((p) => p.role !== 'system') };
}
