/**
 * Leader election on a `coordination.k8s.io/v1` Lease, the way client-go's leaderelection does it: the
 * holder renews `spec.renewTime` every retry period; another replica takes the Lease over only once
 * `renewTime + leaseDurationSeconds` has passed (or the holder released it); every write is conditional
 * on `metadata.resourceVersion`, so of two replicas racing exactly one wins (409 Conflict = lost the race,
 * not an error). A leader that cannot renew within the renew deadline steps down on its own. `stop()`
 * releases the Lease (empty holderIdentity) so the other replica takes over at its next retry.
 */
import type { KubeClient } from './kube-client.js';
import { KubeApiError, kubePath } from './kube-client.js';

export interface Clock {
  /** Wall-clock time in epoch milliseconds (Lease times are compared across hosts). */
  now(): number;
}

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LeaderElectionOptions {
  readonly kube: KubeClient;
  /** Namespace of the Lease (the runtime's own). */
  readonly namespace: string;
  /** Lease name, shared by all replicas. */
  readonly name: string;
  /** This replica's identity (the pod name). */
  readonly identity: string;
  /** How long a Lease stays valid after its last renewal. @default 15 */
  readonly leaseDurationSeconds?: number;
  /** A leader that has not renewed for this long stops leading. @default 10 */
  readonly renewDeadlineSeconds?: number;
  /** Time between attempts to acquire or renew. @default 2 */
  readonly retryPeriodSeconds?: number;
  readonly onStartedLeading?: () => void;
  readonly onStoppedLeading?: () => void;
  /** API errors of a round (the round is retried after the retry period). */
  readonly onError?: (error: unknown) => void;
  /** @default Date */
  readonly clock?: Clock;
  /** @default the global setTimeout/clearTimeout */
  readonly timers?: Timers;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [key: string]: unknown };
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number | null;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number | null;
    [key: string]: unknown;
  };
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class LeaderElector {
  readonly identity: string;
  private readonly kube: KubeClient;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly path: string;
  private readonly collectionPath: string;
  private leading = false;
  private renewedAt = -Infinity;
  private running = false;
  private timer: unknown;
  private inFlight: Promise<boolean> | undefined;

  constructor(private readonly options: LeaderElectionOptions) {
    this.identity = options.identity;
    if (this.identity === '') throw new RangeError('identity: must not be empty');
    this.kube = options.kube;
    this.leaseDurationSeconds = options.leaseDurationSeconds ?? 15;
    const renewDeadlineSeconds = options.renewDeadlineSeconds ?? 10;
    const retryPeriodSeconds = options.retryPeriodSeconds ?? 2;
    if (!Number.isInteger(this.leaseDurationSeconds) || this.leaseDurationSeconds < 1) {
      throw new RangeError(`leaseDurationSeconds: must be an integer ≥ 1 (got ${this.leaseDurationSeconds})`);
    }
    if (!(renewDeadlineSeconds > 0 && renewDeadlineSeconds < this.leaseDurationSeconds)) {
      throw new RangeError(
        `renewDeadlineSeconds: must be in (0, leaseDurationSeconds=${this.leaseDurationSeconds}) (got ${renewDeadlineSeconds})`,
      );
    }
    if (!(retryPeriodSeconds > 0 && retryPeriodSeconds < renewDeadlineSeconds)) {
      throw new RangeError(
        `retryPeriodSeconds: must be in (0, renewDeadlineSeconds=${renewDeadlineSeconds}) (got ${retryPeriodSeconds})`,
      );
    }
    this.renewDeadlineMs = renewDeadlineSeconds * 1000;
    this.retryMs = retryPeriodSeconds * 1000;
    this.clock = options.clock ?? Date;
    this.timers = options.timers ?? systemTimers;
    this.collectionPath = kubePath(
      'apis',
      'coordination.k8s.io',
      'v1',
      'namespaces',
      options.namespace,
      'leases',
    );
    this.path = `${this.collectionPath}/${encodeURIComponent(options.name)}`;
  }

  /** True while this replica holds the Lease and renewed it within the renew deadline. */
  get isLeader(): boolean {
    return this.leading && this.clock.now() - this.renewedAt < this.renewDeadlineMs;
  }

  /** Starts the acquire/renew loop: a first attempt at once, then one every retry period. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  /** Stops the loop and, when leading, releases the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight?.catch(() => undefined);
    if (!this.leading) return;
    try {
      await this.release();
    } catch (e) {
      this.options.onError?.(e);
    } finally {
      this.lose();
    }
  }

  /**
   * One attempt: create the Lease if missing, renew it when held, take it over when expired or released.
   * Resolves whether this replica leads afterwards; throws on API errors (other than a lost race).
   */
  tryAcquireOrRenew(): Promise<boolean> {
    if (this.inFlight !== undefined) return this.inFlight;
    const round = this.round().finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = round;
    return round;
  }

  private async loop(): Promise<void> {
    if (!this.running) return;
    try {
      await this.tryAcquireOrRenew();
    } catch (e) {
      this.options.onError?.(e);
      if (this.leading && this.clock.now() - this.renewedAt >= this.renewDeadlineMs) this.lose();
    }
    if (this.running) this.timer = this.timers.setTimeout(() => void this.loop(), this.retryMs);
  }

  private async round(): Promise<boolean> {
    const now = this.clock.now();
    let lease: Lease;
    try {
      lease = await this.kube.get<Lease>(this.path);
    } catch (e) {
      if (!KubeApiError.isNotFound(e)) throw e;
      return this.create(now);
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewTime = parseTime(spec.renewTime);
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseDurationSeconds) * 1000;
    const heldByOther =
      holder !== '' && holder !== this.identity && renewTime !== undefined && renewTime + durationMs > now;
    if (heldByOther) return this.lose();
    const ours = holder === this.identity;
    const transitions = spec.leaseTransitions ?? 0;
    const next: Lease = {
      ...lease,
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds,
        acquireTime: ours && typeof spec.acquireTime === 'string' ? spec.acquireTime : formatMicroTime(now),
        renewTime: formatMicroTime(now),
        leaseTransitions: ours || holder === '' ? transitions : transitions + 1,
      },
    };
    try {
      await this.kube.replace(this.path, next);
    } catch (e) {
      // Someone else wrote the Lease since it was read (renewed or took it over): lost this round.
      if (KubeApiError.isConflict(e)) return this.lose();
      throw e;
    }
    return this.gain(now);
  }

  private async create(now: number): Promise<boolean> {
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.options.name, namespace: this.options.namespace },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds,
        acquireTime: formatMicroTime(now),
        renewTime: formatMicroTime(now),
        leaseTransitions: 0,
      },
    };
    try {
      await this.kube.create(this.collectionPath, lease);
    } catch (e) {
      // AlreadyExists: another replica created it first.
      if (KubeApiError.isConflict(e)) return this.lose();
      throw e;
    }
    return this.gain(now);
  }

  private async release(): Promise<void> {
    const lease = await this.kube.get<Lease>(this.path);
    if ((lease.spec?.holderIdentity ?? '') !== this.identity) return;
    const now = formatMicroTime(this.clock.now());
    try {
      await this.kube.replace(this.path, {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
        },
      });
    } catch (e) {
      if (!KubeApiError.isConflict(e)) throw e; // already taken over
    }
  }

  private gain(now: number): boolean {
    this.renewedAt = now;
    if (!this.leading) {
      this.leading = true;
      this.options.onStartedLeading?.();
    }
    return true;
  }

  private lose(): false {
    if (this.leading) {
      this.leading = false;
      this.renewedAt = -Infinity;
      this.options.onStoppedLeading?.();
    }
    return false;
  }
}
