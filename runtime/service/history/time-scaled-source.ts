/**
 * Replays at compressed time: the registry and engines run on a virtual clock that advances `scale`
 * seconds per wall-clock second from `origin`, while the wrapped source (a Prometheus scraping a trace
 * replayer, say) stores samples at wall-clock times. Queries are mapped to wall time and answers back,
 * so a 15-minute trace replayed at one row per 500 ms still has 15-minute intervals and daily seasons
 * for the engine. Only used when ELASTICAI_TIME_SCALE > 1.
 */
import type { HistorySource, RangeQuery, Series } from './history-source.js';

export class TimeScaledSource implements HistorySource {
  readonly name: string;

  /** `origin` (epoch seconds) is where virtual and wall time coincide. */
  constructor(
    private readonly inner: HistorySource,
    private readonly scale: number,
    private readonly origin: number,
  ) {
    this.name = inner.name;
  }

  toWall(virtualSeconds: number): number {
    return this.origin + (virtualSeconds - this.origin) / this.scale;
  }

  toVirtual(wallSeconds: number): number {
    return this.origin + (wallSeconds - this.origin) * this.scale;
  }

  async queryRange(q: RangeQuery, signal?: AbortSignal): Promise<Series> {
    const wall = await this.inner.queryRange(
      {
        query: q.query,
        start: this.toWall(q.start),
        end: this.toWall(q.end),
        stepSeconds: q.stepSeconds / this.scale,
      },
      signal,
    );
    // Back on the virtual grid (wall timestamps carry millisecond rounding).
    const timestamps = wall.timestamps.map(
      (t) => q.start + Math.round((this.toVirtual(t) - q.start) / q.stepSeconds) * q.stepSeconds,
    );
    return { timestamps, values: wall.values };
  }
}

/** The virtual clock (ms) matching a TimeScaledSource with the same scale and origin. */
export function scaledClock(wallClock: () => number, scale: number, origin: number): () => number {
  return () => (origin + (wallClock() / 1000 - origin) * scale) * 1000;
}
