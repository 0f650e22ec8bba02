/**
 * `elasticai recommend --write-vpa DIR`: the runtime's right-sizing recommendations as
 * VerticalPodAutoscaler objects in recommendation mode (`updateMode: "Off"`: the VPA never evicts or
 * mutates pods), one file per workload, `DIR/<namespace>/<workload>-vpa.yaml`, plus `DIR/README.md`
 * with the evidence. The recommendation itself travels in annotations, since a VPA's spec has no place
 * for someone else's numbers: `elasticai.io/recommended-resources` for people and
 * `elasticai.io/recommendation` (JSON, with the evidence) for tools. The VPA's own recommender, where it
 * runs, fills the object's status next to it.
 *
 * The target is the workload as the usage history names it (the Deployment of the pods, read from their
 * names), so targetRef is `apps/v1` Deployment; edit the file for a StatefulSet. The name
 * `<workload>-vpa` is the one the VerticalPodAutoscaler construct gives, so applying a file replaces
 * that construct's VPA rather than adding a second one for the same pods.
 */
import type { Stats } from 'node:fs';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ContainerRecommendation, UsageEvidence } from '../service/recommendations.js';
import { RunError, UsageError } from './command.js';
import type { OutputFile } from './csv-output.js';
import { describeFsError, isoTimestamp, writeFilesAtomic } from './csv-output.js';
import { toYaml } from './yaml-text.js';

export const RECOMMENDATION_ANNOTATION = 'elasticai.io/recommendation';
export const RESOURCES_ANNOTATION = 'elasticai.io/recommended-resources';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Six significant digits: evidence to read, not to recompute from. */
const sig = (v: number): number => Number(v.toPrecision(6));

function evidence(e: UsageEvidence, basis: number): Record<string, number> {
  return {
    basisPercentile: basis,
    samples: e.samples,
    p50: sig(e.p50),
    p90: sig(e.p90),
    p95: sig(e.p95),
    p99: sig(e.p99),
    max: sig(e.max),
  };
}

/** `app: requests cpu=250m memory=512Mi, limits memory=600Mi; sidecar: ...` */
function resourcesLine(containers: readonly ContainerRecommendation[]): string {
  return containers
    .map((c) => {
      const req = Object.entries(c.requests).map(([k, v]) => `${k}=${v}`);
      const lim = Object.entries(c.limits).map(([k, v]) => `${k}=${v}`);
      return `${c.container}: requests ${req.join(' ') || 'none'}${lim.length > 0 ? `, limits ${lim.join(' ')}` : ''}`;
    })
    .join('; ');
}

/** The VPA object of one workload's containers. */
export function vpaObject(
  containers: readonly ContainerRecommendation[],
  generatedAt: number,
): Record<string, unknown> {
  const first = containers[0];
  if (!first) throw new RangeError('vpaObject: no containers');
  const detail = {
    generatedAt: isoTimestamp(generatedAt),
    containers: Object.fromEntries(
      containers.map((c) => [
        c.container,
        {
          requests: c.requests,
          limits: c.limits,
          confidence: c.confidence,
          confidenceReason: c.confidenceReason,
          coveredSeconds: c.coveredSeconds,
          evidence: {
            ...(c.cpu ? { cpuCores: evidence(c.cpu.evidence, c.cpu.basis.percentile) } : {}),
            ...(c.memory ? { memoryBytes: evidence(c.memory.evidence, c.memory.basis.percentile) } : {}),
          },
        },
      ]),
    ),
  };
  return {
    apiVersion: 'autoscaling.k8s.io/v1',
    kind: 'VerticalPodAutoscaler',
    metadata: {
      name: `${first.workload}-vpa`,
      namespace: first.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'elasticai' },
      annotations: {
        [RESOURCES_ANNOTATION]: resourcesLine(containers),
        [RECOMMENDATION_ANNOTATION]: JSON.stringify(detail),
      },
    },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: first.workload },
      updatePolicy: { updateMode: 'Off' },
    },
  };
}

/** Recommendations grouped by `namespace/workload`, in order. */
export function byWorkload(
  recommendations: readonly ContainerRecommendation[],
): Map<string, ContainerRecommendation[]> {
  const groups = new Map<string, ContainerRecommendation[]>();
  for (const r of recommendations) {
    const key = `${r.namespace}/${r.workload}`;
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  return groups;
}

function readme(
  written: readonly { path: string; containers: readonly ContainerRecommendation[] }[],
  skipped: readonly string[],
  generatedAt: number,
  method: string,
): string {
  const rows = written.flatMap(({ path, containers }) =>
    containers.map(
      (c) =>
        `| ${c.namespace}/${c.workload} | ${c.container} | ${c.requests.cpu ?? '—'} | ${c.requests.memory ?? '—'} | ` +
        `${c.limits.memory ?? '—'} | ${c.confidence} (${c.confidenceReason}) | ${path} |`,
    ),
  );
  return [
    '# Right-sizing recommendations',
    '',
    `Written by \`elasticai recommend --write-vpa\` from the decision runtime's usage history, ${isoTimestamp(generatedAt)}.`,
    '',
    `Method: ${method}`,
    '',
    'Each file is a VerticalPodAutoscaler in recommendation mode (`updateMode: "Off"`): it never evicts or',
    'changes pods. The recommendation is in its annotations (`elasticai.io/recommended-resources`, and',
    '`elasticai.io/recommendation` with the evidence); copy the requests into the workload, or apply the file',
    "to let the cluster's VPA recommender (where installed) report its own numbers beside them. targetRef is",
    'an apps/v1 Deployment named after the workload: edit it for a StatefulSet.',
    '',
    '| workload | container | cpu request | memory request | memory limit | confidence | file |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    ...(skipped.length > 0
      ? ['', `Not written (names that are not Kubernetes names): ${skipped.join(', ')}`]
      : []),
    '',
  ].join('\n');
}

/**
 * Writes the VPA files and the README under `dir`; resolves to the files written, relative to `dir`.
 * Everything is built and every target checked before anything is written, then all files are written
 * together (writeFilesAtomic), so a failure leaves no half-written set behind.
 * @throws UsageError naming --write-vpa when a target is in the way (a file where a namespace's folder
 *   goes, a folder where a file goes); RunError when writing fails.
 */
export function writeVpaFiles(
  dir: string,
  recommendations: readonly ContainerRecommendation[],
  generatedAt: number,
  method: string,
): { files: string[]; skipped: string[] } {
  const written: { path: string; containers: ContainerRecommendation[] }[] = [];
  const skipped: string[] = [];
  const outputs: OutputFile[] = [];
  for (const [key, containers] of byWorkload(recommendations)) {
    const c = containers[0] as ContainerRecommendation;
    const name = `${c.workload}-vpa`;
    if (!DNS_LABEL.test(c.namespace) || !DNS_SUBDOMAIN.test(name) || name.length > 253) {
      skipped.push(key);
      continue;
    }
    const path = join(c.namespace, `${name}.yaml`);
    outputs.push({
      path: join(dir, path),
      parts: [
        `# Written by \`elasticai recommend --write-vpa\`: a recommendation, not applied to pods (updateMode Off).\n`,
        toYaml(vpaObject(containers, generatedAt)),
      ],
    });
    written.push({ path, containers });
  }
  outputs.push({ path: join(dir, 'README.md'), parts: [readme(written, skipped, generatedAt, method)] });

  const folders = [dir, ...new Set(written.map((w) => join(dir, dirname(w.path))))];
  for (const folder of folders) {
    const s = statIfExists(folder);
    if (s && !s.isDirectory()) throw inTheWay(dir, `${folder} is not a directory`);
  }
  for (const { path } of outputs) {
    if (statIfExists(path)?.isDirectory()) throw inTheWay(dir, `${path} is a directory`);
  }
  const made: string[] = [];
  try {
    for (const folder of folders) {
      if (statIfExists(folder)) continue;
      let first: string | undefined;
      try {
        first = mkdirSync(folder, { recursive: true });
      } catch (err) {
        throw new RunError(`cannot create ${folder}: ${describeFsError(err)}`);
      }
      if (first !== undefined) made.push(first);
    }
    writeFilesAtomic(outputs);
  } catch (err) {
    // A failed run leaves no folder it made (mkdirSync gives the first of the levels it made).
    for (const folder of made.reverse()) rmSync(folder, { recursive: true, force: true });
    throw err;
  }
  return { files: [...written.map((w) => w.path), 'README.md'], skipped };
}

function inTheWay(dir: string, why: string): UsageError {
  return new UsageError(`--write-vpa cannot be written (got "${dir}": ${why})`);
}

function statIfExists(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new RunError(`cannot read ${path}: ${describeFsError(err)}`);
  }
}
