import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnomalyDetector, isBrokenSignal } from '../../../runtime/engine/anomaly.js';

/** A steady noisy series around `level` (deterministic pseudo-noise, ±5%). */
function steady(n: number, level = 100): number[] {
  return Array.from({ length: n }, (_, i) => level * (1 + 0.05 * Math.sin(i * 1.7)));
}

/** Runs the detector against a slow one-step forecast (exponential smoothing, α = 0.1). */
function run(values: number[]): string[] {
  const detector = new AnomalyDetector();
  let expected = Number.NaN;
  return values.map((value) => {
    const a = detector.assess(value, expected);
    assert.ok(a.score >= 0 && a.score <= 1, `score ${a.score}`);
    if (!isBrokenSignal(a.state)) expected = Number.isNaN(expected) ? value : 0.9 * expected + 0.1 * value;
    return a.state;
  });
}

describe('AnomalyDetector', () => {
  it('calls NaN missing and negative or infinite values invalid, with score 1', () => {
    const detector = new AnomalyDetector();
    assert.deepEqual(detector.assess(Number.NaN, 1), { state: 'missing', score: 1, zScore: 0 });
    assert.equal(detector.assess(-3, 1).state, 'invalid');
    assert.equal(detector.assess(Number.POSITIVE_INFINITY, 1).state, 'invalid');
  });

  it('treats a sudden zero in a busy series as a broken signal, then accepts a lasting zero level', () => {
    // GIVEN a steady busy series, then zeros
    const states = run([...steady(100), ...Array(15).fill(0)]);
    // THEN the first ten zeros are drop-to-zero (hold), later ones are no longer called broken
    assert.deepEqual(states.slice(100, 110), Array(10).fill('drop-to-zero'));
    assert.ok(!isBrokenSignal(states[112] as never));
  });

  it('does not call zeros broken in a series where zeros are ordinary', () => {
    const sparse = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 0 : 4));
    const states = run(sparse);
    assert.equal(states.slice(100).filter((s) => s === 'drop-to-zero').length, 0);
  });

  it('flags a spike far above forecast as a surge', () => {
    const states = run([...steady(100), 400]);
    assert.equal(states[100], 'surge');
  });

  it('finds a level shift within a few points and stays quiet on steady noise', () => {
    const values = [...steady(200), ...steady(30, 160)];
    const states = run(values);
    assert.equal(states.slice(20, 200).filter((s) => s !== 'normal').length, 0);
    const firstShift = states.indexOf('level-shift', 200);
    assert.ok(firstShift >= 200 && firstShift <= 206, `level shift found at ${firstShift}`);
  });
});
