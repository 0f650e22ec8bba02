/**
 * `npm run synth`: renders every environment of the built-in table to `dist/<env>/<cluster>/<chart>.yaml`.
 * Offline and deterministic: two runs give byte-identical files, and files of objects that no longer
 * exist are removed. `--env NAME` renders one environment (others are left untouched); `--out DIR`
 * writes elsewhere.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ENVIRONMENTS } from './environments.js';
import { writeEnvironments } from './manifests.js';
import { synthEnvironment } from './synth-environment.js';

function main(): number {
  let args;
  try {
    args = parseArgs({
      options: {
        env: { type: 'string' },
        out: { type: 'string', default: 'dist' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (e) {
    console.error(
      `synth: ${(e as Error).message}\nusage: npm run synth -- [--env dev|staging|prod] [--out DIR]`,
    );
    return 2;
  }
  if (args.help) {
    console.log('usage: npm run synth -- [--env dev|staging|prod] [--out DIR]');
    return 0;
  }
  const names = ENVIRONMENTS.map((e) => e.name);
  const selected = args.env === undefined ? ENVIRONMENTS : ENVIRONMENTS.filter((e) => e.name === args.env);
  if (selected.length === 0) {
    console.error(`synth: unknown environment "${args.env}"; known: ${names.join(', ')}`);
    return 2;
  }
  const outDir = resolve(args.out ?? 'dist');
  // Render everything first: a validation error in any environment writes nothing.
  const rendered = selected.map((env) => ({ env, files: synthEnvironment(env) }));
  for (const written of writeEnvironments(outDir, rendered, args.env === undefined)) {
    console.log(
      `synth: ${written.name}: ${written.files} files, ${written.objects} objects -> ${written.dir}`,
    );
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`synth failed: ${(e as Error).message}`);
  process.exitCode = 1;
}
