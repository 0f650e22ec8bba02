#!/usr/bin/env node
/**
 * The runtime image's `elasticai` (`node /app/build/cli/main.js`): the runtime's commands only. The
 * package's `elasticai` is stacks/cli/main.ts, which adds `synth` and `diff` and YAML kubeconfigs.
 */
import { runCli } from './cli.js';
import { colorWanted } from './terminal.js';

// A closed pipe (`elasticai detect ... | head`) is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  color: colorWanted(process.stdout.isTTY, process.env),
  stderrTty: process.stderr.isTTY === true,
  env: process.env,
});
