import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineSettingsError } from '../../../runtime/engine/settings.js';
import type { Decision } from '../../../runtime/engine/workload-engine.js';
import { WorkloadEngine } from '../../../runtime/engine/workload-engine.js';

const MINUTE = 60;
const T0 = Date.UTC(2026, 0, 5) / 1000;

/** Requests per minute with a daily cycle between 100 and 1,000 (peak at 15:00) and mild noise. */
function dailyDemand(minute: number): number {
  const phase = (2 * Math.PI * (minute % 1440)) / 1440;
  return 550 - 450 * Math.cos(phase - Math.PI / 4) + 20 * Math.sin(minute * 7.3);
}

function engine(overrides: Partial<ConstructorParameters<typeof WorkloadEngine>[0]> = {}): WorkloadEngine {
  return new WorkloadEngine({
    intervalSeconds: MINUTE,
    capacityPerReplica: 50,
    leadSeconds: 180,
    ...overrides,
  });
}

function runDays(e: WorkloadEngine, days: number, demand = dailyDemand): Decision[] {
  return Array.from({ length: days * 1440 }, (_, m) => e.step(T0 + m * MINUTE, demand(m)));
}

describe('WorkloadEngine decisions', () => {
  it('never asks for fewer replicas than the current demand needs at the target utilisation', () => {
    // GIVEN three days of a daily cycle
    const decisions = runDays(engine(), 3);
    // THEN every decision covers the demand just seen at 80% utilisation
    for (const d of decisions) assert.ok(d.desiredReplicas >= Math.ceil(d.inputs.demand / (50 * 0.8) - 1e-9));
  });

  it('scales up ahead of a forecast daily ramp: on day 3 the morning rise is provisioned before it arrives', () => {
    // GIVEN two days learned, with no utilisation margin so that only the forecast can be ahead
    const decisions = runDays(engine({ targetUtilization: 1, capacityPerReplica: 10 }), 3);
    // WHEN looking at day 3's steepest rise (demand grows every minute)
    const rising = decisions.slice(2 * 1440 + 400, 2 * 1440 + 700);
    // THEN the forecast rule binds most of the time, and the replicas cover demand 4 minutes later
    const byForecast = rising.filter((d) => d.rule === 'forecast').length;
    assert.ok(byForecast > rising.length * 0.8, `forecast bound ${byForecast}/${rising.length}`);
    for (const [i, d] of rising.entries()) {
      const later = dailyDemand(2 * 1440 + 400 + i + 4);
      assert.ok(d.desiredReplicas * 10 >= later, `minute ${i}: ${d.desiredReplicas} replicas < ${later}`);
    }
    // AND its pre-scales were needed, so they are trusted in full
    assert.ok(rising.every((d) => d.forecast.prescaleTrust === 1));
    // AND it names a seasonal or trend model, with weights that sum to 1
    const last = rising.at(-1) as Decision;
    const total = last.forecast.scores.reduce((sum, s) => sum + s.weight, 0);
    assert.ok(Math.abs(total - 1) < 1e-9);
    assert.match(last.forecast.model, /holt-winters|seasonal|trend|level/);
  });

  it('scales back pre-scaling that keeps not being needed (random one-interval bursts)', () => {
    // GIVEN six days at 5 minutes of an idle load with bursts of one interval at random (4%), which the
    // forecast keeps expecting again right after one (and at the same time the next day)
    const run = (minPrescaleUse: number): Decision[] => {
      let seed = 7;
      const random = (): number => {
        seed = (seed * 1664525 + 1013904223) >>> 0;
        return seed / 2 ** 32;
      };
      const e = engine({ intervalSeconds: 300, capacityPerReplica: 10, leadSeconds: 120, minPrescaleUse });
      return Array.from({ length: 6 * 288 }, (_, i) =>
        e.step(T0 + i * 300, random() < 0.04 ? 300 : 5 + random()),
      );
    };
    const trusting = run(0).slice(-288);
    const judging = run(0.3).slice(-288);
    const cost = (ds: Decision[]): number => ds.reduce((sum, d) => sum + d.desiredReplicas, 0);
    // THEN on day 6 few pre-scaled replicas were needed, and pre-scales are trusted accordingly
    const last = judging.at(-1) as Decision;
    assert.ok(last.forecast.prescaleNeededShare < 0.15, String(last.forecast.prescaleNeededShare));
    assert.ok(last.forecast.prescaleTrust < 0.5, String(last.forecast.prescaleTrust));
    assert.equal(trusting.at(-1)?.forecast.prescaleTrust, 1);
    // AND the day costs a fifth less than with every forecast trusted
    assert.ok(
      cost(judging) < 0.8 * cost(trusting),
      `${cost(judging)} vs ${cost(trusting)} replica-intervals`,
    );
    // AND every decision still covers the demand just seen (the floor is never scaled back)
    for (const d of judging) assert.ok(d.desiredReplicas >= Math.ceil(d.inputs.demand / (10 * 0.8) - 1e-9));
  });

  it('damps scale-down: after a drop the replica count is held for the stabilization window', () => {
    // GIVEN a flat load of 1,000 then a drop to 100
    const e = engine({ scaleDownStabilizationSeconds: 300 });
    const flat = (m: number): number => (m < 600 ? 1000 : 100);
    const decisions = Array.from({ length: 620 }, (_, m) => e.step(T0 + m * MINUTE, flat(m)));
    const before = decisions[599]?.desiredReplicas ?? 0;
    // THEN the five minutes after the drop keep the old count, and it falls after that
    for (let m = 600; m < 604; m++) assert.equal(decisions[m]?.desiredReplicas, before);
    assert.equal(decisions[601]?.rule, 'scale-down-stabilization');
    assert.ok((decisions[619]?.desiredReplicas ?? 0) < before / 2);
  });

  it('does not flap on noise: a steady load with ±8% random noise changes the replica count rarely', () => {
    const e = engine();
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const noisy = (): number => 500 * (1 + 0.08 * (2 * random() - 1));
    const decisions = Array.from({ length: 2000 }, (_, m) => e.step(T0 + m * MINUTE, noisy()));
    let changes = 0;
    for (let i = 1001; i < decisions.length; i++) {
      if (decisions[i]?.desiredReplicas !== decisions[i - 1]?.desiredReplicas) changes++;
    }
    // Without the stabilization window and the 10% scale-down tolerance this is over 300.
    assert.ok(changes < 150, `${changes} changes in 1,000 minutes`);
  });

  it('holds on a broken signal (NaN, Infinity, negative, sudden zero, gap) and never returns NaN', () => {
    // GIVEN a day of steady load
    const e = engine();
    for (let m = 0; m < 1440; m++) e.step(T0 + m * MINUTE, 800 + 10 * Math.sin(m));
    const held = e.step(T0 + 1440 * MINUTE, 800).desiredReplicas;
    // WHEN the signal breaks in every way
    const broken = [Number.NaN, Number.POSITIVE_INFINITY, -5, 0, 0].map((v, i) =>
      e.step(T0 + (1441 + i) * MINUTE, v),
    );
    // THEN each decision holds the last replica count and says why
    for (const d of broken) {
      assert.equal(d.desiredReplicas, held);
      assert.equal(d.rule, 'hold-broken-signal');
      assert.ok(Number.isInteger(d.desiredReplicas));
    }
    assert.deepEqual(
      broken.map((d) => d.anomaly.state),
      ['missing', 'invalid', 'invalid', 'drop-to-zero', 'drop-to-zero'],
    );
    // AND a gap of 30 minutes in the timestamps is absorbed: the next good point decides normally
    const afterGap = e.step(T0 + 1480 * MINUTE, 800);
    assert.ok(Number.isInteger(afterGap.desiredReplicas) && afterGap.desiredReplicas >= 16);
  });

  it('reacts at once to a surge and re-learns a level shift within minutes', () => {
    const e = engine();
    for (let m = 0; m < 600; m++) e.step(T0 + m * MINUTE, 300 + 10 * Math.sin(m));
    // WHEN demand jumps from 300 to 1,200 and stays
    const jump = e.step(T0 + 600 * MINUTE, 1200);
    // THEN the very next decision covers it (surge: extrapolated, capped at doubling)
    assert.equal(jump.anomaly.state, 'surge');
    assert.ok(jump.desiredReplicas >= Math.ceil(1200 / 40), `${jump.desiredReplicas}`);
    const after = Array.from({ length: 30 }, (_, i) =>
      e.step(T0 + (601 + i) * MINUTE, 1200 + 10 * Math.sin(i)),
    );
    assert.ok(after.some((d) => d.anomaly.state === 'level-shift'));
    // AND the forecast has re-learned the new level (its peak is near 1,200, not 300)
    assert.ok(Math.abs((after.at(-1)?.forecast.leadPeak ?? 0) - 1200) < 120);
  });

  it('honours min/max bounds and a manual override, and reports which rule bound the result', () => {
    const e = engine({ minReplicas: 3, maxReplicas: 10 });
    assert.equal(e.step(T0, 10).rule, 'min-replicas');
    assert.equal(e.step(T0 + 60, 10).desiredReplicas, 3);
    const capped = e.step(T0 + 120, 5000);
    assert.deepEqual([capped.desiredReplicas, capped.rule], [10, 'max-replicas']);
    const overridden = e.step(T0 + 180, 5000, 42);
    assert.deepEqual(
      [overridden.desiredReplicas, overridden.rule, overridden.inputs.override],
      [42, 'override', 42],
    );
    assert.match(overridden.summary, /42 replicas: manual override/);
  });

  it('reports node headroom when the forecast rises beyond the lead time', () => {
    const decisions = runDays(engine({ nodeProvisioningSeconds: 600 }), 3);
    const morning = decisions.slice(2 * 1440 + 300, 2 * 1440 + 500);
    assert.ok(morning.some((d) => d.headroomPods > 0));
    assert.ok(decisions.every((d) => d.headroomPods >= 0 && Number.isInteger(d.headroomPods)));
  });
});

describe('WorkloadEngine determinism and causality', () => {
  it('gives the same decisions for a prefix whether or not later points exist', () => {
    // GIVEN decisions over two days
    const full = runDays(engine(), 2).map((d) => d.desiredReplicas);
    // WHEN a fresh engine sees only the first 1,000 minutes
    const e = engine();
    const prefix = Array.from(
      { length: 1000 },
      (_, m) => e.step(T0 + m * MINUTE, dailyDemand(m)).desiredReplicas,
    );
    // THEN its decisions are the same
    assert.deepEqual(prefix, full.slice(0, 1000));
  });
});

describe('WorkloadEngine memory', () => {
  it('holds a 1-minute workload in at most 30 KB, weekly model included', () => {
    // GIVEN a 1-minute engine that has seen 8 days (its weekly model is forecasting)
    const e = engine({ leadSeconds: 120 });
    const decisions = runDays(e, 8);
    const last = decisions.at(-1) as Decision;
    assert.ok(
      last.forecast.scores.some((s) => s.model === 'seasonal-naive-weekly' && Number.isFinite(s.loss)),
    );
    // THEN its state is at most 30 KB (10,000 workloads in under 300 MB)
    assert.ok(e.bytes <= 30_000, `${e.bytes} bytes`);
  });

  it('keeps a short interval with a long lead small: the back-test keeps peaks, not lead × lead paths', () => {
    // GIVEN a 1-second workload whose lead time is 120 steps
    const e = engine({ intervalSeconds: 1, leadSeconds: 120 });
    for (let s = 0; s < 600; s++) e.step(T0 + s, 100 + 50 * Math.sin(s / 30));
    // THEN it holds under 48 KB, 27 KiB of it the daily and weekly models' one-minute and five-minute
    // blocks (with 121 × 122 path values per model its 7 models would hold 826 KB)
    assert.ok(e.bytes <= 48_000, `${e.bytes} bytes`);
    assert.equal(e.decide().forecast.scores.length, 7);
    // AND its models are back-tested all the same (the seasonal ones wait for a day and a week)
    const scores = e.decide().forecast.scores;
    const short = scores.filter((m) => !/daily|weekly/.test(m.model));
    assert.equal(short.length, 3);
    assert.ok(short.every((m) => Number.isFinite(m.loss)));
  });
});

describe('WorkloadEngine settings', () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    [
      'capacityPerReplica',
      { capacityPerReplica: 0 },
      /capacityPerReplica: must be a finite number > 0 \(got 0\)/,
    ],
    ['intervalSeconds', { intervalSeconds: Number.NaN }, /intervalSeconds: must be a finite number > 0/],
    ['leadSeconds', { leadSeconds: -1 }, /leadSeconds: must be a finite number ≥ 0 \(got -1\)/],
    ['targetUtilization', { targetUtilization: 1.5 }, /targetUtilization: must be in \(0, 1\] \(got 1.5\)/],
    [
      'minReplicas',
      { minReplicas: 5, maxReplicas: 2 },
      /minReplicas: must not exceed maxReplicas \(2\) \(got 5\)/,
    ],
    ['maxReplicas', { maxReplicas: 2.5 }, /maxReplicas: must be an integer in \[0, 2147483647\] \(got 2.5\)/],
    ['upperQuantile', { upperQuantile: 1 }, /upperQuantile: must be in \(0, 1\)/],
    ['minPrescaleUse', { minPrescaleUse: 1.5 }, /minPrescaleUse: must be in \[0, 1\] \(got 1.5\)/],
    ['minPrescaleUse', { minPrescaleUse: Number.NaN }, /minPrescaleUse: must be in \[0, 1\]/],
  ];
  for (const [field, settings, message] of bad) {
    it(`rejects a bad ${field} naming it`, () => {
      assert.throws(
        () => engine(settings as never),
        (error: unknown) =>
          error instanceof EngineSettingsError && error.field === field && message.test(error.message),
      );
    });
  }

  it('rejects timestamps that do not increase and overrides that are not replica counts', () => {
    const e = engine();
    e.step(T0, 1);
    assert.throws(() => e.step(T0, 1), /timestamp: must be after the previous point/);
    assert.throws(() => e.decide(-1), /override: must be an integer in \[0, 2147483647\] \(got -1\)/);
  });
});
