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

/** A workload's decision log: timestamp, replicas, forecast upper; rule, state, anomaly state, model. */
export class DecisionLog {
  private readonly ring: RecordRing;
  /** Summaries that are not rebuilt from the fields (stale/holding entries), by record index. */
  private texts: Map<number, string> | undefined;

  constructor(readonly capacity: number) {
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
    this.texts?.delete(i);
  }

  /** Logs an entry whose summary is given (the last good decision served stale, or held). */
  pushText(entry: LoggedDecision): void {
    const i = this.ring.push(
      [entry.timestamp, entry.desiredReplicas, Number.NaN],
      [entry.rule, entry.state, '', ''],
    );
    (this.texts ??= new Map()).set(i, entry.summary);
  }

  /** Oldest first. */
  toArray(): LoggedDecision[] {
    return Array.from({ length: this.ring.length }, (_, k) => this.entry(this.ring.index(k)));
  }

  /** Bytes held (for the registry's memory figure). */
  get bytes(): number {
    return this.ring.bytes;
  }

  private entry(i: number): LoggedDecision {
    const r = this.ring;
    const rule = r.code(i, 0) as Decision['rule'];
    const desiredReplicas = r.number(i, 1);
    const anomaly = r.code(i, 2) as Decision['anomaly']['state'];
    const summary =
      this.texts?.get(i) ?? summarize(desiredReplicas, rule, anomaly, r.code(i, 3), r.number(i, 2));
    return {
      timestamp: r.number(i, 0),
      desiredReplicas,
      rule,
      summary,
      state: r.code(i, 1) as LoggedDecision['state'],
    };
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
