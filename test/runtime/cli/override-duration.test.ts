import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from '../../../runtime/cli/override-command.js';

describe('parseDuration (override set --for)', () => {
  it('reads the documented forms: whole units, each at most once, largest first', () => {
    // GIVEN the help's examples and their combinations WHEN parsed THEN seconds
    assert.equal(parseDuration('90s'), 90);
    assert.equal(parseDuration('30m'), 1800);
    assert.equal(parseDuration('2h'), 7200);
    assert.equal(parseDuration('1h30m'), 5400);
    assert.equal(parseDuration('1d'), 86_400);
    assert.equal(parseDuration('1d2h3m4s'), 86_400 + 7200 + 180 + 4);
    assert.equal(parseDuration('90m'), 5400);
  });

  it('refuses a unit given twice or out of order (likely typos), and text that is not a duration', () => {
    // GIVEN durations a typo would produce WHEN parsed THEN none is read (2h2h was 4 h, 30m1h 90 min)
    for (const bad of ['2h2h', '30m1h', '1s1m', '1h1d', '30m30m', '', '2', 'h', '1.5h', '-1h', '1h 30m']) {
      assert.equal(parseDuration(bad), undefined, bad);
    }
  });
});
