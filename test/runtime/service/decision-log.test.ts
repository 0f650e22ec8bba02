import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision } from '../../../runtime/engine/workload-engine.js';
import { WorkloadEngine } from '../../../runtime/engine/workload-engine.js';
import { AnomalyLog, DecisionLog } from '../../../runtime/service/decision-log.js';
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
        const stale: LoggedDecision = {
          timestamp: d.timestamp + 1,
          desiredReplicas: d.desiredReplicas,
          rule: d.rule,
          summary: `${d.desiredReplicas} replicas: serving the last good decision; connect ECONNREFUSED`,
          state: 'stale',
        };
        log.pushText(stale);
        expected.push(stale);
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
