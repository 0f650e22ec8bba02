import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrescaleLedger } from '../../../runtime/engine/prescale-ledger.js';

/** One policy step: the need just seen, then this step's pre-scale (base + extra). */
function step(ledger: PrescaleLedger, need: number, extra: number): void {
  ledger.observe(need);
  ledger.record(Number.isFinite(need) ? need : 0, extra);
}

describe('PrescaleLedger', () => {
  it('trusts pre-scaling in full until ten pre-scales have been judged', () => {
    // GIVEN a lead of 2 steps and pre-scales of 10 replicas above a need of 5 that never rises
    const ledger = new PrescaleLedger(2, 0.3);
    // WHEN 11 are made (the first 9 are judged by step 11)
    for (let i = 0; i < 11; i++) step(ledger, 5, 10);
    // THEN there is no record yet
    assert.ok(Number.isNaN(ledger.neededShare));
    assert.equal(ledger.trust, 1);
    // AND one step later the tenth is judged: none of the pre-scaled replicas was needed
    step(ledger, 5, 10);
    assert.equal(ledger.neededShare, 0);
    assert.equal(ledger.trust, 0);
  });

  it('measures the share of pre-scaled replicas the demand of the next lead steps needed', () => {
    // GIVEN pre-scales of 10 above a need of 5, after which the need rises to 8 on every other step
    const ledger = new PrescaleLedger(2, 0.3);
    for (let i = 0; i < 40; i++) step(ledger, i % 2 === 0 ? 5 : 8, 10);
    // THEN each pre-scale saw a peak of 8 within its 2 steps: 3 of its 10 replicas were needed, or,
    // made at 8, none (the rise was already there), so the share is (3 + 0) / 20
    assert.ok(Math.abs(ledger.neededShare - 0.15) < 0.01, String(ledger.neededShare));
    // AND the next pre-scale is trusted at 0.15 / 0.3
    assert.ok(Math.abs(ledger.trust - 0.5) < 0.03, String(ledger.trust));
  });

  it('keeps full trust when the forecast rises come', () => {
    const ledger = new PrescaleLedger(3, 0.3);
    // A ramp: each step needs 4 more, each pre-scale asks for the next 3 steps' growth (12).
    for (let i = 0; i < 50; i++) step(ledger, 10 + 4 * i, 12);
    assert.equal(ledger.neededShare, 1);
    assert.equal(ledger.trust, 1);
  });

  it('judges a pre-scale on its lead window only: a rise one step later does not count', () => {
    const ledger = new PrescaleLedger(2, 0.3);
    // A pre-scale every third step, with the need rising to 15 on the third step after it.
    for (let i = 0; i < 60; i++) step(ledger, i % 3 === 0 && i > 0 ? 15 : 5, i % 3 === 0 ? 10 : 0);
    assert.equal(ledger.neededShare, 0);
  });

  it('does not judge a pre-scale whose window holds a broken point', () => {
    const ledger = new PrescaleLedger(2, 0.3);
    for (let i = 0; i < 30; i++) step(ledger, 5, 10);
    const before = ledger.neededShare;
    // WHEN the need rises right after a broken point, within the window of the 2 pending pre-scales
    step(ledger, Number.NaN, 0);
    step(ledger, 50, 0);
    step(ledger, 50, 0);
    // THEN neither is counted as needed (nor as unneeded): the share is unchanged
    assert.equal(ledger.neededShare, before);
  });

  it('always trusts in full with a break-even of 0', () => {
    const ledger = new PrescaleLedger(2, 0);
    for (let i = 0; i < 30; i++) step(ledger, 5, 10);
    assert.equal(ledger.neededShare, 0);
    assert.equal(ledger.trust, 1);
  });

  it('forgets: after the rises start coming, trust returns', () => {
    const ledger = new PrescaleLedger(2, 0.3);
    for (let i = 0; i < 30; i++) step(ledger, 5, 10);
    assert.equal(ledger.trust, 0);
    // Pre-scales of 10 above the need, which then rises by 10 within the lead: all needed.
    let need = 5;
    let steps = 0;
    while (ledger.trust < 1 && steps < 2000) {
      step(ledger, need, 10);
      need = need === 5 ? 15 : 5;
      steps++;
    }
    assert.equal(ledger.trust, 1);
    assert.ok(steps > 20 && steps < 400, `trust came back after ${steps} steps`);
  });
});
