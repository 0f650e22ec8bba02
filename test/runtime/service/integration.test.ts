/**
 * The runtime end to end with real parts: a real Prometheus (Debian package) scrapes a replayer serving
 * the NASA HTTP trace (15-minute totals, one row per 500 ms of wall time); the runtime backfills from
 * it and a gRPC client built from the same proto plays KEDA's calls. Then Prometheus is killed and
 * restarted under the runtime.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { replicasFor } from '../../../runtime/engine/policy.js';
import { loadRuntimeConfig } from '../../../runtime/service/config.js';
import type { Runtime } from '../../../runtime/service/runtime.js';
import { startRuntime } from '../../../runtime/service/runtime.js';
import { readTrace } from '../../../runtime/simulation/trace.js';
import type { Trace } from '../../../runtime/simulation/types.js';
import { KedaClient, RUNTIME_SCALER_ADDRESS } from '../../support/keda-client.js';
import { SHARED_DIR } from '../../support/paths.js';
import type { PrometheusServer } from '../../support/prometheus-server.js';
import { startPrometheus } from '../../support/prometheus-server.js';
import type { TraceReplayer } from '../../support/trace-replayer.js';
import { startTraceReplayer } from '../../support/trace-replayer.js';

/** One 15-minute row per 500 ms of wall time: the runtime runs 1,800× faster (ELASTICAI_TIME_SCALE). */
const ROW_MS = 500;
const TIME_SCALE = 900_000 / ROW_MS;
const CAPACITY = 105;
/**
 * Wednesday July 12 1995: a night trough at ~400 requests per 15 min, then a ramp to ~1,900 by late
 * morning. The two days before (Monday and Tuesday) have the same shape: the history to learn it from.
 */
const DAY = 11;
const HISTORY_START = (DAY - 2) * 96;
/**
 * Prometheus starts (with the history backfilled) at this row: night, flat demand, so the ~5 s before
 * its first scrape (read as the last backfilled value by the 5-minute lookback) stay close to the truth.
 */
const PROMETHEUS_START = DAY * 96 + 8;
const RAMP_START = DAY * 96 + 27;
const RAMP_END = DAY * 96 + 50;

function fifteenMinuteTotals(): Trace {
  const minutes = readTrace(
    join(SHARED_DIR, 'traces', 'nasa-http-1995', 'nasa_http_requests_per_minute.csv'),
  );
  const rows = [];
  for (let i = 0; i + 15 <= minutes.rows.length; i += 15) {
    const block = minutes.rows.slice(i, i + 15);
    rows.push({
      timestamp: block[0]?.timestamp ?? 0,
      demand: block.reduce((sum, r) => sum + r.demand, 0),
      line: block[0]?.line ?? 0,
    });
  }
  return { rows, intervalSeconds: 900, source: 'NASA HTTP 1995, 15-minute totals' };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One answer to KEDA's poll during the ramp: when (epoch ms), in which trace row, asked and needed. */
interface RampSample {
  readonly at: number;
  readonly row: number;
  /** The replicas the runtime asked for. */
  readonly served: number;
  /** The replicas the row's demand needed. */
  readonly needed: number;
}

/** When the runtime first asked for `level` replicas or more (+∞ if it never did). */
function firstServed(samples: readonly RampSample[], level: number): number {
  return samples.find((s) => s.served >= level)?.at ?? Number.POSITIVE_INFINITY;
}

/** When a row's demand first needed `level` replicas or more, even for that one row (+∞ if never). */
function firstNeeded(samples: readonly RampSample[], level: number): number {
  return samples.find((s) => s.needed >= level)?.at ?? Number.POSITIVE_INFINITY;
}

/**
 * When demand first needed `level` replicas or more for two consecutive rows: the first sample of the
 * first of them (+∞ if never; the last sampled row has no sampled successor, so it never starts one).
 */
function firstSustainedNeed(samples: readonly RampSample[], level: number): number {
  const neededIn = new Map(samples.map((s) => [s.row, s.needed]));
  return (
    samples.find((s) => s.needed >= level && (neededIn.get(s.row + 1) ?? -Infinity) >= level)?.at ??
    Number.POSITIVE_INFINITY
  );
}

/** For each level low..high, how long (ms) before demand needed it the runtime asked for it. */
function leadsPerLevel(
  samples: readonly RampSample[],
  low: number,
  high: number,
  neededAt: (samples: readonly RampSample[], level: number) => number,
): number[] {
  const leads: number[] = [];
  for (let level = low; level <= high; level++)
    leads.push(neededAt(samples, level) - firstServed(samples, level));
  return leads;
}

/** How far behind a sustained need the runtime may follow: a row to read it, a row of jitter, polling. */
const FOLLOW_TOLERANCE_MS = 2 * ROW_MS + 250;

/** Synthetic samples: 5 polls per row, row i needing `needed[i]` while the runtime asks `served[i]`. */
function syntheticRamp(needed: readonly number[], served: readonly number[]): RampSample[] {
  return needed.flatMap((n, row) =>
    [0, 1, 2, 3, 4].map((k) => ({ at: row * ROW_MS + k * 100, row, served: served[row] ?? 0, needed: n })),
  );
}

describe('the ramp lead measure', () => {
  it('measures following from a need held for two rows, not from a one-row spike', () => {
    // GIVEN a one-row spike to 9 in row 2, then a sustained 8 from row 5, which the runtime serves in row 6
    const samples = syntheticRamp([5, 5, 9, 5, 5, 8, 8, 8, 8], [5, 5, 5, 5, 5, 5, 8, 8, 8]);
    // THEN the spike makes the runtime look four rows late, the sustained need one row late
    assert.deepEqual(leadsPerLevel(samples, 8, 8, firstNeeded), [-4 * ROW_MS]);
    assert.deepEqual(leadsPerLevel(samples, 8, 8, firstSustainedNeed), [-ROW_MS]);
    assert.ok(-ROW_MS > -FOLLOW_TOLERANCE_MS);
    // AND a level only the spike reached was never needed for two rows
    assert.equal(firstSustainedNeed(samples, 9), Number.POSITIVE_INFINITY);
  });

  it('still finds a runtime that follows a sustained need three rows late', () => {
    // GIVEN demand steps to 8 in row 2 and stays; the runtime asks for 8 only from row 5
    const samples = syntheticRamp([5, 5, 8, 8, 8, 8, 8, 8], [5, 5, 5, 5, 5, 8, 8, 8]);
    // THEN it is three rows behind, beyond the tolerance
    const [lead] = leadsPerLevel(samples, 8, 8, firstSustainedNeed);
    assert.equal(lead, -3 * ROW_MS);
    assert.ok((lead ?? 0) < -FOLLOW_TOLERANCE_MS);
  });

  it('needs the second row to be the next one', () => {
    // GIVEN 8 needed in rows 2 and 4 (not consecutive), then in rows 6 and 7
    const samples = syntheticRamp([5, 5, 8, 5, 8, 5, 8, 8], [5, 5, 5, 5, 5, 5, 5, 8]);
    // THEN the sustained need starts in row 6
    assert.equal(firstSustainedNeed(samples, 8), 6 * ROW_MS);
  });
});

const REF = {
  namespace: 'web',
  name: 'nasa',
  scalerMetadata: {
    scalerAddress: RUNTIME_SCALER_ADDRESS,
    query: 'sum(elasticai_trace_demand{trace="nasa"})',
    intervalSeconds: '900',
    capacityPerReplica: String(CAPACITY),
    leadSeconds: '1800',
    scaleDownStabilizationSeconds: '1800',
  },
};

describe('runtime with a real Prometheus and a replayed trace', { timeout: 180_000 }, () => {
  let replayer: TraceReplayer;
  let prometheus: PrometheusServer;
  let runtime: Runtime;
  let keda: KedaClient;
  const trace = fifteenMinuteTotals();
  const keysDir = mkdtempSync(join(tmpdir(), 'elasticai-keys-'));
  const OPERATOR_KEY = 'k'.repeat(24) + randomBytes(16).toString('hex');
  writeFileSync(join(keysDir, 'operator'), OPERATOR_KEY);

  before(async () => {
    // The replay "started" two days of trace ago; Prometheus gets those rows as backfilled history
    // (as if it had been scraping all along), then scrapes the replayer live.
    const promStart = Math.ceil(Date.now() / ROW_MS) * ROW_MS;
    const t0 = promStart - (PROMETHEUS_START - HISTORY_START) * ROW_MS;
    replayer = await startTraceReplayer({
      traces: [{ name: 'nasa', trace, startRow: HISTORY_START }],
      rowMilliseconds: ROW_MS,
      t0,
    });
    const labels = `job="elasticai-test",instance="${replayer.target}",trace="nasa"`;
    const history = ['# TYPE elasticai_trace_demand gauge'];
    for (let row = HISTORY_START; row < PROMETHEUS_START; row++) {
      const at = (t0 + (row - HISTORY_START) * ROW_MS + ROW_MS / 5) / 1000;
      history.push(`elasticai_trace_demand{${labels}} ${trace.rows[row]?.demand ?? 0} ${at.toFixed(3)}`);
    }
    history.push('# EOF', '');
    prometheus = await startPrometheus({
      targets: [replayer.target],
      scrapeIntervalMs: 100,
      backfillOpenMetrics: history.join('\n'),
    });
    await prometheus.waitForScrape(30_000);
  });

  after(async () => {
    keda?.close();
    await runtime?.shutdown();
    await prometheus?.stop();
    await replayer?.close();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('backfills, then asks for more replicas before the demand arrives', async (t) => {
    // GIVEN Prometheus has scraped the replay for a while (wait until 6 rows before the ramp)
    const rampAt = replayer.t0 + (RAMP_START - HISTORY_START) * ROW_MS;
    assert.ok(Date.now() < rampAt - 4 * ROW_MS, 'Prometheus was scraping before the ramp');

    // WHEN the runtime starts and KEDA polls it
    runtime = await startRuntime(
      loadRuntimeConfig({
        ELASTICAI_PROMETHEUS_URL: prometheus.url,
        ELASTICAI_LISTEN_HOST: '127.0.0.1',
        ELASTICAI_GRPC_PORT: '0',
        ELASTICAI_HTTP_PORT: '0',
        ELASTICAI_HISTORY_DAYS: '2',
        ELASTICAI_SETTLE_SECONDS: '0',
        ELASTICAI_API_KEYS_DIR: keysDir,
        ELASTICAI_STALE_AFTER_SECONDS: String(3 * TIME_SCALE),
        ELASTICAI_TIME_SCALE: String(TIME_SCALE),
        ELASTICAI_READ_ACCESS: 'anonymous',
        ELASTICAI_TOKEN_REVIEW: 'false',
      }),
      { kube: null, tickSeconds: 0.05, log: () => undefined },
    );
    keda = new KedaClient(`127.0.0.1:${runtime.grpcPort}`);
    const spec = await keda.getMetricSpec(REF);
    assert.equal(spec.metricSpecs[0]?.targetSizeFloat, 1);

    const samples: RampSample[] = [];
    const endAt = replayer.t0 + (RAMP_END - HISTORY_START + 8) * ROW_MS;
    while (Date.now() < endAt) {
      const response = await keda.getMetrics(REF).catch(() => undefined);
      const at = Date.now();
      const row = replayer.rowAt(at);
      if (response && row) {
        samples.push({
          at,
          row: row.index,
          served: response.metricValues[0]?.metricValueFloat ?? 0,
          needed: replicasFor(row.demand, CAPACITY * 0.8),
        });
      }
      await sleep(50);
    }

    if (process.env.ELASTICAI_DEBUG_RAMP) {
      for (const s of samples) console.log(((s.at - replayer.t0) / ROW_MS).toFixed(1), s.served, s.needed);
    }
    // THEN the runtime answered throughout the ramp
    assert.ok(samples.length > 60, `answers during the ramp (${samples.length})`);
    const status = runtime.registry.status({ namespace: 'web', name: 'nasa' });
    assert.equal(status?.state, 'fresh');
    // AND for most replica levels the ramp passes, the runtime asked for them before the demand needed them
    // (the noisy top of the ramp is not always foreseeable), by at least one row in the median
    const low = Math.max(...samples.slice(0, 5).map((s) => s.needed)) + 2;
    const high = Math.max(...samples.map((s) => s.needed)) - 2;
    assert.ok(high - low >= 8, `the ramp spans replica levels ${low}..${high}`);
    const leads = leadsPerLevel(samples, low, high, firstNeeded);
    // Following is measured from when demand first needs a level for two consecutive rows. A grid point
    // reads the last scrape at or before a row boundary, and a scrape stamped just before the boundary
    // can already carry the new row, so a grid point may read either row: a one-row spike at the noisy
    // top can go unread, which made a lag measured from its first touch depend on scrape phase, not on
    // the runtime. A need held for two rows is read by the grid point between them whatever the phase.
    const followLeads = leadsPerLevel(samples, low, high, firstSustainedNeed);
    t.diagnostic(`levels ${low}..${high}; leads over first need (ms): ${leads.join(', ')}`);
    t.diagnostic(`leads over a two-row need (ms): ${followLeads.join(', ')}`);
    assert.ok(
      followLeads.every((ms) => Number.isFinite(ms)),
      `demand held every level for two rows (ms: ${followLeads.join(', ')})`,
    );
    // The first half of the ramp is what the learned daily pattern foresees: never behind at any level
    // there, even of a one-row touch, and ahead by at least one row in the median. (A reactive answer is
    // a row behind, about -500 ms.) Not strictly ahead at every level: in 1 of 24 full-suite runs a busy
    // machine delayed every decision by one row, and the level usually 3 rows ahead came on time, 0 ms.
    // The noisy top can only be followed: a grid point reads the row that just ended, and polling and a
    // busy machine add jitter, so within two rows of a sustained need.
    const lowerHalf = leads.slice(0, Math.floor(leads.length / 2));
    assert.ok(
      lowerHalf.every((ms) => ms >= 0),
      `never behind demand on the lower half of the ramp (ms: ${leads.join(', ')})`,
    );
    const median = [...lowerHalf].sort((a, b) => a - b)[Math.floor(lowerHalf.length / 2)] ?? 0;
    assert.ok(median >= ROW_MS, `median lead ${median} ms ≥ one row (${ROW_MS} ms)`);
    assert.ok(
      followLeads.every((ms) => ms > -FOLLOW_TOLERANCE_MS),
      `never more than two rows behind a two-row need (ms: ${followLeads.join(', ')})`,
    );
  });

  it('keeps answering within 2 s without scaling down while Prometheus is down, then recovers', async () => {
    // GIVEN a fresh decision
    const before = (await keda.getMetrics(REF)).metricValues[0]?.metricValueFloat ?? 0;
    assert.ok(before > 0);

    // WHEN Prometheus dies
    await prometheus.kill();
    const states = new Set<string>();
    // (for 5 s, and on until holding is seen, up to 15 s: a loaded machine can be late to it)
    const killedAt = Date.now();
    while (Date.now() < killedAt + 5000 || (!states.has('holding') && Date.now() < killedAt + 15_000)) {
      const started = Date.now();
      const response = await keda.getMetrics(REF);
      // THEN every call is answered fast, never below the last good value
      assert.ok(Date.now() - started < 2000, 'answered within 2 s');
      assert.ok((response.metricValues[0]?.metricValueFloat ?? 0) >= before, 'no scale-down on missing data');
      const api = (await (await fetch(`${runtime.httpUrl}/api/v1/workloads`)).json()) as {
        workloads: { name: string; state: string }[];
      };
      states.add(api.workloads.find((w) => w.name === 'nasa')?.state ?? 'missing');
      await sleep(250);
    }
    // AND the degraded state is visible in the API and the metrics: stale, then holding (after 3 s)
    assert.ok(states.has('stale'), [...states].join());
    assert.ok(states.has('holding'), [...states].join());
    const metrics = await (await fetch(`${runtime.httpUrl}/metrics`)).text();
    assert.match(metrics, /elasticai_degraded\{namespace="web",name="nasa",state="holding"\} 1/);
    assert.match(
      metrics,
      /elasticai_history_source_failures_total\{source="prometheus",kind="unreachable"\} [1-9]/,
    );

    // WHEN Prometheus comes back with its data
    await prometheus.restart();
    await prometheus.waitForScrape(30_000);
    const deadline = Date.now() + 10_000;
    while (
      runtime.registry.status({ namespace: 'web', name: 'nasa' })?.state !== 'fresh' &&
      Date.now() < deadline
    ) {
      await sleep(200);
    }
    // THEN the workload is fresh again
    assert.equal(runtime.registry.status({ namespace: 'web', name: 'nasa' })?.state, 'fresh');
    const recovered = await (await fetch(`${runtime.httpUrl}/metrics`)).text();
    assert.match(recovered, /elasticai_degraded\{namespace="web",name="nasa",state="holding"\} 0/);
  });

  it('refuses an unauthenticated override and malformed bodies over real HTTP', async () => {
    const url = `${runtime.httpUrl}/api/v1/workloads/web/nasa/override`;
    const anonymous = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ replicas: 3 }),
    });
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
    const oversized = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_KEY}` },
      body: JSON.stringify({ replicas: 3, pad: 'x'.repeat(100_000) }),
    });
    assert.equal(oversized.status, 413);
  });
});
