/**
 * Where an engine's typed arrays come from. An engine holds about fifteen of them (history, seasons,
 * residuals, back-test paths, weights, the stabilization window); each on its own would be an
 * ArrayBuffer with its own backing store, allocation header and GC bookkeeping, which at 10,000
 * workloads came to several KiB per workload beyond the values themselves. `StateArena.build` carves
 * them all out of one ArrayBuffer instead: it runs the construction once to measure, then again with a
 * buffer of exactly that size. The arrays are the same types and lengths either way, so the values an
 * engine computes are the same bits.
 */
export class StateArena {
  /** Plain, separately allocated arrays (the default when a part is built on its own). */
  static readonly standalone = new StateArena('standalone');

  private offset = 0;

  private constructor(
    private readonly mode: 'standalone' | 'measure' | 'carve',
    private readonly buffer?: ArrayBuffer,
  ) {}

  /** Calls `create` with an arena that measures, then again with one buffer of the measured size. */
  static build<T>(create: (arena: StateArena) => T): T {
    const measure = new StateArena('measure');
    create(measure);
    const arena = new StateArena('carve', new ArrayBuffer(measure.offset));
    const built = create(arena);
    if (arena.offset !== measure.offset) {
      throw new Error(
        `StateArena: the second construction took ${arena.offset} bytes, not ${measure.offset}`,
      );
    }
    return built;
  }

  float64(length: number): Float64Array {
    if (this.mode === 'standalone') return new Float64Array(length);
    const at = this.take(length, 8);
    return this.buffer ? new Float64Array(this.buffer, at, length) : new Float64Array(0);
  }

  float32(length: number): Float32Array {
    if (this.mode === 'standalone') return new Float32Array(length);
    const at = this.take(length, 4);
    return this.buffer ? new Float32Array(this.buffer, at, length) : new Float32Array(0);
  }

  int32(length: number): Int32Array {
    if (this.mode === 'standalone') return new Int32Array(length);
    const at = this.take(length, 4);
    return this.buffer ? new Int32Array(this.buffer, at, length) : new Int32Array(0);
  }

  uint8(length: number): Uint8Array {
    if (this.mode === 'standalone') return new Uint8Array(length);
    const at = this.take(length, 1);
    return this.buffer ? new Uint8Array(this.buffer, at, length) : new Uint8Array(0);
  }

  /** Reserves `length` elements of `size` bytes at an offset aligned to `size`. */
  private take(length: number, size: number): number {
    const at = Math.ceil(this.offset / size) * size;
    this.offset = at + length * size;
    if (this.buffer && this.offset > this.buffer.byteLength) {
      throw new Error(
        `StateArena: the second construction asks for more than the ${this.buffer.byteLength} bytes measured`,
      );
    }
    return at;
  }
}
