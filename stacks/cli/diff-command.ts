/**
 * `elasticai diff`: compares a fresh synth of the environment table with the committed `dist/` and
 * prints, per environment, the objects added, removed and changed, each change as `field: old → new`
 * (object-diff.ts). Exit 0 when equal, 1 when they differ (or the synth fails), 2 on a usage error.
 *
 * Objects are matched by cluster, API group, kind, namespace and name, so a version bump of an
 * apiVersion shows as a change and an object moving between chart files as a move. Files whose objects
 * are equal but whose bytes are not (order, formatting, a hand edit) are listed too: `dist/` must be
 * exactly what synth writes.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseFlags } from '../../runtime/cli/args.js';
import type { Command, CommandIo } from '../../runtime/cli/command.js';
import { ExitCode, RunError, UsageError } from '../../runtime/cli/command.js';
import { describeFsError } from '../../runtime/cli/csv-output.js';
import { bold, dim, green, red, yellow } from '../../runtime/cli/terminal.js';
import type { FieldChange } from './object-diff.js';
import { diffValues, formatChange } from './object-diff.js';

const HELP = `Usage: elasticai diff [--env dev|staging|prod] [--dist DIR] [--json]

Renders the environment table afresh (as \`elasticai synth\` would, writing nothing) and compares it with
the manifests in DIR (default: dist, the committed output). For each environment it lists the objects
added (+), removed (-) and changed (~), each change as "field: old → new", and files whose objects are
equal but whose text is not. Use it in a pull request to review what a change to the table does to the
clusters, and in CI to check that dist/ was regenerated.

Flags:
  --env NAME     compare this environment only (default: all, and environments in DIR that the
                 table no longer has show as removed)
  --dist DIR     the committed manifests (default: dist)
  --json         print { equal, environments: [{ name, added, removed, changed, moved, textOnly }] }
  -h, --help     show this help

Exit codes: 0 equal, 1 different (or the synth failed), 2 usage error.

Examples:
  elasticai diff
  elasticai diff --env prod
  elasticai diff --json | jq '.environments[].changed[].changes'
`;

/** Field changes shown per object before "… and N more". */
const MAX_CHANGES = 25;

interface PlacedObject {
  readonly cluster: string;
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly object: Record<string, unknown>;
}

interface ObjectRef {
  readonly cluster: string;
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

interface EnvironmentDiff {
  readonly name: string;
  readonly added: ObjectRef[];
  readonly removed: ObjectRef[];
  readonly changed: (ObjectRef & { readonly changes: FieldChange[] })[];
  readonly moved: (ObjectRef & { readonly from: string })[];
  /** Files (relative to the environment) whose text differs although their objects are equal. */
  readonly textOnly: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function place(file: string, object: unknown, where: string): PlacedObject {
  if (!isRecord(object) || typeof object.kind !== 'string' || typeof object.apiVersion !== 'string') {
    throw new RunError(`${where}: a document is not a Kubernetes object (no apiVersion and kind)`);
  }
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  return {
    cluster: file.split('/')[0] as string,
    file,
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace: typeof metadata.namespace === 'string' ? metadata.namespace : undefined,
    name: typeof metadata.name === 'string' ? metadata.name : '',
    object,
  };
}

/** Identity of an object across versions: the API group, not its version, so a version bump is a change. */
function keyOf(o: PlacedObject): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.slice(0, o.apiVersion.indexOf('/')) : '';
  return [o.cluster, group, o.kind, o.namespace ?? '', o.name].join('\u0000');
}

function refOf(o: PlacedObject): ObjectRef {
  return {
    cluster: o.cluster,
    file: o.file,
    apiVersion: o.apiVersion,
    kind: o.kind,
    ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
    name: o.name,
  };
}

/** Every `.yaml` file under `dir`, relative and `/`-separated, sorted. */
function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.yaml') || name.endsWith('.yml'))
        out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

function readCommitted(
  envDir: string,
  label: string,
): { texts: Map<string, string>; objects: PlacedObject[] } {
  const texts = new Map<string, string>();
  const objects: PlacedObject[] = [];
  for (const file of yamlFiles(envDir)) {
    const where = `${label}/${file}`;
    let text: string;
    try {
      text = readFileSync(join(envDir, file), 'utf8');
    } catch (err) {
      throw new RunError(`cannot read ${where}: ${describeFsError(err)}`);
    }
    texts.set(file, text);
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) {
        throw new RunError(`${where} is not valid YAML: ${(doc.errors[0] as Error).message.split('\n')[0]}`);
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) continue;
      objects.push(place(file, value, where));
    }
  }
  return { texts, objects };
}

function compare(
  name: string,
  fresh: { path: string; text: string; objects: readonly unknown[] }[],
  committed: { texts: Map<string, string>; objects: PlacedObject[] },
): EnvironmentDiff {
  const freshObjects = fresh.flatMap((f) => f.objects.map((o) => place(f.path, o, `${name}/${f.path}`)));
  const before = new Map(committed.objects.map((o) => [keyOf(o), o]));
  const after = new Map(freshObjects.map((o) => [keyOf(o), o]));
  const diff: EnvironmentDiff = { name, added: [], removed: [], changed: [], moved: [], textOnly: [] };
  for (const [key, o] of after) {
    const old = before.get(key);
    if (!old) {
      diff.added.push(refOf(o));
      continue;
    }
    // Round-trip the fresh object through JSON: YAML never holds undefined fields.
    const changes = diffValues(old.object, JSON.parse(JSON.stringify(o.object)) as unknown);
    if (changes.length > 0) diff.changed.push({ ...refOf(o), changes });
    if (old.file !== o.file) diff.moved.push({ ...refOf(o), from: old.file });
  }
  for (const [key, o] of before) if (!after.has(key)) diff.removed.push(refOf(o));
  // Files whose bytes differ while no object in them was added, removed, changed or moved.
  const touched = new Set(
    [...diff.added, ...diff.removed, ...diff.changed, ...diff.moved].flatMap((r) =>
      'from' in r ? [r.file, r.from as string] : [r.file],
    ),
  );
  const freshTexts = new Map(fresh.map((f) => [f.path, f.text]));
  for (const file of [...new Set([...freshTexts.keys(), ...committed.texts.keys()])].sort()) {
    if (freshTexts.get(file) !== committed.texts.get(file) && !touched.has(file)) diff.textOnly.push(file);
  }
  return diff;
}

const differs = (d: EnvironmentDiff): boolean =>
  d.added.length + d.removed.length + d.changed.length + d.moved.length + d.textOnly.length > 0;

function objectLabel(r: ObjectRef): string {
  return `${r.kind} ${r.namespace === undefined ? '' : `${r.namespace}/`}${r.name}`;
}

function human(diffs: readonly EnvironmentDiff[], distDir: string, color: boolean): string {
  let text = '';
  for (const d of diffs) {
    if (!differs(d)) {
      text += `${bold(d.name, color)}: no changes\n`;
      continue;
    }
    const counts = [
      `${d.added.length} added`,
      `${d.removed.length} removed`,
      `${d.changed.length} changed`,
      ...(d.moved.length > 0 ? [`${d.moved.length} moved`] : []),
      ...(d.textOnly.length > 0
        ? [`${d.textOnly.length} file${d.textOnly.length === 1 ? '' : 's'} reformatted`]
        : []),
    ];
    text += `${bold(d.name, color)}: ${counts.join(', ')}\n`;
    const rows: { sort: string; lines: string[] }[] = [];
    for (const r of d.added) {
      rows.push({
        sort: r.file + objectLabel(r),
        lines: [`  ${green(`+ ${objectLabel(r)}`, color)}  ${dim(r.file, color)}`],
      });
    }
    for (const r of d.removed) {
      rows.push({
        sort: r.file + objectLabel(r),
        lines: [`  ${red(`- ${objectLabel(r)}`, color)}  ${dim(r.file, color)}`],
      });
    }
    for (const r of d.changed) {
      const shown = r.changes.slice(0, MAX_CHANGES).map((c) => `      ${formatChange(c)}`);
      if (r.changes.length > MAX_CHANGES)
        shown.push(`      … and ${r.changes.length - MAX_CHANGES} more changes`);
      rows.push({
        sort: r.file + objectLabel(r),
        lines: [`  ${yellow(`~ ${objectLabel(r)}`, color)}  ${dim(r.file, color)}`, ...shown],
      });
    }
    for (const r of d.moved) {
      rows.push({
        sort: r.file + objectLabel(r),
        lines: [`  ${yellow(`> ${objectLabel(r)}`, color)}  moved ${r.from} → ${r.file}`],
      });
    }
    rows.sort((a, b) => a.sort.localeCompare(b.sort));
    for (const r of rows) text += `${r.lines.join('\n')}\n`;
    for (const f of d.textOnly)
      text += `  ${yellow('≠', color)} ${f}: same objects, different text (order or formatting)\n`;
  }
  const different = diffs.filter(differs).map((d) => d.name);
  text +=
    different.length === 0
      ? `\n${distDir} is up to date with the environment table.\n`
      : `\n${distDir} differs from a fresh synth in ${different.join(', ')}: run \`elasticai synth\` and commit ${distDir}.\n`;
  return text;
}

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const flags = parseFlags(argv, { env: 'value', dist: 'value', json: 'switch' });
  const distArg = flags.string('dist') ?? 'dist';
  const distDir = resolve(distArg);
  if (!existsSync(distDir) || !statSync(distDir).isDirectory()) {
    throw new UsageError(
      `--dist ${distArg} is not a folder: run from the repository root, or pass --dist DIR (it holds <env>/<cluster>/<chart>.yaml)`,
    );
  }
  const { renderEnvironments, renderManifest, environmentNames } = await import('./render.js');
  const only = flags.string('env');
  const rendered = renderEnvironments(only);
  const diffs: EnvironmentDiff[] = rendered.map(({ env, files }) =>
    compare(
      env.name,
      files.map((f) => ({ path: f.path, text: renderManifest(f), objects: f.objects })),
      readCommitted(join(distDir, env.name), `${distArg}/${env.name}`),
    ),
  );
  if (only === undefined) {
    // Environments the table no longer has: everything in them is removed.
    const known = new Set(environmentNames());
    for (const name of readdirSync(distDir).sort()) {
      if (known.has(name) || !statSync(join(distDir, name)).isDirectory()) continue;
      diffs.push(compare(name, [], readCommitted(join(distDir, name), `${distArg}/${name}`)));
    }
  }
  const equal = !diffs.some(differs);
  if (flags.has('json')) {
    io.stdout(`${JSON.stringify({ equal, environments: diffs }, null, 2)}\n`);
  } else {
    io.stdout(human(diffs, distArg, io.color));
  }
  return equal ? ExitCode.ok : ExitCode.failure;
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'compare a fresh synth with the committed dist/: objects added, removed, changed (exit 1 if any)',
  help: HELP,
  run,
};
