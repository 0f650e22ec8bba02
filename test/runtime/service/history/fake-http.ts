/** Tiny in-process HTTP servers standing in for Prometheus (and for what goes wrong with it). */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server received. */
export interface Received {
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface FakeServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly received: Received[];
  close(): Promise<void>;
}

export type Handler = (req: Received, res: ServerResponse) => void | Promise<void>;

/** Starts a server on 127.0.0.1 that records each request (with its whole body) and calls `handler`. */
export async function fakeServer(handler: Handler): Promise<FakeServer> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(parts).toString('utf8'),
      };
      received.push(r);
      Promise.resolve(handler(r, res)).catch((e: unknown) => {
        res.destroy(e instanceof Error ? e : new Error(String(e)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends `body` as JSON (objects are serialised, strings sent as they are). */
export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json' }).end(text);
}

/** A Prometheus success answer with these series (`values` as Prometheus writes them). */
export function matrix(...series: (readonly (readonly [number, string])[])[]): unknown {
  return {
    status: 'success',
    data: { resultType: 'matrix', result: series.map((values, i) => ({ metric: { pod: `p${i}` }, values })) },
  };
}

/** The form parameters of a received POST body. */
export function formOf(r: Received): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(r.body));
}
