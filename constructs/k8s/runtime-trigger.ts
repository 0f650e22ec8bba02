/**
 * The KEDA trigger that hands a workload to ElasticAI's decision runtime: an `external` (or
 * `external-push`) trigger whose metadata the runtime parses into the workload's spec. The keys and
 * their checks mirror `runtime/service/workload-spec.ts` and the engine's settings (constructs do not
 * import the engine); a test keeps both lists equal, so a bad setting fails at synth, not as a gRPC
 * INVALID_ARGUMENT in KEDA's log.
 */
import type { Duration } from 'cdk8s';
import { Trigger, triggerName } from './keda/trigger.js';
import type { ITriggerAuthentication } from './keda/trigger-authentication.js';
import { PropError, checkDnsLabel, checkInteger, checkNonEmpty, checkNumber } from './validation.js';
import type { TenantLimits } from '../../runtime/service/config.js';

/** Trigger metadata keys the runtime reads (`METADATA` of runtime/service/workload-spec.ts). */
export const RUNTIME_METADATA = {
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

/** Kubernetes' replica counts are int32; the runtime refuses bounds beyond (`MAX_REPLICAS` of the engine). */
const MAX_REPLICAS = 2_147_483_647;

/** The runtime's defaults for omitted metadata (`METADATA_DEFAULTS` of workload-spec.ts). */
export const RUNTIME_METADATA_DEFAULTS = { intervalSeconds: 60, leadSeconds: 120 } as const;

/** Forecast model families a workload may restrict itself to (`MODEL_FAMILIES` of the engine). */
export const RUNTIME_MODEL_FAMILIES = [
  'damped-trend',
  'smoothed-level',
  'recent-peak',
  'seasonal-naive',
  'seasonal-naive-daily',
  'seasonal-naive-weekly',
  'holt-winters',
  'seasonal-peak',
] as const;

/** One forecast model family of the runtime's engine. */
export type RuntimeModelFamily = (typeof RUNTIME_MODEL_FAMILIES)[number];

/** The engine looks at most this many intervals ahead (`leadSeconds` must fit). */
const MAX_LEAD_STEPS = 1440;
const NODE_POOL = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const STREAM = /^[A-Za-z0-9._/-]{1,253}$/;

/** Options of `DecisionRuntime.trigger()`: what the runtime forecasts for one workload, and how. */
export interface RuntimeTriggerOptions {
  /** Trigger name, the variable a `scalingModifiers` formula uses. @default 'predicted' */
  readonly name?: string;
  /**
   * PromQL of the workload's demand, one number per interval (e.g. requests per minute). Exactly one of
   * `query` and `webhook`. @default unset (then `webhook` is required)
   */
  readonly query?: string;
  /**
   * Demand pushed to the runtime's signed event webhook instead of queried. `stream` names the webhook
   * stream. @default unset (then `query` is required)
   */
  readonly webhook?: {
    /** Webhook stream name. @default `<namespace>/<name>` of the ScaledObject */
    readonly stream?: string;
  };
  /** Demand one replica serves per interval at 100% utilisation (same unit as the demand). */
  readonly capacityPerReplica: number;
  /** Time from asking for a pod to it serving: start-up plus metric and polling lag. @default 120 s */
  readonly leadTime?: Duration;
  /** Interval of the demand series. @default 60 s */
  readonly interval?: Duration;
  /** Utilisation current demand is served at, in (0, 1]. @default 0.8 (the engine's) */
  readonly targetUtilization?: number;
  /** Fewest replicas the runtime asks for (0 lets KEDA scale to zero). @default 1 (the engine's) */
  readonly minReplicas?: number;
  /** Most replicas the runtime asks for. @default the tenant's cap, else 1000 (the engine's) */
  readonly maxReplicas?: number;
  /** Quantile of the lead-time peak provisioned for, in (0, 1). @default 0.95 (the engine's) */
  readonly upperQuantile?: number;
  /**
   * Share of pre-scaled replicas (asked ahead of a forecast rise) that must turn out needed for
   * pre-scaling to be trusted in full, in [0, 1]; below it, pre-scales are scaled back by the share.
   * 0 always pre-scales in full (e.g. for known batch jobs). @default 0.3 (the engine's)
   */
  readonly minPrescaleUse?: number;
  /** Window in which the highest recommendation wins before scaling down. @default 120 s (the engine's) */
  readonly scaleDownStabilization?: Duration;
  /** Horizon for node headroom (time to provision a node). @default 180 s (the engine's) */
  readonly nodeProvisioning?: Duration;
  /** Forecast model families to weigh. @default all of them */
  readonly models?: readonly RuntimeModelFamily[];
  /**
   * Node pool the pods run on: their predicted extra pods count toward that pool's headroom. @default none
   */
  readonly nodePool?: string;
  /** Tenant the workload belongs to (must own its namespace). @default the tenant owning the namespace */
  readonly tenant?: string;
  /**
   * `external-push`: the runtime also streams activity, so KEDA wakes a workload scaled to zero as soon
   * as demand is predicted instead of at the next poll. @default false (`external`, polled)
   */
  readonly push?: boolean;
  /**
   * TLS material (`caCert`, and `tlsClientCert`/`tlsClientKey` when the runtime asks for client
   * certificates) for a runtime serving gRPC over TLS. @default plaintext (required when the runtime has gRPC TLS)
   */
  readonly authentication?: ITriggerAuthentication;
}

/** What a trigger is checked against: the runtime it points at. */
export interface RuntimeTriggerContext {
  /** The runtime serves gRPC over TLS. */
  readonly grpcTls: boolean;
  /** The runtime has no Prometheus (webhook only). */
  readonly webhookOnly: boolean;
  /** The runtime's tenants (empty: no tenant rules). */
  readonly tenants: readonly TenantLimits[];
  /** The cluster of the runtime's ClusterChart, to check `nodePool`. @default unknown (not checked) */
  readonly cluster?: { readonly name: string; readonly nodePools: readonly string[] };
}

function seconds(prop: string, duration: Duration, min: number): number {
  const value = duration.toSeconds({ integral: false });
  if (!Number.isInteger(value)) throw new PropError(prop, `${value}s`, 'must be whole seconds');
  checkInteger(prop, value, min);
  return value;
}

/** Builds the trigger (see {@link RuntimeTriggerOptions}); `p` prefixes prop names in errors. */
export function buildRuntimeTrigger(
  scalerAddress: string,
  options: RuntimeTriggerOptions,
  context: RuntimeTriggerContext | undefined,
  p = 'trigger',
): Trigger {
  const m = RUNTIME_METADATA;
  const metadata: Record<string, string> = {};
  triggerName(p, options.name); // here, so the error names trigger.name rather than external.name
  if ((options.query === undefined) === (options.webhook === undefined)) {
    throw new PropError(
      `${p}.query`,
      options.query,
      'exactly one of query (Prometheus) and webhook (event webhook) is required',
    );
  }
  if (options.query !== undefined) {
    if (options.query.trim() === '') throw new PropError(`${p}.query`, options.query, 'must not be empty');
    if (context?.webhookOnly) {
      throw new PropError(
        `${p}.query`,
        options.query,
        'cannot be answered: the runtime has no Prometheus (RuntimeHistory.webhookOnly()); use webhook',
      );
    }
    metadata[m.source] = 'prometheus';
    metadata[m.query] = options.query.trim();
  } else {
    metadata[m.source] = 'webhook';
    const stream = options.webhook?.stream;
    if (stream !== undefined) {
      if (!STREAM.test(stream)) {
        throw new PropError(
          `${p}.webhook.stream`,
          stream,
          'must be 1–253 letters, digits, ".", "_", "/" or "-"',
        );
      }
      metadata[m.stream] = stream;
    }
  }

  checkNumber(`${p}.capacityPerReplica`, options.capacityPerReplica, 0);
  if (!(options.capacityPerReplica > 0)) {
    throw new PropError(`${p}.capacityPerReplica`, options.capacityPerReplica, 'must be > 0');
  }
  metadata[m.capacityPerReplica] = String(options.capacityPerReplica);

  const interval =
    options.interval !== undefined
      ? seconds(`${p}.interval`, options.interval, 1)
      : RUNTIME_METADATA_DEFAULTS.intervalSeconds;
  if (options.interval !== undefined) metadata[m.intervalSeconds] = String(interval);
  const lead =
    options.leadTime !== undefined
      ? seconds(`${p}.leadTime`, options.leadTime, 0)
      : RUNTIME_METADATA_DEFAULTS.leadSeconds;
  if (1 + Math.ceil(lead / interval) > MAX_LEAD_STEPS) {
    throw new PropError(
      `${p}.leadTime`,
      `${lead}s`,
      `must be at most ${MAX_LEAD_STEPS - 1} intervals of ${interval} s`,
    );
  }
  if (options.leadTime !== undefined) metadata[m.leadSeconds] = String(lead);

  if (options.targetUtilization !== undefined) {
    const u = options.targetUtilization;
    if (!(Number.isFinite(u) && u > 0 && u <= 1)) {
      throw new PropError(`${p}.targetUtilization`, u, 'must be in (0, 1]');
    }
    metadata[m.targetUtilization] = String(u);
  }
  if (options.minReplicas !== undefined) {
    checkInteger(`${p}.minReplicas`, options.minReplicas, 0, MAX_REPLICAS);
    metadata[m.minReplicas] = String(options.minReplicas);
  }
  if (options.maxReplicas !== undefined) {
    checkInteger(`${p}.maxReplicas`, options.maxReplicas, 1, MAX_REPLICAS);
    metadata[m.maxReplicas] = String(options.maxReplicas);
  }
  const min = options.minReplicas ?? 1;
  const max = options.maxReplicas ?? 1000;
  if (min > max) {
    throw new PropError(`${p}.minReplicas`, min, `must not exceed maxReplicas (${max})`);
  }
  if (options.upperQuantile !== undefined) {
    const q = options.upperQuantile;
    if (!(Number.isFinite(q) && q > 0 && q < 1))
      throw new PropError(`${p}.upperQuantile`, q, 'must be in (0, 1)');
    metadata[m.upperQuantile] = String(q);
  }
  if (options.minPrescaleUse !== undefined) {
    const share = options.minPrescaleUse;
    if (!(Number.isFinite(share) && share >= 0 && share <= 1))
      throw new PropError(`${p}.minPrescaleUse`, share, 'must be in [0, 1]');
    metadata[m.minPrescaleUse] = String(share);
  }
  if (options.scaleDownStabilization !== undefined) {
    metadata[m.scaleDownStabilizationSeconds] = String(
      seconds(`${p}.scaleDownStabilization`, options.scaleDownStabilization, 0),
    );
  }
  if (options.nodeProvisioning !== undefined) {
    metadata[m.nodeProvisioningSeconds] = String(
      seconds(`${p}.nodeProvisioning`, options.nodeProvisioning, 0),
    );
  }
  if (options.models !== undefined) {
    checkNonEmpty(`${p}.models`, options.models);
    for (const model of options.models) {
      if (!(RUNTIME_MODEL_FAMILIES as readonly string[]).includes(model)) {
        throw new PropError(`${p}.models`, model, `must be one of ${RUNTIME_MODEL_FAMILIES.join(', ')}`);
      }
    }
    metadata[m.models] = [...new Set(options.models)].join(',');
  }
  if (options.nodePool !== undefined) {
    if (!NODE_POOL.test(options.nodePool)) {
      throw new PropError(`${p}.nodePool`, options.nodePool, 'must be a node pool name (lowercase DNS name)');
    }
    const cluster = context?.cluster;
    if (cluster && !cluster.nodePools.includes(options.nodePool)) {
      throw new PropError(
        `${p}.nodePool`,
        options.nodePool,
        `is not a node pool of cluster "${cluster.name}" (pools: ${cluster.nodePools.join(', ')})`,
      );
    }
    metadata[m.nodePool] = options.nodePool;
  }
  if (options.tenant !== undefined) {
    checkDnsLabel(`${p}.tenant`, options.tenant);
    if (context) {
      const tenant = context.tenants.find((t) => t.name === options.tenant);
      if (!tenant) {
        throw new PropError(
          `${p}.tenant`,
          options.tenant,
          `is not a tenant of the runtime (tenants: ${context.tenants.map((t) => t.name).join(', ') || 'none'})`,
        );
      }
      if (options.maxReplicas !== undefined && options.maxReplicas > tenant.maxReplicas) {
        throw new PropError(
          `${p}.maxReplicas`,
          options.maxReplicas,
          `exceeds tenant ${tenant.name}'s cap of ${tenant.maxReplicas}`,
        );
      }
    }
    metadata[m.tenant] = options.tenant;
  }
  if (context?.grpcTls && options.authentication === undefined) {
    throw new PropError(
      `${p}.authentication`,
      undefined,
      'is required: the runtime serves gRPC over TLS, so KEDA needs the CA (caCert) from a TriggerAuthentication',
    );
  }

  const external = {
    name: options.name ?? 'predicted',
    scalerAddress,
    metadata,
    ...(options.authentication ? { authentication: options.authentication } : {}),
  };
  return options.push ? Trigger.externalPush(external) : Trigger.external(external);
}

/**
 * Checks the metadata of a runtime trigger in `namespace` against the runtime's tenants the way the
 * runtime will: a named tenant must exist and own the namespace; the tenant's cap bounds maxReplicas.
 * Returns problems as messages (empty when fine).
 */
export function checkTenantRules(
  where: string,
  namespace: string,
  metadata: Readonly<Record<string, string>>,
  tenants: readonly TenantLimits[],
): string[] {
  const named = metadata[RUNTIME_METADATA.tenant];
  const owner = tenants.find((t) => t.namespaces.includes(namespace));
  if (named === undefined) {
    const max = Number(metadata[RUNTIME_METADATA.maxReplicas]);
    if (owner && Number.isFinite(max) && max > owner.maxReplicas) {
      return [
        `${where}: metadata.maxReplicas ${max} exceeds tenant ${owner.name}'s cap of ${owner.maxReplicas} (the runtime refuses it)`,
      ];
    }
    return [];
  }
  const tenant = tenants.find((t) => t.name === named);
  if (!tenant) return [`${where}: metadata.tenant "${named}" is not a tenant of the runtime`];
  if (!tenant.namespaces.includes(namespace)) {
    return [
      `${where}: metadata.tenant "${named}" does not own namespace ${namespace} (the runtime refuses it)`,
    ];
  }
  const max = Number(metadata[RUNTIME_METADATA.maxReplicas]);
  if (Number.isFinite(max) && max > tenant.maxReplicas) {
    return [
      `${where}: metadata.maxReplicas ${max} exceeds tenant ${tenant.name}'s cap of ${tenant.maxReplicas} (the runtime refuses it)`,
    ];
  }
  return [];
}
