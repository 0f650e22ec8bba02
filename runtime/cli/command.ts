/**
 * What every `elasticai` command is: a name, a one-line summary for the root usage, its `--help` text
 * and a `run` that returns the exit code. Commands write through {@link CommandIo} (never `process`
 * directly) and signal user mistakes with {@link UsageError}, which the dispatcher prints without a
 * stack trace and turns into exit code 2.
 */

/** Exit codes of the CLI (a stable interface). */
export const ExitCode = {
  ok: 0,
  /** Something failed at run time (an output file could not be written, an internal error). */
  failure: 1,
  /** Bad flags, bad values or a malformed trace. */
  usage: 2,
} as const;

/** Where a command writes, and what it may know about the terminal. */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether to decorate human output (stdout is a TTY and NO_COLOR is unset or empty). */
  readonly color: boolean;
  /** Whether stderr is a TTY: progress bars are drawn only there. @default false */
  readonly stderrTty?: boolean;
  /** The environment the command reads (ELASTICAI_URL, KUBECONFIG, ...). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

export interface Command {
  readonly name: string;
  /** One line for the root usage. */
  readonly summary: string;
  /** The full `--help` text (usage, flags, examples). */
  readonly help: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(argv: readonly string[], io: CommandIo): number | Promise<number>;
}

/** A mistake in the command line or its input (exit 2). The message names the flag or line and the value. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure the user can act on that is not a usage mistake (exit 1, no stack trace), e.g. an unwritable file. */
export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}
