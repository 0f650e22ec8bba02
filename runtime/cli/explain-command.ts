/**
 * `elasticai explain NS/NAME`: why the runtime asks for what it asks for: the inputs, the forecast and
 * its models, the anomaly state, the replicas each rule wanted and the one that bound the result, the
 * override, and the recent decision log.
 */
import type { Decision } from '../engine/workload-engine.js';
import type { WorkloadDetail } from '../service/http/workload-view.js';
import type { ApiCommandOptions } from './api-client.js';
import {
  ApiClient,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  parseWorkloadRef,
  resolveTarget,
  workloadPath,
} from './api-client.js';
import { parseFlags } from './args.js';
import type { Command, CommandIo } from './command.js';
import { ExitCode } from './command.js';
import { cell, overrideText, paintState } from './status-command.js';
import { bold, red, table, yellow } from './terminal.js';
import { timeText } from './time-text.js';

/** Decisions of the log shown in the human view (the JSON has them all). */
const LOG_ROWS = 10;

const HELP = `Usage: elasticai explain NS/NAME [connection flags] [--json]

Explains the runtime's current decision for one workload (a ScaledObject NS/NAME): the inputs, the
forecast (chosen model, every model's back-tested loss and weight, lead-time peak and upper quantile),
the anomaly state, the replicas each rule asked for and the rule that bound the result, the manual
override, and the last ${LOG_ROWS} entries of the decision log.

${CONNECTION_HELP}
  -h, --help           show this help

JSON output: the API's GET /api/v1/workloads/NS/NAME answer (the summary fields, spec, explanation,
history chart arrays and the whole decision log).

Examples:
  elasticai explain shop/checkout --url http://127.0.0.1:8080
  elasticai explain shop/checkout --json | jq .explanation.replicasFor
`;

/** The rules that compete for the result, in the engine's order, with the replicas each asked for. */
function ruleRows(d: Decision, color: boolean): string[][] {
  const rows: [Decision['rule'], number][] = [
    ['current-demand', d.replicasFor.currentDemand],
    ['forecast', d.replicasFor.forecast],
    ['surge', d.replicasFor.surge],
    ['scale-down-stabilization', d.replicasFor.stabilized],
  ];
  return rows.map(([rule, replicas]) => [
    rule === d.rule ? bold(rule, color) : rule,
    cell(replicas),
    rule === d.rule ? bold('← bound the result', color) : '',
  ]);
}

/**
 * Why the forecast's pre-scale was scaled back, or undefined while it is trusted in full (a trust of 1,
 * or none reported by an older runtime; NaN arrives as null in JSON).
 */
export function prescaleNote(
  forecast: Pick<Decision['forecast'], 'prescaleTrust' | 'prescaleNeededShare'>,
): string | undefined {
  const trust = forecast.prescaleTrust as number | null | undefined;
  if (typeof trust !== 'number' || trust >= 1) return undefined;
  const share = (forecast.prescaleNeededShare as number | null) ?? Number.NaN;
  return `scaled to ${Math.round(trust * 100)}%: ${Math.round(share * 100)}% of recent pre-scaled replicas were needed`;
}

function explanation(w: WorkloadDetail, d: Decision, color: boolean): string {
  const i = d.inputs;
  const lines: string[] = [];
  const interval = w.spec.kind === 'demand' ? ` per ${w.spec.engine.intervalSeconds} s` : '';
  lines.push(
    `${bold('Inputs', color)}     demand ${cell(i.demand)}${interval}; ${cell(i.capacityPerReplica)} per replica ` +
      `at ${Math.round(i.targetUtilization * 100)}% target utilisation; lead ${i.leadSeconds} s; replicas ${i.minReplicas}..${i.maxReplicas}`,
  );
  lines.push(
    `${bold('Forecast', color)}   model ${d.forecast.model}: lead-time peak ${cell(d.forecast.leadPeak)}, ` +
      `upper (q${d.forecast.upperQuantile}) ${cell(d.forecast.upper)}`,
  );
  const prescale = prescaleNote(d.forecast);
  if (prescale !== undefined) lines.push(`${bold('Pre-scale', color)}  ${prescale}`);
  const a = d.anomaly;
  const anomaly = `${a.state}, score ${cell(a.score)}, z ${cell(a.zScore)}`;
  lines.push(
    `${bold('Anomaly', color)}    ${a.state === 'normal' || a.state === 'warming-up' ? anomaly : red(anomaly, color)}`,
  );
  let text = lines.join('\n') + '\n';
  text += `\n${bold(`Why ${d.desiredReplicas} replicas`, color)} (the largest of the first three, held by stabilization, then the bounds)\n`;
  text += table(['rule', 'replicas', ''], ruleRows(d, color), color, ['left', 'right', 'left']);
  const competing = ['current-demand', 'forecast', 'surge', 'scale-down-stabilization'];
  if (!competing.includes(d.rule)) {
    const why: Partial<Record<Decision['rule'], string>> = {
      override: `a manual override of ${i.override ?? '?'} replicas`,
      'hold-broken-signal':
        'the signal is broken (missing, invalid or a sudden zero): the last decision is held',
      'min-replicas': `the lower bound of ${i.minReplicas}`,
      'max-replicas': `the upper bound of ${i.maxReplicas}`,
    };
    text += `bound by ${bold(d.rule, color)}: ${why[d.rule] ?? d.rule}\n`;
  }
  // Weights and losses are null in JSON before a model's first back-test.
  const known = (v: number): number => (Number.isFinite(v) ? v : -1);
  const scores = [...d.forecast.scores].sort(
    (x, y) => known(y.weight) - known(x.weight) || x.model.localeCompare(y.model),
  );
  if (scores.length > 0) {
    text += `\n${bold('Models', color)} (back-tested loss, lower is better; weight in the ensemble)\n`;
    text += table(
      ['model', 'loss', 'weight'],
      scores.map((s) => [
        s.model === d.forecast.model ? bold(s.model, color) : s.model,
        cell(s.loss),
        cell(s.weight),
      ]),
      color,
    );
  }
  if (d.headroomPods > 0) text += `\nHeadroom: ${d.headroomPods} extra pods predicted for node pre-scaling\n`;
  return text;
}

function human(w: WorkloadDetail, color: boolean): string {
  let text = `${bold(`${w.namespace}/${w.name}`, color)}  ${paintState(w.state, color)}`;
  const facts = [w.tenant ? `tenant ${w.tenant}` : undefined, w.kind === 'headroom' ? 'headroom' : undefined];
  if (w.spec.kind === 'demand') facts.push(`${w.spec.source} ${w.spec.query}`);
  else facts.push(`node pool ${w.spec.nodePool}`);
  text += `  (${facts.filter((f) => f !== undefined).join(', ')})\n`;
  if (w.summary) text += `${w.summary}\n`;
  text += `\n${bold('Decision', color)}   ${w.desiredReplicas === null ? 'none yet' : `${w.desiredReplicas}${w.kind === 'headroom' ? ' pods' : ' replicas'}`}, point ${timeText(w.decidedAt)}, newest point ${timeText(w.lastPoint)}\n`;
  const override = w.override
    ? yellow(`held at ${overrideText(w.override).replace(/^(\d+)/, '$1 replicas')}`, color) +
      (w.override.by ? ` (by ${w.override.by})` : '')
    : overrideText(w.override);
  text += `${bold('Override', color)}   ${override}\n`;
  if (w.lastError) {
    text +=
      `${bold('Last error', color)} ${red(`${w.lastError.kind}: ${w.lastError.message}`, color)} at ${timeText(w.lastError.at)}` +
      (w.failingForSeconds > 0 ? `, failing for ${w.failingForSeconds} s` : '') +
      '\n';
  }
  if (w.explanation) text += explanation(w, w.explanation, color);
  else if (w.kind === 'headroom')
    text += `\nThe pods predicted for node pool ${w.spec.kind === 'headroom' ? w.spec.nodePool : '?'} by its workloads' engines (their headroomPods), summed.\n`;
  else text += '\nNo decision yet: the history is loading or the source has not answered.\n';
  if (w.decisions.length > 0) {
    const recent = w.decisions.slice(-LOG_ROWS);
    text += `\n${bold('Recent decisions', color)} (${recent.length} of ${w.decisions.length}, oldest first)\n`;
    text += table(
      ['point', 'replicas', 'rule', 'state', 'summary'],
      recent.map((l) => [timeText(l.timestamp), String(l.desiredReplicas), l.rule, l.state, l.summary]),
      color,
      ['left', 'right', 'left', 'left', 'left'],
    );
  }
  return text;
}

async function run(argv: readonly string[], io: CommandIo, options: ApiCommandOptions): Promise<number> {
  const flags = parseFlags(argv, CONNECTION_FLAGS, { names: ['NS/NAME'] });
  const ref = parseWorkloadRef(flags.positionals[0] as string);
  const client = new ApiClient(await resolveTarget(flags, io, options), io);
  const { body } = await client.call<WorkloadDetail>('GET', workloadPath(ref), undefined, {
    notFound: 'run `elasticai status` to list the workloads the runtime serves',
  });
  if (flags.has('json')) io.stdout(`${JSON.stringify(body, null, 2)}\n`);
  else io.stdout(human(body, io.color));
  return ExitCode.ok;
}

export function explainCommand(options: ApiCommandOptions = {}): Command {
  return {
    name: 'explain',
    summary: "explain one workload's decision: inputs, forecast models, anomaly, rules, decision log",
    help: HELP,
    run: (argv, io) => run(argv, io, options),
  };
}
