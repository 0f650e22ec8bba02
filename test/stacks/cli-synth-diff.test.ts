// `elasticai synth` and `elasticai diff` from the package's executable, on real files: synth writes what
// `npm run synth` writes; diff compares a fresh synth with a copy of dist/ that a test edited, and tells
// added, removed, changed and moved objects and reformatted files apart, with exit codes 0 / 1 / 2.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../support/paths.js';
import type { CliResult } from '../runtime/cli/support.js';
import { PACKAGE_MAIN, RUNTIME_MAIN, cleanEnv, runAsync } from '../runtime/cli/support.js';

const SYNTH_SCRIPT = fileURLToPath(new URL('../../stacks/synth.js', import.meta.url));
const NO_NETWORK = fileURLToPath(new URL('../support/no-network.js', import.meta.url));

let tmp = '';
/** A fresh synth by `npm run synth`'s own script: the reference tree. */
let reference = '';

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'elasticai-cli-synth-'));
  reference = join(tmp, 'reference');
  execFileSync(process.execPath, ['--import', NO_NETWORK, SYNTH_SCRIPT, '--out', reference], {
    cwd: REPO_ROOT,
  });
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The package CLI, offline (sockets and DNS throw), in `cwd`. */
const elasticai = (args: string[], cwd = tmp): Promise<CliResult> =>
  runAsync(PACKAGE_MAIN, args, cleanEnv(tmp, { NODE_OPTIONS: `--import=${NO_NETWORK}` }), cwd);

function tree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return files;
}

/** A copy of the reference tree to edit. */
function copy(name: string): string {
  const dir = join(tmp, name);
  cpSync(reference, dir, { recursive: true });
  return dir;
}

/** Edits the YAML document of `file` that contains every one of `markers`. */
function editDoc(file: string, markers: readonly string[], edit: (doc: string) => string | undefined): void {
  const text = readFileSync(file, 'utf8');
  const docs = text.split('\n---\n');
  const i = docs.findIndex((d) => markers.every((m) => d.includes(m)));
  assert.ok(i >= 0, `no document with ${markers.join(', ')} in ${file}`);
  const edited = edit(docs[i] as string);
  if (edited === undefined) docs.splice(i, 1);
  else docs[i] = edited;
  writeFileSync(file, docs.join('\n---\n'));
}

describe('elasticai synth', () => {
  it('writes exactly what `npm run synth` writes, offline', async () => {
    const r = await elasticai(['synth', '--out', join(tmp, 'cli-out')]);
    assert.equal(r.status, 0, r.stderr);
    const ours = tree(join(tmp, 'cli-out'));
    const theirs = tree(reference);
    assert.deepEqual([...ours.keys()], [...theirs.keys()]);
    for (const [path, bytes] of theirs) assert.ok(bytes.equals(ours.get(path) as Buffer), path);
    assert.match(r.stdout, /^dev: \d+ files, \d+ objects -> .*cli-out\/dev$/m);
    assert.match(r.stdout, /^prod: \d+ files, \d+ objects -> /m);
  });

  it('renders one environment into dist/ of the working folder by default, and refuses unknown ones', async () => {
    const cwd = join(tmp, 'project');
    mkdirSync(join(cwd, 'dist', 'dev'), { recursive: true });
    writeFileSync(join(cwd, 'dist', 'dev', 'keep.yaml'), 'kind: Kept\n');
    const r = await elasticai(['synth', '--env', 'staging'], cwd);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(join(cwd, 'dist')).sort(), ['dev', 'staging']);
    assert.ok(existsSync(join(cwd, 'dist', 'dev', 'keep.yaml')), 'other environments are left alone');
    const bad = await elasticai(['synth', '--env', 'qa'], cwd);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /elasticai synth: --env must be one of dev, staging, prod \(got "qa"\)/);
  });
});

describe('elasticai diff', () => {
  it('exits 0 and says so when dist/ equals a fresh synth', async () => {
    const r = await elasticai(['diff', '--dist', copy('equal')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^dev: no changes\nstaging: no changes\nprod: no changes\n\n.* is up to date with the environment table\.\n$/,
    );
  });

  it('lists added, removed, changed and moved objects with field-level changes, and exits 1', async () => {
    // GIVEN a copy of dist/ where someone changed the web image, deleted web's PDB, added a
    // ConfigMap, moved the checkout Service to another file and left a removed environment behind
    const dist = copy('edited');
    const shop = join(dist, 'dev', 'dev-use1', 'tenant-shop.yaml');
    const platform = join(dist, 'dev', 'dev-use1', 'platform.yaml');
    editDoc(shop, ['kind: Deployment\n', '  name: web\n'], (d) =>
      d.replace(
        'image: ghcr.io/elasticai/examples/storefront:2.3.1',
        'image: ghcr.io/elasticai/examples/storefront:2.4.0',
      ),
    );
    editDoc(shop, ['kind: Deployment\n', '  name: web\n'], (d) =>
      d.replace('revisionHistoryLimit: 5', 'revisionHistoryLimit: 5\n  paused: true'),
    );
    editDoc(shop, ['kind: PodDisruptionBudget\n', '  name: web\n'], () => undefined);
    let service = '';
    editDoc(shop, ['kind: Service\n', '  name: checkout\n'], (d) => {
      service = d;
      return undefined;
    });
    appendFileSync(platform, `---\n${service}\n`);
    appendFileSync(
      platform,
      '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hand-made\n  namespace: shop\ndata:\n  a: "1"\n',
    );
    mkdirSync(join(dist, 'qa', 'qa-use1'), { recursive: true });
    writeFileSync(
      join(dist, 'qa', 'qa-use1', 'platform.yaml'),
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: qa\n',
    );
    // WHEN diffing
    const r = await elasticai(['diff', '--dist', dist]);
    // THEN exit 1, each environment summarised
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^dev: 1 added, 1 removed, 1 changed, 1 moved\n/);
    assert.match(r.stdout, /\nstaging: no changes\nprod: no changes\nqa: 0 added, 1 removed, 0 changed\n/);
    // AND the objects, with the file they are in; web's fields as "path: committed → fresh"
    assert.match(r.stdout, /\n {2}- ConfigMap shop\/hand-made {2}dev-use1\/platform\.yaml\n/);
    assert.match(r.stdout, /\n {2}\+ PodDisruptionBudget shop\/web {2}dev-use1\/tenant-shop\.yaml\n/);
    assert.match(
      r.stdout,
      /\n {2}~ Deployment shop\/web {2}dev-use1\/tenant-shop\.yaml\n {6}spec\.paused: true → \(absent\)\n {6}spec\.template\.spec\.containers\[name=web\]\.image: "ghcr\.io\/elasticai\/examples\/storefront:2\.4\.0" → "ghcr\.io\/elasticai\/examples\/storefront:2\.3\.1"\n/,
    );
    assert.match(
      r.stdout,
      /\n {2}> Service shop\/checkout {2}moved dev-use1\/platform\.yaml → dev-use1\/tenant-shop\.yaml\n/,
    );
    assert.match(r.stdout, /\n {2}- Namespace qa {2}qa-use1\/platform\.yaml\n/);
    assert.match(r.stdout, /differs from a fresh synth in dev, qa: run `elasticai synth` and commit /);
    // AND --env limits the comparison: staging alone is equal
    assert.equal((await elasticai(['diff', '--dist', dist, '--env', 'staging'])).status, 0);
    // AND --json carries the same, for scripts
    const json = await elasticai(['diff', '--dist', dist, '--env', 'dev', '--json']);
    assert.equal(json.status, 1);
    const out = JSON.parse(json.stdout) as {
      equal: boolean;
      environments: {
        name: string;
        added: { kind: string; name: string }[];
        removed: { kind: string; name: string }[];
        changed: { kind: string; name: string; changes: { path: string; old?: unknown; new?: unknown }[] }[];
        moved: { kind: string; from: string; file: string }[];
      }[];
    };
    assert.equal(out.equal, false);
    const [dev] = out.environments;
    assert.deepEqual(
      dev?.added.map((o) => `${o.kind}/${o.name}`),
      ['PodDisruptionBudget/web'],
    );
    assert.deepEqual(
      dev?.removed.map((o) => `${o.kind}/${o.name}`),
      ['ConfigMap/hand-made'],
    );
    assert.deepEqual(dev?.changed[0]?.changes, [
      { path: 'spec.paused', old: true },
      {
        path: 'spec.template.spec.containers[name=web].image',
        old: 'ghcr.io/elasticai/examples/storefront:2.4.0',
        new: 'ghcr.io/elasticai/examples/storefront:2.3.1',
      },
    ]);
    assert.deepEqual(
      dev?.moved.map((m) => [m.kind, m.from, m.file]),
      [['Service', 'dev-use1/platform.yaml', 'dev-use1/tenant-shop.yaml']],
    );
  });

  it('tells a file whose objects are equal but whose text is not (a hand edit, reordering)', async () => {
    const dist = copy('reformatted');
    appendFileSync(join(dist, 'prod', 'prod-weu', 'platform.yaml'), '# edited by hand\n');
    const r = await elasticai(['diff', '--dist', dist, '--env', 'prod']);
    assert.equal(r.status, 1);
    assert.match(
      r.stdout,
      /^prod: 0 added, 0 removed, 0 changed, 1 file reformatted\n {2}≠ prod-weu\/platform\.yaml: same objects, different text/,
    );
  });

  it('compares a copy of the committed dist/ and names what a change to it does', async () => {
    // GIVEN a copy of the repository's dist/ with the dev storefront's max replicas raised by hand
    const dist = join(tmp, 'committed');
    cpSync(join(REPO_ROOT, 'dist'), dist, { recursive: true });
    editDoc(
      join(dist, 'dev', 'dev-use1', 'tenant-shop.yaml'),
      ['kind: HorizontalPodAutoscaler\n', '  name: web\n'],
      (d) => d.replace(/maxReplicas: (\d+)/, (_, n: string) => `maxReplicas: ${Number(n) + 10}`),
    );
    const r = await elasticai(['diff', '--dist', dist, '--env', 'dev']);
    // THEN exit 1 with the change from the edited value back to the table's
    assert.equal(r.status, 1);
    assert.match(
      r.stdout,
      /\n {2}~ HorizontalPodAutoscaler shop\/web {2}dev-use1\/tenant-shop\.yaml\n {6}spec\.maxReplicas: (\d+) → (\d+)\n/,
    );
    const [, from, to] = /spec\.maxReplicas: (\d+) → (\d+)/.exec(r.stdout) ?? [];
    assert.equal(Number(from) - Number(to), 10);
  });

  it('exits 2 without a dist folder and 1 on a file that is not YAML, without a stack trace', async () => {
    const missing = await elasticai(['diff', '--dist', join(tmp, 'nowhere')]);
    assert.equal(missing.status, 2);
    assert.match(
      missing.stderr,
      /--dist .*nowhere is not a folder: run from the repository root, or pass --dist DIR/,
    );
    const dist = copy('broken');
    writeFileSync(join(dist, 'dev', 'dev-use1', 'platform.yaml'), 'kind: [unclosed\n');
    const broken = await elasticai(['diff', '--dist', dist, '--env', 'dev']);
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /elasticai diff: .*dev\/dev-use1\/platform\.yaml is not valid YAML/);
    assert.doesNotMatch(broken.stderr, /at .*\.js:\d+/);
  });
});

describe('the package CLI and the runtime image CLI', () => {
  it('lists every command in the package, the runtime commands only in the image', async () => {
    const pkg = await elasticai(['--help']);
    const image = await runAsync(RUNTIME_MAIN, ['--help'], cleanEnv(tmp));
    const commands = (help: string): string[] =>
      [...(/Commands:\n((?: {2}\S+ +.*\n)+)/.exec(help)?.[1] ?? '').matchAll(/^ {2}(\S+)/gm)].map(
        (m) => m[1] as string,
      );
    assert.deepEqual(commands(pkg.stdout), [
      'simulate',
      'detect',
      'status',
      'explain',
      'override',
      'recommend',
      'synth',
      'diff',
    ]);
    assert.deepEqual(commands(image.stdout), [
      'simulate',
      'detect',
      'status',
      'explain',
      'override',
      'recommend',
    ]);
    assert.match(pkg.stdout, /\n {2}elasticai diff\n/);
    assert.doesNotMatch(image.stdout, /elasticai synth/);
    assert.equal((await runAsync(RUNTIME_MAIN, ['synth'], cleanEnv(tmp))).status, 2);
  });

  it('has --help with examples for every command', async () => {
    for (const command of [
      'simulate',
      'detect',
      'status',
      'explain',
      'override',
      'recommend',
      'synth',
      'diff',
    ]) {
      const r = await elasticai([command, '--help']);
      assert.equal(r.status, 0, command);
      assert.match(r.stdout, new RegExp(`^Usage: elasticai ${command}`), command);
      assert.match(r.stdout, new RegExp(`\\nExamples:\\n {2}elasticai ${command}\\b`), command);
    }
  });

  it('is the package.json bin', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    assert.deepEqual(pkg.bin, { elasticai: './build/stacks/cli/main.js' });
    assert.match(readFileSync(PACKAGE_MAIN, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });
});
