/**
 * A ScaledObject's trigger metadata → the workload's typed spec. KEDA sends the trigger's `metadata`
 * as `scalerMetadata` on every call; this is where it is checked, so a typo fails loudly with the key's
 * name (gRPC INVALID_ARGUMENT) instead of scaling on a default nobody chose.
 */
import type { ModelFamily } from '../engine/forecaster.js';
import { MODEL_FAMILIES } from '../engine/forecaster.js';
import type { EngineSettings } from '../engine/settings.js';
import { EngineSettingsError, resolveEngineSettings } from '../engine/settings.js';
import type { TenantLimits } from './config.js';

/** Metadata keys the runtime reads (the construct writes the same names). */
export const METADATA = {
  metric: 'metric',
  source: 'source',
  query: 'query',
  stream: 'stream',
  intervalSeconds: 'intervalSeconds',
  capacityPerReplica: 'capacityPerReplica',
  targetUtilization: 'targetUtilization',
  leadSeconds: 'leadSeconds',
  minReplicas: 'minReplicas',
  maxReplicas: 'maxReplicas',
  models: 'models',
  upperQuantile: 'upperQuantile',
  minPrescaleUse: 'minPrescaleUse',
  scaleDownStabilizationSeconds: 'scaleDownStabilizationSeconds',
  nodeProvisioningSeconds: 'nodeProvisioningSeconds',
  nodePool: 'nodePool',
  tenant: 'tenant',
} as const;

/** Keys KEDA itself puts in the metadata of external triggers (ignored here). */
const KEDA_KEYS = new Set([
  'scalerAddress',
  'caCert',
  'tlsClientCert',
  'tlsClientKey',
  'unsafeSsl',
  'enableTLS',
]);
const KNOWN = new Set<string>([...Object.values(METADATA), ...KEDA_KEYS]);

/** Documented defaults of the metadata (runtime/README.md repeats them). */
export const METADATA_DEFAULTS = {
  intervalSeconds: 60,
  leadSeconds: 120,
} as const;

/** Bad trigger metadata; `key` is the metadata key as written in the ScaledObject. */
export class MetadataError extends Error {
  constructor(
    readonly key: string,
    value: unknown,
    reason: string,
  ) {
    super(`metadata.${key}: ${reason} (got ${JSON.stringify(value)})`);
    this.name = 'MetadataError';
  }
}

export interface WorkloadRef {
  readonly namespace: string;
  readonly name: string;
}

/** A workload whose demand the engine forecasts. */
export interface DemandSpec {
  readonly kind: 'demand';
  readonly source: 'prometheus' | 'webhook';
  /** PromQL (prometheus) or the webhook stream name (webhook). */
  readonly query: string;
  readonly engine: EngineSettings & { readonly intervalSeconds: number };
  /** Node pool the workload's pods run on: its predicted extra pods count toward that pool's headroom. */
  readonly nodePool?: string;
  readonly tenant?: string;
}

/** The headroom placeholders of one node pool: extra pods predicted for the pool's workloads. */
export interface HeadroomSpec {
  readonly kind: 'headroom';
  readonly nodePool: string;
  readonly tenant?: string;
}

export type WorkloadSpec = DemandSpec | HeadroomSpec;

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function number(meta: Readonly<Record<string, string>>, key: string): number | undefined {
  const raw = meta[key];
  if (raw === undefined) return undefined;
  const n = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(n)) throw new MetadataError(key, raw, 'must be a number');
  return n;
}

function integer(meta: Readonly<Record<string, string>>, key: string): number | undefined {
  const n = number(meta, key);
  if (n !== undefined && !Number.isInteger(n)) throw new MetadataError(key, meta[key], 'must be an integer');
  return n;
}

function models(raw: string | undefined): ModelFamily[] | undefined {
  if (raw === undefined || raw.trim() === 'auto') return undefined;
  const names = raw.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!(MODEL_FAMILIES as readonly string[]).includes(name)) {
      throw new MetadataError(
        METADATA.models,
        raw,
        `must be "auto" or a comma list of ${MODEL_FAMILIES.join(', ')}`,
      );
    }
  }
  return names as ModelFamily[];
}

/**
 * Checks `metadata` of the trigger on `ref` and returns its spec. Tenant rules: a named tenant must
 * exist and own the namespace; its replica cap bounds maxReplicas.
 */
export function parseWorkloadSpec(
  ref: WorkloadRef,
  metadata: Readonly<Record<string, string>>,
  tenants: readonly TenantLimits[] = [],
): WorkloadSpec {
  for (const key of Object.keys(metadata)) {
    if (!KNOWN.has(key)) {
      throw new MetadataError(
        key,
        metadata[key],
        `is not a key the runtime reads (one of ${Object.values(METADATA).join(', ')})`,
      );
    }
  }
  const tenant = checkTenant(ref, metadata[METADATA.tenant], tenants);
  const nodePool = metadata[METADATA.nodePool]?.trim();
  if (nodePool !== undefined && !NAME.test(nodePool)) {
    throw new MetadataError(METADATA.nodePool, nodePool, 'must be a node pool name (lowercase DNS name)');
  }
  const metric = metadata[METADATA.metric] ?? 'demand';
  if (metric === 'headroom') {
    if (nodePool === undefined)
      throw new MetadataError(METADATA.nodePool, undefined, 'is required when metric is "headroom"');
    return { kind: 'headroom', nodePool, ...(tenant ? { tenant: tenant.name } : {}) };
  }
  if (metric !== 'demand') throw new MetadataError(METADATA.metric, metric, 'must be "demand" or "headroom"');
  return demandSpec(ref, metadata, tenant, nodePool);
}

function demandSpec(
  ref: WorkloadRef,
  metadata: Readonly<Record<string, string>>,
  tenant: TenantLimits | undefined,
  nodePool: string | undefined,
): DemandSpec {
  const source = metadata[METADATA.source] ?? 'prometheus';
  if (source !== 'prometheus' && source !== 'webhook') {
    throw new MetadataError(METADATA.source, source, 'must be "prometheus" or "webhook"');
  }
  let query = metadata[METADATA.query]?.trim();
  if (source === 'prometheus' && (query === undefined || query === '')) {
    throw new MetadataError(METADATA.query, query, 'is required: a PromQL expression of the demand');
  }
  if (source === 'webhook') {
    const stream = metadata[METADATA.stream]?.trim() ?? `${ref.namespace}/${ref.name}`;
    if (!/^[A-Za-z0-9._/-]{1,253}$/.test(stream)) {
      throw new MetadataError(METADATA.stream, stream, 'must be 1–253 letters, digits, ".", "_", "/" or "-"');
    }
    query = stream;
  }
  const capacityPerReplica = number(metadata, METADATA.capacityPerReplica);
  if (capacityPerReplica === undefined) {
    throw new MetadataError(
      METADATA.capacityPerReplica,
      undefined,
      'is required: the demand one replica serves',
    );
  }
  const maxReplicas = integer(metadata, METADATA.maxReplicas);
  if (tenant && maxReplicas !== undefined && maxReplicas > tenant.maxReplicas) {
    throw new MetadataError(
      METADATA.maxReplicas,
      maxReplicas,
      `exceeds tenant ${tenant.name}'s cap of ${tenant.maxReplicas}`,
    );
  }
  const families = models(metadata[METADATA.models]);
  const settings: EngineSettings = {
    intervalSeconds: number(metadata, METADATA.intervalSeconds) ?? METADATA_DEFAULTS.intervalSeconds,
    capacityPerReplica,
    leadSeconds: number(metadata, METADATA.leadSeconds) ?? METADATA_DEFAULTS.leadSeconds,
    targetUtilization: number(metadata, METADATA.targetUtilization),
    minReplicas: integer(metadata, METADATA.minReplicas),
    maxReplicas: maxReplicas ?? tenant?.maxReplicas,
    upperQuantile: number(metadata, METADATA.upperQuantile),
    minPrescaleUse: number(metadata, METADATA.minPrescaleUse),
    scaleDownStabilizationSeconds: number(metadata, METADATA.scaleDownStabilizationSeconds),
    nodeProvisioningSeconds: number(metadata, METADATA.nodeProvisioningSeconds),
    ...(families ? { modelFamilies: families } : {}),
  };
  const engine = checkedEngineSettings(settings);
  return {
    kind: 'demand',
    source,
    query: query as string,
    engine,
    ...(nodePool === undefined ? {} : { nodePool }),
    ...(tenant ? { tenant: tenant.name } : {}),
  };
}

/** Runs the engine's own checks, reporting a bad setting under its metadata key. */
function checkedEngineSettings(settings: EngineSettings): EngineSettings & { intervalSeconds: number } {
  const defined = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
  try {
    resolveEngineSettings(defined as unknown as EngineSettings);
  } catch (error) {
    if (error instanceof EngineSettingsError) {
      const key = error.field === 'modelFamilies' ? METADATA.models : error.field;
      throw new MetadataError(
        key,
        error.value,
        error.message.replace(/^[^:]+: /, '').replace(/ \(got .*\)$/, ''),
      );
    }
    throw error;
  }
  return defined as unknown as EngineSettings & { intervalSeconds: number };
}

function checkTenant(
  ref: WorkloadRef,
  name: string | undefined,
  tenants: readonly TenantLimits[],
): TenantLimits | undefined {
  const owner = tenants.find((t) => t.namespaces.includes(ref.namespace));
  if (name === undefined) return owner;
  const tenant = tenants.find((t) => t.name === name);
  if (!tenant) throw new MetadataError(METADATA.tenant, name, 'is not a configured tenant');
  if (!tenant.namespaces.includes(ref.namespace)) {
    throw new MetadataError(METADATA.tenant, name, `does not own namespace ${ref.namespace}`);
  }
  return tenant;
}

/** Keys already computed, per spec object (specs are never mutated; the scaler reuses its own). */
const keys = new WeakMap<WorkloadSpec, string>();

/** Stable identity of a spec: a workload whose metadata changes gets a fresh engine. */
export function specKey(spec: WorkloadSpec): string {
  let key = keys.get(spec);
  if (key === undefined) {
    key = JSON.stringify(spec, Object.keys(flatten(spec)).sort());
    keys.set(spec, key);
  }
  return key;
}

function flatten(value: unknown, out: Record<string, true> = {}): Record<string, true> {
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out[k] = true;
      flatten(v, out);
    }
  }
  return out;
}
