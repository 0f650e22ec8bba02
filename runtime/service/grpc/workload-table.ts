/**
 * The values served to KEDA, shared between the runtime's main thread (which decides) and the scaler's
 * thread (which answers gRPC calls). Each workload the scaler has seen gets a slot in shared memory:
 * the main thread writes the slot whenever a decision changes it, the scaler thread reads it on every
 * call without a message or a wait. Rare events (a slot assigned, a first backfill done, a wake-up, a
 * workload removed) travel as messages.
 */
import type { WorkloadRef, WorkloadSpec } from '../workload-spec.js';
import { NotReadyError } from '../workload-registry.js';
import type { ScalerBackend, ServedValue } from './scaler-backend.js';
import { NOTHING_TO_WAIT_FOR } from './scaler-backend.js';

/** Flag bits of a slot. */
const HAS_VALUE = 1;
const ACTIVE = 2;

/** Slots of one shared buffer: a Float64 value and an Int32 flag word per slot. */
export class SharedValues {
  readonly values: Float64Array;
  readonly flags: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    const capacity = buffer.byteLength / 12;
    this.values = new Float64Array(buffer, 0, capacity);
    this.flags = new Int32Array(buffer, 8 * capacity, capacity);
  }

  static withCapacity(capacity: number): SharedValues {
    return new SharedValues(new SharedArrayBuffer(12 * capacity));
  }

  get capacity(): number {
    return this.values.length;
  }

  /** Publishes a value (the flag store orders it: a reader that sees the flag sees the value). */
  set(slot: number, served: ServedValue): void {
    this.values[slot] = served.value;
    Atomics.store(this.flags, slot, HAS_VALUE | (served.active ? ACTIVE : 0));
  }

  clear(slot: number): void {
    Atomics.store(this.flags, slot, 0);
  }

  get(slot: number): ServedValue | undefined {
    const flags = Atomics.load(this.flags, slot);
    if ((flags & HAS_VALUE) === 0) return undefined;
    return { value: this.values[slot] as number, active: (flags & ACTIVE) !== 0 };
  }

  /** A buffer twice as big with the same slots. */
  grown(): SharedValues {
    const next = SharedValues.withCapacity(2 * this.capacity);
    next.values.set(this.values);
    for (let i = 0; i < this.capacity; i++) next.flags[i] = Atomics.load(this.flags, i);
    return next;
  }
}

/** Scaler thread → main thread. */
export type ToMain =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'failed'; readonly message: string; readonly code?: string }
  /** Track this workload; the answers (`tracked` or `rejected`, then `backfilled`) carry `seq`. */
  | {
      readonly type: 'track';
      readonly seq: number;
      readonly key: string;
      readonly ref: WorkloadRef;
      readonly spec: WorkloadSpec;
    }
  | { readonly type: 'metrics'; readonly id: number; readonly text: string }
  | { readonly type: 'closed' };

/** Main thread → scaler thread. */
export type ToScaler =
  /** The workload's slot, or why it cannot be tracked (answers `track` number `seq`). */
  | { readonly type: 'tracked'; readonly seq: number; readonly key: string; readonly slot: number }
  | { readonly type: 'rejected'; readonly seq: number; readonly key: string; readonly message: string }
  /** The backfill started by `track` number `seq` settled. */
  | { readonly type: 'backfilled'; readonly seq: number; readonly key: string }
  /** Why there is no value yet (shown in UNAVAILABLE answers). */
  | { readonly type: 'reason'; readonly key: string; readonly message: string }
  | { readonly type: 'active'; readonly key: string }
  | { readonly type: 'removed'; readonly key: string }
  | { readonly type: 'buffer'; readonly buffer: SharedArrayBuffer }
  | { readonly type: 'metrics'; readonly id: number }
  | { readonly type: 'close'; readonly graceMs: number };

export const keyOf = (ref: WorkloadRef): string => `${ref.namespace}/${ref.name}`;

type Tracked = { firstBackfill?: Promise<void> };

interface Waiter {
  readonly seq: number;
  readonly resolve: (tracked: Tracked) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One per workload the scaler has seen (10,000 of them in a big cluster): the fields a call needs are
 * plain, the ones only a `track` in progress needs are allocated while it runs.
 */
interface Entry {
  /** The scaler's own ref object (it caches one per ScaledObject). */
  readonly ref: WorkloadRef;
  /** The spec last sent for tracking (the scaler caches it per metadata, so identity compares). */
  spec: WorkloadSpec;
  slot: number | undefined;
  /** Answers to `track` messages still awaited. */
  awaiting: Waiter[] | undefined;
  /** The latest `track`'s answer (what a call with the same spec awaits while it is pending). */
  tracked: Promise<Tracked>;
  /** Seqs of `track` messages whose backfill has not settled yet. */
  backfilling: number[] | undefined;
  /** Pending while any of them runs. */
  firstBackfill: Promise<void> | undefined;
  endFirstBackfill: (() => void) | undefined;
  reason: string | undefined;
}

/** The scaler thread's view: a ScalerBackend answered from the shared slots. */
export class WorkloadTable implements ScalerBackend {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(ref: WorkloadRef) => void>();
  private seq = 0;

  constructor(
    private shared: SharedValues,
    private readonly send: (message: ToMain) => void,
  ) {}

  track(workload: WorkloadRef, spec: WorkloadSpec): Promise<Tracked> {
    const key = keyOf(workload);
    const existing = this.entries.get(key);
    if (existing && existing.spec === spec) {
      return existing.awaiting || existing.firstBackfill ? existing.tracked : NOTHING_TO_WAIT_FOR;
    }
    const entry: Entry = existing ?? {
      ref: workload,
      spec,
      slot: undefined,
      awaiting: undefined,
      tracked: NOTHING_TO_WAIT_FOR,
      backfilling: undefined,
      firstBackfill: undefined,
      endFirstBackfill: undefined,
      reason: undefined,
    };
    entry.spec = spec;
    const seq = ++this.seq;
    (entry.backfilling ??= []).push(seq);
    entry.firstBackfill ??= new Promise<void>((resolve) => (entry.endFirstBackfill = resolve));
    entry.tracked = new Promise<Tracked>((resolve, reject) =>
      (entry.awaiting ??= []).push({ seq, resolve, reject }),
    );
    // A rejection is read by the calls awaiting it; nobody else must see it as unhandled.
    entry.tracked.catch(() => undefined);
    this.entries.set(key, entry);
    this.send({ type: 'track', seq, key, ref: entry.ref, spec });
    return entry.tracked;
  }

  value(workload: WorkloadRef): ServedValue {
    const entry = this.entries.get(keyOf(workload));
    if (!entry || entry.slot === undefined) throw new NotReadyError(workload, 'not registered');
    const served = this.shared.get(entry.slot);
    if (!served) throw new NotReadyError(workload, entry.reason ?? 'no decision yet: loading history');
    return served;
  }

  onActive(listener: (workload: WorkloadRef) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies a message from the main thread. */
  receive(message: ToScaler): void {
    switch (message.type) {
      case 'tracked': {
        const entry = this.entries.get(message.key);
        const waiter = entry && takeWaiter(entry, message.seq);
        if (!entry || !waiter) return;
        entry.slot = message.slot;
        waiter.resolve(entry.firstBackfill ? { firstBackfill: entry.firstBackfill } : {});
        return;
      }
      case 'rejected': {
        const entry = this.entries.get(message.key);
        const waiter = entry && takeWaiter(entry, message.seq);
        if (!entry || !waiter) return;
        this.settleBackfill(entry, message.seq);
        // Untracked again: the next call asks again (the configuration may be fixed by then).
        if (!entry.awaiting && entry.slot === undefined) this.entries.delete(message.key);
        waiter.reject(new NotReadyError(entry.ref, message.message));
        return;
      }
      case 'backfilled': {
        const entry = this.entries.get(message.key);
        if (entry) this.settleBackfill(entry, message.seq);
        return;
      }
      case 'reason': {
        const entry = this.entries.get(message.key);
        if (entry) entry.reason = message.message;
        return;
      }
      case 'active': {
        const entry = this.entries.get(message.key);
        if (entry) for (const listener of this.listeners) listener(entry.ref);
        return;
      }
      case 'removed': {
        const entry = this.entries.get(message.key);
        if (!entry) return;
        this.entries.delete(message.key);
        entry.endFirstBackfill?.();
        for (const waiter of entry.awaiting ?? []) waiter.reject(new NotReadyError(entry.ref, 'removed'));
        return;
      }
      case 'buffer':
        this.shared = new SharedValues(message.buffer);
        return;
      default:
        return;
    }
  }

  private settleBackfill(entry: Entry, seq: number): void {
    const at = entry.backfilling?.indexOf(seq) ?? -1;
    if (at < 0) return;
    entry.backfilling?.splice(at, 1);
    if (entry.backfilling?.length) return;
    entry.backfilling = undefined;
    entry.endFirstBackfill?.();
    entry.endFirstBackfill = undefined;
    entry.firstBackfill = undefined;
  }
}

/** Removes and returns the waiter of `track` number `seq` (the array goes when it empties). */
function takeWaiter(entry: Entry, seq: number): Waiter | undefined {
  const at = entry.awaiting?.findIndex((w) => w.seq === seq) ?? -1;
  if (at < 0) return undefined;
  const [waiter] = entry.awaiting?.splice(at, 1) ?? [];
  if (entry.awaiting?.length === 0) entry.awaiting = undefined;
  return waiter;
}
