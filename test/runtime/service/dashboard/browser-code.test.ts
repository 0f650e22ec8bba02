/**
 * The dashboard script's pure parts, run in Node: the event-stream parser (chunk boundaries, line ends,
 * comments, retry), the chart geometry (scales, gaps, band, replica steps, anomaly marks, ticks) and its
 * text alternative, and the texts people read (numbers, times, failures, overrides).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  failureText,
  overrideText,
  prescaleText,
  ruleText,
} from '../../../../runtime/service/dashboard/browser/app.js';
import type { ChartData } from '../../../../runtime/service/dashboard/browser/chart.js';
import {
  chartModel,
  chartSummary,
  niceStep,
  timeTicks,
  valueTicks,
} from '../../../../runtime/service/dashboard/browser/chart.js';
import {
  formatBytes,
  formatCores,
  formatDuration,
  formatNumber,
  formatTime,
} from '../../../../runtime/service/dashboard/browser/format.js';
import { parseEventStream } from '../../../../runtime/service/dashboard/browser/sse.js';

describe('parseEventStream', () => {
  it('parses complete events, joins data lines, ignores comments and keeps the incomplete rest', () => {
    const text =
      'retry: 2500\nevent: hello\ndata: {"a":1}\n\n: ping\n\ndata: one\ndata: two\n\nevent: decision\ndata: {"x"';
    const parsed = parseEventStream(text);
    assert.deepEqual(parsed.events, [
      { event: 'hello', data: '{"a":1}' },
      { event: 'message', data: 'one\ntwo' },
    ]);
    assert.equal(parsed.retryMs, 2500);
    assert.equal(parsed.rest, 'event: decision\ndata: {"x"');
    // the rest completes with the next chunk
    const next = parseEventStream(`${parsed.rest}:1}\n\n`);
    assert.deepEqual(next.events, [{ event: 'decision', data: '{"x":1}' }]);
    assert.equal(next.rest, '');
  });

  it('gives the same events however the text is cut into chunks, with CRLF, CR or LF line ends', () => {
    const frames = [
      'event: decision\r\ndata: {"n":1}\r\n\r\n',
      'event: decision\rdata: {"n":2}\r\r',
      ': ping\n\n',
      'data:no-space\n\n',
    ];
    const whole = frames.join('');
    const expected = parseEventStream(whole).events;
    assert.equal(expected.length, 3);
    assert.deepEqual(expected[2], { event: 'message', data: 'no-space' });
    for (let cut = 1; cut < whole.length; cut++) {
      const first = parseEventStream(whole.slice(0, cut));
      const second = parseEventStream(first.rest + whole.slice(cut));
      assert.deepEqual([...first.events, ...second.events], expected, `cut at ${cut}`);
    }
  });

  it('does not dispatch an event without data, and ignores unknown fields and bad retry values', () => {
    const parsed = parseEventStream('event: empty\n\nid: 7\nfoo: bar\nretry: soon\ndata: x\n\n');
    assert.deepEqual(parsed.events, [{ event: 'message', data: 'x' }]);
    assert.equal(parsed.retryMs, undefined);
  });
});

/** Five points a minute apart with a gap at index 2. */
const DATA: ChartData = {
  timestamps: [0, 60, 120, 180, 240].map((t) => 1_000_000 * 60 + t),
  demand: [10, 20, null, 40, 0],
  forecast: [12, 22, null, 38, 30],
  upper: [15, 30, null, 45, 35],
  replicas: [1, 2, null, 3, 3],
  anomalies: [
    { timestamp: 60_000_240, state: 'drop-to-zero', score: 1 },
    { timestamp: 1, state: 'surge', score: 0.99 }, // outside the window
  ],
};

describe('chartModel', () => {
  it('maps values to a scale from 0 to a round top, and time across the plot', () => {
    const m = chartModel(DATA, 500, 200);
    // demand: two runs (the gap splits the line), one vertex per value
    assert.equal(m.demand.length, 2);
    assert.equal(m.points, 4);
    const vertices = m.demand.flatMap((p) => p.split(' ').map((xy) => xy.split(',').map(Number)));
    // x: first at the left edge, last at the right edge, evenly spaced
    assert.deepEqual(
      vertices.map((v) => v[0]),
      [56, 155, 353, 452],
    );
    // y: the axis top is 50 (upper peaks at 45), so demand 20 is at 40% of the height above the bottom
    const { top, bottom } = m.plot;
    assert.equal(vertices[1]?.[1], Math.round((bottom - 0.4 * (bottom - top)) * 10) / 10);
    assert.equal(vertices[3]?.[1], bottom, 'zero sits on the axis');
    assert.deepEqual(
      m.yTicks.map((t) => t.label),
      ['0', '10', '20', '30', '40', '50'],
    );
  });

  it('draws the band between forecast and upper per run, and replicas as steps on their own axis', () => {
    const m = chartModel(DATA, 500, 200);
    assert.equal(m.band.length, 2);
    assert.equal(m.band[0]?.split(' ').length, 4); // two points: upper forward, forecast back
    assert.equal(m.band[1]?.split(' ').length, 4);
    assert.equal(m.replicas.length, 2);
    assert.match(m.replicas[1] as string, /^M353,[\d.]+H452V[\d.]+$/);
    assert.deepEqual(
      m.replicaTicks.map((t) => t.label),
      ['0', '1', '2', '3'],
    );
  });

  it('marks anomalies inside the window at their demand (on the axis when it is missing)', () => {
    const m = chartModel(DATA, 500, 200);
    assert.equal(m.anomalies.length, 1);
    assert.equal(m.anomalies[0]?.x, 452);
    assert.equal(m.anomalies[0]?.y, m.plot.bottom);
    assert.match(m.anomalies[0]?.label ?? '', /^Anomaly at .*: drop-to-zero, score 1\.00, demand 0$/);
  });

  it('handles an empty chart and picks round ticks', () => {
    const empty = chartModel(
      { timestamps: [], demand: [], forecast: [], upper: [], replicas: [], anomalies: [] },
      500,
      200,
    );
    assert.deepEqual([empty.demand, empty.band, empty.xTicks], [[], [], []]);
    assert.equal(niceStep(182, 5), 50);
    assert.equal(niceStep(0.3, 5), 0.1);
    assert.deepEqual(valueTicks(12, 5), { top: 15, ticks: [0, 5, 10, 15] });
    // six hours of minutes: one tick per hour
    const start = Date.UTC(1995, 6, 5, 15, 2) / 1000;
    const ticks = timeTicks(start, start + 359 * 60, 6);
    assert.deepEqual(
      ticks.map((t) => new Date(t * 1000).toISOString().slice(11, 16)),
      ['16:00', '17:00', '18:00', '19:00', '20:00', '21:00'],
    );
  });
});

describe('chartSummary and the texts people read', () => {
  it('says what the chart shows', () => {
    const text = chartSummary(DATA, 120);
    assert.equal(
      text,
      '5 points from 1971-11-26 10:40 UTC to 1971-11-26 10:44 UTC. Demand: latest 0, lowest 0, highest 40. ' +
        'Forecast peak over the next 2 min: latest 30, upper band 35. Desired replicas: latest 3, between 1 and 3. ' +
        '1 anomaly marked: 1971-11-26 10:44 UTC (drop-to-zero).',
    );
    assert.match(chartSummary({ ...DATA, timestamps: [] }, 120), /^No chart data yet/);
  });

  it('formats numbers, times, durations and resources', () => {
    assert.equal(formatNumber(12), '12');
    assert.equal(formatNumber(91.84), '91.8');
    assert.equal(formatNumber(0.234), '0.23');
    assert.equal(formatNumber(null), '—');
    assert.equal(formatNumber(Number.NaN), '—');
    assert.equal(formatTime(Date.UTC(1995, 6, 5, 17, 32) / 1000), '1995-07-05 17:32 UTC');
    assert.equal(formatTime(Date.UTC(1995, 6, 5, 17, 32, 5) / 1000), '1995-07-05 17:32:05 UTC');
    assert.equal(formatDuration(45), '45 s');
    assert.equal(formatDuration(7200), '2 h');
    assert.equal(formatDuration(5400), '1 h 30 min');
    assert.equal(formatDuration(14 * 86_400), '14 d');
    assert.equal(formatCores(0.25), '250m');
    assert.equal(formatCores(2), '2');
    assert.equal(formatBytes(512 * 1024 * 1024), '512Mi');
    assert.equal(formatBytes(1.5 * 1024 ** 3), '1.5Gi');
  });

  it('says why a pre-scale was scaled back, and nothing while it is trusted in full', () => {
    assert.equal(
      prescaleText({ prescaleTrust: 0.47, prescaleNeededShare: 0.14 }),
      '; pre-scale scaled to 47%: 14% of recent pre-scaled replicas were needed',
    );
    assert.equal(prescaleText({ prescaleTrust: 1, prescaleNeededShare: 0.6 }), '');
    // NaN arrives as null; an older runtime sends no trust at all.
    assert.equal(prescaleText({ prescaleTrust: 1, prescaleNeededShare: null as unknown as number }), '');
    assert.equal(prescaleText({} as never), '');
  });

  it('says what a failed answer means and what to do', () => {
    assert.match(failureText({ status: 0, body: undefined }), /did not answer/);
    assert.equal(
      failureText({
        status: 401,
        body: { error: { code: 'unauthorized', message: 'Authorization: required' } },
      }),
      'Not authenticated (401): Authorization: required. Enter an API key or Kubernetes token under “Access token”.',
    );
    assert.match(
      failureText({ status: 403, body: { error: { code: 'forbidden', message: 'bob may not patch x' } } }),
      /^Not allowed \(403\): bob may not patch x\./,
    );
    assert.equal(
      failureText({
        status: 503,
        body: { error: { code: 'overrides-unavailable', message: 'no Kubernetes API' } },
      }),
      'The runtime refused (503 overrides-unavailable): no Kubernetes API',
    );
    assert.equal(overrideText(undefined), 'unknown');
    assert.equal(overrideText(null), 'none');
    assert.equal(overrideText({ replicas: 3, by: 'alice' }), '3 replicas until cleared, by alice');
    assert.equal(
      overrideText({ replicas: 12, expiresAt: '1995-07-05T23:02:00.000Z' }),
      '12 replicas until 1995-07-05 23:02 UTC',
    );
    assert.match(ruleText('scale-down-stabilization'), /damped/);
  });
});
