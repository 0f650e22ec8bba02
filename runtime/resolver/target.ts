/**
 * One target (a workload's Service): its ready endpoints, the bounded queue of requests held while it
 * has none, the wake-up episode, and the release of held requests.
 *
 * - A request is passed straight through when the target has a usable endpoint and nothing is waiting
 *   (FIFO: once anything waits, newcomers queue behind it).
 * - Otherwise it is held: at most `maxHeld` per target and `maxHeldTotal` over all targets (beyond:
 *   503 `queue-full`), each for at most `holdTimeout` (then 503 `timeout`), both with `Retry-After`.
 *   A client that disconnects frees its slot at once.
 * - The first held request of an episode wakes the target (the runtime streams IsActive=true to KEDA);
 *   the wake-up is repeated every `rewakeMs` while requests wait, so KEDA's cooldown cannot scale the
 *   target back to zero before it is ready, and a failed call is retried within 200 ms–2 s.
 * - Held requests are released in arrival order as soon as the EndpointSlice watch shows a ready
 *   endpoint, at most `releaseConcurrency` per ready endpoint awaiting their response headers, each to
 *   the least-busy endpoint — the first pod is not flattened, later pods take their share as they come.
 * - A dispatch that reached nothing (refused connect) or may safely be sent again is put back at the
 *   head of the queue (its deadline unchanged) and the endpoint rests 0.5–8 s; a non-idempotent request
 *   that may have reached a dying pod is answered 502 and never sent twice.
 */
import type { Route } from './config.js';
import type { Exchange, Outcome } from './exchange.js';
import type { ResolverMetrics } from './metrics.js';
import type { Endpoint } from './slice-informer.js';
import type { WakeResult } from './waker.js';

/** Held requests over all targets. */
export class HoldBudget {
  held = 0;
  constructor(readonly max: number) {}

  take(): boolean {
    if (this.held >= this.max) return false;
    this.held++;
    return true;
  }

  give(): void {
    this.held = Math.max(0, this.held - 1);
  }
}

export interface TargetDeps {
  readonly metrics: ResolverMetrics;
  readonly budget: HoldBudget;
  /** Tells the runtime to wake the target. */
  readonly wake: (route: Route) => Promise<WakeResult>;
  readonly rewakeMs: number;
  /** Called when the target turns ready or stops being ready. */
  readonly onReadinessChange?: (target: Target) => void;
  /** A fresh EndpointSlice list, as a backstop while requests wait (never the primary signal). */
  readonly relist?: () => void;
  readonly log?: (entry: Record<string, unknown>) => void;
  /** @default performance.now */
  readonly now?: () => number;
}

type HeldState = 'queued' | 'dispatched' | 'done';

interface Held {
  readonly exchange: Exchange;
  /** Monotonic ms by which it must have been released. */
  readonly deadline: number;
  state: HeldState;
  timer: NodeJS.Timeout | undefined;
  /** Counted as released (once, even if sent again). */
  released: boolean;
  /** Holds one of the release slots while dispatched. */
  slot: boolean;
  /** Its client's disconnect is watched (registered once). */
  watched: boolean;
}

/** A FIFO with cheap removal from the head and re-insertion at the head. */
class Queue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export class Target {
  private ready: Endpoint[] = [];
  private readonly down = new Map<string, { until: number; backoff: number }>();
  private readonly inflight = new Map<string, number>();
  private readonly queue = new Queue<Held>();
  private heldCount = 0;
  private releasing = 0;
  private dispatched = 0;
  private rr = 0;
  private pumping = false;
  private episodeStart: number | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeInFlight = false;
  private wakeRetryMs = 0;
  private downTimer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => number;
  // The series touched on every request, bound once (label lookups cost more than the increments).
  private readonly forwardedCounter;
  private readonly releasedCounter;
  private readonly heldGauge;

  constructor(
    readonly route: Route,
    private readonly deps: TargetDeps,
  ) {
    this.now = deps.now ?? (() => performance.now());
    this.forwardedCounter = deps.metrics.forwarded.labels({ target: route.id });
    this.releasedCounter = deps.metrics.released.labels({ target: route.id });
    this.heldGauge = deps.metrics.held.labels({ target: route.id });
  }

  get id(): string {
    return this.route.id;
  }

  /** The EndpointSlices show at least one ready endpoint. */
  get isReady(): boolean {
    return this.ready.length > 0;
  }

  get heldRequests(): number {
    return this.heldCount;
  }

  /** Requests dispatched and not yet settled (for draining). */
  get inFlight(): number {
    return this.dispatched;
  }

  /** Seconds a client should wait before retrying (`Retry-After`). */
  private retryAfter(): number {
    return this.route.retryAfterSeconds;
  }

  private log(entry: Record<string, unknown>): void {
    this.deps.log?.({ target: this.id, ...entry });
  }

  /** New endpoints from the watch (all of the target's, ready or not). */
  setEndpoints(all: readonly Endpoint[]): void {
    const wasReady = this.isReady;
    this.ready = all.filter((e) => e.ready);
    const keys = new Set(this.ready.map((e) => e.key));
    for (const key of this.down.keys()) if (!keys.has(key)) this.down.delete(key);
    this.deps.metrics.readyEndpoints.set({ target: this.id }, this.ready.length);
    if (this.isReady && this.episodeStart !== undefined) {
      const seconds = (this.now() - this.episodeStart) / 1000;
      this.deps.metrics.coldStart.observe({ target: this.id }, seconds);
      this.log({
        level: 'info',
        msg: 'target ready',
        coldStartSeconds: Number(seconds.toFixed(3)),
        held: this.heldCount,
      });
      this.episodeStart = undefined;
      clearTimeout(this.wakeTimer);
      this.wakeTimer = undefined;
      this.wakeRetryMs = 0;
    }
    if (wasReady !== this.isReady) this.deps.onReadinessChange?.(this);
    if (!this.isReady && this.heldCount > 0) this.ensureAwake();
    this.pump();
  }

  /** A new request for this target. */
  submit(exchange: Exchange): void {
    if (this.queue.length === 0) {
      const endpoint = this.pick();
      if (endpoint) {
        this.forwardedCounter.inc();
        const held: Held = {
          exchange,
          deadline: this.now() + this.route.holdTimeoutMs,
          state: 'dispatched',
          timer: undefined,
          released: false,
          slot: false,
          watched: false,
        };
        this.send(held, endpoint);
        return;
      }
    }
    if (this.heldCount >= this.route.maxHeld || !this.deps.budget.take()) {
      this.deps.metrics.rejected.inc({ target: this.id, reason: 'queue-full' });
      exchange.reject(
        'queue-full',
        503,
        this.retryAfter(),
        this.heldCount >= this.route.maxHeld
          ? `${this.heldCount} requests already wait for ${this.id} to start (its limit)`
          : 'the resolver holds as many requests as it may',
      );
      return;
    }
    const held: Held = {
      exchange,
      deadline: this.now() + this.route.holdTimeoutMs,
      state: 'queued',
      timer: undefined,
      released: false,
      slot: false,
      watched: false,
    };
    this.watch(held);
    this.enqueue(held, false);
  }

  /** Waits until nothing is held or in flight (for a graceful shutdown). */
  idle(): Promise<void> {
    if (this.heldCount === 0 && this.dispatched === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses everything still held (shutdown after the grace period) and stops timers. */
  close(): void {
    clearTimeout(this.wakeTimer);
    clearTimeout(this.downTimer);
    for (let h = this.queue.shift(); h; h = this.queue.shift()) {
      if (h.state !== 'queued') continue;
      this.unhold(h);
      this.deps.metrics.rejected.inc({ target: this.id, reason: 'timeout' });
      h.exchange.reject('timeout', 503, this.retryAfter(), 'the resolver is shutting down; retry');
    }
  }

  private enqueue(held: Held, front: boolean): void {
    held.state = 'queued';
    if (front) this.queue.unshift(held);
    else this.queue.push(held);
    this.heldCount++;
    this.heldGauge.inc();
    const wait = Math.max(0, held.deadline - this.now());
    held.timer = setTimeout(() => this.expire(held), wait);
    if (!this.isReady) this.ensureAwake();
    this.pump();
  }

  /** Takes a queued request out of the count (it stays in the queue array and is skipped). */
  private unhold(held: Held): void {
    held.state = 'done';
    clearTimeout(held.timer);
    held.timer = undefined;
    this.heldCount--;
    this.deps.budget.give();
    this.heldGauge.dec();
    this.checkIdle();
  }

  private expire(held: Held): void {
    if (held.state !== 'queued') return;
    this.unhold(held);
    this.deps.metrics.rejected.inc({ target: this.id, reason: 'timeout' });
    held.exchange.reject(
      'timeout',
      503,
      this.retryAfter(),
      `${this.id} did not become ready within ${this.route.holdTimeoutSeconds} s`,
    );
  }

  private checkIdle(): void {
    if (this.heldCount === 0 && this.dispatched === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private usable(): Endpoint[] {
    if (this.down.size === 0) return this.ready;
    const now = this.now();
    return this.ready.filter((e) => (this.down.get(e.key)?.until ?? 0) <= now);
  }

  /** The least-busy usable endpoint (round robin among equals), or undefined. */
  private pick(usable: readonly Endpoint[] = this.usable()): Endpoint | undefined {
    if (usable.length === 0) return undefined;
    let best: Endpoint | undefined;
    let bestLoad = Infinity;
    const n = usable.length;
    for (let i = 0; i < n; i++) {
      const e = usable[(this.rr + i) % n] as Endpoint;
      const load = this.inflight.get(e.key) ?? 0;
      if (load < bestLoad) {
        best = e;
        bestLoad = load;
      }
    }
    this.rr = (this.rr + 1) % n;
    return best;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.heldCount > 0) {
        const usable = this.usable();
        if (usable.length === 0) break;
        if (this.releasing >= this.route.releaseConcurrency * usable.length) break;
        const held = this.queue.shift();
        if (!held) break;
        if (held.state !== 'queued') continue;
        this.unhold(held);
        if (!held.released) {
          held.released = true;
          this.releasedCounter.inc();
        }
        held.slot = true;
        this.releasing++;
        this.send(held, this.pick(usable) as Endpoint);
      }
    } finally {
      this.pumping = false;
    }
  }

  private send(held: Held, endpoint: Endpoint): void {
    held.state = 'dispatched';
    this.dispatched++;
    this.inflight.set(endpoint.key, (this.inflight.get(endpoint.key) ?? 0) + 1);
    held.exchange.dispatch(endpoint).then(
      (outcome) => this.settled(held, endpoint, outcome),
      (error: unknown) => {
        this.log({ level: 'error', msg: `dispatch failed: ${String(error)}` });
        this.settled(held, endpoint, 'failed');
      },
    );
  }

  private settled(held: Held, endpoint: Endpoint, outcome: Outcome): void {
    this.dispatched--;
    const load = (this.inflight.get(endpoint.key) ?? 1) - 1;
    if (load <= 0) this.inflight.delete(endpoint.key);
    else this.inflight.set(endpoint.key, load);
    if (held.slot) {
      held.slot = false;
      this.releasing--;
    }
    held.state = 'done';
    switch (outcome) {
      case 'responded':
        this.down.delete(endpoint.key);
        break;
      case 'unsent':
      case 'replay':
        this.rest(endpoint);
        this.retry(held, outcome);
        break;
      case 'failed':
        this.rest(endpoint);
        this.deps.metrics.rejected.inc({ target: this.id, reason: 'backend-error' });
        break;
      case 'cancelled':
        break;
    }
    this.checkIdle();
    this.pump();
  }

  /** Puts a request that may be sent again back at the head of the queue, if it still has time. */
  private retry(held: Held, outcome: 'unsent' | 'replay'): void {
    if (held.exchange.gone) return;
    if (this.now() >= held.deadline) {
      this.deps.metrics.rejected.inc({ target: this.id, reason: 'timeout' });
      held.exchange.reject(
        'timeout',
        503,
        this.retryAfter(),
        `${this.id} could not be reached in time (${outcome})`,
      );
      return;
    }
    this.deps.budget.held++;
    this.watch(held);
    this.enqueue(held, true);
  }

  /** A held request whose client disconnects leaves the queue at once. */
  private watch(held: Held): void {
    if (held.watched) return;
    held.watched = true;
    held.exchange.onGone(() => {
      if (held.state !== 'queued') return;
      this.unhold(held);
      this.deps.metrics.cancelled.inc({ target: this.id });
      this.pump();
    });
  }

  /** The endpoint failed: skip it for a while (0.5 s doubling to 8 s), then try again. */
  private rest(endpoint: Endpoint): void {
    const previous = this.down.get(endpoint.key);
    const backoff = previous ? Math.min(previous.backoff * 2, 8_000) : 500;
    const now = this.now();
    this.down.set(endpoint.key, { until: now + backoff, backoff });
    // Pump again when the first resting endpoint may be used again.
    const next = Math.min(...[...this.down.values()].map((d) => d.until));
    clearTimeout(this.downTimer);
    this.downTimer = setTimeout(() => this.pump(), Math.max(0, next - now) + 5);
  }

  /** Starts (or keeps alive) the wake-up of this target. */
  private ensureAwake(): void {
    if (this.isReady && this.usable().length > 0) return;
    if (this.episodeStart === undefined && !this.isReady) {
      this.episodeStart = this.now();
      this.deps.metrics.wakeups.inc({ target: this.id });
      this.log({ level: 'info', msg: 'waking target', held: this.heldCount });
    }
    if (this.wakeTimer !== undefined || this.wakeInFlight) return;
    this.sendWake();
  }

  private sendWake(): void {
    this.wakeInFlight = true;
    this.deps.relist?.();
    this.deps.wake(this.route).then(
      (result) => this.afterWake(result),
      (error: unknown) => this.afterWake({ accepted: 0, errors: [String(error)] }),
    );
  }

  private afterWake(result: WakeResult): void {
    this.wakeInFlight = false;
    if (result.accepted === 0) {
      this.deps.metrics.wakeFailures.inc({ target: this.id });
      this.wakeRetryMs = Math.min(Math.max(this.wakeRetryMs * 2, 200), 2_000);
      this.log({
        level: 'warn',
        msg: 'wake-up not accepted by any runtime replica',
        errors: result.errors,
        retryInMs: this.wakeRetryMs,
      });
    } else {
      this.wakeRetryMs = 0;
      if (result.errors.length > 0)
        this.log({ level: 'info', msg: 'some runtime replicas refused the wake-up', errors: result.errors });
    }
    // Keep waking while requests wait and no pod is usable: KEDA's cooldown starts from the last
    // activity, so a slow start must not be scaled back to zero under the held requests.
    const waiting = (): boolean => this.heldCount > 0 && this.usable().length === 0;
    if (!waiting()) return;
    const delay = result.accepted === 0 ? this.wakeRetryMs : this.deps.rewakeMs;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      if (waiting()) this.sendWake();
    }, delay);
  }
}
