/**
 * Manual overrides through KEDA's own annotation on `keda.sh/v1alpha1` ScaledObjects: KEDA scales the
 * target to `autoscaling.keda.sh/paused-replicas` and stops autoscaling it until the annotation is
 * removed. The runtime adds who set it and, optionally, when it expires; the leader clears expired ones.
 * Also lists the ScaledObjects whose external triggers point at this runtime (workload discovery).
 */
// KEDA parses paused-replicas as an int32, as Kubernetes' replica counts are.
import { MAX_REPLICAS } from '../../engine/settings.js';
import type { KubeClient } from './kube-client.js';
import { KubeApiError, kubePath } from './kube-client.js';

export const OVERRIDE_ANNOTATIONS = {
  /** KEDA's: scale to this many replicas and pause autoscaling. */
  pausedReplicas: 'autoscaling.keda.sh/paused-replicas',
  /** RFC 3339 instant after which the leader removes the override. */
  expiresAt: 'elasticai.io/override-expires-at',
  /** Id of the caller who set the override. */
  by: 'elasticai.io/override-by',
} as const;

/** Trigger types served by an external scaler. */
export const EXTERNAL_TRIGGER_TYPES = ['external', 'external-push'] as const;
export type ExternalTriggerType = (typeof EXTERNAL_TRIGGER_TYPES)[number];

const SCALED_OBJECTS = ['apis', 'keda.sh', 'v1alpha1'] as const;

export interface ScaledObjectRef {
  readonly namespace: string;
  readonly name: string;
}

export interface ScaledObjectOverride extends ScaledObjectRef {
  /** Replicas KEDA holds the target at. */
  readonly replicas: number;
  /** RFC 3339, as stored; absent: until cleared (an unreadable value is never cleared automatically). */
  readonly expiresAt?: string;
  /** Caller id of whoever set it. */
  readonly by?: string;
}

export interface SetOverrideOptions {
  /** When the leader removes the override; absent: until cleared. */
  readonly expiresAt?: Date;
  /** Caller id recorded as the override's author. */
  readonly by?: string;
}

/** One external trigger of a ScaledObject that names this runtime as its scaler. */
export interface RuntimeTrigger extends ScaledObjectRef {
  /** Index in `spec.triggers`. */
  readonly triggerIndex: number;
  readonly type: ExternalTriggerType;
  /** The trigger's metadata (string values only, as KEDA sends them). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** The ScaledObject does not exist (a KubeApiError with status 404, reason NotFound). */
export class ScaledObjectNotFoundError extends KubeApiError {
  constructor(
    readonly namespace: string,
    readonly scaledObject: string,
  ) {
    super(404, 'NotFound', `ScaledObject ${namespace}/${scaledObject} not found`);
    this.name = 'ScaledObjectNotFoundError';
  }
}

export interface ScaledObjectOverridesOptions {
  /** Items per list page (`limit`/`continue`). @default 500 */
  readonly pageSize?: number;
}

interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly resourceVersion?: string;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

interface ScaledObject {
  readonly metadata?: ObjectMeta;
  readonly spec?: { readonly triggers?: readonly unknown[] };
}

interface ScaledObjectList {
  readonly metadata?: { readonly continue?: string };
  readonly items?: readonly ScaledObject[];
}

/** RFC 3339 in UTC, whole seconds when there is no fraction (`2026-01-05T10:00:00Z`). */
export function formatRfc3339(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

/** RFC 3339 date-time (with `Z` or an offset); undefined when it is not one. */
function parseRfc3339(v: unknown): Date | undefined {
  if (typeof v !== 'string') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * The override stored on a ScaledObject. A paused-replicas value that is not a non-negative int32 counts
 * as none: KEDA refuses it too (the ScaledObject fails to reconcile and its HPA keeps scaling).
 */
function overrideOf(namespace: string, name: string, object: ScaledObject): ScaledObjectOverride | undefined {
  const annotations = object.metadata?.annotations ?? {};
  const raw = annotations[OVERRIDE_ANNOTATIONS.pausedReplicas];
  if (typeof raw !== 'string' || !/^\d+$/.test(raw.trim())) return undefined;
  const replicas = Number(raw.trim());
  if (replicas > MAX_REPLICAS) return undefined;
  const expiresAt = annotations[OVERRIDE_ANNOTATIONS.expiresAt];
  const by = annotations[OVERRIDE_ANNOTATIONS.by];
  return {
    namespace,
    name,
    replicas,
    ...(parseRfc3339(expiresAt) === undefined ? {} : { expiresAt: expiresAt as string }),
    ...(typeof by === 'string' && by !== '' ? { by } : {}),
  };
}

function normalizeAddress(a: string): string {
  return a.trim().toLowerCase();
}

export class ScaledObjectOverrides {
  private readonly pageSize: number;

  constructor(
    private readonly kube: KubeClient,
    options: ScaledObjectOverridesOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 500;
  }

  private path(namespace: string, name: string): string {
    return kubePath(...SCALED_OBJECTS, 'namespaces', namespace, 'scaledobjects', name);
  }

  private async patch(namespace: string, name: string, patch: unknown): Promise<ScaledObject> {
    try {
      return await this.kube.mergePatch<ScaledObject>(this.path(namespace, name), patch);
    } catch (e) {
      if (KubeApiError.isNotFound(e)) throw new ScaledObjectNotFoundError(namespace, name);
      throw e;
    }
  }

  /**
   * Holds the ScaledObject's target at `replicas` (KEDA's paused-replicas) until `expiresAt` (if given)
   * or until cleared. `by` is recorded as the override's author. A previous expiry or author is replaced.
   */
  async set(
    namespace: string,
    name: string,
    replicas: number,
    options: SetOverrideOptions = {},
  ): Promise<void> {
    const { expiresAt, by } = options;
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) {
      throw new RangeError(`replicas: must be an integer in [0, ${MAX_REPLICAS}] (got ${replicas})`);
    }
    if (expiresAt !== undefined && Number.isNaN(expiresAt.getTime())) {
      throw new RangeError('expiresAt: must be a valid date (got Invalid Date)');
    }
    await this.patch(namespace, name, {
      metadata: {
        annotations: {
          [OVERRIDE_ANNOTATIONS.pausedReplicas]: String(replicas),
          [OVERRIDE_ANNOTATIONS.expiresAt]: expiresAt === undefined ? null : formatRfc3339(expiresAt),
          [OVERRIDE_ANNOTATIONS.by]: by === undefined || by === '' ? null : by,
        },
      },
    });
  }

  /** Removes the override (KEDA resumes autoscaling). No-op when there is none. */
  async clear(namespace: string, name: string): Promise<void> {
    await this.patch(namespace, name, { metadata: { annotations: clearAnnotations() } });
  }

  /** The current override, or undefined when the ScaledObject has none. */
  async get(namespace: string, name: string): Promise<ScaledObjectOverride | undefined> {
    let object: ScaledObject;
    try {
      object = await this.kube.get<ScaledObject>(this.path(namespace, name));
    } catch (e) {
      if (KubeApiError.isNotFound(e)) throw new ScaledObjectNotFoundError(namespace, name);
      throw e;
    }
    return overrideOf(namespace, name, object);
  }

  /** Every ScaledObject in the cluster, page by page. */
  private async *all(): AsyncGenerator<ScaledObject> {
    let token: string | undefined;
    do {
      const page = await this.kube.list<ScaledObjectList>(kubePath(...SCALED_OBJECTS, 'scaledobjects'), {
        limit: this.pageSize,
        continue: token,
      });
      for (const item of page.items ?? []) yield item;
      token = page.metadata?.continue || undefined;
    } while (token !== undefined);
  }

  /**
   * The `external`/`external-push` triggers, in every namespace, whose `metadata.scalerAddress` is one of
   * `scalerAddresses` (compared without case and surrounding spaces).
   */
  async listRuntimeScaledObjects(scalerAddresses: readonly string[]): Promise<RuntimeTrigger[]> {
    const ours = new Set(scalerAddresses.map(normalizeAddress));
    const found: RuntimeTrigger[] = [];
    for await (const object of this.all()) {
      const { namespace, name } = object.metadata ?? {};
      if (typeof namespace !== 'string' || typeof name !== 'string') continue;
      (object.spec?.triggers ?? []).forEach((trigger, triggerIndex) => {
        if (typeof trigger !== 'object' || trigger === null) return;
        const { type, metadata } = trigger as { type?: unknown; metadata?: unknown };
        if (!(EXTERNAL_TRIGGER_TYPES as readonly unknown[]).includes(type)) return;
        if (typeof metadata !== 'object' || metadata === null) return;
        const strings: Record<string, string> = {};
        for (const [k, v] of Object.entries(metadata)) if (typeof v === 'string') strings[k] = v;
        const address = strings.scalerAddress;
        if (address === undefined || !ours.has(normalizeAddress(address))) return;
        found.push({ namespace, name, triggerIndex, type: type as ExternalTriggerType, metadata: strings });
      });
    }
    return found;
  }

  /**
   * Clears every override whose `elasticai.io/override-expires-at` is at or before `now` (run by the
   * leader only). Each removal is conditional on the resourceVersion just read, so an override re-set
   * meanwhile with a later expiry is kept (on a conflict the object is read again and checked once more).
   * Returns the ScaledObjects cleared; other failures are thrown after the sweep.
   */
  async expireOverrides(now: Date): Promise<ScaledObjectRef[]> {
    const cleared: ScaledObjectRef[] = [];
    const failures: unknown[] = [];
    for await (const object of this.all()) {
      const { namespace, name } = object.metadata ?? {};
      if (typeof namespace !== 'string' || typeof name !== 'string' || !isExpired(object, now)) continue;
      try {
        if (await this.expire(namespace, name, object, now)) cleared.push({ namespace, name });
      } catch (e) {
        failures.push(e);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      throw new AggregateError(failures, `${failures.length} overrides could not be expired`);
    }
    return cleared;
  }

  private async expire(namespace: string, name: string, seen: ScaledObject, now: Date): Promise<boolean> {
    let object = seen;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.kube.mergePatch(this.path(namespace, name), {
          metadata: { resourceVersion: object.metadata?.resourceVersion, annotations: clearAnnotations() },
        });
        return true;
      } catch (e) {
        if (KubeApiError.isNotFound(e)) return false;
        if (!KubeApiError.isConflict(e)) throw e;
        if (attempt > 0) return false; // still changing: the next sweep tries again
      }
      // Changed since the list (KEDA's status updates change it too): look again.
      try {
        object = await this.kube.get<ScaledObject>(this.path(namespace, name));
      } catch (e) {
        if (KubeApiError.isNotFound(e)) return false;
        throw e;
      }
      if (!isExpired(object, now)) return false;
    }
    return false;
  }
}

function isExpired(object: ScaledObject, now: Date): boolean {
  const expiresAt = parseRfc3339(object.metadata?.annotations?.[OVERRIDE_ANNOTATIONS.expiresAt]);
  return expiresAt !== undefined && expiresAt.getTime() <= now.getTime();
}

function clearAnnotations(): Record<string, null> {
  return {
    [OVERRIDE_ANNOTATIONS.pausedReplicas]: null,
    [OVERRIDE_ANNOTATIONS.expiresAt]: null,
    [OVERRIDE_ANNOTATIONS.by]: null,
  };
}
