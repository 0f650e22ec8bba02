/**
 * A workload's decision log (the API's and dashboard's "why"), kept in typed arrays. As objects, an
 * entry and its summary string took ~200 bytes of heap; at the default 100 entries and 10,000
 * workloads that is ~200 MB once the logs fill (a day of changes), more than the runtime's heap has
 * room for. Here an entry is 32 bytes, and its summary is rebuilt, with the engine's own wording, when
 * the log is read. The arrays start small and grow to the capacity, so a quiet workload costs little.
 * The chart's anomaly list is kept the same way.
 */
import type { Decision } from '../engine/workload-engine.js';
import { summarize } from '../engine/workload-engine.js';
import type { LoggedDecision } from './workload-registry.js';

/** Every string the log stores as a code (rules, states, model names: small fixed sets). */
const strings: string[] = [];
const codes = new Map<string, number>();
function codeOf(text: string): number {
  let code = codes.get(text);
  if (code === undefined) {
    code = strings.length;
    strings.push(text);
    codes.set(text, code);
  }
  return code;
}

/**
 * A ring of fixed-shape records: `numbers` Float64 fields and `codes` interned strings each, oldest
 * overwritten at capacity. Its arrays start small and double up to the capacity.
 */
class RecordRing {
  private values = new Float64Array(0);
  private codeArray = new Uint16Array(0);
  private start = 0;
  length = 0;

  constructor(
    readonly capacity: number,
    private readonly numbers: number,
    private readonly codes: number,
  ) {}

  /** Appends a record; returns its index (for `number`/`code`). */
  push(values: readonly number[], texts: readonly string[]): number {
    const i = this.slot();
    this.values.set(values, i * this.numbers);
    this.codeArray.set(texts.map(codeOf), i * this.codes);
    return i;
  }

  /** Index of the k-th oldest record. */
  index(k: number): number {
    return (this.start + k) % this.size;
  }

  number(i: number, field: number): number {
    return this.values[i * this.numbers + field] as number;
  }

  code(i: number, field: number): string {
    return strings[this.codeArray[i * this.codes + field] as number] as string;
  }

  get bytes(): number {
    return this.values.byteLength + this.codeArray.byteLength;
  }

  private get size(): number {
    return this.values.length / this.numbers;
  }

  private slot(): number {
    const size = this.size;
    if (this.length < size) return (this.start + this.length++) % size;
    if (size < this.capacity) {
      this.grow(Math.min(this.capacity, Math.max(4, size * 2)));
      return this.length++; // start is 0 until the ring is full
    }
    const i = this.start;
    this.start = (this.start + 1) % size;
    return i;
  }

  /** Grows before the ring first wraps, so records keep their indexes (start is still 0). */
  private grow(size: number): void {
    const values = new Float64Array(size * this.numbers);
    const codeArray = new Uint16Array(size * this.codes);
    values.set(this.values);
    codeArray.set(this.codeArray);
    this.values = values;
    this.codeArray = codeArray;
  }
}

/** An entry logged while the source fails: the last good decision served stale, or held. */
export interface HeldEntry {
  readonly timestamp: number;
  readonly desiredReplicas: number;
  readonly rule: Decision['rule'];
  readonly state: 'stale' | 'holding';
  /** Why the source failed (its error message). */
  readonly reason: string;
}

/** Longest reason a log entry keeps; the workload's `lastError` keeps the whole message. */
export const MAX_LOGGED_REASON = 200;

/** The summary of a held entry, as the API and dashboard show it. */
export function heldSummary(desiredReplicas: number, state: HeldEntry['state'], reason: string): string {
  const what =
    state === 'stale'
      ? 'serving the last good decision'
      : 'holding (source down too long): never scaling down';
  return `${desiredReplicas} replicas: ${what}; ${reason}`;
}

function clipReason(reason: string): string {
  return reason.length <= MAX_LOGGED_REASON ? reason : `${reason.slice(0, MAX_LOGGED_REASON - 1)}…`;
}

/**
 * A workload's decision log: timestamp, replicas, forecast upper; rule, state, anomaly state, model.
 * Held entries also name the source's error. A source that fails again and again logs the same few
 * messages, so each distinct one is kept once per log: as a string per entry, a log full of them held
 * ~17 KiB (165 MB at 10,000 workloads, unseen by the memory guard).
 */
export class DecisionLog {
  private readonly ring: RecordRing;
  /** The held entries' reasons: distinct messages, and each record's index into them (−1: none). */
  private held: { reasons: string[]; reasonOf: Int16Array } | undefined;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 0x7fff) {
      throw new RangeError(`decision log capacity must be an integer from 1 to 32767 (got ${capacity})`);
    }
    this.ring = new RecordRing(capacity, 3, 4);
  }

  get length(): number {
    return this.ring.length;
  }

  /** Logs a decision served fresh. */
  pushDecision(d: Decision): void {
    const i = this.ring.push(
      [d.timestamp, d.desiredReplicas, d.forecast.upper],
      [d.rule, 'fresh', d.anomaly.state, d.forecast.model],
    );
    if (this.held) this.held.reasonOf[i] = -1;
  }

  /** Logs the last good decision served stale, or held, and why. */
  pushHeld(entry: HeldEntry): void {
    const i = this.ring.push(
      [entry.timestamp, entry.desiredReplicas, Number.NaN],
      [entry.rule, entry.state, '', ''],
    );
    const held = (this.held ??= { reasons: [], reasonOf: new Int16Array(this.capacity).fill(-1) });
    held.reasonOf[i] = -1; // the record it overwrote no longer needs its reason
    const reason = clipReason(entry.reason);
    let r = held.reasons.indexOf(reason);
    if (r < 0) {
      if (held.reasons.length >= this.capacity) this.dropUnusedReasons(held);
      r = held.reasons.push(reason) - 1;
    }
    held.reasonOf[i] = r;
  }

  /** Oldest first. */
  toArray(): LoggedDecision[] {
    return Array.from({ length: this.ring.length }, (_, k) => this.entry(this.ring.index(k)));
  }

  /** Bytes held (for the registry's memory figure): the records, and the reasons at ~1 byte a character. */
  get bytes(): number {
    if (!this.held) return this.ring.bytes;
    const reasons = this.held.reasons.reduce((sum, r) => sum + 16 + r.length, 0);
    return this.ring.bytes + this.held.reasonOf.byteLength + reasons;
  }

  /** Keeps only the reasons some record still uses (at most one per record: below the capacity). */
  private dropUnusedReasons(held: { reasons: string[]; reasonOf: Int16Array }): void {
    const renumbered = new Map<number, number>();
    const kept: string[] = [];
    held.reasonOf.forEach((r, i) => {
      if (r < 0) return;
      let next = renumbered.get(r);
      if (next === undefined) {
        next = kept.push(held.reasons[r] as string) - 1;
        renumbered.set(r, next);
      }
      held.reasonOf[i] = next;
    });
    held.reasons = kept;
  }

  private entry(i: number): LoggedDecision {
    const r = this.ring;
    const rule = r.code(i, 0) as Decision['rule'];
    const desiredReplicas = r.number(i, 1);
    const state = r.code(i, 1) as LoggedDecision['state'];
    const reason = this.held?.reasonOf[i] ?? -1;
    const summary =
      reason >= 0
        ? heldSummary(desiredReplicas, state as HeldEntry['state'], this.held?.reasons[reason] as string)
        : summarize(
            desiredReplicas,
            rule,
            r.code(i, 2) as Decision['anomaly']['state'],
            r.code(i, 3),
            r.number(i, 2),
          );
    return { timestamp: r.number(i, 0), desiredReplicas, rule, summary, state };
  }
}

export interface LoggedAnomaly {
  readonly timestamp: number;
  readonly state: string;
  readonly score: number;
}

/** A workload's anomalous points for the chart: timestamp, score; state (18 bytes each). */
export class AnomalyLog {
  private readonly ring: RecordRing;

  constructor(capacity: number) {
    this.ring = new RecordRing(capacity, 2, 1);
  }

  push(anomaly: LoggedAnomaly): void {
    this.ring.push([anomaly.timestamp, anomaly.score], [anomaly.state]);
  }

  toArray(): LoggedAnomaly[] {
    return Array.from({ length: this.ring.length }, (_, k) => {
      const i = this.ring.index(k);
      return {
        timestamp: this.ring.number(i, 0),
        state: this.ring.code(i, 0),
        score: this.ring.number(i, 1),
      };
    });
  }

  get bytes(): number {
    return this.ring.bytes;
  }
}
