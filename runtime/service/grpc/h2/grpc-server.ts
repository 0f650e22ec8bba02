/**
 * A gRPC server (the HTTP/2 protocol of grpc/doc/PROTOCOL-HTTP2.md) for unary and server-streaming
 * methods, over our own HTTP/2 connection (connection.ts), in cleartext (h2c with prior knowledge, as
 * KEDA dials an external scaler without TLS) or TLS with ALPN h2 and optional client certificates.
 *
 * Requests must be uncompressed (we announce no grpc-accept-encoding, so clients do not compress) and
 * at most `maxMessageBytes`. A unary answer leaves in one socket write: HEADERS, DATA and trailers
 * built into one buffer.
 */
import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createServer as createTlsServer } from 'node:tls';
import type { ConnectionLimits, H2Stream, RequestHead, StreamEvents } from './connection.js';
import { H2Connection } from './connection.js';
import { encodeLiteralField } from './hpack.js';

/** gRPC status codes (grpc/doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

const STATUS_NAMES = Object.fromEntries(Object.entries(GrpcStatus).map(([name, code]) => [code, name]));

export function statusName(code: GrpcStatusCode): string {
  return STATUS_NAMES[code] ?? String(code);
}

/** What a handler throws to answer with a status other than OK. */
export class RpcError extends Error {
  constructor(
    readonly code: GrpcStatusCode,
    message: string,
  ) {
    super(message);
  }
}

/** A server-streaming call as its handler sees it. */
export interface ServerStreamCall<Res> {
  write(message: Res): void;
  /** Ends the call with OK. */
  end(): void;
  /** Ends the call with the error's status. */
  fail(error: RpcError): void;
  /** Called once when the call ends for any reason (ended, failed, cancelled, connection lost). */
  onClose(listener: () => void): void;
}

export type MethodHandler =
  | { readonly kind: 'unary'; handle(request: unknown): Promise<unknown> }
  | { readonly kind: 'serverStream'; handle(request: unknown, call: ServerStreamCall<unknown>): void };

/** A method's wire codec (what @grpc/proto-loader's definitions provide). */
export interface MethodCodec {
  readonly path: string;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(message: unknown): Buffer;
}

export interface GrpcServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly ca?: Buffer };
  readonly methods: readonly { readonly codec: MethodCodec; readonly handler: MethodHandler }[];
  /** Largest request message; larger → RESOURCE_EXHAUSTED. @default 1 MiB */
  readonly maxMessageBytes?: number;
}

export interface GrpcServer {
  readonly port: number;
  /** No new calls; open ones finish within `graceMs`, then connections are cut. */
  close(graceMs: number): Promise<void>;
}

const LIMITS: ConnectionLimits = {
  // KEDA keeps one connection and, with external-push, one StreamIsActive per ScaledObject on it.
  maxConcurrentStreams: 100_000,
  streamWindow: (1 << 20) + 1024,
  maxHeaderListSize: 64 * 1024,
  prefaceTimeoutMs: 10_000,
};
/** Longest grpc-message we send (status details are short; truncation keeps one frame enough). */
const MAX_STATUS_MESSAGE = 1024;

const HEADERS_OK = Buffer.concat([
  Buffer.from([0x88]), // :status 200 (static index 8)
  encodeLiteralField('content-type', 'application/grpc'),
]);
const TRAILERS_OK = encodeLiteralField('grpc-status', '0');

/** grpc-message is percent-encoded UTF-8 (PROTOCOL-HTTP2.md). */
function percentEncode(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message.slice(0, MAX_STATUS_MESSAGE), 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function statusBlock(code: GrpcStatusCode, message: string): Buffer {
  return Buffer.concat([
    encodeLiteralField('grpc-status', String(code)),
    encodeLiteralField('grpc-message', percentEncode(message)),
  ]);
}

/** A gRPC message: compressed flag 0, 4-byte length, bytes. */
function framed(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

interface Call {
  readonly codec: MethodCodec;
  readonly handler: MethodHandler;
  /** Request bytes so far (message prefix included), copied out of the read buffers. */
  chunks: Buffer[];
  bytes: number;
  /** The message length its prefix declares (-1 until 5 bytes have come). */
  declared: number;
  headersSent: boolean;
  closeListeners: (() => void)[] | undefined;
}

class GrpcCalls implements StreamEvents {
  private readonly methods = new Map<string, { codec: MethodCodec; handler: MethodHandler }>();
  /** Open server-streaming calls, ended with OK on drain. */
  readonly streaming = new Set<ServerStreamCall<unknown>>();

  constructor(
    methods: GrpcServerOptions['methods'],
    private readonly maxMessageBytes: number,
  ) {
    for (const method of methods) this.methods.set(method.codec.path, method);
  }

  onHeaders(stream: H2Stream, head: RequestHead): void {
    if (head.listSize > LIMITS.maxHeaderListSize)
      return this.finish(stream, GrpcStatus.RESOURCE_EXHAUSTED, 'header list too large');
    if (head.method !== 'POST')
      return this.finish(stream, GrpcStatus.UNIMPLEMENTED, `method ${head.method} (gRPC uses POST)`);
    if (!head.contentType.startsWith('application/grpc'))
      return this.finish(stream, GrpcStatus.UNKNOWN, `content-type ${head.contentType}`);
    const method = this.methods.get(head.path);
    if (!method) return this.finish(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${head.path}`);
    const call: Call = {
      ...method,
      chunks: [],
      bytes: 0,
      declared: -1,
      headersSent: false,
      closeListeners: undefined,
    };
    stream.context = call;
  }

  onData(stream: H2Stream, data: Buffer): void {
    const call = stream.context as Call | undefined;
    if (!call || stream.closed) return;
    call.chunks.push(Buffer.from(data));
    call.bytes += data.length;
    if (call.declared < 0) {
      if (call.bytes < 5) return;
      // The prefix once, from as few chunks as it takes; later chunks are only counted.
      const head = call.chunks.length === 1 ? (call.chunks[0] as Buffer) : Buffer.concat(call.chunks);
      call.chunks = [head];
      if (head[0] !== 0)
        return this.finish(stream, GrpcStatus.UNIMPLEMENTED, 'compressed requests are not supported');
      call.declared = head.readUInt32BE(1);
      if (call.declared > this.maxMessageBytes) {
        return this.finish(
          stream,
          GrpcStatus.RESOURCE_EXHAUSTED,
          `request message of ${call.declared} bytes (at most ${this.maxMessageBytes})`,
        );
      }
    }
    if (call.bytes > 5 + call.declared)
      this.finish(stream, GrpcStatus.UNIMPLEMENTED, 'more than one request message on a unary call');
  }

  onEnd(stream: H2Stream): void {
    const call = stream.context as Call | undefined;
    if (!call || stream.closed) return;
    if (call.declared < 0 || call.bytes !== 5 + call.declared)
      return this.finish(stream, GrpcStatus.INTERNAL, 'the request has no complete message');
    const body = call.chunks.length === 1 ? (call.chunks[0] as Buffer) : Buffer.concat(call.chunks);
    let request: unknown;
    try {
      request = call.codec.requestDeserialize(body.subarray(5));
    } catch (error) {
      return this.finish(stream, GrpcStatus.INTERNAL, `cannot parse the request: ${messageOf(error)}`);
    }
    call.chunks = [];
    try {
      if (call.handler.kind === 'unary') this.unary(stream, call, call.handler, request);
      else call.handler.handle(request, this.streamCall(stream, call));
    } catch (error) {
      this.finish(stream, GrpcStatus.INTERNAL, messageOf(error));
    }
  }

  onAbort(stream: H2Stream): void {
    const call = stream.context as Call | undefined;
    if (call) this.closed(call);
  }

  private unary(
    stream: H2Stream,
    call: Call,
    handler: Extract<MethodHandler, { kind: 'unary' }>,
    request: unknown,
  ): void {
    handler.handle(request).then(
      (response) => {
        if (stream.closed) return;
        let payload: Buffer;
        try {
          payload = framed(call.codec.responseSerialize(response));
        } catch (error) {
          return this.finish(stream, GrpcStatus.INTERNAL, `cannot encode the answer: ${messageOf(error)}`);
        }
        stream.respondUnary(HEADERS_OK, payload, TRAILERS_OK);
      },
      (error: unknown) => {
        const e = error instanceof RpcError ? error : new RpcError(GrpcStatus.INTERNAL, messageOf(error));
        this.finish(stream, e.code, e.message);
      },
    );
  }

  private streamCall(stream: H2Stream, call: Call): ServerStreamCall<unknown> {
    const calls = this.streaming;
    const self: ServerStreamCall<unknown> = {
      write: (message) => {
        if (stream.closed) return;
        if (!call.headersSent) {
          call.headersSent = true;
          stream.respond(HEADERS_OK, false);
        }
        stream.sendData(framed(call.codec.responseSerialize(message)));
      },
      end: () => this.finish(stream, GrpcStatus.OK, ''),
      fail: (error) => this.finish(stream, error.code, error.message),
      onClose: (listener) => {
        if (stream.closed) listener();
        else (call.closeListeners ??= []).push(listener);
      },
    };
    calls.add(self);
    self.onClose(() => calls.delete(self));
    return self;
  }

  /** Ends the call with a status: trailers after a streamed answer, else a trailers-only response. */
  private finish(stream: H2Stream, code: GrpcStatusCode, message: string): void {
    if (stream.closed) return;
    const call = stream.context as Call | undefined;
    const status = code === GrpcStatus.OK ? TRAILERS_OK : statusBlock(code, message);
    if (call?.headersSent) stream.sendTrailers(status);
    else stream.respond(Buffer.concat([HEADERS_OK, status]), true);
    if (call) this.closed(call);
  }

  private closed(call: Call): void {
    const listeners = call.closeListeners;
    call.closeListeners = undefined;
    for (const listener of listeners ?? []) listener();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const calls = new GrpcCalls(options.methods, options.maxMessageBytes ?? 1 << 20);
  const connections = new Set<H2Connection>();
  let allClosed: (() => void) | undefined;
  const accept = (socket: Socket | TLSSocket): void => {
    socket.setNoDelay(true);
    const connection = new H2Connection(socket, calls, LIMITS, (closed) => {
      connections.delete(closed);
      if (connections.size === 0) allClosed?.();
    });
    connections.add(connection);
  };
  const tls = options.tls;
  const server: Server = tls
    ? createTlsServer(
        {
          cert: tls.cert,
          key: tls.key,
          ALPNProtocols: ['h2'],
          minVersion: 'TLSv1.2',
          ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
        },
        (socket) => {
          // gRPC over TLS is HTTP/2 negotiated by ALPN; a client that offered something else is refused.
          if (socket.alpnProtocol !== 'h2' && socket.alpnProtocol !== false) socket.destroy();
          else accept(socket);
        },
      )
    : createServer(accept);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        server.close();
        for (const call of [...calls.streaming]) call.end();
        const force = setTimeout(() => {
          for (const connection of connections) connection.destroy();
          resolve();
        }, graceMs);
        allClosed = () => {
          clearTimeout(force);
          resolve();
        };
        for (const connection of connections) connection.goAway();
        if (connections.size === 0) allClosed();
      }),
  };
}
