/**
 * The `elasticai` dispatcher: picks the command, handles `--help`/`--version`, and turns errors into
 * messages and exit codes (0 ok, 1 runtime failure, 2 usage error). User errors never show a stack
 * trace; unexpected ones show it only with ELASTICAI_DEBUG=1. A new command is one module exporting a
 * {@link Command}, added to {@link runtimeCommands}.
 *
 * The runtime's own commands live here; `runCli` takes the command list, so the package's `elasticai`
 * (stacks/cli/main.ts) adds `synth` and `diff`, which need construct code the runtime never imports.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command, CommandIo } from './command.js';
import { ExitCode, RunError, UsageError } from './command.js';
import type { ApiCommandOptions } from './api-client.js';
import { detectCommand } from './detect-command.js';
import { explainCommand } from './explain-command.js';
import { overrideCommand } from './override-command.js';
import { recommendCommand } from './recommend-command.js';
import { simulateCommand } from './simulate-command.js';
import { statusCommand } from './status-command.js';
import { bold } from './terminal.js';

/** The runtime's commands: traces (simulate, detect) and the runtime's API (status ... recommend). */
export function runtimeCommands(options: ApiCommandOptions = {}): Command[] {
  return [
    simulateCommand,
    detectCommand,
    statusCommand(options),
    explainCommand(options),
    overrideCommand(options),
    recommendCommand(options),
  ];
}

/** The commands of the runtime image's `elasticai` (JSON kubeconfigs only). */
export const COMMANDS: readonly Command[] = runtimeCommands();

/** Example lines of the root help, shown for the commands present. */
const EXAMPLES: Readonly<Record<string, string>> = {
  simulate: 'elasticai simulate --trace nyc_taxi.csv --capacity 1000 --startup 300 --report nyc.html',
  detect: 'elasticai detect --trace ec2_cpu_utilization.csv --scores scores.csv',
  status: 'elasticai status --url http://127.0.0.1:8080',
  explain: 'elasticai explain shop/checkout',
  override: 'elasticai override set shop/checkout --replicas 12 --for 2h',
  recommend: 'elasticai recommend --node-mix --prices prices.json --write-vpa vpa/',
  synth: 'elasticai synth --env staging',
  diff: 'elasticai diff',
};

function rootHelp(commands: readonly Command[], color: boolean): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const examples = commands.map((c) => EXAMPLES[c.name]).filter((e) => e !== undefined);
  const api = commands.some((c) => c.name === 'status');
  return `${bold('Usage:', color)} elasticai <command> [flags]

Predictive, cost-aware Kubernetes autoscaling: replay traces through the decision engine, ask the
decision runtime what it does and why, override it, and right-size workloads and node pools.

${bold('Commands:', color)}
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

${bold('Flags:', color)}
  -h, --help   show this help; \`elasticai <command> --help\` shows a command's flags and examples
  --version    print the version
${
  api
    ? `
The runtime's commands find it through --url / ELASTICAI_URL and authenticate with --token /
ELASTICAI_TOKEN or the kubeconfig context's user (see \`elasticai status --help\`).
`
    : ''
}
${bold('Examples:', color)}
${examples.map((e) => `  ${e}`).join('\n')}

Colours only on a terminal; NO_COLOR=1 turns them off.
Exit codes: 0 ok, 1 failure (or differences found, for diff), 2 usage error (bad flags or input).
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
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr(rootHelp(commands, false));
    return ExitCode.usage;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    const command = commands.find((c) => c.name === topic);
    if (topic !== undefined && !command) return usageError('elasticai', `unknown command "${topic}"`, io);
    io.stdout(command ? command.help : rootHelp(commands, io.color));
    return ExitCode.ok;
  }
  if (first === '--version') {
    io.stdout(`${packageVersion()}\n`);
    return ExitCode.ok;
  }
  const command = commands.find((c) => c.name === first);
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
