/**
 * Demand history from the Prometheus HTTP API (`POST /api/v1/query_range`, form-encoded so long PromQL
 * fits), for plain Prometheus, Amazon Managed Prometheus and Azure Monitor workspaces.
 *
 * What comes back is checked strictly and never passed on half-understood:
 * - the body must be JSON `{status: "success", data: {resultType: "matrix", result: [...]}}`, each series
 *   `{metric: {...}, values: [[<number>, "<float>"], ...]}` with strictly increasing timestamps;
 * - sample values are Prometheus float strings; `NaN`, `+Inf` and `-Inf` become NaN / ±Infinity (the
 *   engine treats them as broken-signal points), anything else non-numeric is a `bad-response`;
 * - only timestamps on the step grid (`start + k·step`, compared in milliseconds) within the range are
 *   kept; grid steps without a sample are absent (gaps);
 * - when the query returns several series (per pod, per instance, …) their values are ADDED per
 *   timestamp, as PromQL's `sum()` would (a step missing in one series sums the others); a NaN or infinite
 *   value in any series makes that step's sum NaN/infinite, i.e. a broken-signal point. Write `sum(...)`
 *   in the query to make this explicit;
 * - native-histogram samples are refused (`bad-response`): the demand query must return floats.
 *
 * Prometheus refuses more than 11,000 points per series in one query, so longer ranges are split into
 * consecutive chunks of at most `maxPointsPerRequest` grid points, fetched one after the other and
 * concatenated.
 *
 * Failures are `SourceError`s: `status: "error"` (or HTTP 400/422 with a Prometheus error body) is a
 * `query-error` carrying Prometheus's text; other non-2xx answers (including redirects, which are not
 * followed) are `http-error`; refused connections, DNS failures, resets and requests that cannot be
 * authorised (missing token file, no cloud credentials) are `unreachable`; no complete answer within
 * `timeoutMs` per HTTP request, or an abort by the caller's signal, is `timeout`; a body larger than
 * `maxBodyBytes` is abandoned mid-stream as `bad-response`.
 */
import type { PrometheusConfig } from '../config.js';
import type { HistorySource, RangeQuery, Series } from './history-source.js';
import { SourceError } from './history-source.js';
import type { PrometheusAuthOptions, RequestAuthorizer } from './prometheus-auth.js';
import { AuthError, createPrometheusAuthorizer } from './prometheus-auth.js';

/** Prometheus's own limit on points per series in one range query (`end - start` ≤ 11,000 steps). */
export const PROMETHEUS_MAX_POINTS = 11_000;

/** Default cap on a response body: far above a 11,000-point matrix of a few series. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** How much of an error answer is read to find Prometheus's error text. */
const ERROR_BODY_BYTES = 64 * 1024;

export interface PrometheusSourceOptions {
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Replaces the authorizer built from `config.auth` (tests, custom schemes). */
  readonly authorizer?: RequestAuthorizer;
  /** Credentials and clock for the authorizer built from `config.auth`. */
  readonly auth?: PrometheusAuthOptions;
  /** Grid points per HTTP request; longer ranges are split. @default 11000 (Prometheus's limit) */
  readonly maxPointsPerRequest?: number;
  /** Largest response body read, in bytes. @default 64 MiB */
  readonly maxBodyBytes?: number;
}

/** History from a Prometheus-compatible HTTP API. */
export class PrometheusSource implements HistorySource {
  readonly name = 'prometheus';
  private readonly endpoint: URL;
  private readonly fetch: typeof fetch;
  private readonly authorizer: RequestAuthorizer;
  private readonly maxPoints: number;
  private readonly maxBodyBytes: number;

  constructor(
    private readonly config: PrometheusConfig,
    options: PrometheusSourceOptions = {},
  ) {
    let base: URL;
    try {
      base = new URL(config.url);
    } catch {
      throw new Error('prometheus url: must be an absolute http(s) URL');
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`prometheus url: must be http or https (got ${base.protocol})`);
    }
    if (base.username !== '' || base.password !== '') {
      throw new Error('prometheus url: credentials in the URL are not supported; use the bearer auth');
    }
    base.pathname = `${base.pathname.replace(/\/+$/, '')}/api/v1/query_range`;
    base.hash = '';
    this.endpoint = base;
    if (!(config.timeoutMs > 0))
      throw new RangeError(`timeoutMs: must be positive (got ${config.timeoutMs})`);
    this.maxPoints = options.maxPointsPerRequest ?? PROMETHEUS_MAX_POINTS;
    if (!Number.isInteger(this.maxPoints) || this.maxPoints < 1 || this.maxPoints > PROMETHEUS_MAX_POINTS) {
      throw new RangeError(
        `maxPointsPerRequest: must be an integer in [1, ${PROMETHEUS_MAX_POINTS}] (got ${this.maxPoints})`,
      );
    }
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (!Number.isInteger(this.maxBodyBytes) || this.maxBodyBytes < 1) {
      throw new RangeError(`maxBodyBytes: must be a positive integer (got ${this.maxBodyBytes})`);
    }
    this.fetch = options.fetch ?? globalThis.fetch;
    this.authorizer = options.authorizer ?? createPrometheusAuthorizer(config, options.auth);
  }

  async queryRange(q: RangeQuery, signal?: AbortSignal): Promise<Series> {
    const { startMs, endMs, stepMs } = gridOf(q);
    const lastIndex = Math.floor((endMs - startMs) / stepMs);
    const timestamps: number[] = [];
    const values: number[] = [];
    for (let first = 0; first <= lastIndex; first += this.maxPoints) {
      const chunkStart = startMs + first * stepMs;
      const chunkEnd = startMs + Math.min(lastIndex, first + this.maxPoints - 1) * stepMs;
      const body = await this.post(
        { query: q.query, start: seconds(chunkStart), end: seconds(chunkEnd), step: seconds(stepMs) },
        signal,
      );
      const sums = sumOnGrid(parseMatrix(body), chunkStart, chunkEnd, stepMs);
      for (const t of [...sums.keys()].sort((a, b) => a - b)) {
        timestamps.push(t / 1000);
        values.push(sums.get(t) as number);
      }
    }
    return { timestamps, values };
  }

  /**
   * The series of `q` one by one with their labels (for per-container usage), in one request: at most
   * `maxPointsPerRequest` grid points.
   */
  async queryRangeSeries(q: RangeQuery, signal?: AbortSignal): Promise<LabelledSeries[]> {
    const { startMs, endMs, stepMs } = gridOf(q);
    if ((endMs - startMs) / stepMs >= this.maxPoints) {
      throw new SourceError('query-error', `range too long for one request: at most ${this.maxPoints} steps`);
    }
    const body = await this.post(
      { query: q.query, start: seconds(startMs), end: seconds(endMs), step: seconds(stepMs) },
      signal,
    );
    return parseMatrix(body).map((raw) => {
      const onGrid = raw.values.filter(([t]) => t >= startMs && t <= endMs && (t - startMs) % stepMs === 0);
      return {
        labels: raw.metric,
        timestamps: onGrid.map(([t]) => t / 1000),
        values: onGrid.map(([, v]) => v),
      };
    });
  }

  /** One POST; returns the parsed JSON of a 2xx answer or throws a SourceError. */
  private async post(params: Record<string, string>, callerSignal?: AbortSignal): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const abandon = new AbortController();
    const signal = AbortSignal.any(
      callerSignal === undefined ? [timeout, abandon.signal] : [callerSignal, timeout, abandon.signal],
    );
    const request = {
      method: 'POST',
      url: this.endpoint,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(params).toString(),
    };
    try {
      const auth = await this.authorizer.headersFor(request, signal);
      const response = await this.fetch(request.url, {
        method: request.method,
        headers: { ...request.headers, ...auth },
        body: request.body,
        redirect: 'manual',
        signal,
      });
      if (response.status < 200 || response.status > 299) {
        const text = await readBody(response, ERROR_BODY_BYTES, abandon, false);
        throw errorFromAnswer(response.status, text);
      }
      const text = await readBody(response, this.maxBodyBytes, abandon, true);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new SourceError('bad-response', 'Prometheus answered with a body that is not JSON');
      }
    } catch (e) {
      throw this.classify(e, callerSignal, timeout);
    } finally {
      abandon.abort();
    }
  }

  private classify(e: unknown, callerSignal: AbortSignal | undefined, timeout: AbortSignal): SourceError {
    if (e instanceof SourceError) return e;
    if (callerSignal?.aborted)
      return new SourceError('timeout', 'the Prometheus query was aborted by the caller');
    if (timeout.aborted) {
      return new SourceError(
        'timeout',
        `no complete answer from Prometheus within ${this.config.timeoutMs} ms`,
      );
    }
    if (e instanceof AuthError) {
      return new SourceError('unreachable', `cannot authorise the Prometheus request: ${e.message}`);
    }
    const cause = (e as { cause?: unknown }).cause;
    const code =
      (cause as { code?: unknown } | undefined)?.code ?? (e as { code?: unknown } | undefined)?.code;
    const detail =
      typeof code === 'string'
        ? code
        : cause instanceof Error
          ? cause.message
          : e instanceof Error
            ? e.message
            : String(e);
    return new SourceError('unreachable', `cannot reach Prometheus at ${this.endpoint.host}: ${detail}`);
  }
}

/** The query's grid in integer milliseconds (Prometheus's own resolution); invalid ranges are refused. */
function gridOf(q: RangeQuery): { startMs: number; endMs: number; stepMs: number } {
  const startMs = Math.round(q.start * 1000);
  const endMs = Math.round(q.end * 1000);
  const stepMs = Math.round(q.stepSeconds * 1000);
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) {
    throw new SourceError(
      'query-error',
      `start and end must be finite epoch seconds (got ${q.start}, ${q.end})`,
    );
  }
  if (!Number.isFinite(stepMs) || stepMs < 1) {
    throw new SourceError('query-error', `stepSeconds must be at least 0.001 (got ${q.stepSeconds})`);
  }
  if (endMs < startMs) {
    throw new SourceError('query-error', `end (${q.end}) must not be before start (${q.start})`);
  }
  return { startMs, endMs, stepMs };
}

/** Milliseconds as the decimal seconds Prometheus parses. */
function seconds(ms: number): string {
  return String(ms / 1000);
}

/**
 * Reads a body up to `limit` bytes. Past the limit the transfer is abandoned: `strict` makes that a
 * bad-response, otherwise the first `limit` bytes are returned (error answers are only skimmed).
 */
async function readBody(
  response: Response,
  limit: number,
  abandon: AbortController,
  strict: boolean,
): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (strict && declared > limit) {
    abandon.abort();
    throw new SourceError(
      'bad-response',
      `Prometheus answer of ${declared} bytes exceeds the ${limit}-byte limit`,
    );
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > limit) {
      abandon.abort();
      await reader.cancel().catch(() => undefined);
      if (strict) {
        throw new SourceError('bad-response', `Prometheus answer exceeds the ${limit}-byte limit; abandoned`);
      }
      parts.push(value.subarray(0, limit - size));
      size = limit;
      break;
    }
    parts.push(value);
    size += value.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(parts, size));
  } catch {
    if (strict) throw new SourceError('bad-response', 'Prometheus answer is not valid UTF-8');
    return '';
  }
}

/** The SourceError for a non-2xx answer, with Prometheus's (or the gateway's) error text when present. */
function errorFromAnswer(status: number, text: string): SourceError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const o = isObject(body) ? body : {};
  if (o.status === 'error' && typeof o.error === 'string') {
    const type = typeof o.errorType === 'string' ? ` ${o.errorType}` : '';
    // 400 bad_data and 422 execution errors are the query's fault; 503 timeouts and 500s are the server's.
    const kind = status === 400 || status === 422 ? 'query-error' : 'http-error';
    return new SourceError(kind, `Prometheus answered HTTP ${status}${type}: ${oneLine(o.error)}`);
  }
  // Gateways in front of managed Prometheus (AMP, Azure Monitor) answer {"message": "..."}.
  const message = typeof o.message === 'string' ? `: ${oneLine(o.message)}` : '';
  return new SourceError('http-error', `Prometheus answered HTTP ${status}${message}`);
}

interface RawSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly (readonly [number, number])[];
}

/** One series of a range query with its labels, samples on the step grid (timestamps in seconds). */
export interface LabelledSeries extends Series {
  readonly labels: Readonly<Record<string, string>>;
}

/** Checks a query_range answer and returns its series' samples (timestamps in ms). */
function parseMatrix(body: unknown): RawSeries[] {
  const bad = (why: string): SourceError => new SourceError('bad-response', `Prometheus answer ${why}`);
  if (!isObject(body)) throw bad('is not a JSON object');
  if (body.status === 'error') {
    const text = typeof body.error === 'string' ? oneLine(body.error) : 'no error text';
    throw new SourceError('query-error', `Prometheus query failed: ${text}`);
  }
  if (body.status !== 'success') throw bad(`has status ${JSON.stringify(body.status)}, not "success"`);
  const data = body.data;
  if (!isObject(data)) throw bad('has no data object');
  if (data.resultType !== 'matrix') {
    throw bad(`has resultType ${JSON.stringify(data.resultType)}, not "matrix"`);
  }
  if (!Array.isArray(data.result)) throw bad('has no result array');
  return data.result.map((s: unknown, i): RawSeries => {
    if (!isObject(s) || !isObject(s.metric)) throw bad(`series ${i} has no metric object`);
    if (s.histograms !== undefined) throw bad(`series ${i} holds native histograms, not float samples`);
    if (!Array.isArray(s.values)) throw bad(`series ${i} has no values array`);
    let previous = -Infinity;
    const values = s.values.map((sample: unknown, j): [number, number] => {
      if (!Array.isArray(sample) || sample.length !== 2) {
        throw bad(`series ${i} sample ${j} is not a [timestamp, "value"] pair`);
      }
      const [t, v] = sample as [unknown, unknown];
      if (typeof t !== 'number' || !Number.isFinite(t))
        throw bad(`series ${i} sample ${j} has a bad timestamp`);
      const ms = Math.round(t * 1000);
      if (ms <= previous) throw bad(`series ${i} timestamps do not increase at sample ${j}`);
      previous = ms;
      return [ms, sampleValue(v, () => bad(`series ${i} sample ${j} has a non-numeric value`))];
    });
    const metric: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.metric)) if (typeof v === 'string') metric[k] = v;
    return { metric, values };
  });
}

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A Prometheus sample value string: a decimal float, `NaN`, `+Inf` or `-Inf`. */
function sampleValue(v: unknown, bad: () => SourceError): number {
  if (typeof v !== 'string') throw bad();
  if (FLOAT.test(v)) return Number(v);
  if (v === 'NaN') return NaN;
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  throw bad();
}

/** Adds the series per grid timestamp in [startMs, endMs]; samples off the grid are dropped. */
function sumOnGrid(
  series: readonly RawSeries[],
  startMs: number,
  endMs: number,
  stepMs: number,
): Map<number, number> {
  const sums = new Map<number, number>();
  for (const s of series) {
    for (const [t, v] of s.values) {
      if (t < startMs || t > endMs || (t - startMs) % stepMs !== 0) continue;
      sums.set(t, (sums.get(t) ?? 0) + v);
    }
  }
  return sums;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Server text for a message: one line, bounded. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}
