/**
 * A bounded window of recent residuals with an exact empirical quantile (quickselect on a scratch
 * copy: O(window) per query, no allocation).
 */
export class ResidualWindow {
  private readonly values: Float64Array;
  private readonly scratch: Float64Array;
  private next = 0;
  private stored = 0;

  constructor(readonly capacity: number) {
    this.values = new Float64Array(capacity);
    this.scratch = new Float64Array(capacity);
  }

  get length(): number {
    return this.stored;
  }

  get bytes(): number {
    return this.values.byteLength * 2;
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
    const scratch = this.scratch;
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
