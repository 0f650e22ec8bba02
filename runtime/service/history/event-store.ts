/**
 * The `webhook` history source: event counts pushed through the signed event webhook, kept per stream
 * in one-second buckets, and read back by the registry like any other source.
 *
 * What a step means. `queryRange` sums the counts of each step interval [t, t + step) on the grid. A
 * step is returned when
 * - its interval reaches the stream's first event (before that the stream did not exist: no data), and
 * - its interval is complete: it ends at or before the newest second ingested for the stream (the
 *   stream's watermark). A partly filled interval is not returned yet, because more events for it may
 *   still arrive; the registry asks again on its next tick.
 * Inside that range a step without events is demand 0, not a gap: quiet is a real value. Senders must
 * therefore keep the watermark moving: post `{ "timestamp": t, "count": 0 }` for quiet periods, so that
 * the registry can tell "no demand" from "sender down" (a stalled watermark shows up as missing points,
 * which the registry serves as stale and then holds: it never scales down on missing data).
 *
 * Steps starting before data was dropped (retention, bucket budget) are not returned either: they would
 * be incomplete.
 *
 * Bounds. Buckets older than `retentionSeconds` before the clock are dropped, events older than that are
 * refused; at most `maxStreams` streams are kept (a new stream evicts the one that received nothing for
 * longest) and at most `maxBuckets` non-empty buckets over all streams (the globally oldest go first).
 * A bucket costs 16 bytes.
 */
import type { RuntimeMetrics } from '../metrics.js';
import type { HistorySource, RangeQuery, Series } from './history-source.js';
import { SourceError } from './history-source.js';

export interface EventStoreOptions {
  /** Streams kept at once. @default 100 */
  readonly maxStreams?: number;
  /** Seconds of events kept before the clock (the registry backfills its history from here). @default 14 days */
  readonly retentionSeconds?: number;
  /**
   * Non-empty one-second buckets kept over all streams, 16 bytes each in arrays that double as a stream
   * grows, so up to twice that is allocated: with 100 streams filling 14 days, 4,000,000 buckets (64 MB)
   * held 100 MiB of arrays. @default 4,000,000
   */
  readonly maxBuckets?: number;
  /** Wall clock in milliseconds. @default Date.now */
  readonly clock?: () => number;
  /** `webhookEvents` counts ingested events by stream. */
  readonly metrics?: RuntimeMetrics;
  /**
   * Asked by {@link EventStore.roomFor} before a batch would make a stream's arrays grow, with the bytes
   * the grown arrays take: the runtime answers from its memory guard, so events cannot push it past its
   * container's limit (the webhook answers 503 and the sender retries). @default always room
   */
  readonly hasRoomFor?: (bytes: number) => boolean;
}

/** Stream names as the workload spec allows them (`metadata.stream`). */
export const STREAM_NAME = /^[A-Za-z0-9._/-]{1,253}$/;

/** Steps one query may span (Prometheus refuses more than 11,000 points; the registry asks for far fewer). */
const MAX_STEPS = 1_000_000;

/** One stream: sorted seconds and their counts, from `head` on (entries before it are dropped). */
class Stream {
  seconds = new Float64Array(INITIAL_BUCKETS);
  counts = new Float64Array(INITIAL_BUCKETS);
  head = 0;
  length = 0;
  /** First second with an event (data starts in the step containing it). */
  first: number;
  /** Newest second ingested, events with a zero count included. */
  watermark: number;
  /** Counts before this second were dropped: a step starting earlier would be incomplete. */
  from = -Infinity;

  constructor(second: number) {
    this.first = second;
    this.watermark = second;
  }

  get size(): number {
    return this.length - this.head;
  }

  /** Adds `count` at `second`; returns whether a new bucket was created. */
  add(second: number, count: number): boolean {
    if (second > this.watermark) this.watermark = second;
    if (second < this.first) this.first = second;
    if (count === 0) return false;
    const last = this.length > this.head ? (this.seconds[this.length - 1] as number) : -Infinity;
    if (second === last) {
      this.counts[this.length - 1] = (this.counts[this.length - 1] as number) + count;
      return false;
    }
    if (second > last) {
      this.reserve();
      this.seconds[this.length] = second;
      this.counts[this.length] = count;
      this.length++;
      return true;
    }
    // Out of order: find the slot, add to it or insert there.
    const i = this.lowerBound(second);
    if (i < this.length && this.seconds[i] === second) {
      this.counts[i] = (this.counts[i] as number) + count;
      return false;
    }
    this.reserve();
    this.seconds.copyWithin(i + 1, i, this.length);
    this.counts.copyWithin(i + 1, i, this.length);
    this.seconds[i] = second;
    this.counts[i] = count;
    this.length++;
    return true;
  }

  /** Index of the first bucket at or after `second`. */
  lowerBound(second: number): number {
    let lo = this.head;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.seconds[mid] as number) < second) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops buckets before `second`; returns how many. */
  dropBefore(second: number): number {
    const i = this.lowerBound(second);
    const dropped = i - this.head;
    this.head = i;
    if (second > this.from) this.from = second;
    this.compact();
    return dropped;
  }

  /** Drops the `n` oldest buckets; returns how many. */
  dropOldest(n: number): number {
    const k = Math.min(n, this.size);
    if (k === 0) return 0;
    const through = this.seconds[this.head + k - 1] as number;
    this.head += k;
    if (through + 1 > this.from) this.from = through + 1;
    this.compact();
    return k;
  }

  get oldest(): number {
    return this.size > 0 ? (this.seconds[this.head] as number) : Infinity;
  }

  private reserve(): void {
    if (this.length < this.seconds.length) return;
    if (this.head > this.seconds.length / 2) {
      this.compact(true);
      return;
    }
    const seconds = new Float64Array(this.seconds.length * 2);
    const counts = new Float64Array(this.counts.length * 2);
    seconds.set(this.seconds);
    counts.set(this.counts);
    this.seconds = seconds;
    this.counts = counts;
  }

  private compact(force = false): void {
    if (this.head === 0 || (!force && this.head < this.seconds.length / 2)) return;
    const size = this.size;
    // Arrays a quarter full are halved (or more), so a stream that shrank (retention, the bucket budget)
    // gives its memory back; halving only at a quarter keeps an add/drop cycle from reallocating each time.
    let capacity = this.seconds.length;
    while (capacity > INITIAL_BUCKETS && size * 4 <= capacity) capacity /= 2;
    if (capacity < this.seconds.length) {
      const seconds = new Float64Array(capacity);
      const counts = new Float64Array(capacity);
      seconds.set(this.seconds.subarray(this.head, this.length));
      counts.set(this.counts.subarray(this.head, this.length));
      this.seconds = seconds;
      this.counts = counts;
    } else {
      this.seconds.copyWithin(0, this.head, this.length);
      this.counts.copyWithin(0, this.head, this.length);
    }
    this.length = size;
    this.head = 0;
  }

  get bytes(): number {
    return this.seconds.byteLength + this.counts.byteLength;
  }

  /**
   * Bytes of the arrays after adding `buckets` new ones, at most (the same as now when they fit). Counts
   * the dropped slots before `head` too: `reserve` reclaims them only once they are half the array.
   */
  bytesAfter(buckets: number): number {
    return Stream.bytesFor(this.seconds.length, this.length + buckets);
  }

  /** Bytes of two Float64Arrays of `capacity`, doubled until they hold `buckets`. */
  static bytesFor(capacity: number, buckets: number): number {
    let size = capacity;
    while (size < buckets) size *= 2;
    return 16 * size;
  }
}

/** A new stream's arrays: 64 buckets. */
const INITIAL_BUCKETS = 64;

/** Result of one `add`. */
export type AddResult = 'stored' | 'too-old';

export class EventStore implements HistorySource {
  readonly name = 'webhook';
  private readonly streams = new Map<string, Stream>();
  private readonly maxStreams: number;
  private readonly retention: number;
  private readonly maxBuckets: number;
  private readonly clock: () => number;
  private buckets = 0;

  constructor(private readonly options: EventStoreOptions = {}) {
    this.maxStreams = options.maxStreams ?? 100;
    this.retention = options.retentionSeconds ?? 14 * 86_400;
    this.maxBuckets = options.maxBuckets ?? 4_000_000;
    this.clock = options.clock ?? Date.now;
    for (const [name, value] of [
      ['maxStreams', this.maxStreams],
      ['retentionSeconds', this.retention],
      ['maxBuckets', this.maxBuckets],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`${name}: must be an integer ≥ 1 (got ${value})`);
      }
    }
  }

  /** Streams held. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Non-empty buckets held over all streams. */
  get bucketCount(): number {
    return this.buckets;
  }

  /** Bytes held by the buckets. */
  get bytes(): number {
    let total = 0;
    for (const s of this.streams.values()) total += s.bytes;
    return total;
  }

  /**
   * Whether `events` more events for `stream` fit in memory: true when its arrays hold them already
   * (each event may make a new bucket), otherwise what `hasRoomFor` says about the grown arrays. Asked
   * before a batch is added, so a refused batch stores nothing and can be sent again as it is.
   */
  roomFor(stream: string, events: number): boolean {
    const s = this.streams.get(stream);
    const now = s ? s.bytes : 0;
    const after = s ? s.bytesAfter(events) : Stream.bytesFor(INITIAL_BUCKETS, events);
    return after <= now || (this.options.hasRoomFor?.(after) ?? true);
  }

  /**
   * Adds `count` events at `timestamp` (epoch seconds; fractions fall in their second). A zero count
   * stores nothing but moves the stream's watermark. Events older than the retention are refused.
   */
  add(stream: string, timestamp: number, count: number): AddResult {
    if (!STREAM_NAME.test(stream)) {
      throw new RangeError(`stream: must be 1–253 letters, digits, ".", "_", "/" or "-" (got "${stream}")`);
    }
    if (!Number.isFinite(timestamp) || timestamp < 0) {
      throw new RangeError(`timestamp: must be epoch seconds ≥ 0 (got ${timestamp})`);
    }
    if (!Number.isFinite(count) || count < 0) {
      throw new RangeError(`count: must be a finite number ≥ 0 (got ${count})`);
    }
    const second = Math.floor(timestamp);
    const horizon = this.horizon();
    if (second < horizon) return 'too-old';
    let s = this.streams.get(stream);
    if (!s) {
      if (this.streams.size >= this.maxStreams) this.evictIdlestStream();
      s = new Stream(second);
      this.streams.set(stream, s);
    }
    if (s.from < horizon) this.buckets -= s.dropBefore(horizon);
    if (second < s.from) return 'too-old';
    if (s.add(second, count)) {
      this.buckets++;
      if (this.buckets > this.maxBuckets) this.dropGloballyOldest();
    }
    if (count > 0) this.options.metrics?.webhookEvents.inc({ stream }, count);
    return 'stored';
  }

  /** `q.query` is the stream name; see the file comment for which steps come back. */
  async queryRange(q: RangeQuery): Promise<Series> {
    const { start, end, stepSeconds: step } = q;
    if (!(step > 0) || !Number.isFinite(step) || !Number.isFinite(start) || !Number.isFinite(end)) {
      throw new SourceError('query-error', `bad range: start ${start}, end ${end}, step ${step}`);
    }
    if (end < start) return { timestamps: [], values: [] };
    if ((end - start) / step > MAX_STEPS) {
      throw new SourceError('query-error', `range of ${(end - start) / step} steps exceeds ${MAX_STEPS}`);
    }
    const s = this.streams.get(q.query);
    if (!s) return { timestamps: [], values: [] };
    const horizon = this.horizon();
    if (s.from < horizon) this.buckets -= s.dropBefore(horizon);
    const timestamps: number[] = [];
    const values: number[] = [];
    let i = s.head;
    for (let t = start; t <= end; t += step) {
      const to = t + step; // exclusive
      if (t < s.from || to - 1 < s.first) continue; // dropped, or before the stream's first event
      if (to - 1 > s.watermark) break; // not complete yet
      if (i < s.length && (s.seconds[i] as number) < t) i = s.lowerBound(t);
      let sum = 0;
      while (i < s.length && (s.seconds[i] as number) < to) sum += s.counts[i++] as number;
      timestamps.push(t);
      values.push(sum);
    }
    return { timestamps, values };
  }

  /** Seconds before this are dropped. */
  private horizon(): number {
    return Math.floor(this.clock() / 1000) - this.retention;
  }

  private evictIdlestStream(): void {
    let idlest: string | undefined;
    let mark = Infinity;
    for (const [name, s] of this.streams) {
      if (s.watermark < mark) {
        mark = s.watermark;
        idlest = name;
      }
    }
    if (idlest === undefined) return;
    this.buckets -= (this.streams.get(idlest) as Stream).size;
    this.streams.delete(idlest);
    this.options.metrics?.webhookEvents.remove({ stream: idlest });
  }

  /** Frees about 1% of the budget from the streams holding the oldest buckets. */
  private dropGloballyOldest(): void {
    let toFree = Math.max(1, Math.floor(this.maxBuckets / 100), this.buckets - this.maxBuckets);
    while (toFree > 0) {
      let oldest: Stream | undefined;
      let second = Infinity;
      let next = Infinity;
      for (const s of this.streams.values()) {
        const o = s.oldest;
        if (o < second) {
          next = second;
          second = o;
          oldest = s;
        } else if (o < next) next = o;
      }
      if (!oldest) return;
      // Drop this stream's buckets older than the next stream's oldest, at most what is still to free.
      const upTo = oldest.lowerBound(next + 1) - oldest.head;
      const freed = oldest.dropOldest(Math.max(1, Math.min(toFree, upTo)));
      this.buckets -= freed;
      toFree -= freed;
    }
  }
}
