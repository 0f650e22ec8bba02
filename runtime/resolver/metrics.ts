/**
 * The resolver's Prometheus metrics, one registry per resolver (tests run several in one process). The
 * names and labels are a contract with the Grafana dashboard and alerts: `target` is `namespace/service`,
 * `reason` one of {@link REJECT_REASONS}. Every series of every configured target exists from the start
 * (at 0), so `rate()` and absence alerts work before the first cold start.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Why a request was answered by the resolver instead of the target. */
export const REJECT_REASONS = ['queue-full', 'timeout', 'backend-error', 'unsupported'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Cold-start buckets: sub-second (image cached, fast app) to several minutes (new node). */
export const COLD_START_BUCKETS = [0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300];

export class ResolverMetrics {
  readonly registry = new Registry();
  /** Requests held now, waiting for the target to be ready. */
  readonly held: Gauge<'target'>;
  /** Cold starts begun (one per episode of the target having no ready pod while requests wait). */
  readonly wakeups: Counter<'target'>;
  /** Held requests handed to the target. */
  readonly released: Counter<'target'>;
  /** Requests answered by the resolver itself (503, 502, 501/505). */
  readonly rejected: Counter<'target' | 'reason'>;
  /** From the first held request of an episode to the first ready endpoint. */
  readonly coldStart: Histogram<'target'>;
  /** Requests passed straight through (the target was ready and nothing was waiting). */
  readonly forwarded: Counter<'target'>;
  /** Held requests whose client went away before they were released. */
  readonly cancelled: Counter<'target'>;
  /** Wake-up calls to the runtime that no runtime replica accepted. */
  readonly wakeFailures: Counter<'target'>;
  /** Ready endpoints of the target, as the EndpointSlice watch sees them. */
  readonly readyEndpoints: Gauge<'target'>;
  /** Requests whose Host and path match no route. */
  readonly unrouted: Counter;

  constructor(targets: readonly string[], options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: 'elasticai_resolver_' });
    }
    this.held = new Gauge({
      name: 'elasticai_resolver_held_requests',
      help: 'Requests held while their target scales from zero.',
      labelNames: ['target'],
      registers,
    });
    this.wakeups = new Counter({
      name: 'elasticai_resolver_wakeups_total',
      help: 'Cold starts begun: the target had no ready endpoint when a request arrived.',
      labelNames: ['target'],
      registers,
    });
    this.released = new Counter({
      name: 'elasticai_resolver_released_total',
      help: 'Held requests released to the target once it was ready.',
      labelNames: ['target'],
      registers,
    });
    this.rejected = new Counter({
      name: 'elasticai_resolver_rejected_total',
      help: 'Requests answered by the resolver instead of the target, by reason (queue-full, timeout, backend-error, unsupported).',
      labelNames: ['target', 'reason'],
      registers,
    });
    this.coldStart = new Histogram({
      name: 'elasticai_resolver_cold_start_seconds',
      help: 'Time from the first held request of a cold start to the first ready endpoint of the target.',
      labelNames: ['target'],
      buckets: COLD_START_BUCKETS,
      registers,
    });
    this.forwarded = new Counter({
      name: 'elasticai_resolver_forwarded_total',
      help: 'Requests forwarded without holding (the target was ready): traffic still on the resolver path.',
      labelNames: ['target'],
      registers,
    });
    this.cancelled = new Counter({
      name: 'elasticai_resolver_cancelled_total',
      help: 'Held requests whose client disconnected before release.',
      labelNames: ['target'],
      registers,
    });
    this.wakeFailures = new Counter({
      name: 'elasticai_resolver_wake_failures_total',
      help: 'Wake-up attempts that no decision runtime replica accepted.',
      labelNames: ['target'],
      registers,
    });
    this.readyEndpoints = new Gauge({
      name: 'elasticai_resolver_ready_endpoints',
      help: 'Ready endpoints of the target seen through the EndpointSlice watch.',
      labelNames: ['target'],
      registers,
    });
    this.unrouted = new Counter({
      name: 'elasticai_resolver_unrouted_total',
      help: 'Requests whose Host and path match no route (answered 404).',
      registers,
    });
    for (const target of targets) {
      this.held.set({ target }, 0);
      this.wakeups.inc({ target }, 0);
      this.released.inc({ target }, 0);
      this.forwarded.inc({ target }, 0);
      this.cancelled.inc({ target }, 0);
      this.wakeFailures.inc({ target }, 0);
      this.readyEndpoints.set({ target }, 0);
      this.coldStart.zero({ target });
      for (const reason of REJECT_REASONS) this.rejected.inc({ target, reason }, 0);
    }
  }
}
