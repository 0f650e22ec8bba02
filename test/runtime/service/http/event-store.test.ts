import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventStore } from '../../../../runtime/service/history/event-store.js';
import { SourceError } from '../../../../runtime/service/history/history-source.js';
import { RuntimeMetrics } from '../../../../runtime/service/metrics.js';
import { WorkloadRegistry } from '../../../../runtime/service/workload-registry.js';
import { parseWorkloadSpec } from '../../../../runtime/service/workload-spec.js';
import { readEventLog } from '../../../../runtime/simulation/trace.js';
import { join } from 'node:path';
import { SHARED_DIR } from '../../../support/paths.js';

const T = 1_767_225_600; // a minute boundary (2026-01-01T00:00:00Z)
const at = (seconds: number) => () => seconds * 1000;

describe('EventStore', () => {
  it('sums per step [t, t+step), with 0 for quiet steps between the first event and the watermark', async () => {
    // GIVEN events at three seconds and a heartbeat later
    const store = new EventStore({ clock: at(T + 3600) });
    store.add('s', T + 0, 2);
    store.add('s', T + 59.9, 3); // fractions fall in their second
    store.add('s', T + 60, 1);
    store.add('s', T + 300, 4);
    store.add('s', T + 479, 0); // heartbeat: moves the watermark only
    // WHEN querying a range that starts before the first event and ends after the watermark
    const series = await store.queryRange({ query: 's', start: T - 120, end: T + 600, stepSeconds: 60 });
    // THEN steps before the first event are absent, quiet steps are 0, incomplete ones are absent
    assert.deepEqual(series.timestamps, [T, T + 60, T + 120, T + 180, T + 240, T + 300, T + 360, T + 420]);
    assert.deepEqual(series.values, [5, 1, 0, 0, 0, 4, 0, 0]);
  });

  it('does not return a step until its whole interval is in: a late event still counts', async () => {
    const store = new EventStore({ clock: at(T + 3600) });
    store.add('s', T + 10, 1);
    store.add('s', T + 30, 1);
    const q = { query: 's', start: T, end: T + 60, stepSeconds: 60 };
    assert.deepEqual(await store.queryRange(q), { timestamps: [], values: [] });
    store.add('s', T + 59, 1);
    assert.deepEqual(await store.queryRange(q), { timestamps: [T], values: [3] });
    // an out-of-order event for an earlier second is added where it belongs
    store.add('s', T + 5, 10);
    store.add('s', T + 30, 1);
    assert.deepEqual((await store.queryRange(q)).values, [14]);
  });

  it('drops buckets past the retention, refuses events older than it, and never returns a partial step', async () => {
    let now = T + 1000;
    const store = new EventStore({ clock: () => now * 1000, retentionSeconds: 600 });
    for (let s = T + 400; s < T + 1000; s++) store.add('s', s, 1);
    assert.equal(store.add('s', T + 399, 1), 'too-old');
    assert.equal(store.bucketCount, 600);
    // WHEN the clock moves 90 s on and another event arrives
    now += 90;
    store.add('s', T + 1089, 1);
    // THEN 90 old buckets are gone, and the step holding the cut is not returned
    assert.equal(store.bucketCount, 511);
    const series = await store.queryRange({ query: 's', start: T + 360, end: T + 1080, stepSeconds: 60 });
    assert.equal(series.timestamps[0], T + 540);
    assert.deepEqual(series.values.slice(0, 8), [60, 60, 60, 60, 60, 60, 60, 40]);
  });

  it('keeps at most maxStreams streams, evicting the one idle longest, and its metric series', async () => {
    const metrics = new RuntimeMetrics({ defaultMetrics: false });
    const store = new EventStore({ clock: at(T + 100), maxStreams: 2, metrics });
    store.add('a', T + 10, 1);
    store.add('b', T + 5, 1);
    store.add('a', T + 20, 1);
    store.add('c', T + 30, 1); // b's newest second is the oldest
    assert.equal(store.streamCount, 2);
    assert.deepEqual(await store.queryRange({ query: 'b', start: T, end: T + 60, stepSeconds: 1 }), {
      timestamps: [],
      values: [],
    });
    const text = await metrics.registry.metrics();
    assert.match(text, /elasticai_webhook_events_total\{stream="a"\} 2/);
    assert.doesNotMatch(text, /stream="b"/);
  });

  it('keeps at most maxBuckets over all streams, dropping the globally oldest', async () => {
    const store = new EventStore({ clock: at(T + 10_000), maxBuckets: 100 });
    for (let s = 0; s < 80; s++) store.add('old', T + s, 1);
    for (let s = 0; s < 80; s++) store.add('new', T + 1000 + s, 1);
    assert.ok(store.bucketCount <= 100, `${store.bucketCount} buckets`);
    // the newer stream is whole; the older one lost its oldest seconds
    const fresh = await store.queryRange({ query: 'new', start: T + 1000, end: T + 1079, stepSeconds: 1 });
    assert.equal(fresh.values.length, 80);
    const old = await store.queryRange({ query: 'old', start: T, end: T + 79, stepSeconds: 1 });
    assert.ok(old.timestamps.length > 0 && old.timestamps.length < 80);
    assert.equal(old.timestamps.at(-1), T + 79);
    assert.ok(
      old.values.every((v) => v === 1),
      'no partial steps',
    );
    assert.ok(store.bytes > 0);
  });

  it('gives memory back when a stream shrinks: arrays a quarter full are halved, the data kept', async () => {
    // GIVEN a stream of 10,000 one-second buckets (arrays of 16,384: 256 KiB) and a 12,000 s retention
    let now = T + 10_000;
    const store = new EventStore({ clock: () => now * 1000, retentionSeconds: 12_000 });
    for (let k = 0; k < 10_000; k++) store.add('s', T + k, 1 + (k % 7));
    assert.equal(store.bytes, 16 * 16_384);
    // WHEN the clock moves so that only the newest 500 seconds are within the retention
    now = T + 21_500;
    store.add('s', T + 10_000 + 3000, 2);
    // THEN the arrays shrank to a quarter-full size or less, and every kept bucket is intact
    assert.equal(store.bucketCount, 501);
    assert.ok(store.bytes <= 16 * 2048, `${store.bytes} bytes`);
    const kept = await store.queryRange({ query: 's', start: T + 9500, end: T + 9999, stepSeconds: 1 });
    assert.deepEqual(
      kept.values,
      Array.from({ length: 500 }, (_, i) => 1 + ((9500 + i) % 7)),
    );
    // AND it grows again as events come
    for (let k = 1; k <= 3000; k++) store.add('s', T + 13_000 + k, 1);
    assert.equal(store.bucketCount, 3501);
  });

  it('rejects bad input and bad ranges', async () => {
    const store = new EventStore({ clock: at(T) });
    assert.throws(() => store.add('a b', T, 1), /stream: must be/);
    assert.throws(() => store.add('a', T, -1), /count: must be a finite number ≥ 0 \(got -1\)/);
    assert.throws(() => store.add('a', Number.NaN, 1), /timestamp: must be epoch seconds/);
    await assert.rejects(store.queryRange({ query: 'a', start: 0, end: 10, stepSeconds: 0 }), SourceError);
    assert.throws(() => new EventStore({ maxStreams: 0 }), /maxStreams: must be an integer ≥ 1 \(got 0\)/);
  });

  it('matches an offline per-minute count of a real request log, and drives a webhook workload', async () => {
    // GIVEN the Azure LLM inference trace (one row per request), replayed as per-second counts
    const path = join(SHARED_DIR, 'traces', 'azure-llm-inference-2023', 'AzureLLMInferenceTrace_code.csv');
    const perSecond = readEventLog(path, 1).rows;
    const perMinute = readEventLog(path, 60).rows;
    const first = (perSecond[0] as { timestamp: number }).timestamp;
    const last = (perSecond[perSecond.length - 1] as { timestamp: number }).timestamp;
    const store = new EventStore({ clock: at(last + 60) });
    for (const r of perSecond) store.add('llm/code', r.timestamp, r.demand);
    // WHEN read per minute over the whole trace
    const start = Math.floor(first / 60) * 60;
    const series = await store.queryRange({ query: 'llm/code', start, end: last, stepSeconds: 60 });
    // THEN every complete minute equals the trace reader's own per-minute count
    const expected = perMinute.filter((r) => r.timestamp + 59 <= last);
    assert.deepEqual(
      series.timestamps,
      expected.map((r) => r.timestamp),
    );
    assert.deepEqual(
      series.values,
      expected.map((r) => r.demand),
    );

    // AND a registry workload on that stream gets a decision from it
    const ref = { namespace: 'llm', name: 'code' };
    const registry = new WorkloadRegistry({
      sources: { webhook: store },
      clock: at(last + 60),
      historySeconds: 86_400,
      settleSeconds: 0,
      refitEpochSeconds: 86_400,
      staleAfterSeconds: 300,
    });
    await registry.register(
      ref,
      parseWorkloadSpec(ref, { source: 'webhook', stream: 'llm/code', capacityPerReplica: '100' }),
    );
    const status = registry.status(ref);
    assert.equal(status?.state, 'fresh');
    assert.equal(status?.decision?.inputs.demand, series.values.at(-1));
  });
});
