/**
 * The `--report FILE.html` pages of `simulate` and `detect` (self-contained: see html-report.ts). A
 * report is a function of its inputs only (no clock, no host name), so the same run writes the same
 * bytes.
 */
import { basename } from 'node:path';
import { measuredDemand } from '../simulation/simulator.js';
import type { RunComparison } from '../simulation/simulator.js';
import type { RunResult, Trace } from '../simulation/types.js';
import { isoTimestamp } from './csv-output.js';
import { escapeHtml, htmlFacts, htmlPage, htmlTable, MAX_COLUMNS, timeChart } from './html-report.js';
import { percent, ratio } from './terminal.js';

/** Colours of the series (colour-blind safe pairs: blue demand, orange/green/purple capacity). */
const COLORS = {
  demand: '#0969da',
  predictive: '#bc4c00',
  hpa: '#1a7f37',
  oracle: '#8250df',
  score: '#6e7781',
} as const;

const colorOf = (policy: string): string =>
  (COLORS as Record<string, string>)[policy] ?? (COLORS.predictive as string);

function period(trace: Trace): string {
  const first = trace.rows[0];
  const last = trace.rows[trace.rows.length - 1];
  if (!first || !last) return 'no rows';
  return `${isoTimestamp(first.timestamp)} – ${isoTimestamp(last.timestamp)}`;
}

function traceFacts(path: string, trace: Trace): [string, string][] {
  const gaps = trace.gaps?.length ?? 0;
  return [
    ['Trace', path],
    [
      'Rows',
      `${trace.rows.length.toLocaleString('en-US')} every ${trace.intervalSeconds} s` +
        (gaps > 0 ? ` (${gaps} gap${gaps === 1 ? '' : 's'}: rows taken as consecutive)` : ''),
    ],
    ['Period', period(trace)],
  ];
}

export interface SimulateReportInput {
  readonly tracePath: string;
  readonly trace: Trace;
  readonly capacity: number;
  readonly startupSeconds: number;
  readonly hpaTarget: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly initialReplicas: number;
  readonly readyDelayRows: number;
  readonly runs: readonly RunResult[];
  readonly comparison: RunComparison | undefined;
}

/** Rows where demand exceeded ready capacity, exactly as the simulator counts violations. */
export function violationRows(trace: Trace, run: RunResult, capacity: number): boolean[] {
  return trace.rows.map((row, i) => measuredDemand(row.demand) > (run.ready[i] as number) * capacity);
}

/** The simulate report: parameters, the summary table, and one demand-vs-capacity chart per policy. */
export function simulateReport(input: SimulateReportInput): string {
  const { trace, runs, capacity } = input;
  const timestamps = trace.rows.map((r) => r.timestamp);
  const demand = trace.rows.map((r) => r.demand);
  const summary = htmlTable(
    [
      'policy',
      'violation intervals',
      'unserved',
      'replica-intervals',
      'over-provisioning',
      'scaling changes',
    ],
    runs.map(({ measures: m }) => [
      m.policy,
      m.violationIntervals.toLocaleString('en-US'),
      percent(m.unservedShare, 3),
      m.replicaIntervals.toLocaleString('en-US'),
      percent(m.overProvisioningShare, 1),
      m.scalingChanges.toLocaleString('en-US'),
    ]),
  );
  const c = input.comparison;
  const comparison = c
    ? `<p>predictive vs hpa: violations ${escapeHtml(ratio(c.violationRatio))}, cost ${escapeHtml(ratio(c.costRatio, 3))}, closes ${escapeHtml(percent(c.costGapClosed, 0))} of the hpa→oracle cost gap (oracle: perfect foresight, the cheapest schedule without violations).</p>\n`
    : '';
  const charts = runs.map((run) => {
    const policy = run.measures.policy;
    return timeChart({
      title: `${policy}: demand vs ready capacity`,
      description:
        `Demand per interval and the capacity of the replicas ready to serve it under the ${policy} policy; ` +
        `${run.measures.violationIntervals} intervals where demand exceeded ready capacity are marked.`,
      timestamps,
      lines: [
        { label: 'demand', values: demand, color: COLORS.demand, combine: 'max', band: true },
        {
          label: 'ready capacity (ready replicas × capacity)',
          values: run.ready.map((r) => r * capacity),
          color: colorOf(policy),
          combine: 'max',
          band: true,
          step: true,
        },
      ],
      markedRows: violationRows(trace, run, capacity),
      markLabel: 'violation',
    });
  });
  const detail = detailChart(input);
  const body =
    htmlFacts([
      ...traceFacts(input.tracePath, trace),
      [
        'Parameters',
        `capacity ${input.capacity} per replica per interval, start-up ${input.startupSeconds} s ` +
          `(ready ${input.readyDelayRows} rows after a decision), replicas ${input.minReplicas}..${input.maxReplicas}, ` +
          `hpa target ${input.hpaTarget}`,
      ],
      ['Start', `every policy starts with ${input.initialReplicas} ready replicas`],
    ]) +
    '<h2>Summary</h2>\n' +
    summary +
    comparison +
    '<p class="note">Violation intervals: demand above ready capacity. Replica-intervals: replicas existing in each interval, starting ones included (the cost). Over-provisioning: share of ready capacity left idle.</p>\n' +
    '<h2>Demand and capacity</h2>\n' +
    charts.join('') +
    detail;
  return htmlPage(
    `Simulation: ${basename(input.tracePath)}`,
    `elasticai simulate · ${runs.map((r) => r.measures.policy).join(', ')}`,
    body,
  );
}

/**
 * The window of at most MAX_COLUMNS rows (drawn one row per column, nothing combined) where the first
 * policy has the most violations, with every policy's ready capacity overlaid; empty when the whole
 * trace already fits unreduced or there is no violation.
 */
function detailChart(input: SimulateReportInput): string {
  const { trace, runs, capacity } = input;
  const first = runs[0];
  const n = trace.rows.length;
  if (!first || n <= MAX_COLUMNS) return '';
  const marks = violationRows(trace, first, capacity);
  let best = -1;
  let bestCount = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (marks[i]) count++;
    if (i >= MAX_COLUMNS && marks[i - MAX_COLUMNS]) count--;
    if (i >= MAX_COLUMNS - 1 && count > bestCount) {
      bestCount = count;
      best = i - MAX_COLUMNS + 1;
    }
  }
  if (best < 0) return '';
  const slice = <T>(values: readonly T[]): T[] => values.slice(best, best + MAX_COLUMNS);
  const rows = slice(trace.rows);
  const from = rows[0] as { timestamp: number };
  const to = rows[rows.length - 1] as { timestamp: number };
  return (
    `<h2>Detail: the ${first.measures.policy} policy's worst window</h2>\n` +
    `<p class="note">${rows.length} rows from ${escapeHtml(isoTimestamp(from.timestamp))} to ${escapeHtml(isoTimestamp(to.timestamp))}, one row per column, with ${bestCount} of its ${first.measures.violationIntervals} violations marked.</p>\n` +
    timeChart({
      title: `Demand and every policy's ready capacity, ${isoTimestamp(from.timestamp)} – ${isoTimestamp(to.timestamp)}`,
      description: `The ${rows.length} rows with the most ${first.measures.policy} violations, unreduced; ready capacity of each policy overlaid.`,
      timestamps: rows.map((r) => r.timestamp),
      lines: [
        { label: 'demand', values: rows.map((r) => r.demand), color: COLORS.demand, combine: 'max' },
        ...runs.map((run) => ({
          label: `${run.measures.policy} ready capacity`,
          values: slice(run.ready).map((r) => r * capacity),
          color: colorOf(run.measures.policy),
          combine: 'min' as const,
          step: true,
        })),
      ],
      markedRows: slice(marks),
      markLabel: `${first.measures.policy} violation`,
      height: 300,
    })
  );
}

export interface ScoredRowLike {
  readonly index: number;
  readonly timestamp: number;
  readonly value: number;
  readonly score: number;
  readonly state: string;
}

export interface DetectReportInput {
  readonly tracePath: string;
  readonly trace: Trace;
  readonly kind: 'demand' | 'metric';
  readonly scored: readonly ScoredRowLike[];
  readonly threshold: number;
}

/** Most anomalies listed in the report's table (all are drawn on the chart). */
const TABLE_ROWS = 200;

/** The detect report: the series with anomalies marked, the score with the threshold, and the anomalies. */
export function detectReport(input: DetectReportInput): string {
  const { trace, scored, threshold } = input;
  const timestamps = trace.rows.map((r) => r.timestamp);
  const anomalies = scored.filter((r) => r.score >= threshold);
  const note = (r: ScoredRowLike): string =>
    `${isoTimestamp(r.timestamp)}: value ${Number.isFinite(r.value) ? r.value : String(r.value)}, score ${r.score.toFixed(6)}, ${r.state}`;
  const series = timeChart({
    title: 'Series with anomalies',
    description: `The trace's values; the ${anomalies.length} rows scored at least ${threshold} are marked with dots.`,
    timestamps,
    lines: [
      {
        label: input.kind === 'demand' ? 'demand' : 'value',
        values: trace.rows.map((r) => r.demand),
        color: COLORS.demand,
        combine: 'max',
        band: true,
      },
    ],
    points: anomalies.map((r) => ({ row: r.index, note: note(r) })),
    pointLabel: `anomaly (score ≥ ${threshold})`,
  });
  const score = timeChart({
    title: 'Anomaly score',
    description: `The causal anomaly likelihood of every row, in [0, 1], with the threshold ${threshold}.`,
    timestamps,
    lines: [
      {
        label: 'anomaly score',
        values: scored.map((r) => r.score),
        color: COLORS.score,
        combine: 'max',
      },
    ],
    markedRows: scored.map((r) => r.score >= threshold),
    markLabel: 'anomalous',
    thresholds: [{ value: threshold, label: `threshold ${threshold}` }],
    yMin: 0,
    yMax: 1,
    height: 140,
  });
  const top = [...anomalies].sort((a, b) => b.score - a.score || a.index - b.index).slice(0, TABLE_ROWS);
  const table =
    anomalies.length === 0
      ? `<p>No row scored at least ${threshold}.</p>\n`
      : htmlTable(
          ['timestamp', 'line', 'value', 'score', 'state'],
          top.map((r) => [
            isoTimestamp(r.timestamp),
            String(trace.rows[r.index]?.line ?? ''),
            Number.isFinite(r.value) ? String(r.value) : String(r.value),
            r.score.toFixed(6),
            r.state,
          ]),
          [false, true, true, true, false],
        ) +
        (anomalies.length > top.length
          ? `<p class="note">The ${top.length} highest of ${anomalies.length} anomalies.</p>\n`
          : '');
  const body =
    htmlFacts([
      ...traceFacts(input.tracePath, trace),
      ['Kind', input.kind],
      [
        'Anomalies',
        `${anomalies.length} rows scored ≥ ${threshold} (a score is a likelihood: 0.5 is an ordinary row)`,
      ],
    ]) +
    '<h2>Series</h2>\n' +
    series +
    score +
    '<h2>Anomalies</h2>\n' +
    table;
  return htmlPage(`Anomaly detection: ${basename(input.tracePath)}`, 'elasticai detect', body);
}
