/**
 * Output files of the CLI (CSV, HTML reports, manifests), written atomically: a temporary file beside
 * the target, fsynced, then renamed over it, so a reader never sees a half-written file and a failed run
 * leaves the old file. Plus the value formats the stable interface fixes (ISO 8601 UTC timestamps, NaN as
 * an empty field).
 */
import {
  closeSync,
  constants,
  copyFileSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RunError } from './command.js';

/** Epoch seconds as ISO 8601 UTC without milliseconds when they are 0 (`2014-07-01T00:00:00Z`). */
export function isoTimestamp(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000);
  if (Number.isNaN(date.getTime())) return String(epochSeconds); // beyond the Date range: echo the number
  return date.toISOString().replace('.000Z', 'Z');
}

/** A number as a CSV field: NaN (a missing value) is empty, everything else as JavaScript prints it. */
export function csvNumber(value: number): string {
  return Number.isNaN(value) ? '' : String(value);
}

/** Rows are buffered into chunks of about this many characters before each write. */
const CHUNK = 1 << 16;

/** The lines of a CSV file: `header`, then `rows` (formatted fields), produced as they are read. */
export function* csvLines(header: readonly string[], rows: Iterable<readonly string[]>): Iterable<string> {
  yield `${header.join(',')}\n`;
  for (const row of rows) yield `${row.join(',')}\n`;
}

/**
 * Writes the concatenation of `parts` to `path` atomically: a temporary file beside the target, fsynced,
 * then renamed over it. A failed run leaves no temporary file and the previous file unchanged.
 * @throws RunError naming the path when it cannot be written.
 */
export function writeFileAtomic(path: string, parts: Iterable<string>): void {
  writeFilesAtomic([{ path, parts }]);
}

/** One file to write: its path and its text in parts. */
export interface OutputFile {
  readonly path: string;
  readonly parts: Iterable<string>;
}

/**
 * The file-system call that puts files in place (and back): `renameSync` unless a test passes one that
 * fails on a given target, to check what a failure halfway through leaves.
 */
export interface CommitFs {
  readonly rename: (from: string, to: string) => void;
}

const NODE_FS: CommitFs = { rename: renameSync };

/** One output on its way: its staged text, the hard link keeping its old file, and whether it is in place. */
interface Staged {
  readonly path: string;
  readonly temp: string;
  backup: string | undefined;
  replaced: boolean;
}

/**
 * Writes every file of `files` atomically, all or none as far as the file system allows: each is written
 * to a temporary file beside its target and fsynced first; then every existing target is kept under a
 * second name (a hard link, or a copy where links cannot be made); only then are the temporary files
 * renamed over their targets. When one of those renames fails, the targets already replaced get their old
 * files back (or are removed when they did not exist), so a failure at any step leaves every target as it
 * was and no temporary or backup file behind.
 * @throws RunError naming the path that cannot be written (and any target that could not be restored,
 *   with where its old file was kept).
 */
export function writeFilesAtomic(files: readonly OutputFile[], fs: CommitFs = NODE_FS): void {
  const staged: Staged[] = [];
  try {
    for (const { path, parts } of files) {
      staged.push({ path, temp: stage(path, parts), backup: undefined, replaced: false });
    }
    for (const s of staged) s.backup = keepOld(s.path);
    for (const s of staged) {
      try {
        fs.rename(s.temp, s.path);
      } catch (err) {
        const others = staged.length > 1 ? '; no output was changed' : '';
        throw new RunError(`cannot write ${s.path}: ${describeFsError(err)}${others}`);
      }
      s.replaced = true;
    }
  } catch (err) {
    const unrestored = rollBack(staged, fs);
    if (unrestored.length > 0 && err instanceof RunError) {
      throw new RunError(`${err.message.replace(/; no output was changed$/, '')}; ${unrestored.join('; ')}`);
    }
    throw err;
  }
  for (const s of staged) if (s.backup !== undefined) rmSync(s.backup, { force: true });
}

/**
 * Keeps the file at `path`, if any, under a second name beside it; resolves to that name.
 * @throws RunError naming `path` when it is a directory or cannot be kept.
 */
function keepOld(path: string): string | undefined {
  let stats;
  try {
    stats = lstatSync(path);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new RunError(`cannot write ${path}: ${describeFsError(err)}`);
  }
  if (stats.isDirectory()) throw new RunError(`cannot write ${path}: it is a directory`);
  const backup = sibling(path, 'old');
  try {
    linkSync(path, backup);
  } catch (linkErr) {
    if (!stats.isFile()) {
      throw new RunError(`cannot write ${path}: cannot keep its old file: ${describeFsError(linkErr)}`);
    }
    try {
      copyFileSync(path, backup, constants.COPYFILE_EXCL);
    } catch (err) {
      rmSync(backup, { force: true });
      throw new RunError(`cannot write ${path}: cannot keep its old file: ${describeFsError(err)}`);
    }
  }
  return backup;
}

/**
 * Undoes a commit that failed partway: puts back the old files of the targets already replaced (removes
 * those that did not exist), and removes every temporary and backup file left. Resolves to what could
 * not be restored, for the message.
 */
function rollBack(staged: readonly Staged[], fs: CommitFs): string[] {
  const unrestored: string[] = [];
  for (const s of staged) {
    if (s.replaced) {
      try {
        if (s.backup === undefined) rmSync(s.path, { force: true });
        else fs.rename(s.backup, s.path);
        s.backup = undefined;
      } catch (err) {
        unrestored.push(
          `${s.path} was already replaced and could not be restored (${describeFsError(err)})` +
            (s.backup === undefined ? '' : `: its old file is ${s.backup}`),
        );
        continue;
      }
    } else {
      rmSync(s.temp, { force: true });
    }
    if (s.backup !== undefined) rmSync(s.backup, { force: true });
  }
  return unrestored;
}

/** A new name beside `path` for a temporary (`tmp`) or backup (`old`) file of this process. */
function sibling(path: string, kind: 'tmp' | 'old'): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.${kind}`);
}

/** Writes `parts` to a new temporary file beside `path`; resolves to its name. */
function stage(path: string, parts: Iterable<string>): string {
  const temp = sibling(path, 'tmp');
  let fd: number | undefined;
  let created = false;
  try {
    fd = openSync(temp, 'wx');
    created = true;
    let buffer = '';
    for (const part of parts) {
      buffer += part;
      if (buffer.length >= CHUNK) {
        writeSync(fd, buffer);
        buffer = '';
      }
    }
    writeSync(fd, buffer);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    return temp;
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    if (created) rmSync(temp, { force: true });
    throw new RunError(`cannot write ${path}: ${describeFsError(err)}`);
  }
}

/** A short reason for a file-system error ("no such file or directory", "permission denied", ...). */
export function describeFsError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
