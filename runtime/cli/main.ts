#!/usr/bin/env node
/** The `elasticai` executable (package.json `bin`): runs the dispatcher on the process's arguments. */
import { runCli } from './cli.js';

const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
// A closed pipe (`elasticai detect ... | head`) is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  color,
});
