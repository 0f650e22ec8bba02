/**
 * PrometheusSource against a real Prometheus (Debian's 2.42) scraping a replayer of the NASA HTTP 1995
 * trace in compressed time: one trace row (one minute of real demand) per wall-clock second.
 *
 * Row boundaries are put half a second off the whole seconds, and the query grid is whole seconds with a
 * 250 ms scrape interval, so the sample a grid point takes (the latest at or before it) always comes from
 * the same row as the grid point: values can be compared exactly with the replayer's `rowAt`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Series } from '../../../../runtime/service/history/history-source.js';
import { SourceError } from '../../../../runtime/service/history/history-source.js';
import { PrometheusSource } from '../../../../runtime/service/history/prometheus-source.js';
import type { PrometheusSourceOptions } from '../../../../runtime/service/history/prometheus-source.js';
import { parseTrace } from '../../../../runtime/simulation/trace.js';
import { SHARED_DIR } from '../../../support/paths.js';
import { startPrometheus } from '../../../support/prometheus-server.js';
import type { PrometheusServer } from '../../../support/prometheus-server.js';
import { startTraceReplayer } from '../../../support/trace-replayer.js';
import type { TraceReplayer } from '../../../support/trace-replayer.js';

const NASA = join(SHARED_DIR, 'traces', 'nasa-http-1995', 'nasa_http_requests_per_minute.csv');
const ROW_MS = 1000;

/** A small trace of broken-signal values, as a misbehaving exporter would report them. */
const BROKEN = parseTrace(
  [
    'timestamp,demand',
    ...Array.from({ length: 600 }, (_, i) => `${i * 60},${['7', 'NaN', '+Inf', '-Inf'][i % 4]}`),
  ].join('\n'),
  'broken.csv',
);

let replayer: TraceReplayer;
let prometheus: PrometheusServer;
let source: PrometheusSource;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function sourceWith(options: PrometheusSourceOptions = {}): PrometheusSource {
  return new PrometheusSource({ url: prometheus.url, auth: 'none', timeoutMs: 5000 }, options);
}

/** Asserts every point equals what the replayer served at that time (per trace, summed). */
function assertReplayed(series: Series, traces: readonly string[]): void {
  series.timestamps.forEach((t, i) => {
    const expected = traces.reduce((sum, name) => sum + (replayer.rowAt(t * 1000, name)?.demand ?? NaN), 0);
    assert.equal(series.values[i], expected, `value at ${t} (row ${replayer.rowAt(t * 1000)?.index})`);
  });
}

/** Asserts the timestamps are consecutive multiples of `step` from `first` to `last`. */
function assertContiguous(series: Series, first: number, last: number, step: number): void {
  const expected: number[] = [];
  for (let t = first; t <= last; t += step) expected.push(t);
  assert.deepEqual(series.timestamps, expected);
}

before(async () => {
  // The first row starts 1.5 s from now, on a half second; the trace is NASA from 10:00 on 1 July 1995.
  const t0 = (Math.ceil(Date.now() / 1000) + 1) * 1000 + 500;
  replayer = await startTraceReplayer({
    traces: [
      { name: 'nasa', trace: NASA, startRow: 600 },
      { name: 'nasa-august', trace: NASA, startRow: 50_000 },
      { name: 'broken', trace: BROKEN },
    ],
    rowMilliseconds: ROW_MS,
    t0,
  });
  prometheus = await startPrometheus({ targets: [replayer.target], scrapeIntervalMs: 250 });
  source = sourceWith();
  // Prometheus 2.42 starts scraping ~5 s after start; then let 8 rows accumulate.
  await prometheus.waitForScrape();
  await sleep(8 * ROW_MS);
});

after(async () => {
  await prometheus?.stop();
  await replayer?.close();
});

describe('PrometheusSource against a real Prometheus', () => {
  it('returns the replayed trace values on the step grid', async () => {
    // GIVEN data since the first scrape, and a range starting before the trace did
    const firstServed = replayer.firstServedAt as number;
    const end = nowSeconds() - 1;
    // WHEN the demand of one trace is queried at step 1 s
    const out = await source.queryRange({
      query: 'elasticai_trace_demand{trace="nasa"}',
      start: Math.floor(replayer.t0 / 1000) - 3,
      end,
      stepSeconds: 1,
    });
    // THEN every second from the first scrape to the end has exactly the row the replayer served then
    const first = out.timestamps[0] as number;
    assert.ok(
      first >= Math.floor(firstServed / 1000) && first <= Math.ceil(firstServed / 1000),
      `first point ${first}, first scrape ${firstServed / 1000}`,
    );
    assertContiguous(out, first, end, 1);
    assert.ok(out.timestamps.length >= 6, `${out.timestamps.length} points`);
    assertReplayed(out, ['nasa']);
    // the values are the trace's own requests per minute (rows 600+ of the NASA file)
    assert.ok(out.values.every((v) => Number.isInteger(v) && v >= 0));
    assert.ok(new Set(out.values).size > 1, 'the trace moves');
  });

  it('keeps to a coarser step grid', async () => {
    const end = nowSeconds() - 1;
    const start = Math.floor(replayer.t0 / 1000) - 2;
    const out = await source.queryRange({
      query: 'elasticai_trace_demand{trace="nasa"}',
      start,
      end,
      stepSeconds: 2,
    });
    assert.ok(out.timestamps.length >= 3);
    assert.ok(out.timestamps.every((t) => (t - start) % 2 === 0 && t <= end));
    assertContiguous(out, out.timestamps[0] as number, out.timestamps.at(-1) as number, 2);
    assertReplayed(out, ['nasa']);
  });

  it('sums several series per timestamp, like PromQL sum()', async () => {
    // GIVEN two series (two traces) matched by one selector
    const q = { start: Math.floor(replayer.t0 / 1000), end: nowSeconds() - 1, stepSeconds: 1 };
    // WHEN queried without sum()
    const summed = await source.queryRange({
      ...q,
      query: 'elasticai_trace_demand{trace=~"nasa|nasa-august"}',
    });
    // THEN each point is the sum of both replayed rows, and equals Prometheus's own sum()
    assert.ok(summed.timestamps.length >= 6);
    assertReplayed(summed, ['nasa', 'nasa-august']);
    const bySum = await source.queryRange({
      ...q,
      query: 'sum(elasticai_trace_demand{trace=~"nasa|nasa-august"})',
    });
    assert.deepEqual(summed, bySum);
  });

  it('passes NaN and ±Inf samples through as broken-signal points', async () => {
    const out = await source.queryRange({
      query: 'elasticai_trace_demand{trace="broken"}',
      start: Math.floor(replayer.t0 / 1000),
      end: nowSeconds() - 1,
      stepSeconds: 1,
    });
    assert.ok(out.timestamps.length >= 6);
    assertReplayed(out, ['broken']);
    // four consecutive rows cycle through all four kinds
    const kinds = new Set(out.values.map((v) => (Number.isNaN(v) ? 'NaN' : String(v))));
    assert.deepEqual([...kinds].sort(), ['-Infinity', '7', 'Infinity', 'NaN']);
  });

  it('splits a range into chunks when asked to, with the same result', async () => {
    // GIVEN a fetch that records each request's range
    const ranges: [number, number][] = [];
    const recording: typeof fetch = (input, init) => {
      const form = new URLSearchParams(String(init?.body));
      ranges.push([Number(form.get('start')), Number(form.get('end'))]);
      return fetch(input, init);
    };
    const q = {
      query: 'elasticai_trace_demand{trace="nasa"}',
      start: Math.floor(replayer.t0 / 1000),
      end: nowSeconds() - 1,
      stepSeconds: 1,
    };
    // WHEN the range is fetched 3 points at a time
    const chunked = await sourceWith({ fetch: recording, maxPointsPerRequest: 3 }).queryRange(q);
    // THEN the requests tile the range and the concatenation equals one query
    const points = q.end - q.start + 1;
    assert.equal(ranges.length, Math.ceil(points / 3));
    ranges.forEach(([s, e], i) => {
      assert.equal(s, q.start + 3 * i);
      assert.equal(e, Math.min(q.end, s + 2));
    });
    assert.deepEqual(chunked, await source.queryRange(q));
  });

  it('queries a range longer than Prometheus accepts in one request', async () => {
    // GIVEN four hours at step 1 s (14,401 points): Prometheus refuses it in one request
    const end = nowSeconds() - 1;
    const start = end - 4 * 3600;
    const body = new URLSearchParams({
      query: 'elasticai_trace_demand{trace="nasa"}',
      start: `${start}`,
      end: `${end}`,
      step: '1',
    });
    const raw = await fetch(`${prometheus.url}/api/v1/query_range`, { method: 'POST', body });
    assert.equal(raw.status, 400);
    assert.match(
      ((await raw.json()) as { error: string }).error,
      /exceeded maximum resolution of 11,000 points/,
    );
    // WHEN the source is asked for it
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const out = await sourceWith({ fetch: counting }).queryRange({
      query: 'elasticai_trace_demand{trace="nasa"}',
      start,
      end,
      stepSeconds: 1,
    });
    // THEN two requests (11,000 + 3,401 points) give the recent replayed values; older steps are gaps
    assert.equal(requests, 2);
    assert.ok(out.timestamps.length >= 6 && out.timestamps.length < 600);
    assertContiguous(out, out.timestamps[0] as number, end, 1);
    assertReplayed(out, ['nasa']);
  });

  it('is unreachable while Prometheus is down and serves the stored data after a restart', async () => {
    // GIVEN what Prometheus returned before an outage
    const start = Math.floor(replayer.t0 / 1000);
    const beforeEnd = nowSeconds() - 1;
    const q = { query: 'elasticai_trace_demand{trace="nasa"}', start, end: beforeEnd, stepSeconds: 1 };
    const before = await source.queryRange(q);
    assert.ok(before.timestamps.length >= 6);
    // WHEN Prometheus is killed (no shutdown, no flush)
    await prometheus.kill();
    const killedAt = Date.now();
    // THEN queries fail fast as unreachable
    await assert.rejects(source.queryRange(q), (e: unknown) => {
      assert.ok(e instanceof SourceError);
      assert.equal(e.kind, 'unreachable');
      assert.match(e.message, /ECONNREFUSED/);
      return true;
    });
    // (long before the 5 s timeout; the bound leaves a loaded CI machine room)
    assert.ok(Date.now() - killedAt < 2500);
    // WHEN it restarts on the same data folder
    await sleep(1500);
    const restartedAt = Date.now();
    await prometheus.restart();
    // THEN the samples written before the kill are all there (recovered from the WAL)
    assert.deepEqual(await source.queryRange(q), before);
    // AND once it scrapes again, new points are the replayed values again
    await prometheus.waitForScrape();
    const scrapedAgainAt = Date.now();
    await sleep(3 * ROW_MS);
    const end = nowSeconds() - 1;
    const after = await source.queryRange({ ...q, end });
    assertContiguous(after, before.timestamps[0] as number, end, 1);
    const fresh = after.timestamps
      .map((t, i) => [t, after.values[i]] as const)
      .filter(([t]) => t * 1000 >= scrapedAgainAt);
    assert.ok(fresh.length >= 1);
    for (const [t, v] of fresh) assert.equal(v, replayer.rowAt(t * 1000)?.demand, `value at ${t}`);
    // AND the outage is not a gap: within the lookback window (5 min) every grid point takes the last
    // sample before the kill, so the outage reads as a flat line
    const outage = after.timestamps
      .map((t, i) => [t, after.values[i]] as const)
      .filter(([t]) => t * 1000 > killedAt && t * 1000 < restartedAt);
    assert.ok(outage.length >= 1, 'the outage spans at least one grid point');
    assert.equal(new Set(outage.map(([, v]) => v)).size, 1);
  });
});
