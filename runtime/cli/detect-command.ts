/**
 * `elasticai detect`: feeds every trace row to a fresh SeriesMonitor (the engine's forecaster and anomaly
 * detector for one series) and reports each row's causal anomaly score; `--report` writes a
 * self-contained HTML page with the series, the scores and the anomalies marked.
 */
import type { SignalState } from '../engine/anomaly.js';
import { SeriesMonitor } from '../engine/series-monitor.js';
import type { Trace } from '../simulation/types.js';
import { parseFlags } from './args.js';
import type { Command, CommandIo } from './command.js';
import { ExitCode } from './command.js';
import type { OutputFile } from './csv-output.js';
import { csvLines, csvNumber, isoTimestamp, writeFilesAtomic } from './csv-output.js';
import { checkOutputPaths } from './output-paths.js';
import { PROGRESS_MIN_STEPS, ProgressBar } from './progress.js';
import { detectReport } from './reports.js';
import { bold, table } from './terminal.js';
import { loadTrace, traceSummary } from './trace-input.js';

/**
 * Rows at or above this score are anomalies in the summaries: the threshold NAB's sweep picks on the
 * NAB files in ../shared/traces (standard profile, `npm run bench`). Scores are likelihoods: 0.5 is an
 * ordinary row.
 */
export const ANOMALY_THRESHOLD = 0.99;
/** Rows at or above this score are counted as strong anomalies in the human summary. */
const STRONG_THRESHOLD = 0.999;
const TOP_ROWS = 10;

const HELP = `Usage: elasticai detect --trace FILE.csv [--kind demand|metric] [--scores OUT.csv]
                        [--report REPORT.html] [--json]

Scores every row of a demand trace for anomalies, causally: the score of row t uses rows 0..t only
(the same detector the engine uses to tell a surge from a broken signal or a level shift).

Flags:
  --trace FILE.csv     a header row, then timestamp,value rows at a regular interval
                       (timestamp: ISO 8601, YYYY-MM-DD HH:MM[:SS] or epoch seconds; extra columns ignored)
  --kind demand        (default) the values are demand: never negative (a negative or a sudden zero in
                       a busy series is a broken signal, score 1), errors compared as ratios
  --kind metric        any metric (may be negative, zeros are ordinary), errors compared in its units
  --scores OUT.csv     write timestamp,value,anomaly_score (score in [0, 1], 6 decimals), one row per
                       trace row, in order
  --report REPORT.html write a self-contained HTML page (inline SVG, works offline): the series with
                       the rows scored >= ${ANOMALY_THRESHOLD} marked, the score over time with the
                       threshold, and the anomalies as a table
  --json               print a JSON summary on stdout instead of the human one:
                       { trace: {path, rows, intervalSeconds}, rows, anomalies: [{timestamp, value,
                       score, state}] } listing the rows scored >= ${ANOMALY_THRESHOLD}
  -h, --help           show this help

A progress bar is drawn on stderr for long traces when stderr is a terminal (never with --json).

States: warming-up, normal, surge, level-shift, missing, invalid, drop-to-zero.

Examples:
  elasticai detect --trace ec2_cpu_utilization.csv
  elasticai detect --trace nyc_taxi.csv --scores nyc-scores.csv --json
  elasticai detect --trace art_daily_flatmiddle.csv --kind metric
  elasticai detect --trace ec2_cpu_utilization.csv --report ec2-anomalies.html
`;

interface ScoredRow {
  readonly index: number;
  readonly timestamp: number;
  readonly value: number;
  readonly score: number;
  readonly state: SignalState;
}

/** Scores rounded as the scores file writes them, so every output (and every threshold) agrees. */
const round6 = (score: number): number => Number(score.toFixed(6));

/** Scores every row with a fresh SeriesMonitor at the trace's interval; `onRow` is called after each. */
export function scoreTrace(
  trace: Trace,
  kind: 'demand' | 'metric' = 'demand',
  onRow?: () => void,
): ScoredRow[] {
  const monitor = new SeriesMonitor({ intervalSeconds: trace.intervalSeconds, kind });
  return trace.rows.map((row, index) => {
    const a = monitor.observe(row.timestamp, row.demand);
    onRow?.();
    if (Number.isNaN(a.score)) {
      throw new Error(`the anomaly detector returned no score for line ${row.line}`);
    }
    return {
      index,
      timestamp: row.timestamp,
      value: row.demand,
      score: round6(Math.min(1, Math.max(0, a.score))),
      state: a.state,
    };
  });
}

function jsonValue(value: number): number | string | null {
  if (Number.isNaN(value)) return null;
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  return value;
}

function humanSummary(path: string, trace: Trace, scored: readonly ScoredRow[], color: boolean): string {
  const atLeast = (threshold: number): number => scored.filter((r) => r.score >= threshold).length;
  const top = [...scored].sort((a, b) => b.score - a.score || a.index - b.index).slice(0, TOP_ROWS);
  return (
    `${bold('Trace', color)}  ${path}: ${trace.rows.length} rows every ${trace.intervalSeconds} s\n` +
    `${bold('Scores', color)} ${atLeast(ANOMALY_THRESHOLD)} rows >= ${ANOMALY_THRESHOLD}, ` +
    `${atLeast(STRONG_THRESHOLD)} rows >= ${STRONG_THRESHOLD}\n\n` +
    `Top ${top.length} rows by score:\n` +
    table(
      ['timestamp', 'line', 'value', 'score', 'state'],
      top.map((r) => [
        isoTimestamp(r.timestamp),
        String((trace.rows[r.index] as { line: number }).line),
        csvNumber(r.value) || 'NaN',
        r.score.toFixed(6),
        r.state,
      ]),
      color,
    )
  );
}

function run(argv: readonly string[], io: CommandIo): number {
  const flags = parseFlags(argv, {
    trace: 'value',
    kind: 'value',
    scores: 'value',
    report: 'value',
    json: 'switch',
  });
  const path = flags.required('trace');
  const kind = flags.choice('kind', ['demand', 'metric'] as const) ?? 'demand';
  const scoresPath = flags.string('scores');
  const reportPath = flags.string('report');
  checkOutputPaths({ flag: '--trace', path }, [
    { flag: '--report', path: reportPath },
    { flag: '--scores', path: scoresPath },
  ]);
  const trace = loadTrace(path);
  const progress = new ProgressBar({
    label: 'detect',
    total: trace.rows.length,
    unit: 'rows',
    write: io.stderr,
    enabled: io.stderrTty === true && !flags.has('json') && trace.rows.length >= PROGRESS_MIN_STEPS,
  });
  let scored: ScoredRow[];
  try {
    scored = scoreTrace(trace, kind, progress.enabled ? () => progress.tick() : undefined);
  } finally {
    progress.finish();
  }
  // Every output is written only once the whole run has succeeded, and all of them or none.
  const outputs: OutputFile[] = [];
  if (reportPath !== undefined) {
    outputs.push({
      path: reportPath,
      parts: [detectReport({ tracePath: path, trace, kind, scored, threshold: ANOMALY_THRESHOLD })],
    });
  }
  if (scoresPath !== undefined) {
    outputs.push({
      path: scoresPath,
      parts: csvLines(
        ['timestamp', 'value', 'anomaly_score'],
        scored.map((r) => [isoTimestamp(r.timestamp), csvNumber(r.value), r.score.toFixed(6)]),
      ),
    });
  }
  writeFilesAtomic(outputs);
  if (flags.has('json')) {
    const summary = {
      trace: traceSummary(path, trace),
      rows: trace.rows.length,
      anomalies: scored
        .filter((r) => r.score >= ANOMALY_THRESHOLD)
        .map((r) => ({
          timestamp: isoTimestamp(r.timestamp),
          value: jsonValue(r.value),
          score: r.score,
          state: r.state,
        })),
    };
    io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    io.stdout(humanSummary(path, trace, scored, io.color));
    if (scoresPath !== undefined) io.stdout(`\nscores written to ${scoresPath}\n`);
    if (reportPath !== undefined) io.stdout(`\nreport written to ${reportPath}\n`);
  }
  return ExitCode.ok;
}

export const detectCommand: Command = {
  name: 'detect',
  summary: 'score every row of a trace for anomalies (causal: row t uses rows 0..t only)',
  help: HELP,
  run,
};
