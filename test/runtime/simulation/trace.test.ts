import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  aggregateEvents,
  parseTimestamp,
  parseTrace,
  readEventLog,
  readTrace,
  TraceError,
} from '../../../runtime/simulation/trace.js';
import { SHARED_DIR } from '../../support/paths.js';

const TRACES = join(SHARED_DIR, 'traces');

/** Asserts that parsing throws a TraceError with exactly this message and line. */
function assertTraceError(text: string, message: string, line: number): void {
  assert.throws(
    () => parseTrace(text, '/data/trace.csv'),
    (e: unknown) => {
      assert.ok(e instanceof TraceError, `expected a TraceError, got ${String(e)}`);
      assert.equal(e.message, message);
      assert.equal(e.line, line);
      return true;
    },
  );
}

describe('parseTimestamp', () => {
  it('reads ISO 8601, naive date-times as UTC, offsets, fractions and epoch seconds', () => {
    // GIVEN the formats the CLI documents WHEN parsed THEN they give epoch seconds (UTC)
    const noon = Date.UTC(2024, 0, 31, 12, 0, 0) / 1000;
    assert.equal(parseTimestamp('2024-01-31T12:00:00Z'), noon);
    assert.equal(parseTimestamp('2024-01-31T12:00:00'), noon);
    assert.equal(parseTimestamp('2024-01-31 12:00'), noon);
    assert.equal(parseTimestamp('2024-01-31 12:00:00.250'), noon + 0.25);
    assert.equal(parseTimestamp('2024-01-31T14:00:00+02:00'), noon);
    assert.equal(parseTimestamp('2024-01-31T07:30:00-0430'), noon);
    assert.equal(parseTimestamp('2024-01-31'), Date.UTC(2024, 0, 31) / 1000);
    assert.equal(parseTimestamp('1700000000'), 1700000000);
    assert.equal(parseTimestamp('1700000000.5'), 1700000000.5);
    // the Azure LLM trace's 7-digit fractions
    const azure = parseTimestamp('2023-11-16 18:17:03.9799600') as number;
    assert.ok(Math.abs(azure - (Date.UTC(2023, 10, 16, 18, 17, 3) / 1000 + 0.97996)) < 1e-6);
  });

  it('rejects impossible dates and non-timestamps', () => {
    // GIVEN malformed values WHEN parsed THEN undefined
    for (const bad of [
      '2024-02-30 00:00',
      '2023-02-29',
      '2024-13-01',
      '2024-01-01 24:00',
      '12:00',
      'abc',
      '',
    ]) {
      assert.equal(parseTimestamp(bad), undefined, bad);
    }
    assert.equal(parseTimestamp('2024-02-29'), Date.UTC(2024, 1, 29) / 1000);
  });

  it('reads years 0000–0099 as written, not as 1900–1999', () => {
    // GIVEN dates in the first century (Date.UTC would read 0050 as 1950)
    // WHEN parsed THEN they equal the ISO parser's reading of the same instant
    assert.equal(parseTimestamp('0050-01-01 00:00'), Date.parse('0050-01-01T00:00:00Z') / 1000);
    assert.equal(parseTimestamp('0000-02-29'), Date.parse('0000-02-29T00:00:00Z') / 1000);
    assert.equal(parseTimestamp('0099-12-31T23:59:00+01:00'), Date.parse('0099-12-31T22:59:00Z') / 1000);
    // AND the turn of year 100 is one minute, so a trace across it reads at a 60 s interval
    const trace = parseTrace('t,v\n0099-12-31 23:59,1\n0100-01-01 00:00,2\n', 'old.csv');
    assert.equal(trace.intervalSeconds, 60);
  });
});

describe('parseTrace', () => {
  it('reads rows, the interval and the line numbers; extra columns are ignored', () => {
    // GIVEN a per-minute trace with a third column and a trailing newline
    const text =
      'timestamp,requests,server_down\n1995-07-01 00:00,42,0\n1995-07-01 00:01,61,0\n1995-07-01 00:02,57,1\n';
    // WHEN parsed
    const trace = parseTrace(text, 'nasa.csv');
    // THEN
    assert.equal(trace.intervalSeconds, 60);
    assert.equal(trace.source, 'nasa.csv');
    assert.deepEqual(
      trace.rows.map((r) => [r.demand, r.line]),
      [
        [42, 2],
        [61, 3],
        [57, 4],
      ],
    );
    assert.equal(trace.rows[0]?.timestamp, Date.UTC(1995, 6, 1) / 1000);
    assert.deepEqual(trace.gaps, []);
  });

  it('tolerates quoted fields, CRLF, a byte-order mark, blank lines and epoch timestamps', () => {
    // GIVEN quoted fields (one with a comma and an escaped quote) and Windows line ends
    const text = '\uFEFF"time","value","note"\r\n"1700000000","1.5","a, ""b"""\r\n\r\n1700000010,2e1,x\r\n';
    // WHEN parsed
    const trace = parseTrace(text, 'q.csv');
    // THEN
    assert.equal(trace.intervalSeconds, 10);
    assert.deepEqual(
      trace.rows.map((r) => [r.timestamp, r.demand, r.line]),
      [
        [1700000000, 1.5, 2],
        [1700000010, 20, 4],
      ],
    );
  });

  it('keeps missing values as NaN and negative or infinite values as they are', () => {
    // GIVEN an empty value, NaN, a negative value and Infinity
    const text = 't,v\n0,\n60,NaN\n120,-3\n180,Infinity\n240,-inf\n300,"  7 "\n';
    // WHEN parsed
    const demands = parseTrace(text, 't.csv').rows.map((r) => r.demand);
    // THEN
    assert.deepEqual(demands, [NaN, NaN, -3, Infinity, -Infinity, 7]);
  });

  it('takes the most common difference as the interval and reports gaps of whole intervals', () => {
    // GIVEN 5-minute rows with a 15-minute hole after the third row
    const text = 'ts,v\n0,1\n300,2\n600,3\n1500,4\n1800,5\n';
    // WHEN parsed
    const trace = parseTrace(text, 'g.csv');
    // THEN
    assert.equal(trace.intervalSeconds, 300);
    assert.deepEqual(trace.gaps, [{ afterRow: 2, missingRows: 2, line: 5 }]);
  });

  it('names the line and the bad value of malformed input', () => {
    // GIVEN / WHEN / THEN each malformed input gives a message naming the line
    assertTraceError('', 'trace.csv: the file is empty', 0);
    assertTraceError('\n\n', 'trace.csv: the file is empty', 0);
    assertTraceError('timestamp,demand\n', 'trace.csv: no data rows after the header', 1);
    assertTraceError(
      '2024-01-01 00:00,5\n2024-01-01 00:01,6\n',
      'trace.csv line 1: no header row (the first row is data: "2024-01-01 00:00", "5"); add a header such as "timestamp,demand"',
      1,
    );
    assertTraceError(
      'timestamp\n0\n',
      'trace.csv line 1: expected at least 2 columns (timestamp, demand), got 1',
      1,
    );
    assertTraceError(
      't,v\n0,1\n60\n',
      'trace.csv line 3: expected at least 2 columns (timestamp, demand), got 1',
      3,
    );
    assertTraceError(
      't,v\n0,1\nyesterday,2\n',
      'trace.csv line 3: "yesterday" is not a timestamp (column 1; expected ISO 8601, YYYY-MM-DD HH:MM[:SS] or epoch seconds)',
      3,
    );
    const rows = Array.from({ length: 15 }, (_, i) => `${i * 60},${i}`).join('\n');
    assertTraceError(`t,v\n${rows}\n900,abc\n`, 'trace.csv line 17: "abc" is not a number (column 2)', 17);
    assertTraceError('t,v\n0,1\n60,0x10\n', 'trace.csv line 3: "0x10" is not a number (column 2)', 3);
    assertTraceError(
      't,v\n0,1\n60,2\n60,3\n',
      'trace.csv line 4: time does not increase (60 is the same as line 3)',
      4,
    );
    assertTraceError(
      't,v\n2024-01-01 00:02,1\n2024-01-01 00:01,2\n',
      'trace.csv line 3: time does not increase (2024-01-01 00:01 is before line 2)',
      3,
    );
    assertTraceError(
      't,v\n0,1\n60,2\n120,3\n150,4\n',
      'trace.csv line 5: rows must be at a regular interval of 60 s (30 s after line 4 is not a whole multiple)',
      5,
    );
    assertTraceError('t,v\n0,1\n', 'trace.csv: at least 2 data rows are needed to infer the interval', 2);
    assertTraceError('t,v\n0,"1\n60,2\n', 'trace.csv line 2: unterminated quoted field', 2);
  });

  it('refuses rows closer than the microsecond time is read to, naming the line', () => {
    // GIVEN rows 0.1 µs apart (each later than the one before, but the interval rounds to 0)
    // WHEN parsed THEN the second row's line is named, not a later "interval 0" failure
    assertTraceError(
      't,v\n0,1\n0.0000001,2\n0.0000002,3\n',
      'trace.csv line 3: "0.0000001" is too close to line 2: the interval rounds to 0 (time is read to the microsecond)',
      3,
    );
    // AND 1 µs apart is still a trace
    assert.equal(parseTrace('t,v\n0,1\n0.000001,2\n', 'us.csv').intervalSeconds, 0.000001);
  });

  it('refuses times outside the years 0000–9999 an output timestamp is written in, naming the line', () => {
    // GIVEN the last second of 9999, then one second later (Date writes it +010000-01-01T00:00:00Z)
    // WHEN parsed THEN the later one is refused (an output with it could not be read back)
    const range =
      'is outside the years 0000–9999 a timestamp can be written in (0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z; epoch seconds -62167219200 to 253402300799)';
    assertTraceError(
      't,v\n253402300798,1\n253402300799,2\n253402300800,3\n',
      `trace.csv line 4: "253402300800" ${range}`,
      4,
    );
    assertTraceError(
      't,v\n9999-12-31T23:59:59Z,1\n9999-12-31T23:00:00-01:00,2\n',
      `trace.csv line 3: "9999-12-31T23:00:00-01:00" ${range}`,
      3,
    );
    // AND the second before year 0000 is refused too (Date writes it -000001-12-31T23:59:59Z)
    assertTraceError('t,v\n-62167219201,1\n-62167219200,2\n', `trace.csv line 2: "-62167219201" ${range}`, 2);
    assertTraceError(
      't,v\n0000-01-01T00:30:00+01:00,1\n0000-01-01T00:31:00+01:00,2\n',
      `trace.csv line 2: "0000-01-01T00:30:00+01:00" ${range}`,
      2,
    );
    // AND epoch milliseconds get a hint
    assertTraceError(
      't,v\n1404172800000,1\n1404172860000,2\n',
      `trace.csv line 2: "1404172800000" ${range}; is it in milliseconds? Give epoch seconds`,
      2,
    );
    // AND the range's own ends are read
    assert.equal(parseTrace('t,v\n253402300739,1\n253402300799,2\n', 'end.csv').intervalSeconds, 60);
    assert.equal(parseTrace('t,v\n-62167219200,1\n-62167219140,2\n', 'start.csv').intervalSeconds, 60);
    assert.equal(
      parseTrace('t,v\n9999-12-31T23:59:58.999Z,1\n9999-12-31T23:59:59.999Z,2\n', 'ms.csv').intervalSeconds,
      1,
    );
  });

  it('reads the NASA trace: 84,333 per-minute rows with the 28 Jul – 1 Aug hole reported', () => {
    // GIVEN the real NASA HTTP trace WHEN read
    const trace = readTrace(join(TRACES, 'nasa-http-1995', 'nasa_http_requests_per_minute.csv'));
    // THEN
    assert.equal(trace.rows.length, 84333);
    assert.equal(trace.intervalSeconds, 60);
    assert.equal(trace.gaps?.length, 1);
    const gap = trace.gaps?.[0];
    const before = trace.rows[gap?.afterRow ?? 0];
    assert.equal(new Date((before?.timestamp ?? 0) * 1000).toISOString(), '1995-07-28T13:32:00.000Z');
    assert.equal(
      new Date((trace.rows[(gap?.afterRow ?? 0) + 1]?.timestamp ?? 0) * 1000).toISOString().slice(0, 10),
      '1995-08-01',
    );
  });
});

describe('aggregateEvents / readEventLog', () => {
  it('counts events per aligned bucket with empty buckets as 0', () => {
    // GIVEN events at 101.5, 102, 109.9, 131 s WHEN counted per 10 s
    const trace = aggregateEvents([101.5, 102, 109.9, 131], 10, 'events', [2, 3, 4, 5]);
    // THEN buckets 100, 110, 120, 130 hold 3, 0, 0, 1
    assert.equal(trace.intervalSeconds, 10);
    assert.deepEqual(
      trace.rows.map((r) => [r.timestamp, r.demand, r.line]),
      [
        [100, 3, 2],
        [110, 0, 2],
        [120, 0, 2],
        [130, 1, 5],
      ],
    );
  });

  it('refuses an empty log and a non-positive bucket', () => {
    // GIVEN / WHEN / THEN
    assert.throws(() => aggregateEvents([], 10), /no events/);
    assert.throws(() => aggregateEvents([1], 0), /bucketSeconds: must be a positive number \(got 0\)/);
  });

  it('turns the Azure LLM code trace into requests per 10 s, every request counted once', () => {
    // GIVEN the real per-request log WHEN aggregated to 10 s
    const path = join(TRACES, 'azure-llm-inference-2023', 'AzureLLMInferenceTrace_code.csv');
    const requests = readFileSync(path, 'utf8').trim().split('\n').length - 1;
    const trace = readEventLog(path, 10);
    // THEN the buckets are 10 s apart, start on a multiple of 10 s and sum to the number of requests
    assert.equal(trace.intervalSeconds, 10);
    assert.equal((trace.rows[0]?.timestamp ?? 1) % 10, 0);
    const total = trace.rows.reduce((s, r) => s + r.demand, 0);
    assert.equal(total, requests);
    assert.equal(trace.rows[0]?.line, 2);
    for (let i = 1; i < trace.rows.length; i++) {
      assert.equal((trace.rows[i]?.timestamp ?? 0) - (trace.rows[i - 1]?.timestamp ?? 0), 10);
    }
  });
});
