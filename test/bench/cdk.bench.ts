/**
 * `npm run bench`: `cdk synth` of every EKS environment through the pinned CDK CLI (offline, with
 * cdk-nag), and the size of the resulting cloud assembly: total, templates only, and largest template.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cdkSynthOffline } from '../support/cdk-synth.js';

function sizeOf(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

const runs = Number(process.argv[2] ?? 3);
const times: number[] = [];
let assembly = { total: 0, templates: 0, largest: 0, stacks: 0 };
for (let i = 0; i < runs; i++) {
  const out = mkdtempSync(join(tmpdir(), 'elasticai-cdk-bench-'));
  const start = process.hrtime.bigint();
  cdkSynthOffline(out);
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
  const templates = readdirSync(out).filter((f) => f.endsWith('.template.json'));
  const sizes = templates.map((f) => sizeOf(join(out, f)));
  assembly = {
    total: sizeOf(out),
    templates: sizes.reduce((a, b) => a + b, 0),
    largest: Math.max(...sizes),
    stacks: templates.length,
  };
  rmSync(out, { recursive: true, force: true });
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)] as number;
console.log(
  'case                                   time (ms)   stacks   assembly (MiB)   templates (KiB)   largest (KiB)',
);
console.log(
  `${'cdk synth: all EKS environments'.padEnd(38)} ${median.toFixed(0).padStart(9)} ${String(assembly.stacks).padStart(8)} ${(assembly.total / 1024 / 1024).toFixed(1).padStart(16)} ${(assembly.templates / 1024).toFixed(0).padStart(17)} ${(assembly.largest / 1024).toFixed(0).padStart(15)}`,
);
console.log(
  `(median of ${runs} runs; min ${times[0]?.toFixed(0)} ms, max ${times[times.length - 1]?.toFixed(0)} ms)`,
);
