/**
 * `elasticai simulate`: replays a trace through the predictive, hpa and oracle policies (or one of them)
 * and reports the measures of each run; `--decisions` writes one policy's per-row decisions and
 * `--report` a self-contained HTML page with the charts.
 */
import { EngineSettingsError, MAX_REPLICAS } from '../engine/settings.js';
import { hpaPolicy } from '../simulation/hpa-policy.js';
import { oraclePolicy, replicasNeeded } from '../simulation/oracle-policy.js';
import { predictivePolicy } from '../simulation/predictive-policy.js';
import { compareRuns, readyDelayRows, simulate } from '../simulation/simulator.js';
import type { PolicyContext, PolicyFactory, RunMeasures, RunResult, Trace } from '../simulation/types.js';
import { parseFlags } from './args.js';
import type { Command, CommandIo } from './command.js';
import { ExitCode, UsageError } from './command.js';
import type { OutputFile } from './csv-output.js';
import { csvLines, csvNumber, isoTimestamp, writeFilesAtomic } from './csv-output.js';
import { checkOutputPaths } from './output-paths.js';
import { PROGRESS_MIN_STEPS, ProgressBar } from './progress.js';
import { simulateReport } from './reports.js';
import { bold, jsonNumber, percent, ratio, table } from './terminal.js';
import { loadTrace, traceSummary } from './trace-input.js';

export const POLICIES = ['predictive', 'hpa', 'oracle'] as const;
export type PolicyName = (typeof POLICIES)[number];

const HELP = `Usage: elasticai simulate --trace FILE.csv --capacity N --startup SECONDS
                          [--policy predictive|hpa|oracle] [--hpa-target 0.7]
                          [--min-replicas 1] [--max-replicas 1000]
                          [--decisions OUT.csv] [--report REPORT.html] [--json]

Replays a demand trace through scaling policies and measures, for each run (in trace intervals):
violation intervals (demand > ready capacity), unserved share of demand, replica-intervals (the cost,
starting replicas included), over-provisioning (share of ready capacity left idle) and scaling changes.

Flags:
  --trace FILE.csv       demand trace: a header row, then timestamp,demand rows at a regular interval
                         (timestamp: ISO 8601, YYYY-MM-DD HH:MM[:SS] or epoch seconds; extra columns ignored)
  --capacity N           demand one replica serves in one interval at 100% (the trace's unit), > 0
  --startup SECONDS      seconds from requesting a replica to it serving, >= 0
  --policy NAME          run only this policy: predictive (the ElasticAI engine), hpa (the Kubernetes HPA
                         as KEDA configures it: 15 s sync, 0.1 tolerance, 300 s scale-down stabilization)
                         or oracle (perfect foresight, the cost lower bound); default: all three
  --hpa-target T         the hpa policy's target utilisation, in (0, 1] (default 0.7)
  --min-replicas N       integer in [0, 2147483647] (default 1)
  --max-replicas N       integer in [1, 2147483647] and >= --min-replicas (default 1000)
  --decisions OUT.csv    write timestamp,demand,desired_replicas, one row per trace row, in order
                         (needs --policy: exactly one policy)
  --report REPORT.html   write a self-contained HTML page (inline SVG, works offline): for each policy
                         a chart of demand vs ready capacity with the violations marked, and the
                         summary table
  --json                 print a JSON summary on stdout instead of the table
  -h, --help             show this help

A progress bar is drawn on stderr for long traces when stderr is a terminal (never with --json).

Time model: a decision at row t sees rows 0..t only and applies from row t+1; new replicas serve
1 + ceil(startup / interval) rows after the decision; removed replicas stop at once.

Initial replicas: every policy of one invocation starts from the same ready replica count, the oracle's
need over the first 1 + ceil(startup / interval) rows (the rows before any new pod can be ready), so
those rows count against no policy.

JSON output: { trace: {path, rows, intervalSeconds}, parameters: {capacity, startupSeconds, hpaTarget,
minReplicas, maxReplicas, initialReplicas, policies}, runs: [{policy, violationIntervals, unservedShare,
replicaIntervals, overProvisioningShare, scalingChanges}], comparison (all three policies only):
{policy, baseline, lowerBound, violationRatio, costRatio, costGapClosed} } (shares in [0, 1]; a ratio
that is not a finite number is null).

Examples:
  elasticai simulate --trace nyc_taxi.csv --capacity 1000 --startup 300
  elasticai simulate --trace nyc_taxi.csv --capacity 1000 --startup 300 --json
  elasticai simulate --trace nyc_taxi.csv --capacity 1000 --startup 300 --report nyc.html
  elasticai simulate --trace rpm.csv --capacity 50 --startup 120 --policy hpa --hpa-target 0.6 \\
                     --decisions hpa-decisions.csv
`;

/** Flag names of the engine settings the simulator passes through, for messages. */
const SETTING_FLAGS: Readonly<Record<string, string>> = {
  capacityPerReplica: '--capacity',
  leadSeconds: '--startup',
  minReplicas: '--min-replicas',
  maxReplicas: '--max-replicas',
};

interface SimulateParameters {
  readonly capacity: number;
  readonly startupSeconds: number;
  readonly hpaTarget: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly policies: readonly PolicyName[];
  readonly decisions: string | undefined;
  readonly report: string | undefined;
  readonly json: boolean;
}

function parseParameters(argv: readonly string[]): { tracePath: string; parameters: SimulateParameters } {
  const flags = parseFlags(argv, {
    trace: 'value',
    capacity: 'value',
    startup: 'value',
    policy: 'value',
    'hpa-target': 'value',
    'min-replicas': 'value',
    'max-replicas': 'value',
    decisions: 'value',
    report: 'value',
    json: 'switch',
  });
  const tracePath = flags.required('trace');
  const capacity = flags.requiredNumber('capacity', { min: 0, minExclusive: true });
  const startupSeconds = flags.requiredNumber('startup', { min: 0 });
  const policy = flags.choice('policy', POLICIES);
  const hpaTarget = flags.number('hpa-target', { min: 0, minExclusive: true, max: 1 }, 0.7);
  const minReplicas = flags.number('min-replicas', { min: 0, integer: true, max: MAX_REPLICAS }, 1);
  const maxReplicas = flags.number('max-replicas', { min: 1, integer: true, max: MAX_REPLICAS }, 1000);
  if (minReplicas > maxReplicas) {
    throw new UsageError(
      `--min-replicas must not exceed --max-replicas (${maxReplicas}) (got "${flags.string('min-replicas') ?? minReplicas}")`,
    );
  }
  // The HPA model reads the target in milli-units as KEDA sends it: below 0.001 it would be 0.
  if ((policy === undefined || policy === 'hpa') && Math.round(hpaTarget * capacity * 1000) < 1) {
    throw new UsageError(
      `--capacity × --hpa-target must be at least 0.001 for the hpa policy (KEDA sends metrics in milli-units) (got ${capacity} × ${hpaTarget})`,
    );
  }
  const decisions = flags.string('decisions');
  if (decisions !== undefined && policy === undefined) {
    throw new UsageError(
      `--decisions needs exactly one policy: add --policy ${POLICIES.join('|')} (without --policy all three run)`,
    );
  }
  return {
    tracePath,
    parameters: {
      capacity,
      startupSeconds,
      hpaTarget,
      minReplicas,
      maxReplicas,
      policies: policy === undefined ? POLICIES : [policy],
      decisions,
      report: flags.string('report'),
      json: flags.has('json'),
    },
  };
}

function factoryFor(policy: PolicyName, hpaTarget: number): PolicyFactory {
  switch (policy) {
    case 'predictive':
      return predictivePolicy();
    case 'hpa':
      return hpaPolicy(hpaTarget);
    case 'oracle':
      return oraclePolicy();
  }
}

/** The oracle's highest need over the first readyDelayRows rows: the common starting point of every run. */
export function sharedInitialReplicas(trace: Trace, context: PolicyContext): number {
  const need = replicasNeeded(trace, context);
  const rows = Math.min(need.length, readyDelayRows(context));
  let initial = context.minReplicas;
  for (let i = 0; i < rows; i++) initial = Math.max(initial, need[i] as number);
  return initial;
}

/** The factory's policies, counting each decision (one per row) on the progress bar. */
function withProgress(factory: PolicyFactory, progress: ProgressBar): PolicyFactory {
  if (!progress.enabled) return factory;
  return (context, trace) => {
    const policy = factory(context, trace);
    return {
      name: policy.name,
      decide: (row, index) => {
        progress.tick();
        return policy.decide(row, index);
      },
    };
  };
}

function runPolicy(
  trace: Trace,
  policy: PolicyName,
  context: PolicyContext,
  parameters: SimulateParameters,
  initialReplicas: number,
  progress: ProgressBar,
): RunResult {
  progress.setPhase(policy);
  try {
    return simulate(trace, withProgress(factoryFor(policy, parameters.hpaTarget), progress), context, {
      initialReplicas,
    });
  } catch (err) {
    if (err instanceof EngineSettingsError) {
      const flag = SETTING_FLAGS[err.field];
      const reason = err.message.slice(err.field.length + 2);
      throw new UsageError(
        flag === undefined
          ? `the ${policy} policy: ${err.message}`
          : `${flag} ${reason} for the ${policy} policy`,
      );
    }
    throw err;
  }
}

function measuresJson(m: RunMeasures): Record<string, number | string> {
  return {
    policy: m.policy,
    violationIntervals: m.violationIntervals,
    unservedShare: m.unservedShare,
    replicaIntervals: m.replicaIntervals,
    overProvisioningShare: m.overProvisioningShare,
    scalingChanges: m.scalingChanges,
  };
}

function humanReport(
  tracePath: string,
  trace: Trace,
  parameters: SimulateParameters,
  context: PolicyContext,
  initialReplicas: number,
  runs: readonly RunResult[],
  color: boolean,
): string {
  const gaps = trace.gaps?.length ?? 0;
  const lines: string[] = [];
  lines.push(
    `${bold('Trace', color)}       ${tracePath}: ${trace.rows.length} rows every ${trace.intervalSeconds} s` +
      (gaps > 0 ? ` (${gaps} gap${gaps === 1 ? '' : 's'}: rows taken as consecutive)` : ''),
  );
  lines.push(
    `${bold('Parameters', color)}  capacity ${parameters.capacity} per replica per interval, startup ${parameters.startupSeconds} s ` +
      `(ready ${readyDelayRows(context)} rows after a decision), replicas ${parameters.minReplicas}..${parameters.maxReplicas}, ` +
      `hpa target ${parameters.hpaTarget}; every policy starts with ${initialReplicas} ready`,
  );
  lines.push('');
  const body = runs.map(({ measures: m }) => [
    m.policy,
    String(m.violationIntervals),
    percent(m.unservedShare, 3),
    String(m.replicaIntervals),
    percent(m.overProvisioningShare, 1),
    String(m.scalingChanges),
  ]);
  let text =
    lines.join('\n') +
    '\n' +
    table(
      [
        'policy',
        'violation intervals',
        'unserved',
        'replica-intervals',
        'over-provisioning',
        'scaling changes',
      ],
      body,
      color,
    );
  const comparison = comparisonOf(runs);
  if (comparison) {
    text +=
      `\npredictive vs hpa: violations ${ratio(comparison.violationRatio)}, cost ${ratio(comparison.costRatio, 3)}, ` +
      `closes ${percent(comparison.costGapClosed, 0)} of the hpa→oracle cost gap\n`;
  }
  return text;
}

function comparisonOf(runs: readonly RunResult[]): ReturnType<typeof compareRuns> | undefined {
  const by = (name: PolicyName): RunMeasures | undefined =>
    runs.find((r) => r.measures.policy === name)?.measures;
  const predictive = by('predictive');
  const hpa = by('hpa');
  const oracle = by('oracle');
  return predictive && hpa && oracle ? compareRuns(predictive, hpa, oracle) : undefined;
}

function run(argv: readonly string[], io: CommandIo): number {
  const { tracePath, parameters } = parseParameters(argv);
  checkOutputPaths({ flag: '--trace', path: tracePath }, [
    { flag: '--report', path: parameters.report },
    { flag: '--decisions', path: parameters.decisions },
  ]);
  const trace = loadTrace(tracePath);
  const context: PolicyContext = {
    intervalSeconds: trace.intervalSeconds,
    capacityPerReplica: parameters.capacity,
    startupSeconds: parameters.startupSeconds,
    minReplicas: parameters.minReplicas,
    maxReplicas: parameters.maxReplicas,
  };
  const initialReplicas = sharedInitialReplicas(trace, context);
  const steps = trace.rows.length * parameters.policies.length;
  const progress = new ProgressBar({
    label: 'simulate',
    total: steps,
    unit: 'rows',
    write: io.stderr,
    enabled: io.stderrTty === true && !parameters.json && steps >= PROGRESS_MIN_STEPS,
  });
  let runs: RunResult[];
  try {
    runs = parameters.policies.map((p) =>
      runPolicy(trace, p, context, parameters, initialReplicas, progress),
    );
  } finally {
    progress.finish();
  }

  const comparison = comparisonOf(runs);
  // Every output is written only once the whole run has succeeded, and all of them or none.
  const outputs: OutputFile[] = [];
  if (parameters.report !== undefined) {
    outputs.push({
      path: parameters.report,
      parts: [
        simulateReport({
          tracePath,
          trace,
          capacity: parameters.capacity,
          startupSeconds: parameters.startupSeconds,
          hpaTarget: parameters.hpaTarget,
          minReplicas: parameters.minReplicas,
          maxReplicas: parameters.maxReplicas,
          initialReplicas,
          readyDelayRows: readyDelayRows(context),
          runs,
          comparison,
        }),
      ],
    });
  }
  if (parameters.decisions !== undefined) {
    const desired = (runs[0] as RunResult).desired;
    outputs.push({
      path: parameters.decisions,
      parts: csvLines(
        ['timestamp', 'demand', 'desired_replicas'],
        trace.rows.map((row, i) => [isoTimestamp(row.timestamp), csvNumber(row.demand), String(desired[i])]),
      ),
    });
  }
  writeFilesAtomic(outputs);

  if (parameters.json) {
    const summary = {
      trace: traceSummary(tracePath, trace),
      parameters: {
        capacity: parameters.capacity,
        startupSeconds: parameters.startupSeconds,
        hpaTarget: parameters.hpaTarget,
        minReplicas: parameters.minReplicas,
        maxReplicas: parameters.maxReplicas,
        initialReplicas,
        policies: parameters.policies,
      },
      runs: runs.map((r) => measuresJson(r.measures)),
      ...(comparison && {
        comparison: {
          policy: comparison.policy,
          baseline: comparison.baseline,
          lowerBound: 'oracle',
          violationRatio: jsonNumber(comparison.violationRatio),
          costRatio: jsonNumber(comparison.costRatio),
          costGapClosed: jsonNumber(comparison.costGapClosed),
        },
      }),
    };
    io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    io.stdout(humanReport(tracePath, trace, parameters, context, initialReplicas, runs, io.color));
    if (parameters.decisions !== undefined) {
      io.stdout(`\n${parameters.policies[0]} decisions written to ${parameters.decisions}\n`);
    }
    if (parameters.report !== undefined) io.stdout(`\nreport written to ${parameters.report}\n`);
  }
  return ExitCode.ok;
}

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'replay a demand trace through predictive, hpa and oracle scaling and measure violations and cost',
  help: HELP,
  run,
};
