import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EventStore } from '../../../../runtime/service/history/event-store.js';
import { createApiServer } from '../../../../runtime/service/http/api-server.js';
import { RuntimeMetrics } from '../../../../runtime/service/metrics.js';
import { deps, logSink, secretFile, sign } from './support.js';

const SECRET = 'whsec-3f9a1c0de2b74d8e';
const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z
const json = { 'content-type': 'application/json' };

interface ErrorBody {
  error: { code: string; message: string };
}

async function server(
  extra: { secret?: string | null; clock?: () => number; hasRoomFor?: (bytes: number) => boolean } = {},
) {
  const metrics = new RuntimeMetrics({ defaultMetrics: false });
  const clock = extra.clock ?? (() => NOW * 1000);
  const events = new EventStore({
    clock,
    metrics,
    ...(extra.hasRoomFor && { hasRoomFor: extra.hasRoomFor }),
  });
  const path = extra.secret === null ? undefined : secretFile(extra.secret ?? SECRET);
  const sink = logSink();
  const d = await deps({
    metrics,
    events,
    clock,
    logger: { level: 'info', stream: sink.stream },
    config: path === undefined ? {} : { webhookSecretFile: path },
  });
  return { app: createApiServer(d), events, metrics, path, lines: sink.lines };
}

/** Headers of a delivery to `stream` (default `orders`). */
function signed(body: string, timestamp = NOW, secret = SECRET, stream = 'orders'): Record<string, string> {
  return {
    ...json,
    'x-elasticai-timestamp': String(timestamp),
    'x-elasticai-signature': sign(secret, timestamp, stream, body),
  };
}

const query = (stream: string, start: number, end: number, stepSeconds = 60) => ({
  query: stream,
  start,
  end,
  stepSeconds,
});

describe('POST /api/v1/events/<stream>', () => {
  it('accepts a signed batch (202) and the events show up in the webhook history source', async () => {
    // GIVEN a server with a webhook secret
    const { app, events, metrics, lines } = await server();
    const t0 = NOW - 180; // three whole minutes before now, on the minute grid
    assert.deepEqual(await events.queryRange(query('team-a/checkout', t0, t0 + 120)), {
      timestamps: [],
      values: [],
    });
    // WHEN a sender posts per-second counts for two minutes and a heartbeat at the end of the third
    const body = JSON.stringify({
      events: [
        { timestamp: t0 + 1, count: 5 },
        { timestamp: t0 + 59, count: 7 },
        { timestamp: t0 + 60, count: 3 },
        { timestamp: t0 + 179, count: 0 },
      ],
    });
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/events/team-a/checkout',
      headers: signed(body, NOW, SECRET, 'team-a/checkout'),
      payload: body,
    });
    // THEN 202 with the count stored
    assert.equal(res.statusCode, 202);
    assert.deepEqual(res.json(), { stream: 'team-a/checkout', accepted: 4, tooOld: 0, duplicate: false });
    // AND the source sums per minute, the quiet third minute is demand 0 (not a gap)
    assert.deepEqual(await events.queryRange(query('team-a/checkout', t0, t0 + 120)), {
      timestamps: [t0, t0 + 60, t0 + 120],
      values: [12, 3, 0],
    });
    // AND the events are counted in the metrics, and the delivery is logged
    assert.match(
      await metrics.registry.metrics(),
      /elasticai_webhook_events_total\{stream="team-a\/checkout"\} 15/,
    );
    assert.ok(
      lines.some((l) => l.audit === 'webhook-events' && l.stream === 'team-a/checkout' && l.accepted === 4),
    );
  });

  it('refuses a batch whose buckets would not fit in memory (503), storing none of it, and takes it when sent again', async () => {
    // GIVEN a memory guard with room for 2 KiB of new arrays, asked with the bytes the arrays would take
    const asked: number[] = [];
    let room = 2048;
    const { app, events } = await server({ hasRoomFor: (bytes) => (asked.push(bytes), bytes <= room) });
    const batch = (from: number, n: number) =>
      JSON.stringify({ events: Array.from({ length: n }, (_, k) => ({ timestamp: from + k, count: 1 })) });
    const post = (body: string) =>
      app.inject({ method: 'POST', url: '/api/v1/events/orders', headers: signed(body), payload: body });
    // WHEN a first batch of 64 events fits a new stream's arrays (64 buckets, 1 KiB)
    const first = await post(batch(NOW - 600, 64));
    assert.equal(first.statusCode, 202);
    // AND a second of 100 would grow them to 256 buckets (4 KiB) while only 2 KiB fit
    const big = batch(NOW - 500, 100);
    const refused = await post(big);
    // THEN 503 with Retry-After and a message naming the stream, and none of the 100 events is stored
    assert.equal(refused.statusCode, 503);
    assert.equal(refused.headers['retry-after'], '30');
    assert.equal(refused.json<ErrorBody>().error.code, 'no-memory');
    assert.match(refused.json<ErrorBody>().error.message, /events for orders: nothing was stored/);
    assert.deepEqual(asked, [1024, 4096]);
    assert.equal(events.bucketCount, 64);
    // WHEN memory is freed and the same delivery is sent again (not taken for a duplicate)
    room = 8192;
    const again = await post(big);
    // THEN all of it is stored, once
    assert.equal(again.statusCode, 202);
    assert.deepEqual(again.json(), { stream: 'orders', accepted: 100, tooOld: 0, duplicate: false });
    assert.equal(events.bucketCount, 164);
  });

  it('counts a repeated delivery once', async () => {
    const { app, events } = await server();
    const body = JSON.stringify({
      events: [
        { timestamp: NOW - 120, count: 10 },
        { timestamp: NOW - 1, count: 0 },
      ],
    });
    const first = await app.inject({
      method: 'POST',
      url: '/api/v1/events/orders',
      headers: signed(body),
      payload: body,
    });
    const again = await app.inject({
      method: 'POST',
      url: '/api/v1/events/orders',
      headers: signed(body),
      payload: body,
    });
    assert.equal(first.statusCode, 202);
    assert.equal(again.statusCode, 202);
    assert.deepEqual(again.json(), { stream: 'orders', accepted: 0, tooOld: 0, duplicate: true });
    assert.deepEqual((await events.queryRange(query('orders', NOW - 120, NOW - 120))).values, [10]);
  });

  it('signs the stream: a delivery replayed to another stream is refused, not counted as a duplicate', async () => {
    // GIVEN a delivery accepted for stream-one
    const { app, events } = await server();
    const body = JSON.stringify({
      events: [
        { timestamp: NOW - 120, count: 7 },
        { timestamp: NOW - 1, count: 0 }, // the watermark: that minute is complete
      ],
    });
    const headers = signed(body, NOW, SECRET, 'shop/stream-one');
    const first = await app.inject({
      method: 'POST',
      url: '/api/v1/events/shop/stream-one',
      headers,
      payload: body,
    });
    assert.equal(first.statusCode, 202);
    // WHEN the same headers and body are posted to stream-two (a captured request, or a sender's mix-up)
    const replayed = await app.inject({
      method: 'POST',
      url: '/api/v1/events/shop/stream-two',
      headers,
      payload: body,
    });
    // THEN it is refused as a bad signature, and stream-two holds nothing
    assert.equal(replayed.statusCode, 401);
    assert.equal(replayed.json<ErrorBody>().error.code, 'bad-signature');
    assert.match(replayed.json<ErrorBody>().error.message, /timestamp, stream and body/);
    assert.deepEqual((await events.queryRange(query('shop/stream-two', NOW - 120, NOW - 120))).values, []);
    // AND the same events signed for stream-two are stored there, not taken for a duplicate
    const own = await app.inject({
      method: 'POST',
      url: '/api/v1/events/shop/stream-two',
      headers: signed(body, NOW, SECRET, 'shop/stream-two'),
      payload: body,
    });
    assert.deepEqual(own.json(), { stream: 'shop/stream-two', accepted: 2, tooOld: 0, duplicate: false });
    assert.deepEqual((await events.queryRange(query('shop/stream-two', NOW - 120, NOW - 120))).values, [7]);
  });

  it('refuses a wrong, missing or malformed signature and a stale or future timestamp (401)', async () => {
    const { app, events } = await server();
    const body = JSON.stringify({ events: [{ timestamp: NOW - 10, count: 1 }] });
    const cases: [Record<string, string>, string, RegExp][] = [
      [signed(body, NOW, 'another-secret'), 'bad-signature', /does not match/],
      [
        { ...signed(body), 'x-elasticai-signature': sign(SECRET, NOW, 'orders', body + ' ') },
        'bad-signature',
        /does not match/,
      ],
      [{ ...signed(body), 'x-elasticai-timestamp': String(NOW + 1) }, 'bad-signature', /does not match/],
      [{ ...signed(body), 'x-elasticai-signature': 'md5=abc' }, 'bad-signature', /sha256=<64 hex digits>/],
      [
        { ...json, 'x-elasticai-timestamp': String(NOW) },
        'missing-signature',
        /X-ElasticAI-Signature: required/,
      ],
      [
        { ...json, 'x-elasticai-signature': sign(SECRET, NOW, 'orders', body) },
        'missing-timestamp',
        /X-ElasticAI-Timestamp: required/,
      ],
      [signed(body, NOW - 301), 'stale-timestamp', /301 s old; must be within 300 s/],
      [signed(body, NOW + 400), 'stale-timestamp', /400 s in the future/],
    ];
    for (const [headers, code, message] of cases) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/events/orders', headers, payload: body });
      assert.equal(res.statusCode, 401, code);
      const error = res.json<ErrorBody>().error;
      assert.equal(error.code, code);
      assert.match(error.message, message);
    }
    // nothing was stored, and within the window a correct signature verifies
    assert.equal(events.streamCount, 0);
    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/events/orders',
      headers: signed(body, NOW - 299),
      payload: body,
    });
    assert.equal(ok.statusCode, 202);
  });

  it('checks the body only after the signature, naming the bad field (400)', async () => {
    const { app } = await server();
    const cases: [unknown, string][] = [
      [{ events: [{ timestamp: NOW, count: -1 }] }, 'events[0].count: must be a finite number ≥ 0'],
      [
        {
          events: [
            { timestamp: NOW, count: 1 },
            { timestamp: 'now', count: 1 },
          ],
        },
        'events[1].timestamp: must be epoch seconds (an integer ≥ 0)',
      ],
      [{ events: [{ timestamp: NOW, count: 1, source: 'x' }] }, 'events[0].source: unknown field'],
      [{ events: [] }, 'events: must be an array of 1 to 10000 events {"timestamp", "count"}'],
      [{ event: [] }, 'events: is required; event: unknown field'],
      [
        { events: [{ timestamp: NOW + 301, count: 1 }] },
        `events[0].timestamp: ${NOW + 301} is more than 300 s in the future`,
      ],
    ];
    for (const [payload, message] of cases) {
      const body = JSON.stringify(payload);
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/events/orders',
        headers: signed(body),
        payload: body,
      });
      assert.equal(res.statusCode, 400, body);
      assert.deepEqual(res.json(), { error: { code: 'invalid-body', message } }, body);
    }
    const body = JSON.stringify({ events: [{ timestamp: NOW, count: 1 }] });
    const stream = await app.inject({
      method: 'POST',
      url: '/api/v1/events/bad%20stream',
      headers: signed(body, NOW, SECRET, 'bad stream'),
      payload: body,
    });
    assert.equal(stream.statusCode, 400);
    assert.match(stream.json<ErrorBody>().error.message, /^stream: must be 1–253 letters/);
  });

  it('refuses more events than the body limit holds (413) and bodies that are not JSON (415)', async () => {
    const { app } = await server();
    const many = JSON.stringify({
      events: Array.from({ length: 400 }, (_, i) => ({ timestamp: NOW - i, count: 1 })),
    });
    const big = await app.inject({
      method: 'POST',
      url: '/api/v1/events/orders',
      headers: signed(many),
      payload: many,
    });
    assert.equal(big.statusCode, 413);
    const form = await app.inject({
      method: 'POST',
      url: '/api/v1/events/orders',
      headers: { ...signed('a=1'), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=1',
    });
    assert.equal(form.statusCode, 415);
  });

  it('picks up a rotated secret and refuses the old one', async () => {
    let now = NOW * 1000;
    const { app, path } = await server({ clock: () => now });
    const body = JSON.stringify({ events: [{ timestamp: NOW, count: 1 }] });
    assert.equal(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/events/s',
          headers: signed(body, NOW, SECRET, 's'),
          payload: body,
        })
      ).statusCode,
      202,
    );
    writeFileSync(path as string, 'rotated-secret\n');
    now += 31_000; // the file is re-read after 30 s
    const t = NOW + 31;
    const old = await app.inject({
      method: 'POST',
      url: '/api/v1/events/s',
      headers: signed(body, t, SECRET, 's'),
      payload: body,
    });
    assert.equal(old.statusCode, 401);
    const fresh = await app.inject({
      method: 'POST',
      url: '/api/v1/events/s',
      headers: signed(body, t, 'rotated-secret', 's'),
      payload: body,
    });
    assert.equal(fresh.statusCode, 202);
    rmSync(path as string);
  });

  it('is disabled (404) without a secret file', async () => {
    const { app } = await server({ secret: null });
    const body = JSON.stringify({ events: [{ timestamp: NOW, count: 1 }] });
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/events/orders',
      headers: signed(body),
      payload: body,
    });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), {
      error: {
        code: 'webhook-disabled',
        message: 'the event webhook is disabled: no webhook secret is configured',
      },
    });
  });

  it('will not start with a secret but no event store', async () => {
    const d = await deps({ config: { webhookSecretFile: secretFile(SECRET) } });
    assert.throws(() => createApiServer(d), /webhookSecretFile is set but no EventStore/);
  });
});
