/**
 * A workload's decision log (the API's and dashboard's "why"), kept in typed arrays. As objects, an
 * entry and its summary string took ~200 bytes of heap; at the default 100 entries and 10,000
 * workloads that is ~200 MB once the logs fill (a day of changes), more than the runtime's heap has
 * room for. Here an entry is 32 bytes, and its summary is rebuilt, with the engine's own wording, when
 * the log is read. The arrays start small and grow to the capacity, so a quiet workload costs little.
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

/** Codes per entry: rule, serving state, anomaly state, model. */
const CODES = 4;

export class DecisionLog {
  private times = new Float64Array(0);
  private replicas = new Float64Array(0);
  private uppers = new Float64Array(0);
  private codes = new Uint16Array(0);
  /** Summaries that are not rebuilt from the codes (stale/holding entries), by array index. */
  private texts: Map<number, string> | undefined;
  private start = 0;
  length = 0;

  constructor(readonly capacity: number) {}

  /** Logs a decision served fresh. */
  pushDecision(d: Decision): void {
    const i = this.slot();
    this.times[i] = d.timestamp;
    this.replicas[i] = d.desiredReplicas;
    this.uppers[i] = d.forecast.upper;
    this.codes.set(
      [codeOf(d.rule), codeOf('fresh'), codeOf(d.anomaly.state), codeOf(d.forecast.model)],
      i * CODES,
    );
    this.texts?.delete(i);
  }

  /** Logs an entry whose summary is given (the last good decision served stale, or held). */
  pushText(entry: LoggedDecision): void {
    const i = this.slot();
    this.times[i] = entry.timestamp;
    this.replicas[i] = entry.desiredReplicas;
    this.uppers[i] = Number.NaN;
    this.codes.set([codeOf(entry.rule), codeOf(entry.state), 0, 0], i * CODES);
    (this.texts ??= new Map()).set(i, entry.summary);
  }

  /** Oldest first. */
  toArray(): LoggedDecision[] {
    return Array.from({ length: this.length }, (_, k) => this.entry((this.start + k) % this.times.length));
  }

  /** Bytes held (for the registry's memory figure). */
  get bytes(): number {
    return this.times.byteLength * 3 + this.codes.byteLength;
  }

  private entry(i: number): LoggedDecision {
    const code = (k: number): string => strings[this.codes[i * CODES + k] as number] as string;
    const rule = code(0) as Decision['rule'];
    const desiredReplicas = this.replicas[i] as number;
    const summary =
      this.texts?.get(i) ??
      summarize(
        desiredReplicas,
        rule,
        code(2) as Decision['anomaly']['state'],
        code(3),
        this.uppers[i] as number,
      );
    return {
      timestamp: this.times[i] as number,
      desiredReplicas,
      rule,
      summary,
      state: code(1) as LoggedDecision['state'],
    };
  }

  /** The array index of the next entry: grows the arrays up to the capacity, then overwrites the oldest. */
  private slot(): number {
    const size = this.times.length;
    if (this.length < size) return (this.start + this.length++) % size;
    if (size < this.capacity) {
      this.grow(Math.min(this.capacity, Math.max(4, size * 2)));
      return this.length++;
    }
    const i = this.start;
    this.start = (this.start + 1) % size;
    return i;
  }

  private grow(size: number): void {
    const order = Array.from({ length: this.length }, (_, k) => (this.start + k) % this.times.length);
    const times = new Float64Array(size);
    const replicas = new Float64Array(size);
    const uppers = new Float64Array(size);
    const codeArray = new Uint16Array(size * CODES);
    const texts = this.texts && new Map<number, string>();
    order.forEach((from, to) => {
      times[to] = this.times[from] as number;
      replicas[to] = this.replicas[from] as number;
      uppers[to] = this.uppers[from] as number;
      codeArray.set(this.codes.subarray(from * CODES, from * CODES + CODES), to * CODES);
      const text = this.texts?.get(from);
      if (text !== undefined) texts?.set(to, text);
    });
    this.times = times;
    this.replicas = replicas;
    this.uppers = uppers;
    this.codes = codeArray;
    this.texts = texts;
    this.start = 0;
  }
}
