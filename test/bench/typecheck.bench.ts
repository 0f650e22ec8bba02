/**
 * `npm run bench`: type-check time of the Azure entry point alone (what a Pulumi-only user's editor and
 * CI pay) versus the whole package, with `tsc --noEmit` on the repository's own compiler options. The
 * k8s entry point is shown for reference. One run each, in a fresh tsc process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths.js';

const tsc = createRequire(join(REPO_ROOT, 'package.json')).resolve('typescript/bin/tsc');

interface Measure {
  readonly name: string;
  readonly seconds: number;
  readonly files: number;
  readonly errors: number;
}

/** Runs tsc --noEmit --extendedDiagnostics on a project file and reads its own counters. */
function typecheck(name: string, project: string): Measure {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [tsc, '-p', project, '--noEmit', '--extendedDiagnostics'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const files = Number(/^Files:\s+(\d+)/m.exec(run.stdout)?.[1] ?? NaN);
  const errors = (run.stdout.match(/error TS\d+/g) ?? []).length;
  return { name, seconds, files, errors };
}

/** A tsconfig that extends the repository's and compiles only `entry` (and what it imports). */
function entryProject(dir: string, entry: string): string {
  const file = join(dir, `${entry.replace(/\W/g, '_')}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      extends: join(REPO_ROOT, 'tsconfig.json'),
      compilerOptions: {
        rootDir: REPO_ROOT,
        noEmit: true,
        typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
      },
      files: [join(REPO_ROOT, entry)],
      include: [],
    }),
  );
  return file;
}

const dir = mkdtempSync(join(tmpdir(), 'elasticai-typecheck-'));
try {
  const results = [
    typecheck('azure entry (constructs/azure/index.ts)', entryProject(dir, 'constructs/azure/index.ts')),
    typecheck('k8s entry (constructs/k8s/index.ts)', entryProject(dir, 'constructs/k8s/index.ts')),
    typecheck('whole package (tsconfig.json)', join(REPO_ROOT, 'tsconfig.json')),
  ];
  console.log('case                                       type-check (s)   files   errors');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(42)} ${r.seconds.toFixed(1).padStart(14)} ${String(r.files).padStart(7)} ${String(r.errors).padStart(8)}`,
    );
  }
  const [azure, , whole] = results as [Measure, Measure, Measure];
  console.log(
    `azure entry alone: ${((azure.seconds / whole.seconds) * 100).toFixed(0)}% of the whole package's time`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
