/**
 * Reading demand traces (CSV) into a {@link Trace}, and turning per-request logs into requests per bucket.
 *
 * Trace CSV: a header row; first column a timestamp (ISO 8601, `YYYY-MM-DD HH:MM[:SS[.fff]]` read as UTC
 * when it has no offset, or epoch seconds), second column the demand; extra columns are ignored; fields
 * may be double-quoted. An empty demand or `NaN` is a missing value (kept as NaN); negative values and
 * `Infinity` are kept too (the anomaly logic deals with them). Rows must be in strictly increasing time at
 * a regular interval (the most common difference); holes of whole intervals are allowed and reported.
 * Times must lie in the years 0000–9999, the ones an ISO 8601 timestamp is written with; others are
 * refused naming the line.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Trace, TraceGap, TraceRow } from './types.js';

/** A malformed trace or event log. `line` is the 1-based line the problem is on (0 for the whole file). */
export class TraceError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'TraceError';
  }
}

/** One non-blank CSV line split into fields. */
export interface CsvLine {
  /** 1-based physical line number. */
  readonly line: number;
  readonly fields: readonly string[];
}

/**
 * Splits CSV text into lines of fields. Double-quoted fields may contain commas and `""` escapes (not
 * line breaks). Blank lines are skipped; CRLF and a UTF-8 byte-order mark are tolerated.
 */
export function parseCsvLines(text: string, source: string): CsvLine[] {
  const out: CsvLine[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw.trim() === '') continue;
    out.push({ line: i + 1, fields: splitCsvLine(raw, source, i + 1) });
  }
  return out;
}

function splitCsvLine(raw: string, source: string, line: number): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    // skip leading blanks before a quoted field
    let j = i;
    while (j < raw.length && (raw[j] === ' ' || raw[j] === '\t')) j++;
    if (raw[j] === '"') {
      let value = '';
      j++;
      for (;;) {
        if (j >= raw.length) throw new TraceError(`${source} line ${line}: unterminated quoted field`, line);
        const c = raw[j];
        if (c === '"') {
          if (raw[j + 1] === '"') {
            value += '"';
            j += 2;
            continue;
          }
          j++;
          break;
        }
        value += c;
        j++;
      }
      while (j < raw.length && (raw[j] === ' ' || raw[j] === '\t')) j++;
      if (j < raw.length && raw[j] !== ',') {
        throw new TraceError(`${source} line ${line}: unexpected text after a quoted field`, line);
      }
      fields.push(value);
      if (j >= raw.length) return fields;
      i = j + 1;
    } else {
      const comma = raw.indexOf(',', i);
      if (comma < 0) {
        fields.push(raw.slice(i).trim());
        return fields;
      }
      fields.push(raw.slice(i, comma).trim());
      i = comma + 1;
    }
  }
}

const EPOCH = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Parses a timestamp to epoch seconds (UTC), or returns undefined when it is not one. Accepts ISO 8601
 * (`2024-01-31T12:00:00.123Z`, `2024-01-31 12:00`, offsets `+02:00`/`+0200`, a bare date), naive times
 * (read as UTC) and epoch seconds (integer or decimal).
 */
export function parseTimestamp(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  if (EPOCH.test(s)) return Number(s);
  const m = DATE_TIME.exec(s);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const monthDays = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > monthDays) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetSeconds = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetSeconds = (m[9] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const fraction = m[7] === undefined ? 0 : Number(`0.${m[7]}`);
  // Date.UTC reads years 0–99 as 1900–1999; setUTCFullYear takes the year as written.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year);
  return date.getTime() / 1000 + fraction - offsetSeconds;
}

/**
 * The first instant an output timestamp can be written for (0000-01-01T00:00:00Z) and the first it cannot
 * (10000-01-01T00:00:00Z), in epoch seconds. ISO 8601 timestamps have four-digit years: outside them
 * Date#toISOString writes expanded years (`+010000-01-01T00:00:00Z`, `-000001-…`), which this reader
 * (like most others) does not take, so the CLI would write files it cannot read back.
 */
export const FIRST_EPOCH_SECONDS = -62167219200;
export const END_EPOCH_SECONDS = 253402300800;

/**
 * Whether `epochSeconds` is written as an ISO timestamp with a four-digit year (years 0000–9999). The
 * test is on milliseconds, as the writer's Date takes them (truncated), so it agrees with the writer.
 */
export const inIsoYears = (epochSeconds: number): boolean => {
  const ms = epochSeconds * 1000;
  return ms >= FIRST_EPOCH_SECONDS * 1000 && ms < END_EPOCH_SECONDS * 1000;
};

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^([+-]?)inf(?:inity)?$/i;

/** Parses a demand value: a decimal number, `±Infinity`/`inf`, or NaN for empty/`NaN`; undefined otherwise. */
export function parseDemand(text: string): number | undefined {
  const s = text.trim();
  if (s === '' || s.toLowerCase() === 'nan') return NaN;
  if (NUMBER.test(s)) return Number(s);
  const inf = INFINITY.exec(s);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  return undefined;
}

/** Rounds a time difference to microseconds so that float noise in fractional timestamps does not matter. */
const roundDiff = (d: number): number => Math.round(d * 1e6) / 1e6;

/** Parses trace CSV text. `source` names the file in messages (its base name is used). */
export function parseTrace(text: string, source: string): Trace {
  const name = basename(source);
  const lines = parseCsvLines(text, name);
  const header = lines[0];
  if (!header) throw new TraceError(`${name}: the file is empty`, 0);
  const checkColumns = (l: CsvLine): void => {
    if (l.fields.length < 2) {
      throw new TraceError(
        `${name} line ${l.line}: expected at least 2 columns (timestamp, demand), got ${l.fields.length}`,
        l.line,
      );
    }
  };
  checkColumns(header);
  const [h0 = '', h1 = ''] = header.fields;
  if (parseTimestamp(h0) !== undefined && parseDemand(h1) !== undefined && h1.trim() !== '') {
    throw new TraceError(
      `${name} line ${header.line}: no header row (the first row is data: "${h0}", "${h1}"); add a header such as "timestamp,demand"`,
      header.line,
    );
  }
  if (lines.length < 2) throw new TraceError(`${name}: no data rows after the header`, header.line);

  const rows: TraceRow[] = [];
  for (let k = 1; k < lines.length; k++) {
    const l = lines[k] as CsvLine;
    checkColumns(l);
    const [f0 = '', f1 = ''] = l.fields;
    const timestamp = parseTimestamp(f0);
    if (timestamp === undefined) {
      throw new TraceError(
        `${name} line ${l.line}: "${f0}" is not a timestamp (column 1; expected ISO 8601, YYYY-MM-DD HH:MM[:SS] or epoch seconds)`,
        l.line,
      );
    }
    if (!inIsoYears(timestamp)) throw outOfRange(name, l.line, f0);
    const demand = parseDemand(f1);
    if (demand === undefined)
      throw new TraceError(`${name} line ${l.line}: "${f1}" is not a number (column 2)`, l.line);
    const prev = rows[rows.length - 1];
    if (prev && timestamp <= prev.timestamp) {
      throw new TraceError(
        `${name} line ${l.line}: time does not increase (${f0} is ${timestamp === prev.timestamp ? 'the same as' : 'before'} line ${prev.line})`,
        l.line,
      );
    }
    // Intervals are read to the microsecond (roundDiff): a smaller step would be an interval of 0.
    if (prev && roundDiff(timestamp - prev.timestamp) <= 0) {
      throw new TraceError(
        `${name} line ${l.line}: "${f0}" is too close to line ${prev.line}: the interval rounds to 0 (time is read to the microsecond)`,
        l.line,
      );
    }
    rows.push({ timestamp, demand, line: l.line });
  }
  if (rows.length < 2) {
    throw new TraceError(
      `${name}: at least 2 data rows are needed to infer the interval`,
      (rows[0] as TraceRow).line,
    );
  }

  const intervalSeconds = modeInterval(rows);
  const gaps: TraceGap[] = [];
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1] as TraceRow;
    const b = rows[i] as TraceRow;
    const diff = roundDiff(b.timestamp - a.timestamp);
    const steps = Math.round(diff / intervalSeconds);
    if (steps < 1 || Math.abs(diff - steps * intervalSeconds) > 1e-6 * Math.max(1, diff)) {
      throw new TraceError(
        `${name} line ${b.line}: rows must be at a regular interval of ${intervalSeconds} s (${diff} s after line ${a.line} is not a whole multiple)`,
        b.line,
      );
    }
    if (steps > 1) gaps.push({ afterRow: i - 1, missingRows: steps - 1, line: b.line });
  }
  return { rows, intervalSeconds, source, gaps };
}

function outOfRange(name: string, line: number, text: string): TraceError {
  // Epoch milliseconds of this century are 13 digits: as seconds they are past the year 30000.
  const value = Number(text);
  const asMilliseconds = EPOCH.test(text.trim()) && value >= 1e12 && inIsoYears(value / 1000);
  return new TraceError(
    `${name} line ${line}: "${text}" is outside the years 0000–9999 a timestamp can be written in ` +
      `(0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z; epoch seconds ${FIRST_EPOCH_SECONDS} to ${END_EPOCH_SECONDS - 1})` +
      (asMilliseconds ? '; is it in milliseconds? Give epoch seconds' : ''),
    line,
  );
}

/** The most common difference between consecutive rows (the smallest one on a tie). */
function modeInterval(rows: readonly TraceRow[]): number {
  const counts = new Map<number, number>();
  for (let i = 1; i < rows.length; i++) {
    const d = roundDiff((rows[i] as TraceRow).timestamp - (rows[i - 1] as TraceRow).timestamp);
    counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let best = Infinity;
  let bestCount = 0;
  for (const [d, c] of counts) {
    if (c > bestCount || (c === bestCount && d < best)) {
      best = d;
      bestCount = c;
    }
  }
  return best;
}

/** Reads and parses a trace CSV file. */
export function readTrace(path: string): Trace {
  return parseTrace(readFileSync(path, 'utf8'), path);
}

/**
 * Counts events (e.g. requests) per bucket of `bucketSeconds`: buckets are aligned to multiples of
 * `bucketSeconds` since the epoch and run from the first event's bucket to the last event's; empty buckets
 * are 0. `lines` (same length as `timestamps`) gives each event's source line; a row's line is that of its
 * first event (or of the last event before it, for an empty bucket).
 */
export function aggregateEvents(
  timestamps: readonly number[],
  bucketSeconds: number,
  source = 'events',
  lines?: readonly number[],
): Trace {
  if (!(bucketSeconds > 0) || !Number.isFinite(bucketSeconds)) {
    throw new RangeError(`bucketSeconds: must be a positive number (got ${bucketSeconds})`);
  }
  if (timestamps.length === 0) throw new TraceError(`${basename(source)}: no events`, 0);
  let first = Infinity;
  let last = -Infinity;
  timestamps.forEach((t, i) => {
    if (!Number.isFinite(t)) throw new RangeError(`timestamps[${i}]: must be a finite number (got ${t})`);
    if (t < first) first = t;
    if (t > last) last = t;
  });
  const startBucket = Math.floor(first / bucketSeconds);
  const n = Math.floor(last / bucketSeconds) - startBucket + 1;
  const counts = new Array<number>(n).fill(0);
  const firstLine = new Array<number>(n).fill(0);
  timestamps.forEach((t, i) => {
    const b = Math.floor(t / bucketSeconds) - startBucket;
    counts[b] = (counts[b] as number) + 1;
    const line = lines?.[i] ?? i + 1;
    if (firstLine[b] === 0 || line < (firstLine[b] as number)) firstLine[b] = line;
  });
  const rows: TraceRow[] = [];
  let lastLine = 0;
  for (let b = 0; b < n; b++) {
    if ((firstLine[b] as number) > 0) lastLine = firstLine[b] as number;
    rows.push({ timestamp: (startBucket + b) * bucketSeconds, demand: counts[b] as number, line: lastLine });
  }
  return { rows, intervalSeconds: bucketSeconds, source, gaps: [] };
}

/**
 * Reads a per-event log (a header row, first column the event's timestamp, e.g. the Azure LLM trace
 * `TIMESTAMP,ContextTokens,GeneratedTokens`) and counts events per `bucketSeconds`.
 */
export function readEventLog(path: string, bucketSeconds: number): Trace {
  const name = basename(path);
  const lines = parseCsvLines(readFileSync(path, 'utf8'), name);
  const header = lines[0];
  if (!header) throw new TraceError(`${name}: the file is empty`, 0);
  if (parseTimestamp(header.fields[0] ?? '') !== undefined) {
    throw new TraceError(`${name} line ${header.line}: no header row (the first row is data)`, header.line);
  }
  if (lines.length < 2) throw new TraceError(`${name}: no events after the header`, header.line);
  const timestamps: number[] = [];
  const sourceLines: number[] = [];
  for (let k = 1; k < lines.length; k++) {
    const l = lines[k] as CsvLine;
    const f0 = l.fields[0] ?? '';
    const t = parseTimestamp(f0);
    if (t === undefined)
      throw new TraceError(`${name} line ${l.line}: "${f0}" is not a timestamp (column 1)`, l.line);
    if (!inIsoYears(t)) throw outOfRange(name, l.line, f0);
    timestamps.push(t);
    sourceLines.push(l.line);
  }
  return aggregateEvents(timestamps, bucketSeconds, path, sourceLines);
}
