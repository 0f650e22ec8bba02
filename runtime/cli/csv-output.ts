/**
 * Output files of the CLI (CSV, HTML reports, manifests), written atomically: a temporary file beside
 * the target, fsynced, then renamed over it, so a reader never sees a half-written file and a failed run
 * leaves the old file. Plus the value formats the stable interface fixes (ISO 8601 UTC timestamps, NaN as
 * an empty field).
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
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
 * Writes every file of `files` atomically, all or none as far as the file system allows: each is written
 * to a temporary file beside its target and fsynced first, and only when all are written are they
 * renamed over their targets. A failure while writing leaves no temporary file and every target as it
 * was.
 * @throws RunError naming the path that cannot be written.
 */
export function writeFilesAtomic(files: readonly OutputFile[]): void {
  const staged: { temp: string; path: string }[] = [];
  try {
    for (const { path, parts } of files) staged.push({ temp: stage(path, parts), path });
    for (let i = 0; i < staged.length; i++) {
      const { temp, path } = staged[i] as { temp: string; path: string };
      try {
        renameSync(temp, path);
      } catch (err) {
        throw new RunError(`cannot write ${path}: ${describeFsError(err)}`);
      }
      staged[i] = { temp: '', path };
    }
  } catch (err) {
    for (const { temp } of staged) if (temp !== '') rmSync(temp, { force: true });
    throw err;
  }
}

/** Writes `parts` to a new temporary file beside `path`; resolves to its name. */
function stage(path: string, parts: Iterable<string>): string {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
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
