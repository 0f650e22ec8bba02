/**
 * One client request on its way to a target pod: HTTP/1.1 or HTTP/2 from the client, HTTP/1.1 or
 * HTTP/2 cleartext (gRPC) to the pod, or an HTTP/1.1 upgrade (WebSocket) tunnelled as bytes.
 *
 * Delivery rules (what makes "no loss, no duplicate" hold when a pod dies under load):
 * - The request body is not read while the request is held: the client's bytes stay in its socket
 *   (TCP backpressure), so a held request costs a few KiB whatever its size.
 * - The body is read only once the connection to the pod is established. A connect that fails (refused,
 *   timed out) or an HTTP/2 stream the pod refused (REFUSED_STREAM, or beyond a GOAWAY's last stream)
 *   sent nothing the pod could act on: outcome `unsent`, and the request is retried elsewhere.
 * - Once bytes may have reached the pod, a failure before its answer is retried only for an idempotent
 *   method (RFC 9110: GET, HEAD, OPTIONS, TRACE, PUT, DELETE, or any request with an `Idempotency-Key`)
 *   whose body was small enough to keep (64 KiB): outcome `replay`. Anything else is answered 502 and
 *   never sent again — a POST is delivered at most once.
 * - A client that goes away cancels its request at the pod too (the upstream request is destroyed).
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { Readable } from 'node:stream';
import type { Route } from './config.js';
import type { RejectReason } from './metrics.js';
import type { Endpoint } from './slice-informer.js';

/** How one dispatch of an exchange ended. */
export type Outcome =
  /** The pod answered (response headers, or the first bytes of a tunnel): its release slot is free. */
  | 'responded'
  /** Nothing reached the pod: safe to send again, any method. */
  | 'unsent'
  /** Sent, failed before an answer, idempotent and replayable: send again. */
  | 'replay'
  /** Sent and failed: the client was answered 502 (or cut off mid-response); never sent again. */
  | 'failed'
  /** The client went away. */
  | 'cancelled';

export interface Exchange {
  readonly method: string;
  /** The client disconnected before being answered. */
  readonly gone: boolean;
  /** Sends the request to the endpoint; settles once the outcome is known (never rejects). */
  dispatch(endpoint: Endpoint): Promise<Outcome>;
  /** Answers with the resolver's own refusal (503 with Retry-After, 502, 501, ...). */
  reject(reason: RejectReason, status: number, retryAfterSeconds: number | undefined, message: string): void;
  /** Called once if the client disconnects before it is answered. */
  onGone(callback: () => void): void;
}

/** Shared by every exchange of a resolver. */
export interface ForwardContext {
  /** Keep-alive agent for HTTP/1.1 pods. */
  readonly agent: http.Agent;
  readonly h2: H2Pool;
  readonly connectTimeoutMs: number;
  /** This resolver's `Via` entry (also how loops are recognised). */
  readonly via: string;
  /** Ask HTTP clients to reconnect after this response: the target's Service bypasses the resolver now. */
  readonly shouldClose: (route: Route) => boolean;
}

/** Headers never forwarded (RFC 9110 §7.6.1), plus those named in `Connection`. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Largest request body kept to send again after a failure. */
export const REPLAY_LIMIT_BYTES = 64 * 1024;

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL } = http2.constants;

type DownReq = http.IncomingMessage | http2.Http2ServerRequest;
type DownRes = http.ServerResponse | http2.Http2ServerResponse;

function connectionTokens(value: string | string[] | undefined): Set<string> {
  const raw = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    raw
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

function appendHeader(existing: string | string[] | undefined, value: string): string {
  const prior = Array.isArray(existing) ? existing.join(', ') : existing;
  return prior ? `${prior}, ${value}` : value;
}

function clientAddress(req: DownReq): string {
  const address = req.socket?.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function isGrpc(req: DownReq): boolean {
  const type = req.headers['content-type'];
  return typeof type === 'string' && type.startsWith('application/grpc');
}

function hostHeader(req: DownReq, h2: boolean): string | undefined {
  if (h2) {
    const authority = req.headers[':authority'];
    if (typeof authority === 'string' && authority !== '') return authority;
  }
  const host = req.headers.host;
  return typeof host === 'string' ? host : undefined;
}

/** Request headers for the pod: end-to-end headers only, plus X-Forwarded-* and Via. */
function forwardHeaders(req: DownReq, h2Down: boolean, via: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const drop = connectionTokens(req.headers.connection);
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined || key.startsWith(':') || HOP_BY_HOP.has(key) || drop.has(key)) continue;
    out[key] = value;
  }
  const host = hostHeader(req, h2Down);
  if (host !== undefined) out.host = host;
  const te = req.headers.te;
  if (typeof te === 'string' && /\btrailers\b/i.test(te)) out.te = 'trailers';
  out['x-forwarded-for'] = appendHeader(req.headers['x-forwarded-for'], clientAddress(req));
  if (req.headers['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = 'http';
  if (req.headers['x-forwarded-host'] === undefined && host !== undefined) out['x-forwarded-host'] = host;
  out.via = appendHeader(req.headers.via, via);
  return out;
}

/** Response headers for the client from an HTTP/1.1 answer (raw list: duplicates and case kept). */
function responseHeadersFromRaw(
  raw: readonly string[],
  asObject: boolean,
): string[] | Record<string, string | string[]> {
  let drop = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === 'connection') drop = connectionTokens(raw[i + 1]);
  }
  if (asObject) {
    const out: Record<string, string | string[]> = {};
    for (let i = 0; i < raw.length; i += 2) {
      const key = (raw[i] as string).toLowerCase();
      if (HOP_BY_HOP.has(key) || drop.has(key)) continue;
      const value = raw[i + 1] as string;
      const prior = out[key];
      out[key] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
    }
    return out;
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const key = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(key) || drop.has(key)) continue;
    out.push(raw[i] as string, raw[i + 1] as string);
  }
  return out;
}

/** Response headers for the client from an HTTP/2 answer. */
function responseHeadersFromH2(headers: http2.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const drop = connectionTokens(headers.connection);
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || key.startsWith(':') || HOP_BY_HOP.has(key) || drop.has(key)) continue;
    out[key] = value;
  }
  return out;
}

/** Trailers worth forwarding (no pseudo or hop-by-hop fields). */
function cleanTrailers(
  trailers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(trailers)) {
    if (value === undefined || key.startsWith(':') || HOP_BY_HOP.has(key.toLowerCase())) continue;
    out[key] = value;
  }
  return out;
}

/** Percent-encoding of grpc-message (gRPC's HTTP/2 protocol spec). */
function grpcMessage(text: string): string {
  return Buffer.from(text, 'utf8').reduce(
    (s, b) =>
      s +
      (b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`),
    '',
  );
}

/**
 * The request body, read at most once from the client and kept (up to {@link REPLAY_LIMIT_BYTES}) so a
 * failed idempotent request can be sent again.
 */
class BodyTap {
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  /** Bytes were read and not all kept: the body cannot be sent again. */
  private overflowed = false;
  private ended = false;
  private reading = false;
  private sink: ((chunk: Buffer) => boolean) | undefined;
  private endSink: (() => void) | undefined;

  constructor(
    private readonly source: Readable,
    empty: boolean,
  ) {
    if (empty) this.ended = true;
  }

  get replayable(): boolean {
    return !this.overflowed;
  }

  /** Sends the body (kept bytes first, then the rest as it arrives) to a new destination. */
  pipeTo(
    write: (chunk: Buffer) => boolean,
    end: () => void,
    resumeWhenDrained: (resume: () => void) => void,
  ): void {
    for (const chunk of this.kept) write(chunk);
    if (this.ended) {
      end();
      return;
    }
    this.sink = write;
    this.endSink = end;
    resumeWhenDrained(() => this.source.resume());
    if (!this.reading) {
      this.reading = true;
      this.source.on('data', (chunk: Buffer) => {
        if (!this.overflowed) {
          if (this.keptBytes + chunk.length <= REPLAY_LIMIT_BYTES) {
            this.kept.push(chunk);
            this.keptBytes += chunk.length;
          } else {
            this.overflowed = true;
            this.kept.length = 0;
          }
        }
        if (this.sink && !this.sink(chunk)) this.source.pause();
      });
      this.source.on('end', () => {
        this.ended = true;
        this.endSink?.();
      });
    }
    this.source.resume();
  }

  /** Stops feeding the current destination (it failed); the client's stream is paused meanwhile. */
  detach(): void {
    this.sink = undefined;
    this.endSink = undefined;
    this.source.pause();
  }
}

/** One HTTP/2 session per pod, reused; gone sessions are replaced. */
export class H2Pool {
  private readonly sessions = new Map<string, { session: http2.ClientHttp2Session; connected: boolean }>();

  get(endpoint: Endpoint): { session: http2.ClientHttp2Session; connected: () => boolean } {
    const existing = this.sessions.get(endpoint.key);
    if (existing && !existing.session.closed && !existing.session.destroyed) {
      return { session: existing.session, connected: () => existing.connected };
    }
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
    const session = http2.connect(`http://${host}:${endpoint.port}`, { settings: { enablePush: false } });
    // Every stream opened before the connection is up waits on 'connect'.
    session.setMaxListeners(0);
    const entry = { session, connected: false };
    session.on('connect', () => {
      entry.connected = true;
    });
    const forget = (): void => {
      if (this.sessions.get(endpoint.key) === entry) this.sessions.delete(endpoint.key);
    };
    session.on('error', forget);
    session.on('close', forget);
    session.on('goaway', forget);
    // An idle session is closed; the pod may go away meanwhile.
    session.setTimeout(30_000, () => session.close());
    session.unref();
    this.sessions.set(endpoint.key, entry);
    return { session, connected: () => entry.connected };
  }

  close(): void {
    for (const { session } of this.sessions.values()) session.destroy();
    this.sessions.clear();
  }
}

/** Whether an exchange's client is still there; callbacks run once when it leaves (at once if it has). */
class ClientPresence {
  private left = false;
  private callbacks: (() => void)[] = [];

  get gone(): boolean {
    return this.left;
  }

  onGone(callback: () => void): void {
    if (this.left) callback();
    else this.callbacks.push(callback);
  }

  leave(): void {
    this.left = true;
    const callbacks = this.callbacks;
    this.callbacks = [];
    for (const c of callbacks) c();
  }
}

/** An HTTP request (HTTP/1.1 or HTTP/2 from the client) forwarded as HTTP/1.1 or HTTP/2 cleartext. */
export class HttpExchange implements Exchange {
  readonly method: string;
  private readonly body: BodyTap;
  private readonly client = new ClientPresence();
  private finished = false;

  constructor(
    private readonly req: DownReq,
    private readonly res: DownRes,
    private readonly route: Route,
    private readonly ctx: ForwardContext,
    private readonly h2Down: boolean,
  ) {
    this.method = req.method ?? 'GET';
    const length = req.headers['content-length'];
    const empty = this.h2Down
      ? (req as http2.Http2ServerRequest).stream.endAfterHeaders
      : (length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined;
    this.body = new BodyTap(req, empty);
    // The body is read only when dispatched; until then the client's bytes wait in its socket.
    req.pause();
    res.on('finish', () => {
      this.finished = true;
    });
    res.on('close', () => {
      if (this.finished) return;
      this.client.leave();
    });
  }

  get gone(): boolean {
    return this.client.gone;
  }

  onGone(callback: () => void): void {
    this.client.onGone(callback);
  }

  private get retryable(): boolean {
    return (
      (IDEMPOTENT.has(this.method) || this.req.headers['idempotency-key'] !== undefined) &&
      this.body.replayable
    );
  }

  reject(reason: RejectReason, status: number, retryAfterSeconds: number | undefined, message: string): void {
    if (this.client.gone || this.res.headersSent) {
      if (!this.res.writableEnded) this.res.destroy();
      return;
    }
    // The body is not wanted: discard it, so an HTTP/2 stream can close (HTTP/1.1 does this itself).
    if (this.h2Down) this.req.resume();
    if (this.h2Down && isGrpc(this.req) && reason === 'unsupported') {
      // A trailers-only gRPC answer, so the client shows the reason instead of a bare HTTP status.
      const stream = (this.res as http2.Http2ServerResponse).stream;
      if (!stream.destroyed && !stream.headersSent) {
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': '12',
            'grpc-message': grpcMessage(message),
          },
          { endStream: true },
        );
      }
      return;
    }
    const body = JSON.stringify({ error: reason, target: this.route.id, message });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      'x-elasticai-resolver': reason,
    };
    if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
    (this.res as http.ServerResponse).writeHead(status, headers);
    if (this.method === 'HEAD') this.res.end();
    else this.res.end(body);
  }

  dispatch(endpoint: Endpoint): Promise<Outcome> {
    if (this.client.gone) return Promise.resolve('cancelled');
    return this.route.protocol === 'h2c' ? this.toH2(endpoint) : this.toH1(endpoint);
  }

  /**
   * An HTTP/2 client (gRPC keeps one connection for a long time) is asked to go away once this stream
   * is done, while the Service bypasses the resolver: it reconnects, and reaches the pods.
   */
  private goAwayIfSwitched(): void {
    if (!this.h2Down || !this.ctx.shouldClose(this.route)) return;
    const stream = (this.req as http2.Http2ServerRequest).stream;
    // Taken now: a closed stream no longer knows its session.
    const session = stream.session;
    if (!session) return;
    stream.once('close', () => {
      if (!session.closed && !session.destroyed) session.close();
    });
  }

  /** 502 to the client after a failure it cannot be spared (or cut it off if the answer had begun). */
  private badGateway(message: string): void {
    this.reject('backend-error', 502, undefined, message);
  }

  private toH1(endpoint: Endpoint): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      let connected = false;
      let answered = false;
      const settle = (o: Outcome): void => {
        if (!settled) {
          settled = true;
          resolve(o);
        }
      };
      const headers = forwardHeaders(this.req, this.h2Down, this.ctx.via);
      if (this.req.headers.expect !== undefined && !this.h2Down) headers.expect = this.req.headers.expect;
      const upstream = http.request({
        host: endpoint.host,
        port: endpoint.port,
        method: this.method,
        path: this.req.url,
        headers,
        agent: this.ctx.agent,
        setHost: false,
      });
      let connectTimer: NodeJS.Timeout | undefined;
      const startBody = (): void => {
        if (connected) return;
        connected = true;
        clearTimeout(connectTimer);
        this.body.pipeTo(
          (chunk) => upstream.write(chunk),
          () => upstream.end(),
          (resume) => upstream.on('drain', resume),
        );
      };
      upstream.on('socket', (socket: net.Socket) => {
        if (socket.connecting) {
          connectTimer = setTimeout(
            () => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })),
            this.ctx.connectTimeoutMs,
          );
          socket.once('connect', startBody);
        } else startBody();
      });
      upstream.on('continue', () => {
        if (!this.h2Down) (this.res as http.ServerResponse).writeContinue();
      });
      const onGone = (): void => {
        upstream.destroy();
        settle('cancelled');
      };
      this.onGone(onGone);
      upstream.on('response', (answer) => {
        answered = true;
        if (this.client.gone) {
          answer.resume();
          return settle('cancelled');
        }
        const status = answer.statusCode ?? 502;
        const close = !this.h2Down && this.ctx.shouldClose(this.route);
        if (this.h2Down) {
          (this.res as http2.Http2ServerResponse).writeHead(
            status,
            responseHeadersFromRaw(answer.rawHeaders, true) as Record<string, string | string[]>,
          );
        } else {
          const raw = responseHeadersFromRaw(answer.rawHeaders, false) as string[];
          if (close) raw.push('Connection', 'close');
          (this.res as http.ServerResponse).writeHead(status, answer.statusMessage, raw);
        }
        answer.on('data', (chunk: Buffer) => {
          if (!(this.res as http.ServerResponse).write(chunk)) answer.pause();
        });
        this.res.on('drain', () => answer.resume());
        answer.on('end', () => {
          const trailers = cleanTrailers(answer.trailers);
          if (Object.keys(trailers).length > 0) this.res.addTrailers(trailers);
          this.res.end();
        });
        answer.on('error', () => this.res.destroy());
        answer.on('close', () => {
          // The pod went away mid-answer: the client must not take a truncated body for a whole one.
          if (!answer.complete && !this.res.writableEnded) this.res.destroy();
        });
        this.goAwayIfSwitched();
        settle('responded');
      });
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        if (settled || answered) {
          if (!this.res.writableEnded) this.res.destroy();
          return;
        }
        if (this.client.gone) return settle('cancelled');
        this.body.detach();
        if (!connected) return settle('unsent');
        if (this.retryable) return settle('replay');
        this.badGateway(`the target failed before answering: ${error.code ?? error.message}`);
        settle('failed');
      });
    });
  }

  private toH2(endpoint: Endpoint): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      let answered = false;
      let bodyStarted = false;
      let trailersOnly = false;
      const settle = (o: Outcome): void => {
        if (!settled) {
          settled = true;
          resolve(o);
        }
      };
      const { session, connected } = this.ctx.h2.get(endpoint);
      const headers: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(forwardHeaders(this.req, this.h2Down, this.ctx.via))) {
        if (k === 'host') continue;
        headers[k] = v;
      }
      headers[':method'] = this.method;
      headers[':path'] = this.req.url;
      headers[':scheme'] = 'http';
      headers[':authority'] = hostHeader(this.req, this.h2Down) ?? `${endpoint.host}:${endpoint.port}`;
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request(headers, { endStream: false });
      } catch {
        return settle('unsent');
      }
      const connectTimer = setTimeout(() => {
        if (!connected()) session.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' }));
      }, this.ctx.connectTimeoutMs);
      const startBody = (): void => {
        if (bodyStarted) return;
        bodyStarted = true;
        clearTimeout(connectTimer);
        // HTTP/1.1 client waiting for `100 Continue`: the pod is reached, let it send.
        if (!this.h2Down && this.req.headers.expect !== undefined)
          (this.res as http.ServerResponse).writeContinue();
        this.body.pipeTo(
          (chunk) => stream.write(chunk),
          () => stream.end(),
          (resume) => stream.on('drain', resume),
        );
      };
      if (connected()) startBody();
      else session.once('connect', startBody);
      this.onGone(() => {
        stream.close(NGHTTP2_CANCEL);
        settle('cancelled');
      });
      stream.on('response', (answer, flags) => {
        answered = true;
        if (this.client.gone) return settle('cancelled');
        const status = Number(answer[':status'] ?? 502);
        const out = responseHeadersFromH2(answer);
        const endsHere = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
        if (this.h2Down && endsHere) {
          // Trailers-only answer (how gRPC reports most errors): keep it one HEADERS frame with END_STREAM.
          const down = (this.res as http2.Http2ServerResponse).stream;
          if (!down.destroyed && !down.headersSent)
            down.respond({ ...out, ':status': status }, { endStream: true });
          trailersOnly = true;
          this.goAwayIfSwitched();
          return settle('responded');
        }
        if (!this.h2Down && this.ctx.shouldClose(this.route)) out.connection = 'close';
        this.res.writeHead(status, out as http.OutgoingHttpHeaders);
        stream.on('data', (chunk: Buffer) => {
          if (!(this.res as http.ServerResponse).write(chunk)) stream.pause();
        });
        this.res.on('drain', () => stream.resume());
        this.goAwayIfSwitched();
        settle('responded');
      });
      stream.on('trailers', (trailers) => {
        const clean = cleanTrailers(trailers);
        if (Object.keys(clean).length > 0 && !this.res.writableEnded) this.res.addTrailers(clean);
      });
      stream.on('end', () => {
        if (answered && !trailersOnly && !this.res.writableEnded) this.res.end();
      });
      stream.on('close', () => {
        clearTimeout(connectTimer);
        session.off('connect', startBody);
        if (settled && answered) {
          if (trailersOnly) return;
          if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR && !this.res.writableEnded)
            this.res.destroy();
          else if (!this.res.writableEnded) this.res.end();
          return;
        }
        if (settled) return;
        if (this.client.gone) return settle('cancelled');
        if (answered) return;
        this.body.detach();
        // Never connected, or refused by the pod before processing (REFUSED_STREAM, streams beyond a
        // GOAWAY's last stream id): HTTP/2 guarantees nothing was acted on.
        if (!connected() || !bodyStarted) return settle('unsent');
        if (stream.rstCode === NGHTTP2_REFUSED_STREAM && this.body.replayable) return settle('unsent');
        if (this.retryable) return settle('replay');
        this.badGateway(`the target failed before answering (HTTP/2 code ${stream.rstCode})`);
        settle('failed');
      });
      stream.on('error', () => {
        // handled on 'close'
      });
    });
  }
}

/** An HTTP/1.1 upgrade (WebSocket) tunnelled to the pod as bytes once it answers. */
export class TunnelExchange implements Exchange {
  readonly method: string;
  private readonly client = new ClientPresence();
  private tunnelled = false;

  constructor(
    private readonly req: http.IncomingMessage,
    private readonly socket: net.Socket,
    private readonly head: Buffer,
    private readonly route: Route,
    private readonly ctx: ForwardContext,
  ) {
    this.method = req.method ?? 'GET';
    socket.pause();
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.tunnelled) return;
      this.client.leave();
    });
  }

  get gone(): boolean {
    return this.client.gone;
  }

  onGone(callback: () => void): void {
    this.client.onGone(callback);
  }

  reject(reason: RejectReason, status: number, retryAfterSeconds: number | undefined, message: string): void {
    if (this.client.gone || this.socket.destroyed) return;
    const body = JSON.stringify({ error: reason, target: this.route.id, message });
    const lines = [
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      `X-Elasticai-Resolver: ${reason}`,
      'Connection: close',
    ];
    if (retryAfterSeconds !== undefined) lines.push(`Retry-After: ${retryAfterSeconds}`);
    this.socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  }

  dispatch(endpoint: Endpoint): Promise<Outcome> {
    if (this.client.gone) return Promise.resolve('cancelled');
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      let connected = false;
      let answered = false;
      const settle = (o: Outcome): void => {
        if (!settled) {
          settled = true;
          resolve(o);
        }
      };
      const upstream = net.connect({ host: endpoint.host, port: endpoint.port });
      const connectTimer = setTimeout(
        () => upstream.destroy(new Error('connect timeout')),
        this.ctx.connectTimeoutMs,
      );
      const onGone = (): void => {
        upstream.destroy();
        settle('cancelled');
      };
      this.onGone(onGone);
      upstream.once('connect', () => {
        connected = true;
        clearTimeout(connectTimer);
        const lines = [`${this.method} ${this.req.url ?? '/'} HTTP/${this.req.httpVersion}`];
        const raw = this.req.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) {
          const key = (raw[i] as string).toLowerCase();
          if (key === 'x-forwarded-for' || key === 'via') continue;
          lines.push(`${raw[i]}: ${raw[i + 1]}`);
        }
        const xff = appendHeader(this.req.headers['x-forwarded-for'], clientAddress(this.req));
        lines.push(`X-Forwarded-For: ${xff}`, `Via: ${appendHeader(this.req.headers.via, this.ctx.via)}`);
        upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (this.head.length > 0) upstream.write(this.head);
      });
      upstream.once('data', (first: Buffer) => {
        answered = true;
        if (this.client.gone) {
          upstream.destroy();
          return settle('cancelled');
        }
        this.tunnelled = true;
        this.socket.write(first);
        upstream.pipe(this.socket);
        this.socket.pipe(upstream);
        this.socket.resume();
        const closeBoth = (): void => {
          upstream.destroy();
          this.socket.destroy();
        };
        upstream.on('close', closeBoth);
        this.socket.on('close', closeBoth);
        settle('responded');
      });
      upstream.on('error', () => {
        clearTimeout(connectTimer);
        if (answered) return this.socket.destroy();
        if (this.client.gone) return settle('cancelled');
        if (!connected) return settle('unsent');
        // An upgrade handshake is a GET without a body: sending it again is safe.
        if (this.method === 'GET' && this.head.length === 0) return settle('replay');
        this.reject('backend-error', 502, undefined, 'the target failed before answering the upgrade');
        settle('failed');
      });
      upstream.on('close', () => {
        clearTimeout(connectTimer);
        if (settled) return;
        if (this.client.gone) return settle('cancelled');
        if (!connected) return settle('unsent');
        if (this.method === 'GET' && this.head.length === 0) return settle('replay');
        this.reject(
          'backend-error',
          502,
          undefined,
          'the target closed the connection before answering the upgrade',
        );
        settle('failed');
      });
    });
  }
}
