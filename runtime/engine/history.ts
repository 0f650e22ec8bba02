/**
 * A fixed-capacity ring of the most recent values of one series at its regular interval. Missing
 * intervals are stored as NaN so that "the value one day ago" is always `back(period)`.
 * Float32 storage halves its memory (a day of 1-minute points takes 5.8 KB instead of 11.5 KB). The
 * forecaster sizes it by the deepest lag its models read; the weekly model below 5 minutes keeps its
 * own coarse ring instead.
 */
import { StateArena } from './state-arena.js';

export class History {
  private readonly values: Float32Array;
  private next = 0;
  private stored = 0;
  private pushed = 0;

  constructor(
    readonly capacity: number,
    arena: StateArena = StateArena.standalone,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`History capacity ${capacity}`);
    this.values = arena.float32(capacity).fill(Number.NaN);
  }

  /** Number of values pushed so far, capped at capacity. */
  get length(): number {
    return this.stored;
  }

  /** Values pushed since creation (not capped): lags shift by one per push. */
  get pushes(): number {
    return this.pushed;
  }

  push(value: number): void {
    this.pushed++;
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    if (this.stored < this.capacity) this.stored++;
  }

  /** The value `lag` intervals back: back(1) is the latest value. NaN when not stored (or missing). */
  back(lag: number): number {
    if (lag < 1 || lag > this.stored) return Number.NaN;
    return this.values[(this.next - lag + this.capacity * 2) % this.capacity] ?? Number.NaN;
  }

  /** Bytes held by the ring. */
  get bytes(): number {
    return this.values.byteLength;
  }
}
