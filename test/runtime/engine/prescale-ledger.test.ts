import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrescaleLedger } from '../../../runtime/engine/prescale-ledger.js';

/** One policy step: the need just seen, then this step's pre-scale of `extra` above it. */
function step(ledger: PrescaleLedger, need: number, extra: number): void {
  ledger.observe(need);
  ledger.record(Number.isFinite(need) ? need : 0, extra);
}

// A rise: less than twice the need on top (10 → 15); a burst bet: at least that (5 → 15).
const RISE = [10, 5] as const;
const BURST = [5, 10] as const;

describe('PrescaleLedger', () => {
  it('trusts pre-scaling in full until ten pre-scales of a kind have been judged', () => {
    // GIVEN a lead of 2 steps and burst bets of 10 replicas above a need of 5 that never rises
    const ledger = new PrescaleLedger(2, 0.3);
    // WHEN 11 are made (the first 9 are judged by step 11)
    for (let i = 0; i < 11; i++) step(ledger, 5, 10);
    // THEN there is no record yet
    assert.ok(Number.isNaN(ledger.neededShare(...BURST)));
    assert.equal(ledger.trust(...BURST), 1);
    // AND one step later the tenth is judged: none of the pre-scaled replicas was needed
    step(ledger, 5, 10);
    assert.equal(ledger.neededShare(...BURST), 0);
    assert.equal(ledger.trust(...BURST), 0);
  });

  it('measures the share of pre-scaled replicas the demand of the next lead steps needed', () => {
    // GIVEN rises of 5 asked above the need, which alternates between 10 and 12
    const ledger = new PrescaleLedger(2, 0.3);
    for (let i = 0; i < 40; i++) step(ledger, i % 2 === 0 ? 10 : 12, 5);
    // THEN each pre-scale made at 10 saw 12 within its 2 steps (2 of its 5 replicas needed), each made
    // at 12 saw no more (none needed): the share is 2 / 10
    assert.ok(Math.abs(ledger.neededShare(...RISE) - 0.2) < 0.01, String(ledger.neededShare(...RISE)));
    // AND the next rise is trusted at 0.2 / 0.3
    assert.ok(Math.abs(ledger.trust(...RISE) - 2 / 3) < 0.03, String(ledger.trust(...RISE)));
  });

  it('keeps full trust when the forecast rises come', () => {
    const ledger = new PrescaleLedger(3, 0.3);
    // A ramp: each step needs 4 more, each pre-scale asks for the next 3 steps' growth (12).
    for (let i = 0; i < 50; i++) step(ledger, 10 + 4 * i, 12);
    assert.equal(ledger.neededShare(100, 12), 1);
    assert.equal(ledger.trust(100, 12), 1);
  });

  it('judges rises and burst bets apart: unneeded bursts do not cost the rises their trust', () => {
    // GIVEN needed rises (10 → 15 the next step) and unneeded burst bets (5 → 15, nothing comes)
    const ledger = new PrescaleLedger(2, 0.3);
    for (let i = 0; i < 90; i++) {
      const phase = i % 6;
      if (phase === 0) step(ledger, 10, 5);
      else if (phase === 3) step(ledger, 5, 10);
      else step(ledger, phase === 1 ? 15 : 5, 0);
    }
    // THEN the rises keep full trust and the bursts lose it
    assert.equal(ledger.trust(...RISE), 1);
    assert.equal(ledger.neededShare(...BURST), 0);
    assert.equal(ledger.trust(...BURST), 0);
  });

  it('judges a pre-scale on its lead window only: a rise one step later does not count', () => {
    const ledger = new PrescaleLedger(2, 0.3);
    // A burst bet every fourth step, with the need rising to 15 on the third step after it.
    for (let i = 0; i < 80; i++) step(ledger, i % 4 === 3 ? 15 : 5, i % 4 === 0 ? 10 : 0);
    assert.equal(ledger.neededShare(...BURST), 0);
  });

  it('does not judge a pre-scale whose window holds a broken point', () => {
    const ledger = new PrescaleLedger(2, 0.3);
    for (let i = 0; i < 30; i++) step(ledger, 5, 10);
    const before = ledger.neededShare(...BURST);
    // WHEN the need rises right after a broken point, within the window of the 2 pending pre-scales
    step(ledger, Number.NaN, 0);
    step(ledger, 50, 0);
    step(ledger, 50, 0);
    // THEN neither is counted as needed (nor as unneeded): the share is unchanged
    assert.equal(ledger.neededShare(...BURST), before);
  });

  it('always trusts in full with a break-even of 0', () => {
    const ledger = new PrescaleLedger(2, 0);
    for (let i = 0; i < 30; i++) step(ledger, 5, 10);
    assert.equal(ledger.neededShare(...BURST), 0);
    assert.equal(ledger.trust(...BURST), 1);
  });

  it('forgets: after the bursts start coming, trust returns', () => {
    const ledger = new PrescaleLedger(2, 0.3);
    for (let i = 0; i < 30; i++) step(ledger, 5, 10);
    assert.equal(ledger.trust(...BURST), 0);
    // Bets of 10 above a need of 5, which then rises by 10 the next step: every one needed.
    let need = 5;
    let steps = 0;
    while (ledger.trust(...BURST) < 1 && steps < 2000) {
      step(ledger, need, need === 5 ? 10 : 0);
      need = need === 5 ? 15 : 5;
      steps++;
    }
    assert.equal(ledger.trust(...BURST), 1);
    assert.ok(steps > 20 && steps < 400, `trust came back after ${steps} steps`);
  });
});
