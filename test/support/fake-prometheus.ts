/**
 * A minimal Prometheus HTTP API (`/api/v1/query_range`, GET or form POST) answering every query with one
 * series computed from a function of time, for runtime tests that are not about Prometheus itself (the
 * real Prometheus is used in the integration test). `delayMs` makes it slow; `garbage` makes it lie.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakePrometheus {
  readonly url: string;
  delayMs: number;
  garbage: boolean;
  queries: number;
  close(): Promise<void>;
}

export async function startFakePrometheus(valueAt: (t: number) => number): Promise<FakePrometheus> {
  const state = { delayMs: 0, garbage: false, queries: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const params = new URLSearchParams(req.method === 'POST' ? body : url.search);
      if (url.pathname !== '/api/v1/query_range') {
        res.writeHead(404).end();
        return;
      }
      state.queries++;
      const start = Number(params.get('start'));
      const end = Number(params.get('end'));
      const step = Number(params.get('step'));
      const values: [number, string][] = [];
      for (let t = start; t <= end + 1e-9; t += step) values.push([t, String(valueAt(t))]);
      const answer = state.garbage
        ? '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["x","y"]]}]}}'
        : JSON.stringify({
            status: 'success',
            data: { resultType: 'matrix', result: [{ metric: {}, values }] },
          });
      setTimeout(() => {
        if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
      }, state.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
