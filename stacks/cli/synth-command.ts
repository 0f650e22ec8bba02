/**
 * `elasticai synth`: renders the environment table to `dist/<env>/<cluster>/<chart>.yaml`, exactly as
 * `npm run synth` does (offline, deterministic, stale files removed, nothing written on a validation
 * error). The rendering code is imported when the command runs, so other commands start fast.
 */
import { resolve } from 'node:path';
import { parseFlags } from '../../runtime/cli/args.js';
import type { Command, CommandIo } from '../../runtime/cli/command.js';
import { ExitCode } from '../../runtime/cli/command.js';
import { bold } from '../../runtime/cli/terminal.js';

const HELP = `Usage: elasticai synth [--env dev|staging|prod] [--out DIR]

Renders the in-cluster objects of every environment of the table (stacks/environments.ts) to plain,
deterministic YAML, one file per chart: DIR/<env>/<cluster>/<chart>.yaml. Two runs write identical
bytes; files of objects no longer in the table are removed; a validation error in any environment
writes nothing. Commit the result and review it with \`elasticai diff\`.

Flags:
  --env NAME     render this environment only (the others in DIR are left untouched)
  --out DIR      where to write (default: dist)
  -h, --help     show this help

Examples:
  elasticai synth
  elasticai synth --env staging
  elasticai synth --out /tmp/manifests
`;

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const flags = parseFlags(argv, { env: 'value', out: 'value' });
  const { renderEnvironments, writeEnvironments } = await import('./render.js');
  const only = flags.string('env');
  const outDir = resolve(flags.string('out') ?? 'dist');
  const rendered = renderEnvironments(only);
  for (const written of writeEnvironments(outDir, rendered, only === undefined)) {
    io.stdout(
      `${bold(written.name, io.color)}: ${written.files} files, ${written.objects} objects -> ${written.dir}\n`,
    );
  }
  return ExitCode.ok;
}

export const synthCommand: Command = {
  name: 'synth',
  summary: 'render every environment to deterministic YAML under dist/<env>/<cluster>/<chart>.yaml',
  help: HELP,
  run,
};
