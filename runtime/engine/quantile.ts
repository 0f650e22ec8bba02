/**
 * Scratch copy for quickselect, shared by every window: it is only used within one `quantile` call,
 * which never yields, so one array serves all engines in the process. Grown to the largest capacity.
 */
import { StateArena } from './state-arena.js';

let scratch = new Float64Array(512);

/**
 * A bounded window of recent residuals with an exact empirical quantile (quickselect on a scratch
 * copy: O(window) per query, no allocation once the shared scratch is large enough). Residuals are
 * kept as Float32: their 7 significant digits are far finer than one replica, and the policy suite's
 * results are the same as with Float64.
 */
export class ResidualWindow {
  private readonly values: Float32Array;
  private next = 0;
  private stored = 0;

  constructor(
    readonly capacity: number,
    arena: StateArena = StateArena.standalone,
  ) {
    this.values = arena.float32(capacity);
    if (scratch.length < capacity) scratch = new Float64Array(capacity);
  }

  get length(): number {
    return this.stored;
  }

  /** Bytes held by this window (the shared scratch excluded). */
  get bytes(): number {
    return this.values.byteLength;
  }

  push(value: number): void {
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    if (this.stored < this.capacity) this.stored++;
  }

  clear(): void {
    this.stored = 0;
    this.next = 0;
  }

  /** The q-quantile (0..1) of the stored values (nearest rank, rounding up), NaN when empty. */
  quantile(q: number): number {
    const n = this.stored;
    if (n === 0) return Number.NaN;
    for (let i = 0; i < n; i++) scratch[i] = this.values[i] ?? 0;
    const rank = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
    return select(scratch, n, rank);
  }
}

/** Hoare-style quickselect: the k-th smallest of a[0..n). Reorders `a`. */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1] ?? 0;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] ?? 0) < pivot) i++;
      while ((a[j] ?? 0) > pivot) j--;
      if (i <= j) {
        const t = a[i] ?? 0;
        a[i] = a[j] ?? 0;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k] ?? 0;
  }
  return a[k] ?? 0;
}
