/**
 * NAB score of `elasticai detect`'s detector on the NAB files in ../shared/traces/nab (standard profile
 * and the two others), with NAB's threshold sweep choosing the threshold on those files. NAB series are
 * general metrics (some negative, some mostly zero), so the detector runs as `detect --kind metric`.
 */
import { join } from 'node:path';
import type { NabAnomalyScores } from '../../runtime/evaluation/nab-score.js';
import { bestThreshold, loadNabCorpus } from '../../runtime/evaluation/nab-score.js';
import { SeriesMonitor } from '../../runtime/engine/series-monitor.js';
import { SHARED_DIR } from '../support/paths.js';

const corpus = loadNabCorpus(join(SHARED_DIR, 'traces', 'nab'));

/** The most common gap between timestamps. */
function interval(timestamps: readonly number[]): number {
  const counts = new Map<number, number>();
  for (let i = 1; i < timestamps.length; i++) {
    const d = (timestamps[i] as number) - (timestamps[i - 1] as number);
    if (d > 0) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 300;
}

const start = performance.now();
const scored: NabAnomalyScores[] = corpus.files.map((file) => {
  const monitor = new SeriesMonitor({ intervalSeconds: interval(file.timestamps), kind: 'metric' });
  let last = Number.NEGATIVE_INFINITY;
  const anomalyScores = file.timestamps.map((t, i) => {
    // NAB files may repeat a timestamp (a DST change in the source): nudge it forward by a second.
    const at = Math.max(t, last + 1);
    last = at;
    return monitor.observe(at, file.values[i] as number).score;
  });
  return { timestamps: file.timestamps, anomalyScores, windows: file.windows };
});
const ms = performance.now() - start;
console.log(
  `NAB: ${corpus.files.length} files, ${scored.reduce((n, f) => n + f.timestamps.length, 0)} rows scored in ${ms.toFixed(0)} ms`,
);
for (const name of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate']) {
  const profile = corpus.profiles[name];
  if (profile === undefined) continue;
  const best = bestThreshold(scored, profile);
  console.log(
    `${name.padEnd(20)} score ${best.score.toFixed(1).padStart(5)} at threshold ${best.threshold.toFixed(3)}`,
  );
}
console.log(
  'published (full 58-file corpus, standard): ARTime 74.9, HTM 70.5, RCF 51.7, windowed Gaussian 39.6',
);
