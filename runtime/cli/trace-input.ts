/** Reading the `--trace` file for any command: trace and file errors become usage errors (exit 2). */
import { readTrace, TraceError } from '../simulation/trace.js';
import type { Trace } from '../simulation/types.js';
import { UsageError } from './command.js';
import { describeFsError } from './csv-output.js';

/**
 * Reads and parses the trace CSV at `path`.
 * @throws UsageError with the TraceError's message (it names the file and line), or naming `--trace`
 *   when the file cannot be read.
 */
export function loadTrace(path: string): Trace {
  try {
    return readTrace(path);
  } catch (err) {
    if (err instanceof TraceError) throw new UsageError(err.message);
    if (err instanceof Error && 'code' in err) {
      throw new UsageError(`--trace cannot be read (got "${path}": ${describeFsError(err)})`);
    }
    throw err;
  }
}

/** The `trace` object of every JSON summary. */
export interface TraceSummary {
  readonly path: string;
  readonly rows: number;
  readonly intervalSeconds: number;
}

export function traceSummary(path: string, trace: Trace): TraceSummary {
  return { path, rows: trace.rows.length, intervalSeconds: trace.intervalSeconds };
}
