#!/usr/bin/env node
/**
 * The package's `elasticai` executable (package.json `bin`): the runtime's commands (simulate, detect,
 * status, explain, override, recommend) with YAML kubeconfigs, plus `synth` and `diff`, which render the
 * environment table and so live outside runtime/ (the runtime never imports construct or stack code).
 */
import { parse } from 'yaml';
import { runCli, runtimeCommands } from '../../runtime/cli/cli.js';
import { colorWanted } from '../../runtime/cli/terminal.js';
import { diffCommand } from './diff-command.js';
import { synthCommand } from './synth-command.js';

/** Every command of the package's CLI. */
export const PACKAGE_COMMANDS = [
  ...runtimeCommands({ parseKubeconfig: (text) => parse(text) as unknown }),
  synthCommand,
  diffCommand,
];

// A closed pipe (`elasticai diff | head`) is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await runCli(
  process.argv.slice(2),
  {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    color: colorWanted(process.stdout.isTTY, process.env),
    stderrTty: process.stderr.isTTY === true,
    env: process.env,
  },
  process.env,
  PACKAGE_COMMANDS,
);
