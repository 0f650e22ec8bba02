/**
 * Checks on the files and folders a command will write, made before it does any work: a bad output
 * path is a usage error naming the flag (exit 2) found in a second, not a failure after a long run, and
 * an output that names an input (or another output) would silently destroy it.
 */
import type { Stats } from 'node:fs';
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { UsageError } from './command.js';
import { describeFsError } from './csv-output.js';

/** A path given by a flag (`--decisions`, `--trace`, ...). */
export interface FlagPath {
  readonly flag: string;
  readonly path: string;
}

const errCode = (err: unknown): unknown => (err as { code?: unknown }).code;

/** `path`'s stats, undefined when it does not exist; other errors (EACCES, ENOTDIR) are thrown. */
function statIfExists(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Checks that the file `path` (the value of `flag`) can be written: its folder exists, is a directory
 * we may write in, and `path` itself is not a directory.
 * @throws UsageError naming the flag and the path.
 */
export function checkOutputFile(flag: string, path: string): void {
  const fail = (why: string): UsageError =>
    new UsageError(`${flag} cannot be written (got "${path}": ${why})`);
  if (/[\\/]$/.test(path)) throw fail('it names a directory; give a file name');
  const folder = dirname(path);
  let parent: Stats | undefined;
  try {
    parent = statIfExists(folder);
  } catch (err) {
    throw fail(`its folder ${folder}: ${describeFsError(err)}`);
  }
  if (!parent) throw fail(`its folder ${folder} does not exist`);
  if (!parent.isDirectory()) throw fail(`${folder} is not a directory`);
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw fail(`no permission to write in ${folder}`);
  }
  let target: Stats | undefined;
  try {
    target = statIfExists(path);
  } catch (err) {
    throw fail(describeFsError(err));
  }
  if (target?.isDirectory()) throw fail('it is a directory');
}

/**
 * Checks that the directory `path` (the value of `flag`) is, or can be made, a directory to write in:
 * it is a directory, or the nearest part of it that exists is one.
 * @throws UsageError naming the flag and the path.
 */
export function checkOutputDirectory(flag: string, path: string): void {
  const fail = (why: string): UsageError =>
    new UsageError(`${flag} cannot be written (got "${path}": ${why})`);
  let existing = resolve(path);
  let stats: Stats | undefined;
  for (;;) {
    try {
      stats = statIfExists(existing);
    } catch (err) {
      // ENOTDIR: a part above is a file, which the next step up finds and names.
      if (errCode(err) !== 'ENOTDIR') throw fail(describeFsError(err));
    }
    if (stats) break;
    const up = dirname(existing);
    if (up === existing) throw fail('no part of it exists');
    existing = up;
  }
  if (!stats.isDirectory()) {
    throw fail(existing === resolve(path) ? 'it is not a directory' : `${existing} is not a directory`);
  }
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    throw fail(`no permission to write in ${existing}`);
  }
}

/**
 * What file `path` names, for comparing paths: device and inode when it exists (so symbolic and hard
 * links compare equal), else its folder's real path and its name. Undefined when neither is known.
 */
function fileIdentity(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `inode ${s.dev}:${s.ino}`;
  } catch {
    try {
      return `path ${resolve(realpathSync(dirname(path)), basename(path))}`;
    } catch {
      return undefined;
    }
  }
}

/**
 * Checks that no two of `paths` name the same file: an output on an input's path would replace the
 * input, two outputs on one path would leave only the last.
 * @throws UsageError naming both flags and the path.
 */
export function checkDistinctFiles(paths: readonly FlagPath[]): void {
  const seen = new Map<string, string>();
  for (const { flag, path } of paths) {
    const id = fileIdentity(path);
    if (id === undefined) continue;
    const other = seen.get(id);
    if (other !== undefined) {
      throw new UsageError(`${flag} names the same file as ${other} (got "${path}"): give each its own file`);
    }
    seen.set(id, flag);
  }
}

/**
 * The checks of a command that reads `input` and writes the files `outputs` (absent ones undefined):
 * each output can be written, and no two of them, or an output and the input, are the same file.
 * @throws UsageError naming the flag(s).
 */
export function checkOutputPaths(
  input: FlagPath,
  outputs: readonly { readonly flag: string; readonly path: string | undefined }[],
): void {
  const given = outputs.filter((o): o is FlagPath => o.path !== undefined);
  for (const { flag, path } of given) checkOutputFile(flag, path);
  checkDistinctFiles([input, ...given]);
}
