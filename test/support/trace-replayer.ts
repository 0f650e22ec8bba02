/**
 * Replays real demand traces as a Prometheus scrape target: `GET /metrics` serves the gauge
 * `elasticai_trace_demand{trace="<name>"}` in the text exposition format, its value the trace row that is
 * "now" in compressed time: row `startRow + floor((now - t0) / rowMilliseconds)`. Before `t0` and after
 * the trace's last row the series is absent. NaN and ±Infinity rows are served as `NaN` / `+Inf` / `-Inf`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readTrace } from '../../runtime/simulation/trace.js';
import type { Trace } from '../../runtime/simulation/types.js';

export const TRACE_METRIC = 'elasticai_trace_demand';

export interface ReplayedTrace {
  /** The `trace` label. */
  readonly name: string;
  /** A parsed trace, or the path of a trace CSV (read with `readTrace`). */
  readonly trace: Trace | string;
  /** The row served at t0. @default 0 */
  readonly startRow?: number;
}

export interface TraceReplayerOptions {
  readonly traces: readonly ReplayedTrace[];
  /** Wall-clock milliseconds each trace row lasts. */
  readonly rowMilliseconds: number;
  /** Epoch milliseconds at which each trace's `startRow` begins. @default the start of the server */
  readonly t0?: number;
  /** Epoch milliseconds. @default Date.now */
  readonly clock?: () => number;
}

/** One served row: its index in the trace and its demand. */
export interface ReplayedRow {
  readonly index: number;
  readonly demand: number;
}

export interface TraceReplayer {
  /** The metrics URL, e.g. `http://127.0.0.1:40123/metrics`. */
  readonly url: string;
  /** `127.0.0.1:<port>`, as a Prometheus static target. */
  readonly target: string;
  readonly t0: number;
  /** How many `/metrics` requests were answered. */
  readonly scrapes: number;
  /** When the first scrape that carried a row was answered (epoch ms), if any yet. */
  readonly firstServedAt: number | undefined;
  /** The row of trace `name` (default: the first trace) served at `timeMs`; undefined if none is. */
  rowAt(timeMs: number, name?: string): ReplayedRow | undefined;
  close(): Promise<void>;
}

/** Starts the replayer on 127.0.0.1 at a free port. */
export async function startTraceReplayer(options: TraceReplayerOptions): Promise<TraceReplayer> {
  const { rowMilliseconds } = options;
  const traces = options.traces.map((t) => ({
    ...t,
    trace: typeof t.trace === 'string' ? readTrace(t.trace) : t.trace,
  }));
  if (traces.length === 0) throw new RangeError('traces: at least one trace is needed');
  if (!(rowMilliseconds > 0))
    throw new RangeError(`rowMilliseconds: must be positive (got ${rowMilliseconds})`);
  const names = new Set<string>();
  for (const t of traces) {
    if (names.has(t.name)) throw new RangeError(`traces: duplicate name ${t.name}`);
    names.add(t.name);
    const start = t.startRow ?? 0;
    if (!Number.isInteger(start) || start < 0 || start >= t.trace.rows.length) {
      throw new RangeError(`traces[${t.name}].startRow: must be a row of the trace (got ${start})`);
    }
  }
  const clock = options.clock ?? Date.now;
  const t0 = options.t0 ?? clock();

  const rowAt = (timeMs: number, name?: string): ReplayedRow | undefined => {
    const replayed = name === undefined ? traces[0] : traces.find((t) => t.name === name);
    if (replayed === undefined) throw new RangeError(`no trace named ${name}`);
    if (timeMs < t0) return undefined;
    const index = (replayed.startRow ?? 0) + Math.floor((timeMs - t0) / rowMilliseconds);
    const row = replayed.trace.rows[index];
    return row === undefined ? undefined : { index, demand: row.demand };
  };

  let scrapes = 0;
  let firstServedAt: number | undefined;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const now = clock();
    const lines = [
      `# HELP ${TRACE_METRIC} Demand of a replayed trace: the row that is current in compressed time.`,
      `# TYPE ${TRACE_METRIC} gauge`,
    ];
    for (const t of traces) {
      const row = rowAt(now, t.name);
      if (row !== undefined)
        lines.push(`${TRACE_METRIC}{trace="${escapeLabel(t.name)}"} ${exposition(row.demand)}`);
    }
    scrapes++;
    if (firstServedAt === undefined && lines.length > 2) firstServedAt = now;
    res
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
      .end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/metrics`,
    target: `127.0.0.1:${port}`,
    t0,
    get scrapes() {
      return scrapes;
    },
    get firstServedAt() {
      return firstServedAt;
    },
    rowAt,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A float as the exposition format writes it. */
function exposition(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
