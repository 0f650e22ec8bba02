/**
 * The resolver's listening side: one TCP port speaking HTTP/1.1 (with upgrades) and HTTP/2 cleartext
 * with prior knowledge (gRPC), told apart by the first bytes of each connection (the HTTP/2 connection
 * preface). Each request is routed by Host / `:authority` and path to its target:
 *
 * - no route: 404 (counted in `elasticai_resolver_unrouted_total`);
 * - a request that already went through this resolver (its `Via` pseudonym): 508, never a loop;
 * - gRPC to an HTTP/1.1-only target, an upgrade to an HTTP/2 target, CONNECT: refused with a message
 *   saying why (`unsupported`) — gRPC clients get `UNIMPLEMENTED` with that message;
 * - everything else: held or forwarded by the target.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { Route } from './config.js';
import type { ForwardContext } from './exchange.js';
import { HttpExchange, TunnelExchange } from './exchange.js';
import type { ResolverMetrics } from './metrics.js';
import type { RouteTable } from './route-table.js';
import type { Target } from './target.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export interface ProxyServerOptions {
  readonly table: RouteTable;
  readonly targets: ReadonlyMap<string, Target>;
  readonly ctx: ForwardContext;
  readonly metrics: ResolverMetrics;
  /** The pseudonym in `Via` that marks this resolver (loop detection). */
  readonly pseudonym: string;
  readonly log?: (entry: Record<string, unknown>) => void;
}

type DownReq = http.IncomingMessage | http2.Http2ServerRequest;
type DownRes = http.ServerResponse | http2.Http2ServerResponse;

function plain(res: DownRes, status: number, message: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ error: http.STATUS_CODES[status] ?? 'error', message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(body);
}

export class ProxyServer {
  private readonly net: net.Server;
  private readonly h1: http.Server;
  private readonly h2: http2.Http2Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.Http2Session>();
  /** Requests and tunnels not finished yet (answered in full, or their client gone). */
  private active = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: ProxyServerOptions) {
    this.h1 = http.createServer({
      // Held requests wait on their own timeout; Node's whole-request timeout must not cut them.
      requestTimeout: 0,
      headersTimeout: 30_000,
      keepAliveTimeout: 65_000,
    });
    this.h1.on('request', (req, res) => this.onRequest(req, res, false));
    // No automatic `100 Continue`: the client sends its body once the target asks for it.
    this.h1.on('checkContinue', (req, res) => this.onRequest(req, res, false));
    this.h1.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    this.h1.on('clientError', (error: NodeJS.ErrnoException, socket: net.Socket) => {
      if (socket.writable && !socket.destroyed)
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
      void error;
    });
    this.h2 = http2.createServer({ settings: { enablePush: false } });
    this.h2.on('request', (req, res) => this.onRequest(req, res, true));
    this.h2.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
      session.on('error', () => session.destroy());
    });
    this.h2.on('sessionError', () => undefined);
    this.net = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.net.once('error', reject);
      // A deep accept backlog: a burst of clients arriving at a cold target must not see SYN drops.
      this.net.listen({ port, host, backlog: 4096 }, () => {
        this.net.off('error', reject);
        resolve((this.net.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stops accepting connections (those open keep being served; `close` would wait for them). */
  stopAccepting(): void {
    if (this.net.listening) this.net.close();
  }

  /** Closes idle keep-alive connections and asks HTTP/2 clients to go away gracefully. */
  closeIdle(): void {
    this.h1.closeIdleConnections();
    for (const s of this.sessions) s.close();
  }

  /** Resolves once every request taken so far has been answered in full (or its client left). */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private track(done: (finish: () => void) => void): void {
    this.active++;
    let finished = false;
    done(() => {
      if (finished) return;
      finished = true;
      this.active--;
      if (this.active === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  /** Cuts every connection. */
  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
    for (const s of this.sessions) s.destroy();
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      const n = Math.min(chunk.length, PREFACE.length);
      if (n > 0 && chunk.subarray(0, n).equals(PREFACE.subarray(0, n))) {
        // The HTTP/2 session reads the unshifted bytes itself on its next tick; no resume here.
        this.h2.emit('connection', socket);
      } else {
        this.h1.emit('connection', socket);
        socket.resume();
      }
    });
  }

  private route(
    req: DownReq,
    res: DownRes | undefined,
    h2: boolean,
  ): { route: Route; target: Target } | undefined {
    const via = req.headers.via;
    if (typeof via === 'string' && via.includes(this.options.pseudonym)) {
      if (res) plain(res, 508, 'the request came back to the resolver: a target Service routes to itself');
      return undefined;
    }
    const authority = h2
      ? ((req.headers[':authority'] as string | undefined) ?? req.headers.host)
      : req.headers.host;
    const route = this.options.table.match(authority, req.url ?? '/');
    if (!route) {
      this.options.metrics.unrouted.inc();
      if (res)
        plain(
          res,
          404,
          `no scale-to-zero route for host ${JSON.stringify(authority ?? '')} and path ${req.url ?? '/'}`,
        );
      return undefined;
    }
    const target = this.options.targets.get(route.id);
    if (!target) {
      if (res) plain(res, 500, `route ${route.id} has no target`);
      return undefined;
    }
    return { route, target };
  }

  private onRequest(req: DownReq, res: DownRes, h2: boolean): void {
    this.track((finish) => res.once('close', finish));
    const found = this.route(req, res, h2);
    if (!found) return;
    const { route, target } = found;
    const exchange = new HttpExchange(req, res, route, this.options.ctx, h2);
    const type = req.headers['content-type'];
    const grpc = typeof type === 'string' && type.startsWith('application/grpc');
    if (req.method === 'CONNECT') {
      this.refuse(exchange, route, 405, 'CONNECT is not supported by the scale-to-zero resolver');
      return;
    }
    if (grpc && route.protocol !== 'h2c') {
      this.refuse(
        exchange,
        route,
        505,
        `${route.id} is routed as HTTP/1.1 (protocol "http"); gRPC needs its route's protocol to be "h2c"`,
      );
      return;
    }
    target.submit(exchange);
  }

  private refuse(
    exchange: HttpExchange | TunnelExchange,
    route: Route,
    status: number,
    message: string,
  ): void {
    this.options.metrics.rejected.inc({ target: route.id, reason: 'unsupported' });
    exchange.reject('unsupported', status, undefined, message);
  }

  private onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    this.track((finish) => socket.once('close', finish));
    const found = this.route(req, undefined, false);
    if (!found) {
      const via = req.headers.via;
      const status = typeof via === 'string' && via.includes(this.options.pseudonym) ? 508 : 404;
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      return;
    }
    const { route, target } = found;
    const exchange = new TunnelExchange(req, socket, head, route, this.options.ctx);
    if (route.protocol === 'h2c') {
      this.refuse(
        exchange,
        route,
        501,
        `${route.id} speaks HTTP/2 (protocol "h2c"); an HTTP/1.1 upgrade (${String(req.headers.upgrade)}) cannot be passed to it`,
      );
      return;
    }
    target.submit(exchange);
  }
}
