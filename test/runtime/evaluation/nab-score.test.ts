import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import {
  bestThreshold,
  loadNabCorpus,
  nabScore,
  probationaryLength,
  scaledSigmoid,
  scoreDetections,
  type NabProfile,
  type NabWindow,
} from '../../../runtime/evaluation/nab-score.js';
import { SHARED_DIR } from '../../support/paths.js';

const STANDARD: NabProfile = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };
const LOW_FN: NabProfile = { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 };

// A 100-row file, one row a minute: probation is rows 0..14, one window on rows 40..49 (W = 10).
const TIMESTAMPS = Array.from({ length: 100 }, (_, i) => i * 60);
const WINDOW: NabWindow = [40 * 60, 49 * 60];

function detectionsAt(...rows: number[]): boolean[] {
  return TIMESTAMPS.map((_, i) => rows.includes(i));
}

function close(actual: number, expected: number, tolerance = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected}`);
}

describe('NAB scoring', () => {
  it('uses the scaled sigmoid 2/(1 + e^{5y}) − 1 and probation min(floor(0.15 n), 750)', () => {
    // GIVEN / WHEN / THEN values NAB documents
    close(scaledSigmoid(-1), 0.98661429815, 1e-10);
    close(scaledSigmoid(-0.5), 0.84828363995, 1e-10);
    close(scaledSigmoid(0), 0);
    close(scaledSigmoid(1), -0.98661429815, 1e-10);
    assert.equal(scaledSigmoid(3), -1);
    assert.equal(probationaryLength(100), 15);
    assert.equal(probationaryLength(4032), 604);
    assert.equal(probationaryLength(10320), 750);
  });

  it('scores a detection at the window start A_TP and ignores later ones in the window', () => {
    // GIVEN detections at the left edge and in the middle of the window
    const s = scoreDetections(TIMESTAMPS, detectionsAt(40, 45), [WINDOW], STANDARD);
    // THEN y = −(49 − 40 + 1)/10 = −1 earns exactly σ(−1)/σ(−1) = 1; the second detection adds nothing
    close(s.score, 1);
    assert.equal(s.truePositives, 1);
    assert.equal(s.falsePositives, 0);
  });

  it('scores a detection at the window right edge with y = −1/W', () => {
    // GIVEN a detection on the last row of the window
    const s = scoreDetections(TIMESTAMPS, detectionsAt(49), [WINDOW], STANDARD);
    // THEN σ(−0.1)/σ(−1) = tanh(0.25)/tanh(2.5) = 0.2482414...
    close(s.score, Math.tanh(0.25) / Math.tanh(2.5));
    close(s.score, 0.24824146, 1e-7);
  });

  it('weights a false positive by its distance after the window and charges the missed window', () => {
    // GIVEN a detection 6 rows after the window's right edge and none inside it
    const s = scoreDetections(TIMESTAMPS, detectionsAt(55), [WINDOW], STANDARD);
    // THEN −A_FN + A_FP·σ(6/9) = −1 + 0.11·(−tanh(5/3)) = −1.1024...
    close(s.score, -1 - 0.11 * Math.tanh(5 / 3));
    close(s.score, -1.10242, 1e-5);
    assert.deepEqual([s.truePositives, s.falseNegatives, s.falsePositives], [0, 1, 1]);
  });

  it('charges −A_FP for a false positive before any window or ≥ 3 widths after one', () => {
    // GIVEN detections at rows 20 (before the window) and 90 (y = 41/9 ≥ 3) plus a hit at 40
    const s = scoreDetections(TIMESTAMPS, detectionsAt(20, 40, 90), [WINDOW], STANDARD);
    // THEN 1 − 0.11 − 0.11
    close(s.score, 1 - 0.22);
  });

  it('does not score probationary rows, nor a window entirely inside them', () => {
    // GIVEN a detection at row 5 and a second window on rows 2..8
    const early: NabWindow = [2 * 60, 8 * 60];
    const s = scoreDetections(TIMESTAMPS, detectionsAt(5), [early, WINDOW], STANDARD);
    // THEN only the scorable window counts (missed: −1)
    close(s.score, -1);
    assert.equal(s.scorableWindows, 1);
    assert.equal(s.windows, 2);
  });

  it('charges a missed window −A_FN of the profile', () => {
    // GIVEN no detections WHEN scored with the standard and low-FN profiles
    // THEN
    close(scoreDetections(TIMESTAMPS, detectionsAt(), [WINDOW], STANDARD).score, -1);
    close(scoreDetections(TIMESTAMPS, detectionsAt(), [WINDOW], LOW_FN).score, -2);
  });

  it('normalises the null detector to 0 and the perfect detector to 100', () => {
    // GIVEN two files: no detections, then detections at each window start
    const file = (rows: number[]) => ({
      timestamps: TIMESTAMPS,
      detections: detectionsAt(...rows),
      windows: [WINDOW],
    });
    // WHEN / THEN
    close(nabScore([file([]), file([])], STANDARD).score, 0);
    close(nabScore([file([40]), file([40])], STANDARD).score, 100);
    // AND one hit out of two with one early false positive: 100·(1 − 1 − 0.11 + 2)/(2 + 2)
    close(nabScore([file([40]), file([20])], STANDARD).score, (100 * (1 - 1 - 0.11 + 2)) / 4);
  });

  it('picks the corpus threshold with the best score, as the sweeper does', () => {
    // GIVEN anomaly scores: 0.9 at the window start, 0.6 before the window, 0.1 elsewhere
    const anomalyScores = TIMESTAMPS.map((_, i) => (i === 40 ? 0.9 : i === 20 ? 0.6 : 0.1));
    // WHEN swept
    const best = bestThreshold([{ timestamps: TIMESTAMPS, anomalyScores, windows: [WINDOW] }], STANDARD);
    // THEN 0.9 catches the window without the false positive: a perfect 100
    assert.equal(best.threshold, 0.9);
    close(best.score, 100);
    close(best.raw, 1);
    // AND when the false positive scores higher than the hit, the hit only comes with it: 0.6, 1 − 0.11
    const swapped = TIMESTAMPS.map((_, i) => (i === 40 ? 0.6 : i === 20 ? 0.9 : 0.1));
    const second = bestThreshold(
      [{ timestamps: TIMESTAMPS, anomalyScores: swapped, windows: [WINDOW] }],
      STANDARD,
    );
    assert.equal(second.threshold, 0.6);
    close(second.raw, 1 - 0.11);
  });

  it('keeps no detections (threshold 1.1) when every threshold does worse', () => {
    // GIVEN a constant score on every row (NAB's null detector)
    const anomalyScores = TIMESTAMPS.map(() => 0.5);
    // WHEN swept THEN detecting everything is worse than nothing
    const best = bestThreshold([{ timestamps: TIMESTAMPS, anomalyScores, windows: [WINDOW] }], STANDARD);
    assert.equal(best.threshold, 1.1);
    close(best.score, 0);
  });

  it('loads the NAB files of ../shared/traces/nab with their windows and profiles', () => {
    // GIVEN the stored NAB subset WHEN loaded
    const corpus = loadNabCorpus(join(SHARED_DIR, 'traces', 'nab'));
    // THEN all 24 listed files and the three profiles are there
    assert.equal(corpus.files.length, 24);
    assert.deepEqual(corpus.profiles.standard, STANDARD);
    assert.deepEqual(corpus.profiles.reward_low_FN_rate, LOW_FN);
    const taxi = corpus.files.find((f) => f.name === 'realKnownCause/nyc_taxi.csv');
    assert.equal(taxi?.timestamps.length, 10320);
    assert.equal(taxi?.windows.length, 5);
    // AND null and perfect detectors normalise to 0 and 100 on it
    const profile = corpus.profiles.standard as NabProfile;
    const none = corpus.files.map((f) => ({ ...f, detections: f.timestamps.map(() => false) }));
    const perfect = corpus.files.map((f) => ({
      ...f,
      detections: f.timestamps.map((t) => f.windows.some((w) => w[0] === t)),
    }));
    close(nabScore(none, profile).score, 0);
    close(nabScore(perfect, profile).score, 100);
  });
});
