/**
 * Running the compiled `elasticai` executables as a user would: as child processes, asynchronously (so a
 * server in the test process keeps answering), with a clean environment, or under a pseudo-terminal
 * (util-linux `script`) to see what a TTY user sees.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILD = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The runtime image's CLI (runtime commands only, JSON kubeconfigs). */
export const RUNTIME_MAIN = join(BUILD, 'runtime', 'cli', 'main.js');
/** The package's CLI (package.json bin): every command, YAML kubeconfigs. */
export const PACKAGE_MAIN = join(BUILD, 'stacks', 'cli', 'main.js');

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a user with nothing configured: an empty HOME (no kubeconfig), no colours. */
export function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, NO_COLOR: '1', ...extra };
}

/** Runs `node main ...args` without blocking the test's event loop. */
export function runAsync(
  main: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [main, ...args],
      { env, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20, ...(cwd ? { cwd } : {}) },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        done({ status: error ? (typeof code === 'number' ? code : null) : 0, stdout, stderr });
      },
    );
  });
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI with stdout and stderr on a pseudo-terminal (as a user at a terminal), returning what the
 * terminal received (both streams interleaved) and the exit code. `stdoutFile` sends stdout to a file
 * instead, to see what stderr alone drew. Synchronous: only for commands that need no server here.
 */
export function runOnTerminal(
  main: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { stdoutToFile?: boolean } = {},
): { status: number | null; terminal: string; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'elasticai-pty-'));
  try {
    const transcript = join(dir, 'transcript');
    const out = join(dir, 'stdout');
    const command =
      [process.execPath, main, ...args].map(quote).join(' ') +
      (options.stdoutToFile ? ` > ${quote(out)}` : '');
    const r = spawnSync('script', ['-qefc', command, transcript], {
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const raw = readFileSync(transcript, 'utf8');
    // `script` wraps the session in "Script started/done" lines.
    const terminal = raw
      .split('\n')
      .filter((l) => !/^Script (started|done) on /.test(l))
      .join('\n');
    const stdout = options.stdoutToFile ? readFileSync(out, 'utf8') : '';
    return { status: r.status, terminal, stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
