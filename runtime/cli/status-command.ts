/**
 * `elasticai status`: every workload the runtime serves, one line each (state, demand, forecast,
 * replicas, the rule that bound the decision, anomaly, override), and why degraded ones are degraded.
 */
import type { OverrideRecord } from '../service/http/api-deps.js';
import type { WorkloadSummary } from '../service/http/workload-view.js';
import type { RefusedWorkload } from '../service/workload-registry.js';
import type { ApiCommandOptions } from './api-client.js';
import { ApiClient, CONNECTION_FLAGS, CONNECTION_HELP, resolveTarget } from './api-client.js';
import { parseFlags } from './args.js';
import type { Command, CommandIo } from './command.js';
import { ExitCode, UsageError } from './command.js';
import { formatValue } from './html-report.js';
import { bold, dim, green, red, table, yellow } from './terminal.js';
import { timeText } from './time-text.js';

const HELP = `Usage: elasticai status [--namespace NS] [connection flags] [--json]

Lists the workloads the decision runtime serves: serving state, the demand and the forecast (upper
quantile over the lead time) of the newest point, the replicas asked of KEDA, the rule that bound that
decision, the anomaly state and any manual override. Degraded workloads (stale, holding, failed) are
listed again below the table with the source's last error, and workloads the runtime refused for
lack of memory (KEDA gets UNAVAILABLE for them) below that.

Flags:
  --namespace NS       only this namespace
${CONNECTION_HELP}
  -h, --help           show this help

States: backfilling (history loading), fresh, stale (source failing: last good decision),
holding (failing longer: never scales down), failed (source never answered: KEDA holds).

JSON output: the API's GET /api/v1/workloads answer, { workloads: [{ namespace, name, kind, tenant,
state, demand, predicted, desiredReplicas, rule, summary, anomaly, override, lastError, decidedAt,
lastPoint }], refused: [{ namespace, name, reason, at }] }.

Examples:
  elasticai status --url http://127.0.0.1:8080
  ELASTICAI_URL=https://elasticai.example.com elasticai status --namespace shop
  elasticai status --context prod-use1 --json | jq '.workloads[] | select(.state != "fresh")'
`;

/** A number for a table cell; null (a broken signal, no decision yet) shows as a dash. */
export function cell(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : formatValue(v);
}

/** A serving state, coloured by how worried to be. */
export function paintState(state: string, color: boolean): string {
  if (state === 'fresh') return green(state, color);
  if (state === 'stale' || state === 'backfilling') return yellow(state, color);
  return red(state, color);
}

/** `7` / `7 until 2025-01-01T10:00:00Z`, `—` when none, `?` when the runtime could not say. */
export function overrideText(o: OverrideRecord | null | undefined): string {
  if (o === undefined) return '?';
  if (o === null) return '—';
  return `${o.replicas}${o.expiresAt ? ` until ${timeText(o.expiresAt)}` : ''}`;
}

function anomalyText(a: WorkloadSummary['anomaly'], color: boolean): string {
  if (!a) return '—';
  const text = `${a.state} ${Number.isFinite(a.score) ? a.score.toFixed(2) : '—'}`;
  return a.state === 'normal' || a.state === 'warming-up' ? text : red(text, color);
}

/** The human-readable status: the table, the degraded workloads, then the refused ones. */
export function statusText(
  url: string,
  workloads: readonly WorkloadSummary[],
  refused: readonly RefusedWorkload[],
  color: boolean,
): string {
  let text = human(url, workloads, color, refused.length > 0);
  if (refused.length > 0) {
    text += `\n${bold('Refused', color)} (not enough memory in the runtime: KEDA gets UNAVAILABLE, the HPA holds)\n`;
    for (const r of refused) {
      text += `  ${r.namespace}/${r.name}: ${red('refused', color)} at ${timeText(r.at)}: ${r.reason}\n`;
    }
  }
  return text;
}

function human(
  url: string,
  workloads: readonly WorkloadSummary[],
  color: boolean,
  anyRefused = false,
): string {
  const counts = new Map<string, number>();
  for (const w of workloads) counts.set(w.state, (counts.get(w.state) ?? 0) + 1);
  const states = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  let text = `${bold('Runtime', color)}  ${url}: ${workloads.length} workload${workloads.length === 1 ? '' : 's'}${states ? ` (${states})` : ''}\n`;
  if (workloads.length === 0 && anyRefused) return text;
  if (workloads.length === 0)
    return `${text}\nNo workloads: no ScaledObject has a trigger pointing at this runtime.\n`;
  text +=
    '\n' +
    table(
      ['workload', 'state', 'demand', 'predicted', 'replicas', 'rule', 'anomaly', 'override'],
      workloads.map((w) => [
        `${w.namespace}/${w.name}`,
        paintState(w.state, color),
        w.kind === 'headroom' ? dim('headroom', color) : cell(w.demand),
        cell(w.predicted),
        w.desiredReplicas === null
          ? '—'
          : `${w.desiredReplicas}${w.kind === 'headroom' ? (w.desiredReplicas === 1 ? ' pod' : ' pods') : ''}`,
        w.rule ?? '—',
        anomalyText(w.anomaly, color),
        w.override ? yellow(overrideText(w.override), color) : overrideText(w.override),
      ]),
      color,
      ['left', 'left', 'right', 'right', 'right', 'left', 'left', 'left'],
    );
  const degraded = workloads.filter((w) => w.state !== 'fresh' && w.lastError);
  if (degraded.length > 0) {
    text += `\n${bold('Degraded', color)}\n`;
    for (const w of degraded) {
      const e = w.lastError as NonNullable<WorkloadSummary['lastError']>;
      text += `  ${w.namespace}/${w.name}: ${paintState(w.state, color)}, ${e.kind}: ${e.message} (at ${timeText(e.at)})\n`;
    }
  }
  return text;
}

async function run(argv: readonly string[], io: CommandIo, options: ApiCommandOptions): Promise<number> {
  const flags = parseFlags(argv, { ...CONNECTION_FLAGS, namespace: 'value' });
  const namespace = flags.string('namespace');
  if (namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) {
    throw new UsageError(`--namespace must be a namespace name (got "${namespace}")`);
  }
  const client = new ApiClient(await resolveTarget(flags, io, options), io);
  const query = namespace === undefined ? '' : `?namespace=${encodeURIComponent(namespace)}`;
  const { body } = await client.call<{ workloads: WorkloadSummary[]; refused?: RefusedWorkload[] }>(
    'GET',
    `api/v1/workloads${query}`,
  );
  if (flags.has('json')) io.stdout(`${JSON.stringify(body, null, 2)}\n`);
  else io.stdout(statusText(client.target.url.href, body.workloads, body.refused ?? [], io.color));
  return ExitCode.ok;
}

export function statusCommand(options: ApiCommandOptions = {}): Command {
  return {
    name: 'status',
    summary: 'list the workloads the runtime serves: state, demand, forecast, replicas, rule, override',
    help: HELP,
    run: (argv, io) => run(argv, io, options),
  };
}
