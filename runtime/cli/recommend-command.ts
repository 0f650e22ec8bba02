/**
 * `elasticai recommend`: the runtime's right-sizing recommendations per container with their evidence;
 * `--node-mix --prices FILE` adds an on-demand/spot split per node pool with its estimated cost
 * (runtime/service/node-mix.ts has the method); `--write-vpa DIR` writes the recommendations as
 * VerticalPodAutoscaler objects in recommendation mode (vpa-output.ts).
 */
import type { WorkloadDetail, WorkloadSummary } from '../service/http/workload-view.js';
import type { NodeMixSuggestion, PodSize, PoolWorkload } from '../service/node-mix.js';
import { HOURS_PER_MONTH, NodeMixError, suggestNodeMix } from '../service/node-mix.js';
import type {
  ContainerRecommendation,
  RecommenderOptions,
  ResourceRecommendation,
} from '../service/recommendations.js';
import { formatCpu, formatMemory } from '../service/recommendations.js';
import { inIsoYears } from '../simulation/trace.js';
import type { ApiCommandOptions } from './api-client.js';
import {
  ApiClient,
  ApiStatusError,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  mapLimit,
  resolveTarget,
  workloadPath,
} from './api-client.js';
import { parseFlags } from './args.js';
import type { Command, CommandIo } from './command.js';
import { ExitCode, RunError, UsageError } from './command.js';
import type { Prices } from './prices.js';
import { checkOutputDirectory } from './output-paths.js';
import { loadPrices } from './prices.js';
import { bold, green, red, table, yellow } from './terminal.js';
import { timeText } from './time-text.js';
import { writeVpaFiles } from './vpa-output.js';

const HELP = `Usage: elasticai recommend [--namespace NS] [--node-mix --prices PRICES.json [--floor-percentile 0.05]]
                           [--write-vpa DIR] [connection flags] [--json]

Right-sizing: for every container the runtime has usage history for (cAdvisor CPU and memory from its
Prometheus), the requests to set and the memory limit, VPA-style: CPU at p90 and memory at p95 of usage
plus 15%, bounds from p50 and p99, floors of 25m / 250Mi per pod, a memory limit at the upper bound and
no CPU limit; low confidence below 24 h of samples. The evidence (percentiles, samples) is shown.

Node mix (--node-mix): for every node pool named by the workloads' nodePool trigger metadata, an
on-demand base sized to the pool's forecast floor and spot capacity above it, with the monthly cost
against all on-demand and against the pool's current mix, at your prices. Method:
  1. the replicas the runtime decided for each workload of the pool over the history its API returns
     (the last 360 points per workload: 6 h at 1-minute intervals, 30 h at 5 minutes), put on one grid;
  2. nodes needed at each point: the pods' requests (from the right-sizing answer: current requests,
     else the recommendation; or "pods" in the prices file) packed perfectly onto the pool's nodes,
     whichever of CPU and memory needs more;
  3. the forecast floor: the --floor-percentile of that need (default 0.05: the pool needs at least that
     many nodes 95% of the window); it is the suggested on-demand base;
  4. cost as an EC2 MixedInstancesPolicy bills it: the first min(need, base) nodes on-demand, the rest
     spot (the current mix: its onDemandPercentAboveBase% of them on-demand); a month is ${HOURS_PER_MONTH} h.
  The floor is over the window the API returns: run it when that window includes the pool's quiet hours.

Flags:
  --namespace NS           only this namespace
  --node-mix               add the node-mix suggestion per pool (needs --prices)
  --prices PRICES.json     per pool: {"node": {"cpu", "memory"}, "onDemandHourly", "spotHourly",
                           "current"?: {"onDemandBase", "onDemandPercentAboveBase"}}; optional
                           "pods": {"NS/NAME": {"cpu", "memory"}}; "currency" (default USD)
  --floor-percentile P     share of the window the pool may need fewer nodes than the base, in [0, 1]
  --write-vpa DIR          write DIR/<namespace>/<workload>-vpa.yaml, VerticalPodAutoscaler objects in
                           recommendation mode (updateMode "Off") carrying the recommendation in
                           annotations, and DIR/README.md with the evidence
${CONNECTION_HELP}
  -h, --help               show this help

JSON output: the API's GET /api/v1/recommendations answer ({ generatedAt, method, recommendations }),
plus nodeMix: { currency, floorPercentile, pools: [{ pool, ...suggestion }], skipped: [{ pool, reason }] }
and vpa: { dir, files } when asked for.

Examples:
  elasticai recommend --url http://127.0.0.1:8080
  elasticai recommend --namespace shop --write-vpa vpa/
  elasticai recommend --node-mix --prices prices.json
`;

interface RecommendationsAnswer {
  readonly generatedAt: number;
  readonly method: Required<RecommenderOptions>;
  readonly recommendations: ContainerRecommendation[];
}

const pct = (share: number | null | undefined): string =>
  share === null || share === undefined || !Number.isFinite(share)
    ? ''
    : `${share >= 0 ? '+' : ''}${(share * 100).toFixed(share !== 0 && Math.abs(share) < 0.1 ? 1 : 0)}%`;

function methodLine(m: Required<RecommenderOptions>): string {
  const p = (x: number): string => `p${Math.round(x * 100)}`;
  return (
    `requests at ${p(m.cpuPercentile)} CPU and ${p(m.memoryPercentile)} memory usage + ${Math.round(m.safetyMargin * 100)}%, ` +
    `bounds ${p(m.lowerPercentile)}..${p(m.upperPercentile)} + ${Math.round(m.safetyMargin * 100)}%, ` +
    `floors ${formatCpu(m.minPodCpuCores)} / ${formatMemory(m.minPodMemoryBytes)} per pod, memory limit at the upper bound, no CPU limit; ` +
    `low confidence below ${Math.round(m.confidentAfterSeconds / 3600)} h of samples`
  );
}

function resourceRow(
  id: string,
  resource: 'cpu' | 'memory',
  r: ResourceRecommendation,
  limit: string | undefined,
  confidence: string,
  color: boolean,
): string[] {
  const format = resource === 'cpu' ? formatCpu : formatMemory;
  const e = r.evidence;
  const basis = `p${Math.round(r.basis.percentile * 100)} ${format(r.basis.value)}`;
  const change = r.current ? pct(r.current.ratio) : '';
  const paintedChange =
    r.current && r.current.ratio !== null && Math.abs(r.current.ratio) >= 0.2
      ? yellow(change, color)
      : change;
  return [
    id,
    resource,
    r.current?.request ?? '—',
    bold(r.target, color),
    paintedChange,
    `${r.lowerBound}..${r.upperBound}`,
    limit ?? 'none',
    `${basis} of ${e.samples} samples (p50 ${format(e.p50)}, p99 ${format(e.p99)}, max ${format(e.max)})${r.floored ? ', floored' : ''}`,
    confidence,
  ];
}

function rightSizing(answer: RecommendationsAnswer, color: boolean): string {
  const recs = answer.recommendations;
  let text = `${bold('Right-sizing', color)} (${recs.length} container${recs.length === 1 ? '' : 's'}, ${timeText(answer.generatedAt)})\n`;
  if (recs.length === 0) return `${text}No usage history for any container yet.\n`;
  const rows: string[][] = [];
  for (const c of recs) {
    const id = `${c.namespace}/${c.workload}/${c.container}`;
    const confidence = c.confidence === 'high' ? green('high', color) : yellow('low', color);
    if (c.cpu) rows.push(resourceRow(id, 'cpu', c.cpu, undefined, confidence, color));
    if (c.memory)
      rows.push(
        resourceRow(c.cpu ? '' : id, 'memory', c.memory, c.limits.memory, c.cpu ? '' : confidence, color),
      );
  }
  text += table(
    ['container', 'resource', 'current', 'target', 'change', 'range', 'limit', 'evidence', 'confidence'],
    rows,
    color,
    ['left', 'left', 'right', 'right', 'right', 'left', 'left', 'left', 'left'],
  );
  const low = recs.filter((c) => c.confidence === 'low');
  for (const c of low)
    text += `  low confidence: ${c.namespace}/${c.workload}/${c.container}: ${c.confidenceReason}\n`;
  text += `Method: ${methodLine(answer.method)}.\n`;
  return text;
}

/** A pod's requests from the right-sizing answer: current requests where known, else the targets. */
function podFromRecommendations(containers: readonly ContainerRecommendation[]): PodSize | undefined {
  if (containers.length === 0) return undefined;
  let cpuCores = 0;
  let memoryBytes = 0;
  for (const c of containers) {
    if (!c.cpu || !c.memory) return undefined;
    cpuCores += c.cpu.current?.value ?? c.cpu.targetValue;
    memoryBytes += c.memory.current?.value ?? c.memory.targetValue;
  }
  return { cpuCores, memoryBytes };
}

interface PoolResult {
  readonly pool: string;
  readonly suggestion?: NodeMixSuggestion;
  readonly reason?: string;
}

async function nodeMix(
  client: ApiClient,
  namespace: string | undefined,
  prices: Prices,
  floorPercentile: number,
  recommendations: readonly ContainerRecommendation[] | undefined,
): Promise<PoolResult[]> {
  const query = namespace === undefined ? '' : `?namespace=${encodeURIComponent(namespace)}`;
  const list = (await client.call<{ workloads: WorkloadSummary[] }>('GET', `api/v1/workloads${query}`)).body
    .workloads;
  const details = await mapLimit(
    list.filter((w) => w.kind === 'demand'),
    8,
    async (w) => (await client.call<WorkloadDetail>('GET', workloadPath(w))).body,
  );
  const byPool = new Map<string, WorkloadDetail[]>();
  for (const d of details) {
    if (d.spec.kind !== 'demand' || d.spec.nodePool === undefined) continue;
    const list = byPool.get(d.spec.nodePool) ?? [];
    list.push(d);
    byPool.set(d.spec.nodePool, list);
  }
  const recsByWorkload = new Map<string, ContainerRecommendation[]>();
  for (const r of recommendations ?? []) {
    const key = `${r.namespace}/${r.workload}`;
    recsByWorkload.set(key, [...(recsByWorkload.get(key) ?? []), r]);
  }
  const pools = [...new Set([...prices.pools.keys(), ...byPool.keys()])].sort();
  const results: PoolResult[] = [];
  for (const pool of pools) {
    const poolPrices = prices.pools.get(pool);
    const members = byPool.get(pool) ?? [];
    if (!poolPrices) {
      results.push({ pool, reason: `no prices: add pools.${pool} to the prices file` });
      continue;
    }
    if (members.length === 0) {
      results.push({
        pool,
        reason: 'no workload of the runtime names this nodePool in its trigger metadata',
      });
      continue;
    }
    const workloads: PoolWorkload[] = [];
    const unsized: string[] = [];
    for (const d of members) {
      const id = `${d.namespace}/${d.name}`;
      const pod = prices.pods.get(id) ?? podFromRecommendations(recsByWorkload.get(id) ?? []);
      if (!pod) {
        unsized.push(id);
        continue;
      }
      workloads.push({
        id,
        timestamps: d.history?.timestamps ?? [],
        replicas: d.history?.replicas ?? [],
        pod,
      });
    }
    if (unsized.length > 0) {
      results.push({
        pool,
        reason: `no pod size for ${unsized.join(', ')}: the runtime has no usage history for them; add "pods": {"${unsized[0]}": {"cpu": "500m", "memory": "512Mi"}} to the prices file`,
      });
      continue;
    }
    try {
      const suggestion = suggestNodeMix(workloads, poolPrices, { floorPercentile });
      results.push(suggestion ? { pool, suggestion } : { pool, reason: 'no decisions in the history yet' });
    } catch (err) {
      if (!(err instanceof NodeMixError)) throw err;
      results.push({ pool, reason: err.message });
    }
  }
  return results;
}

function money(v: number, currency: string): string {
  return `${v.toLocaleString('en-US', { maximumFractionDigits: 0 })} ${currency}`;
}

function nodeMixView(results: readonly PoolResult[], prices: Prices, color: boolean): string {
  const c = prices.currency;
  let text = `${bold('Node mix', color)} (on-demand base at the forecast floor, spot above; cost per month of ${HOURS_PER_MONTH} h)\n`;
  const ok = results.filter((r) => r.suggestion);
  if (ok.length > 0) {
    text += table(
      [
        'pool',
        'need min..peak',
        'floor',
        'suggested',
        'all on-demand',
        'current',
        'suggested cost',
        'difference',
      ],
      ok.map(({ pool, suggestion: s }) => {
        const m = s as NodeMixSuggestion;
        const diff = `${m.difference.monthly <= 0 ? '' : '+'}${money(m.difference.monthly, c)} (${pct(m.difference.share) || '0%'} vs ${m.difference.against})`;
        const current = prices.pools.get(pool)?.current;
        return [
          pool,
          `${m.need.min}..${m.need.peak}`,
          `${m.need.floor} (p${Math.round(m.floorPercentile * 100)})`,
          `${m.onDemandBase} on-demand + spot`,
          money(m.cost.allOnDemand.monthly, c),
          m.cost.current && current
            ? `${money(m.cost.current.monthly, c)} (base ${current.onDemandBase}, ${current.onDemandPercentAboveBase}% above)`
            : '—',
          money(m.cost.suggested.monthly, c),
          m.difference.monthly < 0 ? green(diff, color) : m.difference.monthly > 0 ? red(diff, color) : diff,
        ];
      }),
      color,
      ['left', 'right', 'right', 'left', 'right', 'right', 'right', 'right'],
    );
    for (const { pool, suggestion: s } of ok) {
      const m = s as NodeMixSuggestion;
      text +=
        `  ${pool}: ${m.workloads.length} workload${m.workloads.length === 1 ? '' : 's'} (${m.workloads.join(', ')}), ` +
        `${m.window.points} points every ${m.window.stepSeconds} s, ${timeText(m.window.from)} – ${timeText(m.window.to)}; ` +
        `need median ${m.need.median}, mean ${m.need.mean.toFixed(1)} nodes; spot above the base: mean ${m.spotAbove.mean.toFixed(1)}, peak ${m.spotAbove.peak}\n`;
    }
  }
  for (const r of results.filter((x) => !x.suggestion))
    text += `  ${r.pool}: ${yellow('skipped', color)}: ${r.reason}\n`;
  return text;
}

async function run(argv: readonly string[], io: CommandIo, options: ApiCommandOptions): Promise<number> {
  const flags = parseFlags(argv, {
    ...CONNECTION_FLAGS,
    namespace: 'value',
    'node-mix': 'switch',
    prices: 'value',
    'floor-percentile': 'value',
    'write-vpa': 'value',
  });
  const namespace = flags.string('namespace');
  if (namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) {
    throw new UsageError(`--namespace must be a namespace name (got "${namespace}")`);
  }
  const wantsMix = flags.has('node-mix');
  if (wantsMix && !flags.has('prices')) {
    throw new UsageError(
      '--node-mix needs --prices PRICES.json (node sizes and hourly prices per pool; see --help)',
    );
  }
  if (!wantsMix && (flags.has('prices') || flags.has('floor-percentile'))) {
    throw new UsageError(`--${flags.has('prices') ? 'prices' : 'floor-percentile'} is used with --node-mix`);
  }
  const floorPercentile = flags.number('floor-percentile', { min: 0, max: 1 }, 0.05);
  const prices = wantsMix ? loadPrices(flags.required('prices')) : undefined;
  const vpaDir = flags.string('write-vpa');
  // Checked before asking the runtime: a bad folder is found at once, not after the API's answer.
  if (vpaDir !== undefined) checkOutputDirectory('--write-vpa', vpaDir);
  const client = new ApiClient(await resolveTarget(flags, io, options), io);

  const query = namespace === undefined ? '' : `?namespace=${encodeURIComponent(namespace)}`;
  let answer: RecommendationsAnswer | undefined;
  let unavailable: string | undefined;
  try {
    answer = (await client.call<RecommendationsAnswer>('GET', `api/v1/recommendations${query}`)).body;
  } catch (err) {
    const disabled = err instanceof ApiStatusError && err.code === 'recommendations-disabled';
    if (!disabled || !prices || vpaDir !== undefined) {
      if (disabled) {
        throw new ApiStatusError(
          `${err.message}; the runtime needs ELASTICAI_PROMETHEUS_URL pointing at a Prometheus with cAdvisor metrics`,
          err.status,
          err.code,
        );
      }
      throw err;
    }
    unavailable = err.message;
  }
  // The files carry the answer's time (RFC 3339): one the view would flag is not written into them.
  if (
    vpaDir !== undefined &&
    answer &&
    !(typeof answer.generatedAt === 'number' && inIsoYears(answer.generatedAt))
  ) {
    throw new RunError(
      `the runtime's answer has generatedAt ${timeText(answer.generatedAt)}: nothing written to --write-vpa ${vpaDir}`,
    );
  }

  const mix = prices
    ? await nodeMix(client, namespace, prices, floorPercentile, answer?.recommendations)
    : undefined;
  const vpa =
    vpaDir !== undefined && answer
      ? writeVpaFiles(vpaDir, answer.recommendations, answer.generatedAt, methodLine(answer.method))
      : undefined;

  if (flags.has('json')) {
    const out = {
      ...(answer ?? { recommendations: null, recommendationsUnavailable: unavailable }),
      ...(mix && prices
        ? {
            nodeMix: {
              currency: prices.currency,
              floorPercentile,
              pools: mix.filter((r) => r.suggestion).map((r) => ({ pool: r.pool, ...r.suggestion })),
              skipped: mix.filter((r) => !r.suggestion).map((r) => ({ pool: r.pool, reason: r.reason })),
            },
          }
        : {}),
      ...(vpa && vpaDir !== undefined
        ? { vpa: { dir: vpaDir, files: vpa.files, skipped: vpa.skipped } }
        : {}),
    };
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    return ExitCode.ok;
  }
  let text = answer
    ? rightSizing(answer, io.color)
    : `${bold('Right-sizing', io.color)}: unavailable: ${unavailable}\n`;
  if (mix && prices) text += `\n${nodeMixView(mix, prices, io.color)}`;
  if (vpa && vpaDir !== undefined) {
    text += `\nVerticalPodAutoscaler manifests (updateMode Off) written to ${vpaDir}: ${vpa.files.length - 1} file${vpa.files.length === 2 ? '' : 's'} and README.md\n`;
    if (vpa.skipped.length > 0) text += `  not written (not Kubernetes names): ${vpa.skipped.join(', ')}\n`;
  }
  io.stdout(text);
  return ExitCode.ok;
}

export function recommendCommand(options: ApiCommandOptions = {}): Command {
  return {
    name: 'recommend',
    summary: 'right-size containers (with evidence), suggest an on-demand/spot mix per pool, write VPAs',
    help: HELP,
    run: (argv, io) => run(argv, io, options),
  };
}
