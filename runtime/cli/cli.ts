/**
 * The `elasticai` dispatcher: picks the command, handles `--help`/`--version`, and turns errors into
 * messages and exit codes (0 ok, 1 runtime failure, 2 usage error). User errors never show a stack
 * trace; unexpected ones show it only with ELASTICAI_DEBUG=1. A new command is one module exporting a
 * {@link Command}, added to COMMANDS.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command, CommandIo } from './command.js';
import { ExitCode, RunError, UsageError } from './command.js';
import { detectCommand } from './detect-command.js';
import { simulateCommand } from './simulate-command.js';
import { bold } from './terminal.js';

export const COMMANDS: readonly Command[] = [simulateCommand, detectCommand];

function rootHelp(color: boolean): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `${bold('Usage:', color)} elasticai <command> [flags]

What-if simulation and anomaly detection on demand traces, with the ElasticAI decision engine.

${bold('Commands:', color)}
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

${bold('Flags:', color)}
  -h, --help   show this help; \`elasticai <command> --help\` shows a command's flags
  --version    print the version

${bold('Examples:', color)}
  elasticai simulate --trace nyc_taxi.csv --capacity 1000 --startup 300
  elasticai detect --trace ec2_cpu_utilization.csv --scores scores.csv

Exit codes: 0 ok, 1 runtime failure, 2 usage error (bad flags or a malformed trace).
`;
}

/** package.json's version, found by walking up from this file (works from build/ and when installed). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown };
      // The package, or the runtime image's own manifest (same version; runtime/package.json).
      if ((pkg.name === 'elasticai' || pkg.name === 'elasticai-runtime') && typeof pkg.version === 'string') {
        return pkg.version;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

const wantsHelp = (argv: readonly string[]): boolean => argv.includes('--help') || argv.includes('-h');

/** Runs the CLI with `argv` (the arguments after `elasticai`); resolves to the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CommandIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr(rootHelp(false));
    return ExitCode.usage;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    const command = COMMANDS.find((c) => c.name === topic);
    if (topic !== undefined && !command) return usageError('elasticai', `unknown command "${topic}"`, io);
    io.stdout(command ? command.help : rootHelp(io.color));
    return ExitCode.ok;
  }
  if (first === '--version') {
    io.stdout(`${packageVersion()}\n`);
    return ExitCode.ok;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    const what = first.startsWith('-') ? `unknown flag ${first}` : `unknown command "${first}"`;
    return usageError('elasticai', what, io);
  }
  if (wantsHelp(rest)) {
    io.stdout(command.help);
    return ExitCode.ok;
  }
  const prefix = `elasticai ${command.name}`;
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) return usageError(prefix, err.message, io, command.name);
    if (err instanceof RunError) {
      io.stderr(`${prefix}: ${err.message}\n`);
      return ExitCode.failure;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`${prefix}: ${message}\n`);
    if (env.ELASTICAI_DEBUG === '1' && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return ExitCode.failure;
  }
}

function usageError(prefix: string, message: string, io: CommandIo, command?: string): number {
  io.stderr(`${prefix}: ${message}\nRun 'elasticai ${command ? `${command} ` : ''}--help' for usage.\n`);
  return ExitCode.usage;
}
