import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkloadEngine } from '../../../runtime/engine/workload-engine.js';
import { MemoryGuard } from '../../../runtime/service/memory-guard.js';
import { RuntimeMetrics } from '../../../runtime/service/metrics.js';
import type { RegistryOptions } from '../../../runtime/service/workload-registry.js';
import { NotReadyError, WorkloadRegistry } from '../../../runtime/service/workload-registry.js';
import type { DemandSpec } from '../../../runtime/service/workload-spec.js';
import { parseWorkloadSpec } from '../../../runtime/service/workload-spec.js';
import { MemorySource, dailyDemand } from '../../support/memory-source.js';

const REF = { namespace: 'shop', name: 'checkout' };
const META = {
  query: 'sum(rate(http_requests_total{service="checkout"}[1m]))',
  capacityPerReplica: '40',
  leadSeconds: '120',
  nodePool: 'spot-general',
};
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

function registry(source: MemorySource, clock: { now: number }, overrides: Partial<RegistryOptions> = {}) {
  return new WorkloadRegistry({
    sources: { prometheus: source },
    clock: () => clock.now,
    historySeconds: 2 * 86_400,
    settleSeconds: 30,
    refitEpochSeconds: 6 * 3600,
    staleAfterSeconds: 300,
    ...overrides,
  });
}

describe('WorkloadRegistry', () => {
  it('backfills from the anchor and serves the decision an engine fed the same points makes', async () => {
    // GIVEN a registry at T0 and a source with a daily pattern
    const source = new MemorySource(dailyDemand);
    const clock = { now: T0 };
    const reg = registry(source, clock);
    const spec = parseWorkloadSpec(REF, META) as DemandSpec;

    // WHEN the workload registers
    await reg.register(REF, spec);

    // THEN the backfill covered [anchor, settled end] on the interval grid
    const end = reg.settledEnd(60);
    const anchor = reg.anchorFor(end, 60, REF);
    assert.equal(end % 60, 0);
    assert.equal(end, Math.floor((T0 / 1000 - 30) / 60) * 60);
    assert.equal(source.queries[0]?.start, anchor);
    assert.equal(source.queries[0]?.end, end);
    assert.ok(end - anchor >= 2 * 86_400, 'at least the configured history');
    assert.ok(end - anchor < 2 * 86_400 + 6 * 3600 + 600, 'at most history + one epoch + grace');
    // (refits of different workloads are spread over the epoch)
    const shifts = new Set(
      ['a', 'b', 'c', 'd'].map((name) => reg.anchorFor(end, 60, { namespace: 'x', name })),
    );
    assert.ok(shifts.size > 1);

    // AND the served value is what an engine fed the same points decides
    const reference = new WorkloadEngine(spec.engine);
    let expected = 0;
    for (let t = anchor; t <= end; t += 60) expected = reference.step(t, dailyDemand(t)).desiredReplicas;
    const served = reg.value(REF);
    assert.equal(served.value, expected);
    assert.equal(served.state, 'fresh');
    assert.ok(
      served.value >= Math.ceil(dailyDemand(end) / 40 / 0.8),
      'never below what current demand needs',
    );
  });

  it('gives the same answer on a replica that ran all along and one that just started, across a refit', async () => {
    // GIVEN replica A started 7 hours before replica B, ticking every minute
    const clock = { now: T0 };
    const a = registry(new MemorySource(dailyDemand), clock);
    const spec = parseWorkloadSpec(REF, META);
    await a.register(REF, spec);
    const anchorBefore = a.anchorFor(a.settledEnd(60), 60, REF);
    for (let minute = 1; minute <= 7 * 60; minute++) {
      clock.now = T0 + minute * 60_000;
      await a.tick();
    }
    // (the 6-hour epoch boundary passed: A's engine was rebuilt from a new anchor)
    assert.ok(a.anchorFor(a.settledEnd(60), 60, REF) > anchorBefore);

    // WHEN replica B starts now
    const b = registry(new MemorySource(dailyDemand), clock);
    await b.register(REF, spec);

    // THEN both serve identical decisions, now and as time goes on
    for (let minute = 0; minute < 30; minute++) {
      clock.now += 60_000;
      await Promise.all([a.tick(), b.tick()]);
      assert.deepEqual(b.value(REF), a.value(REF));
      assert.equal(b.status(REF)?.decision?.summary, a.status(REF)?.decision?.summary);
    }
  });

  it('serves the last good decision while the source fails, then holds, then recovers', async () => {
    // GIVEN a workload with a fresh decision
    const source = new MemorySource(dailyDemand);
    const clock = { now: T0 };
    const metrics = new RuntimeMetrics({ defaultMetrics: false });
    const reg = registry(source, clock, { metrics, staleAfterSeconds: 120 });
    await reg.register(REF, parseWorkloadSpec(REF, META));
    const good = reg.value(REF).value;

    // WHEN Prometheus becomes unreachable
    source.fail('unreachable');
    clock.now += 60_000;
    await reg.tick();

    // THEN the last good value is served, marked stale, with the error shown
    assert.deepEqual(reg.value(REF), { value: good, active: true, state: 'stale' });
    assert.equal(reg.status(REF)?.lastError?.kind, 'unreachable');
    assert.match(
      await metrics.registry.metrics(),
      /elasticai_degraded\{namespace="shop",name="checkout",state="stale"\} 1/,
    );

    // WHEN it stays down past staleAfterSeconds, even as demand would fall
    clock.now += 180_000;
    await reg.tick();
    // THEN the runtime holds what it asked for (no scale-down on missing data)
    assert.deepEqual(reg.value(REF), { value: good, active: true, state: 'holding' });
    assert.ok((reg.status(REF)?.failingForSeconds ?? 0) >= 180);
    const log = reg.history(REF)?.decisions ?? [];
    assert.equal(log.at(-1)?.state, 'holding');
    // and the log says why, in the source's words
    const message = reg.status(REF)?.lastError?.message ?? '';
    assert.ok(message.length > 0);
    assert.deepEqual(
      log.slice(-2).map((e) => e.summary),
      [
        `${good} replicas: serving the last good decision; ${message}`,
        `${good} replicas: holding (source down too long): never scaling down; ${message}`,
      ],
    );

    // WHEN it comes back
    source.heal();
    clock.now += 60_000;
    await reg.tick();
    // THEN the missed points are fetched and the state is fresh again
    assert.equal(reg.value(REF).state, 'fresh');
    assert.equal(reg.status(REF)?.lastPoint, reg.settledEnd(60));
    assert.match(
      await metrics.registry.metrics(),
      /elasticai_history_source_failures_total\{source="memory",kind="unreachable"\} 2/,
    );
  });

  it('exposes the bytes it holds for its workloads, counted at each scrape', async () => {
    // GIVEN a registry with metrics and no workload
    const metrics = new RuntimeMetrics({ defaultMetrics: false });
    const reg = registry(new MemorySource(dailyDemand), { now: T0 }, { metrics });
    const scraped = async (): Promise<number> => {
      const line = /^elasticai_workload_state_bytes (\d+)$/m.exec(await metrics.text());
      assert.ok(line, 'elasticai_workload_state_bytes is exposed');
      return Number(line[1]);
    };
    assert.equal(await scraped(), 0);
    // WHEN a workload is registered and backfilled
    await reg.register(REF, parseWorkloadSpec(REF, META));
    // THEN the gauge shows what the registry holds: its engine and more
    const held = await scraped();
    assert.equal(held, reg.bytes);
    assert.ok(held > 20_000, `${held} bytes`);
    // AND it falls back when the workload goes
    reg.unregister(REF);
    assert.equal(await scraped(), 0);
  });

  it('charts the demand of its last 360 points at 10 seconds, though the engine keeps only minutes of them', async () => {
    // GIVEN a 10-second workload whose source has a gap of 5 steps half an hour ago
    const gapEnd = Math.floor((T0 / 1000 - 1800) / 10) * 10;
    const source = new MemorySource((t) => (t > gapEnd - 50 && t <= gapEnd ? Number.NaN : dailyDemand(t)));
    const reg = registry(source, { now: T0 }, { historySeconds: 86_400 });
    const spec = parseWorkloadSpec(REF, { ...META, intervalSeconds: '10' }) as DemandSpec;
    // (an engine fed 400 points keeps fewer than 360 of them)
    const probe = new WorkloadEngine(spec.engine);
    for (let i = 0; i < 400; i++) probe.observe(i * 10, 5);
    assert.ok(Number.isNaN(probe.recentDemand(360)[0]));
    // WHEN it has backfilled
    await reg.register(REF, spec);
    // THEN the chart has 360 demand points, each the source's value at its time, NaN in the gap
    const chart = reg.history(REF);
    assert.ok(chart);
    assert.equal(chart.demand.length, 360);
    assert.equal(chart.timestamps.length, 360);
    chart.timestamps.forEach((t, i) => {
      const expected = t > gapEnd - 50 && t <= gapEnd ? Number.NaN : Math.fround(dailyDemand(t));
      assert.deepEqual(chart.demand[i], expected, `t=${t}`);
    });
    assert.equal(chart.demand.filter((v) => Number.isNaN(v)).length, 5);
  });

  it('charts 360 points of demand at 1 hour and 1 minute too (the engine holds a week, then a day)', async () => {
    for (const interval of [3600, 60]) {
      // GIVEN a workload with 16 days of history
      const reg = registry(new MemorySource(dailyDemand), { now: T0 }, { historySeconds: 16 * 86_400 });
      const spec = parseWorkloadSpec(REF, { ...META, intervalSeconds: String(interval) }) as DemandSpec;
      // WHEN it has backfilled
      await reg.register(REF, spec);
      // THEN every one of the chart's 360 points has the source's demand (at 1 hour the engine keeps
      // only 171 of them: the chart keeps its own; at 1 minute it reads the engine's day)
      const chart = reg.history(REF);
      assert.ok(chart);
      assert.equal(chart.demand.length, 360, `${interval} s`);
      chart.timestamps.forEach((t, i) =>
        assert.equal(chart.demand[i], Math.fround(dailyDemand(t)), `${interval} s, t=${t}`),
      );
    }
  });

  it('has nothing to serve before a first answer and says why', async () => {
    const source = new MemorySource(dailyDemand);
    source.fail('timeout');
    const clock = { now: T0 };
    const reg = registry(source, clock);
    await reg.register(REF, parseWorkloadSpec(REF, META));
    assert.throws(
      () => reg.value(REF),
      (e: unknown) => e instanceof NotReadyError && /timeout/.test(e.message),
    );
    assert.equal(reg.status(REF)?.state, 'failed');
    assert.throws(() => reg.value({ namespace: 'x', name: 'y' }), /not registered/);
  });

  it('treats a query that matches nothing as a failure, not as zero demand', async () => {
    const source = new MemorySource(() => undefined);
    const reg = registry(source, { now: T0 });
    await reg.register(REF, parseWorkloadSpec(REF, META));
    assert.equal(reg.status(REF)?.lastError?.kind, 'query-error');
    assert.throws(() => reg.value(REF), NotReadyError);
  });

  it('sums predicted extra pods per node pool for the headroom metric', async () => {
    // GIVEN two workloads on one pool, one on another, and a rising demand
    const rising = (t: number): number => 100 + ((t - T0 / 1000) / 60) * 5 + 2000;
    const source = new MemorySource(rising);
    const clock = { now: T0 };
    const reg = registry(source, clock);
    const other = { namespace: 'shop', name: 'search' };
    const third = { namespace: 'shop', name: 'batch' };
    await reg.register(REF, parseWorkloadSpec(REF, META));
    await reg.register(other, parseWorkloadSpec(other, META));
    await reg.register(third, parseWorkloadSpec(third, { ...META, nodePool: 'on-demand' }));
    const headroomRef = { namespace: 'elasticai-system', name: 'headroom-spot-general' };
    await reg.register(
      headroomRef,
      parseWorkloadSpec(headroomRef, { metric: 'headroom', nodePool: 'spot-general' }),
    );

    // THEN the headroom workload serves the sum of its pool's workloads' headroom pods
    const perWorkload = reg.status(REF)?.decision?.headroomPods ?? -1;
    assert.ok(perWorkload > 0, 'rising demand predicts extra pods');
    assert.equal(reg.value(headroomRef).value, perWorkload * 2);
    assert.equal(reg.headroomFor('on-demand'), reg.status(third)?.decision?.headroomPods);
  });

  it('emits "active" when a scaled-to-zero workload should wake, and on wake()', async () => {
    let demand = 0;
    const source = new MemorySource(() => demand);
    const clock = { now: T0 };
    const reg = registry(source, clock);
    const seen: string[] = [];
    reg.on('active', (ref: { name: string }) => seen.push(ref.name));
    await reg.register(REF, parseWorkloadSpec(REF, { ...META, minReplicas: '0' }));
    assert.equal(reg.value(REF).value, 0);
    assert.deepEqual(seen, []);
    demand = 50;
    clock.now += 60_000;
    await reg.tick();
    assert.ok(reg.value(REF).value > 0);
    assert.deepEqual(seen, ['checkout']);
    assert.equal(reg.wake(REF), true);
    assert.equal(reg.wake({ namespace: 'nope', name: 'nope' }), false);
    assert.deepEqual(seen, ['checkout', 'checkout']);
  });

  it('replaces the engine when the metadata changes and refuses an unconfigured source', async () => {
    const source = new MemorySource(dailyDemand);
    const reg = registry(source, { now: T0 });
    await reg.register(REF, parseWorkloadSpec(REF, META));
    const before = reg.value(REF).value;
    await reg.register(REF, parseWorkloadSpec(REF, { ...META, capacityPerReplica: '10' }));
    assert.ok(reg.value(REF).value > before * 3);
    assert.throws(
      () => reg.register(REF, parseWorkloadSpec(REF, { ...META, source: 'webhook' })),
      /history source "webhook" is not configured/,
    );
  });
  it('refuses a new workload when memory runs short, counting workloads still loading, and admits it once they have loaded', async () => {
    // GIVEN a guard with room for two workloads' expected state (~61 kB each at 1 minute), not three
    const source = new MemorySource(dailyDemand);
    source.delayMs = 50;
    const metrics = new RuntimeMetrics({ defaultMetrics: false });
    const limit = 10 * 1024 * 1024;
    const memory = new MemoryGuard({
      limitBytes: limit,
      marginBytes: 0,
      usedBytes: () => limit - 150_000,
      growthBytes: 0, // growth settling is the guard's own test
    });
    const clock = { now: T0 };
    const reg = registry(source, clock, { memory, metrics });
    const [a, b, c] = ['a', 'b', 'c'].map((name) => ({ namespace: 'shop', name }));

    // WHEN three register at once, before any backfill has run
    const loading = [
      reg.register(a!, parseWorkloadSpec(a!, META)),
      reg.register(b!, parseWorkloadSpec(b!, META)),
    ];
    assert.ok(memory.pendingBytes > 100_000, 'two reservations held while they load');

    // THEN the third is refused at once (KEDA gets UNAVAILABLE naming why), counted, and not tracked
    assert.throws(
      () => reg.register(c!, parseWorkloadSpec(c!, META)),
      (e: unknown) =>
        e instanceof NotReadyError &&
        /shop\/c: refused: not enough memory .*raise the runtime's memory limit/.test(e.message),
    );
    assert.equal(reg.has(c!), false);
    assert.equal((await metrics.workloadsRefused.get()).values[0]?.value, 1);
    // AND the API can list it as refused, with the reason and when
    assert.deepEqual(
      reg.refused().map((r) => [r.namespace, r.name, r.at]),
      [['shop', 'c', T0 / 1000]],
    );
    assert.match(reg.refused()[0]?.reason ?? '', /not enough memory/);

    // AND once the two have loaded, their reservations are given back and the third is admitted
    await Promise.all(loading);
    assert.equal(memory.pendingBytes, 0);
    await reg.register(c!, parseWorkloadSpec(c!, META));
    assert.ok(reg.value(c!).value > 0);
    assert.deepEqual(reg.refused(), [], 'admitted: no longer listed as refused');
  });

  it('lists a refused workload for ten minutes after KEDA last asked about it', () => {
    const clock = { now: T0 };
    const memory = new MemoryGuard({ limitBytes: 1e9, marginBytes: 0, usedBytes: () => 1e9 });
    const reg = registry(new MemorySource(dailyDemand), clock, { memory });
    const cart = { namespace: 'shop', name: 'cart' };
    assert.throws(() => reg.register(cart, parseWorkloadSpec(cart, META)), NotReadyError);
    clock.now += 9 * 60_000;
    assert.equal(reg.refused().length, 1);
    // (KEDA's next poll refreshes it)
    assert.throws(() => reg.register(cart, parseWorkloadSpec(cart, META)), NotReadyError);
    clock.now += 9 * 60_000;
    assert.equal(reg.refused()[0]?.at, T0 / 1000 + 9 * 60);
    // The ScaledObject is deleted: nobody asks again, and the entry goes
    clock.now += 2 * 60_000;
    assert.deepEqual(reg.refused(), []);
  });

  it('never refuses what replaces or adds no workload state: a changed spec, a headroom workload', async () => {
    // GIVEN a workload admitted, then memory full
    const source = new MemorySource(dailyDemand);
    const resident = { bytes: 0 };
    const memory = new MemoryGuard({ limitBytes: 1e9, marginBytes: 0, usedBytes: () => resident.bytes });
    const reg = registry(source, { now: T0 }, { memory });
    await reg.register(REF, parseWorkloadSpec(REF, META));
    resident.bytes = 1e9;

    // WHEN its metadata changes, THEN the new spec replaces the old one (it frees what it replaces)
    await reg.register(REF, parseWorkloadSpec(REF, { ...META, capacityPerReplica: '10' }));
    assert.equal((reg.status(REF)?.spec as DemandSpec).engine.capacityPerReplica, 10);
    // AND a headroom workload (no engine) registers
    const pool = { namespace: 'elasticai-system', name: 'headroom-spot' };
    await reg.register(pool, parseWorkloadSpec(pool, { metric: 'headroom', nodePool: 'spot-general' }));
    assert.equal(reg.has(pool), true);
    // AND a new demand workload is refused until memory is freed
    const other = { namespace: 'shop', name: 'cart' };
    assert.throws(() => reg.register(other, parseWorkloadSpec(other, META)), /not enough memory/);
    resident.bytes = 0;
    await reg.register(other, parseWorkloadSpec(other, META));
    assert.equal(reg.has(other), true);
  });

  it('replays a long backfill in slices: the event loop keeps turning, and the decision is the same', async () => {
    // GIVEN a registry with 14 days of 1-minute history (a refit's full replay, ~20,000 points)
    const source = new MemorySource(dailyDemand);
    const clock = { now: T0 };
    const reg = registry(source, clock, { historySeconds: 14 * 86_400 });
    const spec = parseWorkloadSpec(REF, META) as DemandSpec;
    let turns = 0;
    let loading = true;
    const spin = (): void => {
      turns++;
      if (loading) setImmediate(spin);
    };
    setImmediate(spin);

    // WHEN the workload registers
    await reg.register(REF, spec);
    loading = false;

    // THEN the loop turned many times while the points were fed (one turn per ~1 ms slice)
    assert.ok(turns >= 10, `the event loop turned ${turns} times during the backfill`);
    // AND the decision is the one an engine fed the same points at once makes
    const query = source.queries[0] as { start: number; end: number };
    const reference = new WorkloadEngine(spec.engine);
    let expected = 0;
    for (let t = query.start; t <= query.end; t += 60)
      expected = reference.step(t, dailyDemand(t)).desiredReplicas;
    assert.equal(reg.value(REF).value, expected);
  });
});
