import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { PrometheusConfig } from '../../../../runtime/service/config.js';
import { SourceError } from '../../../../runtime/service/history/history-source.js';
import type { SourceFailureKind } from '../../../../runtime/service/history/history-source.js';
import type { PrometheusSourceOptions } from '../../../../runtime/service/history/prometheus-source.js';
import { PrometheusSource } from '../../../../runtime/service/history/prometheus-source.js';
import { fakeServer, formOf, json, matrix } from './fake-http.js';
import type { FakeServer, Handler } from './fake-http.js';

const servers: FakeServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(handler: Handler): Promise<FakeServer> {
  const s = await fakeServer(handler);
  servers.push(s);
  return s;
}

function sourceFor(url: string, options: PrometheusSourceOptions = {}, timeoutMs = 2000): PrometheusSource {
  const config: PrometheusConfig = { url, auth: 'none', timeoutMs };
  return new PrometheusSource(config, options);
}

const Q = {
  query: 'sum(rate(http_requests_total[1m]))',
  start: 1_700_000_000,
  end: 1_700_000_060,
  stepSeconds: 30,
};

/** Asserts the promise rejects with a SourceError of `kind` whose message matches `message`. */
async function rejectsWith(
  p: Promise<unknown>,
  kind: SourceFailureKind,
  message: RegExp,
): Promise<SourceError> {
  let caught: unknown;
  await p.then(
    () => assert.fail('expected a SourceError'),
    (e: unknown) => {
      caught = e;
    },
  );
  assert.ok(caught instanceof SourceError, `expected a SourceError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, caught.message);
  assert.match(caught.message, message);
  return caught;
}

describe('PrometheusSource requests', () => {
  it('POSTs a form to <url>/api/v1/query_range with query, start, end and step', async () => {
    // GIVEN a server behind a path prefix (as AMP workspaces and proxies are)
    const s = await serve((_r, res) => json(res, 200, matrix([[1_700_000_000, '1']])));
    // WHEN a range is queried with a long PromQL expression (too long for a comfortable GET)
    const long = `sum(rate(http_requests_total{path=~"${'/a'.repeat(5000)}", name="ünïcode & more"}[5m]))`;
    await sourceFor(`${s.url}/workspaces/ws-1/`).queryRange({ ...Q, query: long });
    // THEN one form-encoded POST carried it, intact, to the API path under the prefix
    assert.equal(s.received.length, 1);
    const r = s.received[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/workspaces/ws-1/api/v1/query_range');
    assert.equal(r.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.deepEqual(formOf(r), { query: long, start: '1700000000', end: '1700000060', step: '30' });
  });

  it('sends fractional seconds as Prometheus parses them', async () => {
    const s = await serve((_r, res) => json(res, 200, matrix()));
    await sourceFor(s.url).queryRange({ query: 'x', start: 1.5, end: 3, stepSeconds: 0.5 });
    assert.deepEqual(formOf(s.received[0]!), { query: 'x', start: '1.5', end: '3', step: '0.5' });
  });

  it('refuses an inverted or empty-step range without a request', async () => {
    const s = await serve((_r, res) => json(res, 200, matrix()));
    const src = sourceFor(s.url);
    await rejectsWith(src.queryRange({ ...Q, end: Q.start - 30 }), 'query-error', /must not be before start/);
    await rejectsWith(src.queryRange({ ...Q, stepSeconds: 0 }), 'query-error', /stepSeconds/);
    await rejectsWith(src.queryRange({ ...Q, start: NaN }), 'query-error', /finite/);
    assert.equal(s.received.length, 0);
  });
});

describe('PrometheusSource answers', () => {
  it('keeps grid points only, sums several series per timestamp and maps NaN/±Inf', async () => {
    // GIVEN two series: off-grid and out-of-range samples, a step only one series has, exponent notation
    const s = await serve((_r, res) =>
      json(
        res,
        200,
        matrix(
          [
            [1_699_999_970, '100'], // before start: dropped
            [1_700_000_000, '1.5'],
            [1_700_000_015, '999'], // between grid points: dropped
            [1_700_000_030, '2e+3'],
            [1_700_000_060, 'NaN'],
            [1_700_000_090, '5'], // after end: dropped
          ],
          [
            [1_700_000_000, '-0.5'],
            [1_700_000_000.001, '7'], // 1 ms off the grid: dropped
            [1_700_000_060, '3'],
          ],
        ),
      ),
    );
    // WHEN queried
    const out = await sourceFor(s.url).queryRange(Q);
    // THEN per-grid-step sums, the step only the first series has is that series' value, NaN stays NaN
    assert.deepEqual(out, {
      timestamps: [1_700_000_000, 1_700_000_030, 1_700_000_060],
      values: [1, 2000, NaN],
    });
  });

  it('turns +Inf and -Inf into infinities and an empty result into no points', async () => {
    const s = await serve((r, res) =>
      json(
        res,
        200,
        formOf(r).query === 'empty'
          ? matrix()
          : matrix([
              [0, '+Inf'],
              [30, '-Inf'],
              [60, '1.5e-09'],
            ]),
      ),
    );
    const src = sourceFor(s.url);
    const out = await src.queryRange({ query: 'x', start: 0, end: 60, stepSeconds: 30 });
    assert.deepEqual(out, { timestamps: [0, 30, 60], values: [Infinity, -Infinity, 1.5e-9] });
    assert.deepEqual(await src.queryRange({ query: 'empty', start: 0, end: 60, stepSeconds: 30 }), {
      timestamps: [],
      values: [],
    });
  });

  it('splits long ranges into chunks of at most maxPointsPerRequest and concatenates them in order', async () => {
    // GIVEN a server answering every grid point of the asked range with its own timestamp
    const s = await serve((r, res) => {
      const { start, end, step } = formOf(r);
      const values: [number, string][] = [];
      for (let t = Number(start); t <= Number(end); t += Number(step)) values.push([t, String(t * 10)]);
      json(res, 200, matrix(values));
    });
    // WHEN 11 points are asked 4 at a time
    const out = await sourceFor(s.url, { maxPointsPerRequest: 4 }).queryRange({
      query: 'x',
      start: 0,
      end: 10,
      stepSeconds: 1,
    });
    // THEN three requests covered the range without overlap, and the points come back once each, in order
    assert.deepEqual(
      s.received.map((r) => [formOf(r).start, formOf(r).end]),
      [
        ['0', '3'],
        ['4', '7'],
        ['8', '10'],
      ],
    );
    assert.deepEqual(out.timestamps, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(out.values, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });

  it('uses 11,000 points per request by default and ends a chunk on the last grid point before end', async () => {
    const s = await serve((_r, res) => json(res, 200, matrix()));
    // 0 … 22,001 s at step 1 is 22,002 points; end 22,001.5 is not on the grid
    await sourceFor(s.url).queryRange({ query: 'x', start: 0, end: 22_001.5, stepSeconds: 1 });
    assert.deepEqual(
      s.received.map((r) => [formOf(r).start, formOf(r).end]),
      [
        ['0', '10999'],
        ['11000', '21999'],
        ['22000', '22001'],
      ],
    );
  });

  const malformed: [string, string | unknown][] = [
    ['not JSON', 'Service Unavailable<html>'],
    ['JSON null', 'null'],
    ['an array', '[]'],
    ['no status', { data: { resultType: 'matrix', result: [] } }],
    ['an unknown status', { status: 'partial', data: { resultType: 'matrix', result: [] } }],
    ['no data', { status: 'success' }],
    ['a vector', { status: 'success', data: { resultType: 'vector', result: [] } }],
    ['result not an array', { status: 'success', data: { resultType: 'matrix', result: {} } }],
    [
      'a series without metric',
      { status: 'success', data: { resultType: 'matrix', result: [{ values: [] }] } },
    ],
    [
      'values not an array',
      { status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: 1 }] } },
    ],
    ['a sample of one element', matrix([[0] as unknown as [number, string]])],
    ['a sample of three elements', matrix([[0, '1', '2'] as unknown as [number, string]])],
    ['a string timestamp', matrix([['0', '1'] as unknown as [number, string]])],
    ['a numeric value', matrix([[0, 1] as unknown as [number, string]])],
    ['a word', matrix([[0, 'abc']])],
    ['an empty value', matrix([[0, '']])],
    ['a hex value', matrix([[0, '0x10']])],
    ['a decimal comma', matrix([[0, '1,5']])],
    ['JavaScript Infinity', matrix([[0, 'Infinity']])],
    ['a lower-case nan', matrix([[0, 'nan']])],
    [
      'decreasing timestamps',
      matrix([
        [30, '1'],
        [0, '2'],
      ]),
    ],
    [
      'a repeated timestamp',
      matrix([
        [0, '1'],
        [0, '2'],
      ]),
    ],
    [
      'native histograms',
      {
        status: 'success',
        data: { resultType: 'matrix', result: [{ metric: {}, histograms: [[0, { count: '1', sum: '1' }]] }] },
      },
    ],
  ];
  for (const [what, body] of malformed) {
    it(`rejects an answer with ${what} as bad-response`, async () => {
      const s = await serve((_r, res) => json(res, 200, body));
      await rejectsWith(
        sourceFor(s.url).queryRange({ query: 'x', start: 0, end: 60, stepSeconds: 30 }),
        'bad-response',
        /Prometheus answer/,
      );
    });
  }

  it('rejects a body that is not UTF-8', async () => {
    const s = await serve((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    });
    await rejectsWith(sourceFor(s.url).queryRange(Q), 'bad-response', /UTF-8/);
  });
});

describe('PrometheusSource failures', () => {
  it('reports status "error" as query-error with Prometheus\'s text', async () => {
    const s = await serve((_r, res) =>
      json(res, 200, { status: 'error', errorType: 'execution', error: 'many-to-many matching not allowed' }),
    );
    await rejectsWith(sourceFor(s.url).queryRange(Q), 'query-error', /many-to-many matching not allowed/);
  });

  it('reports Prometheus 400 bad_data and 422 execution errors as query-error', async () => {
    const s = await serve((r, res) =>
      formOf(r).query === 'bad'
        ? json(res, 400, {
            status: 'error',
            errorType: 'bad_data',
            error: '1:4: parse error: unclosed left parenthesis',
          })
        : json(res, 422, {
            status: 'error',
            errorType: 'execution',
            error: 'query processing would load too many samples',
          }),
    );
    const src = sourceFor(s.url);
    await rejectsWith(
      src.queryRange({ ...Q, query: 'bad' }),
      'query-error',
      /HTTP 400 bad_data: 1:4: parse error: unclosed/,
    );
    await rejectsWith(
      src.queryRange({ ...Q, query: 'big' }),
      'query-error',
      /HTTP 422 execution: query processing/,
    );
  });

  it('reports other non-2xx answers as http-error with the status', async () => {
    const s = await serve((r, res) => {
      const q = formOf(r).query;
      if (q === '500')
        res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Internal Server Error</h1>');
      else if (q === '503')
        json(res, 503, {
          status: 'error',
          errorType: 'timeout',
          error: 'query timed out in expression evaluation',
        });
      else if (q === '403') json(res, 403, { message: 'User is not authorized to perform aps:QueryMetrics' });
      else res.writeHead(302, { location: 'http://127.0.0.1:1/login' }).end();
    });
    const src = sourceFor(s.url);
    const e500 = await rejectsWith(src.queryRange({ ...Q, query: '500' }), 'http-error', /HTTP 500/);
    assert.doesNotMatch(e500.message, /<h1>/);
    await rejectsWith(
      src.queryRange({ ...Q, query: '503' }),
      'http-error',
      /HTTP 503 timeout: query timed out/,
    );
    await rejectsWith(
      src.queryRange({ ...Q, query: '403' }),
      'http-error',
      /HTTP 403: User is not authorized/,
    );
    // a redirect is not followed (a login page is not Prometheus, and auth headers must not travel)
    await rejectsWith(src.queryRange({ ...Q, query: '302' }), 'http-error', /HTTP 302/);
    assert.equal(s.received.length, 4);
  });

  it('gives up on a server that never answers within timeoutMs', async () => {
    // GIVEN a server that accepts the request and never responds
    const s = await serve(() => undefined);
    const started = Date.now();
    // WHEN queried with a 300 ms timeout
    await rejectsWith(sourceFor(s.url, {}, 300).queryRange(Q), 'timeout', /within 300 ms/);
    // THEN it gave up close to the timeout
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 290 && elapsed < 1500, `gave up after ${elapsed} ms`);
  });

  it('gives up on a body that stalls half-way within timeoutMs', async () => {
    const s = await serve((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":"success","data":{"resultType":"matrix","result":[');
    });
    const started = Date.now();
    await rejectsWith(sourceFor(s.url, {}, 300).queryRange(Q), 'timeout', /within 300 ms/);
    assert.ok(Date.now() - started < 1500);
  });

  it('applies the timeout to each chunk, not to the whole range', async () => {
    // GIVEN a server that takes 400 ms per answer and a 1000 ms timeout
    // (600 ms of slack per chunk: CI machines can be loaded; 100 ms was not enough)
    const s = await serve((_r, res) => {
      setTimeout(() => json(res, 200, matrix()), 400);
    });
    // WHEN three chunks are needed (1200 ms in all) THEN the query still succeeds
    const out = await sourceFor(s.url, { maxPointsPerRequest: 2 }, 1000).queryRange({
      query: 'x',
      start: 0,
      end: 5,
      stepSeconds: 1,
    });
    assert.deepEqual(out, { timestamps: [], values: [] });
    assert.equal(s.received.length, 3);
  });

  it('stops when the caller aborts', async () => {
    const s = await serve(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await rejectsWith(
      sourceFor(s.url, {}, 5000).queryRange(Q, controller.signal),
      'timeout',
      /aborted by the caller/,
    );
    // (long before the 5 s timeout; the bound leaves a loaded CI machine room)
    assert.ok(Date.now() - started < 2500);
  });

  it('reports a closed port and an unknown host as unreachable', async () => {
    // GIVEN a port nobody listens on any more
    const s = await serve(() => undefined);
    await s.close();
    await rejectsWith(
      sourceFor(s.url).queryRange(Q),
      'unreachable',
      new RegExp(`127\\.0\\.0\\.1:${s.port}: ECONNREFUSED`),
    );
    // GIVEN a name that cannot resolve (.invalid is reserved)
    await rejectsWith(
      sourceFor('http://prometheus.elasticai.invalid:9090').queryRange(Q),
      'unreachable',
      /prometheus\.elasticai\.invalid:9090/,
    );
  });

  it('abandons a streamed body beyond maxBodyBytes as bad-response', async () => {
    // GIVEN a server that streams an endless body without content-length
    let closedAfter = -1;
    let sent = 0;
    const s = await serve((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => {
        closedAfter = sent;
      });
      pump();
    });
    // WHEN read with a 1 MiB cap
    await rejectsWith(
      sourceFor(s.url, { maxBodyBytes: 1 << 20 }, 5000).queryRange(Q),
      'bad-response',
      /1048576-byte limit/,
    );
    // THEN the transfer was cut (not read to the end or until the timeout)
    await waitFor(() => closedAfter >= 0);
    assert.ok(closedAfter < 16 << 20, `server sent ${closedAfter} bytes`);
  });

  it('refuses a declared content-length beyond maxBodyBytes before reading it', async () => {
    const s = await serve((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 << 20) });
      res.write(' ');
    });
    await rejectsWith(
      sourceFor(s.url, { maxBodyBytes: 1 << 20 }, 5000).queryRange(Q),
      'bad-response',
      /2097152 bytes exceeds/,
    );
  });

  it('caps bodies at 64 MiB by default', async () => {
    // GIVEN a server streaming more than 64 MiB of whitespace (valid JSON padding) before a valid answer
    let sent = 0;
    const total = 65 << 20;
    const s = await serve((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1 << 20, 0x20);
      const pump = (): void => {
        while (!res.destroyed && sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end(JSON.stringify(matrix()));
      };
      pump();
    });
    await rejectsWith(sourceFor(s.url, {}, 20_000).queryRange(Q), 'bad-response', /67108864-byte limit/);
  });

  it('accepts a large answer under the cap', async () => {
    // GIVEN 11,000 points of 5 series (what one chunk of a busy workload looks like)
    const values: [number, string][] = [];
    for (let i = 0; i < 11_000; i++) values.push([i * 60, String(i % 97)]);
    const s = await serve((_r, res) => json(res, 200, matrix(values, values, values, values, values)));
    const out = await sourceFor(s.url).queryRange({
      query: 'x',
      start: 0,
      end: 10_999 * 60,
      stepSeconds: 60,
    });
    assert.equal(out.timestamps.length, 11_000);
    assert.equal(out.values[96], 5 * 96);
    assert.equal(out.values[97], 0);
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
