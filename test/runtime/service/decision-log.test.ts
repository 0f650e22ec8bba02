import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision } from '../../../runtime/engine/workload-engine.js';
import { WorkloadEngine } from '../../../runtime/engine/workload-engine.js';
import type { HeldEntry } from '../../../runtime/service/decision-log.js';
import { AnomalyLog, DecisionLog, MAX_LOGGED_REASON } from '../../../runtime/service/decision-log.js';
import type { LoggedDecision } from '../../../runtime/service/workload-registry.js';
import { dailyDemand } from '../../support/memory-source.js';

const T0 = Date.UTC(2026, 10, 23, 0, 0, 0) / 1000;

/** Decisions of a real engine over two days of a daily pattern with a broken stretch (NaN, zeros). */
function decisions(): Decision[] {
  const engine = new WorkloadEngine({ intervalSeconds: 300, capacityPerReplica: 40, leadSeconds: 600 });
  const out: Decision[] = [];
  for (let k = 0; k < 576; k++) {
    const t = T0 + k * 300;
    const broken = k >= 400 && k < 410;
    engine.observe(t, broken ? (k % 2 === 0 ? Number.NaN : 0) : dailyDemand(t));
    out.push(engine.decide());
  }
  return out;
}

const asLogged = (d: Decision): LoggedDecision => ({
  timestamp: d.timestamp,
  desiredReplicas: d.desiredReplicas,
  rule: d.rule,
  summary: d.summary,
  state: 'fresh',
});

describe('DecisionLog', () => {
  it("keeps the newest entries, each as the engine wrote it (summaries rebuilt in the engine's words)", () => {
    // GIVEN a log of 100 and a run whose decisions use several rules and anomaly states
    const all = decisions();
    assert.ok(new Set(all.map((d) => d.rule)).size >= 3, 'several rules');
    const log = new DecisionLog(100);
    const expected: LoggedDecision[] = [];
    // WHEN every decision is logged, with a stale entry now and then
    all.forEach((d, k) => {
      log.pushDecision(d);
      expected.push(asLogged(d));
      if (k % 97 === 0) {
        log.pushHeld({
          timestamp: d.timestamp + 1,
          desiredReplicas: d.desiredReplicas,
          rule: d.rule,
          state: 'stale',
          reason: 'connect ECONNREFUSED',
        });
        expected.push({
          timestamp: d.timestamp + 1,
          desiredReplicas: d.desiredReplicas,
          rule: d.rule,
          summary: `${d.desiredReplicas} replicas: serving the last good decision; connect ECONNREFUSED`,
          state: 'stale',
        });
      }
    });
    // THEN it reads back the last 100, oldest first, exactly
    assert.equal(log.length, 100);
    assert.deepEqual(log.toArray(), expected.slice(-100));
  });

  it('grows with its entries, up to 32 bytes each at capacity', () => {
    const all = decisions();
    const log = new DecisionLog(100);
    log.pushDecision(all[0] as Decision);
    assert.ok(log.bytes <= 4 * 32, `one entry holds ${log.bytes} bytes`);
    for (const d of all.slice(1, 30)) log.pushDecision(d);
    assert.deepEqual(log.toArray(), all.slice(0, 30).map(asLogged));
    for (const d of all) log.pushDecision(d);
    assert.equal(log.bytes, 100 * 32);
  });
});

describe('DecisionLog held entries', () => {
  const held = (k: number, reason: string): HeldEntry => ({
    timestamp: T0 + k * 60,
    desiredReplicas: 5 + (k % 3),
    rule: 'forecast',
    state: k % 2 === 0 ? 'stale' : 'holding',
    reason,
  });
  const summaryOf = (e: HeldEntry, reason = e.reason): string =>
    `${e.desiredReplicas} replicas: ${e.state === 'stale' ? 'serving the last good decision' : 'holding (source down too long): never scaling down'}; ${reason}`;

  it('keeps each distinct reason once: a flapping source fills the log without a string per entry', () => {
    // GIVEN a source that fails with one of two messages, again and again
    const reasons = [
      'Prometheus at http://prometheus-operated.monitoring.svc:9090 unreachable: connect ECONNREFUSED 10.0.12.7:9090',
      'no complete answer from Prometheus within 5000 ms',
    ];
    const log = new DecisionLog(100);
    const entries = Array.from({ length: 250 }, (_, k) => held(k, reasons[k % 2] as string));
    // WHEN all are logged (each as a new string, as each failure makes one)
    for (const e of entries) log.pushHeld({ ...e, reason: `${e.reason}` });
    // THEN the newest 100 read back with their summaries
    assert.deepEqual(
      log.toArray(),
      entries.slice(-100).map((e) => ({
        timestamp: e.timestamp,
        desiredReplicas: e.desiredReplicas,
        rule: e.rule,
        summary: summaryOf(e),
        state: e.state,
      })),
    );
    // AND the log holds the records, one index per record and the two reasons, not 100 strings
    assert.ok(log.bytes < 100 * 32 + 100 * 2 + 400, `${log.bytes} bytes`);
  });

  it('drops reasons no entry uses any more, so every-time-new reasons stay bounded', () => {
    // GIVEN a log of 10 and reasons that differ every time
    const log = new DecisionLog(10);
    const entries = Array.from({ length: 95 }, (_, k) => held(k, `HTTP 503 after ${k} ms`));
    // WHEN logged, with fresh decisions in between
    const decision = decisions()[0] as Decision;
    entries.forEach((e, k) => {
      log.pushHeld(e);
      if (k % 7 === 0) log.pushDecision({ ...decision, timestamp: e.timestamp + 1 });
    });
    // THEN the held entries still in the log have their own reasons
    const kept = log.toArray().filter((e) => e.state !== 'fresh');
    assert.ok(kept.length >= 8);
    for (const e of kept) {
      const k = (e.timestamp - T0) / 60;
      assert.equal(e.summary, summaryOf(held(k, `HTTP 503 after ${k} ms`)));
    }
    // AND at most one reason per record is kept
    assert.ok(log.bytes <= 10 * 32 + 10 * 2 + 10 * (16 + 20), `${log.bytes} bytes`);
  });

  it(`clips a reason to ${MAX_LOGGED_REASON} characters`, () => {
    const log = new DecisionLog(4);
    const long = held(0, `bad_data: ${'x'.repeat(500)}`);
    log.pushHeld(long);
    const summary = log.toArray()[0]?.summary ?? '';
    assert.equal(summary, summaryOf(long, `${long.reason.slice(0, MAX_LOGGED_REASON - 1)}…`));
  });

  it('refuses a capacity its indexes cannot hold', () => {
    assert.throws(() => new DecisionLog(40_000), /capacity must be an integer from 1 to 32767 \(got 40000\)/);
    assert.throws(() => new DecisionLog(0), /\(got 0\)/);
  });
});

describe('AnomalyLog', () => {
  it('keeps the newest 200 anomalous points as they were logged', () => {
    const log = new AnomalyLog(200);
    const states = ['surge', 'gap', 'level-shift', 'zero-drop'];
    const all = Array.from({ length: 250 }, (_, k) => ({
      timestamp: T0 + k * 60,
      state: states[k % states.length] as string,
      score: 0.99 + (k % 10) / 1000,
    }));
    for (const a of all.slice(0, 3)) log.push(a);
    assert.deepEqual(log.toArray(), all.slice(0, 3));
    for (const a of all.slice(3)) log.push(a);
    assert.deepEqual(log.toArray(), all.slice(-200));
    assert.equal(log.bytes, 200 * 18);
  });
});
