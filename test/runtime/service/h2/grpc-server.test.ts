import assert from 'node:assert/strict';
import { connect as connectHttp2 } from 'node:http2';
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  ACK,
  ErrorCode,
  Flag,
  FrameType,
  PREFACE,
  Setting,
  frame,
  settingsFrame,
} from '../../../../runtime/service/grpc/h2/frames.js';
import type {
  GrpcServer,
  MethodCodec,
  ServerStreamCall,
} from '../../../../runtime/service/grpc/h2/grpc-server.js';
import { GrpcStatus, RpcError, startGrpcServer } from '../../../../runtime/service/grpc/h2/grpc-server.js';
import { HpackDecoder, encodeLiteralField } from '../../../../runtime/service/grpc/h2/hpack.js';

/** Methods whose messages are raw bytes (`/t/Echo` answers the request, `/t/Fail` its text as an error). */
const codec = (path: string): MethodCodec => ({
  path,
  requestDeserialize: (bytes) => Buffer.from(bytes),
  responseSerialize: (message) => message as Buffer,
});

interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** A raw HTTP/2 client: writes frames as given, collects the server's frames (header blocks decoded). */
class RawClient {
  readonly frames: Frame[] = [];
  readonly headers = new Map<number, Record<string, string>[]>();
  closed = false;
  private readonly socket: Socket;
  private buffered = Buffer.alloc(0);
  private readonly decoder = new HpackDecoder();
  private waiters: (() => void)[] = [];

  constructor(port: number, settings: [Setting, number][] = [], preface = true) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => undefined);
    if (preface) this.write(Buffer.concat([PREFACE, settingsFrame(settings)]));
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  request(stream: number, path: string, message?: Buffer, endStream = true): void {
    this.write(frame(FrameType.Headers, Flag.EndHeaders, stream, requestBlock(path)));
    if (message)
      this.write(frame(FrameType.Data, endStream ? Flag.EndStream : 0, stream, grpcMessage(message)));
  }

  async until(what: string, done: () => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** The stream's last header block (trailers, or a trailers-only response). */
  trailers(stream: number): Record<string, string> | undefined {
    const blocks = this.headers.get(stream);
    return blocks?.[blocks.length - 1];
  }

  data(stream: number): Buffer {
    return Buffer.concat(
      this.frames.filter((f) => f.type === FrameType.Data && f.stream === stream).map((f) => f.payload),
    );
  }

  ended(stream: number): boolean {
    return this.frames.some(
      (f) => f.stream === stream && (f.flags & Flag.EndStream) !== 0 && f.type !== FrameType.Settings,
    );
  }

  destroy(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 9) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < 9 + length) break;
      const f: Frame = {
        type: this.buffered[3] as number,
        flags: this.buffered[4] as number,
        stream: this.buffered.readUInt32BE(5) & 0x7fffffff,
        payload: Buffer.from(this.buffered.subarray(9, 9 + length)),
      };
      this.buffered = this.buffered.subarray(9 + length);
      this.frames.push(f);
      if (f.type === FrameType.Headers) {
        const fields: Record<string, string> = {};
        this.decoder.decode(f.payload, (name, value) => (fields[name] = value));
        this.headers.set(f.stream, [...(this.headers.get(f.stream) ?? []), fields]);
      }
    }
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function requestBlock(path: string, extra: [string, string][] = []): Buffer {
  return Buffer.concat(
    [
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', path],
      [':authority', 'localhost'],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ...extra,
    ].map(([name, value]) => encodeLiteralField(name as string, value as string)),
  );
}

function grpcMessage(message: Buffer, compressed = false): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

function goAwayCode(client: RawClient): number | undefined {
  return client.frames.find((f) => f.type === FrameType.GoAway)?.payload.readUInt32BE(4);
}

describe('gRPC over our own HTTP/2', () => {
  let server: GrpcServer;
  const streams: ServerStreamCall<unknown>[] = [];
  let closedStreams = 0;

  before(async () => {
    server = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: 1000,
      methods: [
        {
          codec: codec('/t/Echo'),
          handler: { kind: 'unary', handle: (request) => Promise.resolve(request) },
        },
        {
          codec: codec('/t/Fail'),
          handler: {
            kind: 'unary',
            handle: (request) =>
              Promise.reject(new RpcError(GrpcStatus.INVALID_ARGUMENT, (request as Buffer).toString('utf8'))),
          },
        },
        {
          codec: codec('/t/Throw'),
          handler: {
            kind: 'unary',
            handle: () => {
              throw new Error('a bug in a handler');
            },
          },
        },
        {
          codec: codec('/t/Watch'),
          handler: {
            kind: 'serverStream',
            handle: (request, call) => {
              streams.push(call);
              call.onClose(() => closedStreams++);
              call.write(request);
            },
          },
        },
      ],
    });
  });
  after(() => server.close(100));

  it('answers a unary call from a stock HTTP/2 client (node:http2, HPACK with Huffman and indexing)', async () => {
    // GIVEN a node:http2 session, as grpc-js and KEDA's grpc-go keep one
    const session = connectHttp2(`http://127.0.0.1:${server.port}`);
    try {
      const call = (text: string): Promise<{ status: string | undefined; body: Buffer }> =>
        new Promise((resolve, reject) => {
          const stream = session.request({
            ':method': 'POST',
            ':path': '/t/Echo',
            'content-type': 'application/grpc',
            te: 'trailers',
            'x-custom': `value ${text}`,
          });
          const chunks: Buffer[] = [];
          let status: string | undefined;
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('trailers', (t) => (status = t['grpc-status'] as string));
          stream.on('close', () => resolve({ status, body: Buffer.concat(chunks) }));
          stream.on('error', reject);
          stream.end(grpcMessage(Buffer.from(text)));
        });
      // WHEN it makes several calls (later ones reuse its dynamic table)
      const answers = await Promise.all(['a', 'héllo wörld', 'a', 'x'.repeat(500)].map(call));
      // THEN each gets its own message back, framed, with grpc-status 0
      for (const [i, text] of ['a', 'héllo wörld', 'a', 'x'.repeat(500)].entries()) {
        assert.equal(answers[i]?.status, '0');
        assert.deepEqual(answers[i]?.body, grpcMessage(Buffer.from(text)));
      }
    } finally {
      session.close();
    }
  });

  it('acknowledges SETTINGS and answers PING with the same payload', async () => {
    const client = new RawClient(server.port);
    client.write(frame(FrameType.Ping, 0, 0, Buffer.from('12345678')));
    await client.until('PING ack', () => client.frames.some((f) => f.type === FrameType.Ping));
    const ping = client.frames.find((f) => f.type === FrameType.Ping) as Frame;
    assert.equal(ping.flags & ACK, ACK);
    assert.equal(ping.payload.toString(), '12345678');
    assert.ok(client.frames.some((f) => f.type === FrameType.Settings && f.flags & ACK));
    // AND its own SETTINGS announce the limits it enforces
    const settings = client.frames.find((f) => f.type === FrameType.Settings && !(f.flags & ACK)) as Frame;
    const announced = new Map<number, number>();
    for (let at = 0; at < settings.payload.length; at += 6)
      announced.set(settings.payload.readUInt16BE(at), settings.payload.readUInt32BE(at + 2));
    assert.equal(announced.get(Setting.EnablePush), 0);
    assert.ok((announced.get(Setting.MaxConcurrentStreams) ?? 0) >= 10_000);
    client.destroy();
  });

  it('maps handler errors, unknown methods, oversized and compressed messages to gRPC statuses', async () => {
    const client = new RawClient(server.port);
    client.request(1, '/t/Fail', Buffer.from('bad key: 100% wrong é'));
    client.request(3, '/t/Nope', Buffer.from('x'));
    client.request(5, '/t/Echo', Buffer.alloc(1001));
    client.write(frame(FrameType.Headers, Flag.EndHeaders, 7, requestBlock('/t/Echo')));
    client.write(frame(FrameType.Data, Flag.EndStream, 7, grpcMessage(Buffer.from('zip'), true)));
    client.write(frame(FrameType.Headers, Flag.EndHeaders | Flag.EndStream, 9, requestBlock('/t/Echo')));
    await client.until('five answers', () => [1, 3, 5, 7, 9].every((s) => client.ended(s)));
    // THEN the status and the percent-encoded message name the problem
    assert.deepEqual(client.trailers(1), {
      ':status': '200',
      'content-type': 'application/grpc',
      'grpc-status': String(GrpcStatus.INVALID_ARGUMENT),
      'grpc-message': 'bad key: 100%25 wrong %C3%A9',
    });
    assert.equal(client.trailers(3)?.['grpc-status'], String(GrpcStatus.UNIMPLEMENTED));
    assert.match(client.trailers(3)?.['grpc-message'] ?? '', /unknown method \/t\/Nope/);
    assert.equal(client.trailers(5)?.['grpc-status'], String(GrpcStatus.RESOURCE_EXHAUSTED));
    assert.equal(client.trailers(7)?.['grpc-status'], String(GrpcStatus.UNIMPLEMENTED));
    assert.equal(client.trailers(9)?.['grpc-status'], String(GrpcStatus.INTERNAL));
    // AND the connection stays up for the next call
    client.request(11, '/t/Echo', Buffer.from('still here'));
    await client.until('answer on 11', () => client.ended(11));
    assert.deepEqual(client.data(11), grpcMessage(Buffer.from('still here')));
    assert.equal(goAwayCode(client), undefined);
    client.destroy();
  });

  it('answers INTERNAL when a handler throws instead of rejecting, and keeps serving', async () => {
    const client = new RawClient(server.port);
    client.request(1, '/t/Throw', Buffer.from('x'));
    client.request(3, '/t/Echo', Buffer.from('after'));
    await client.until('both answers', () => client.ended(1) && client.ended(3));
    assert.equal(client.trailers(1)?.['grpc-status'], String(GrpcStatus.INTERNAL));
    assert.equal(client.trailers(1)?.['grpc-message'], 'a bug in a handler');
    assert.deepEqual(client.data(3), grpcMessage(Buffer.from('after')));
    client.destroy();
  });

  it('opens the connection window again only for complete requests (bounded buffering)', async () => {
    // GIVEN a server whose method answers the request's size, and a client that starts three requests
    // of 1,000,000 bytes and sends 800,000 of each (2.4 MB, more than half the 4 MiB window)
    const own = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      methods: [
        {
          codec: codec('/t/Size'),
          handler: {
            kind: 'unary',
            handle: (request) => {
              const size = Buffer.alloc(4);
              size.writeUInt32BE((request as Buffer).length);
              return Promise.resolve(size);
            },
          },
        },
      ],
    });
    const client = new RawClient(own.port);
    const message = grpcMessage(Buffer.alloc(1_000_000, 7));
    const sendPart = (stream: number, from: number, to: number, end: boolean): void => {
      for (let at = from; at < to; at += 16_384) {
        const last = Math.min(to, at + 16_384) === to;
        const flags = end && last ? Flag.EndStream : 0;
        client.write(frame(FrameType.Data, flags, stream, message.subarray(at, Math.min(to, at + 16_384))));
      }
    };
    const connectionUpdates = (): number[] =>
      client.frames
        .filter((f) => f.type === FrameType.WindowUpdate && f.stream === 0)
        .map((f) => f.payload.readUInt32BE(0));
    for (const stream of [1, 3, 5]) {
      client.write(frame(FrameType.Headers, Flag.EndHeaders, stream, requestBlock('/t/Size')));
      sendPart(stream, 0, 800_000, false);
    }
    client.write(frame(FrameType.Ping, 0, 0, Buffer.from('in order')));
    await client.until('PING ack', () => client.frames.some((f) => f.type === FrameType.Ping));
    // THEN the connection window has not been opened beyond its first size
    assert.equal(connectionUpdates().length, 1);
    // WHEN the requests complete
    for (const stream of [1, 3, 5]) sendPart(stream, 800_000, message.length, true);
    await client.until('three answers', () => [1, 3, 5].every((s) => client.ended(s)));
    // THEN each is answered, and their bytes come back to the window in one update
    for (const stream of [1, 3, 5])
      assert.deepEqual(client.data(stream), grpcMessage(Buffer.from([0, 15, 66, 64])));
    await client.until('window update', () => connectionUpdates().length === 2);
    assert.equal(connectionUpdates()[1], 3 * message.length);
    client.destroy();
    await own.close(100);
  });

  it('reassembles CONTINUATION and strips padding from HEADERS and DATA', async () => {
    const client = new RawClient(server.port);
    const block = requestBlock('/t/Echo', [['x-long', 'y'.repeat(300)]]);
    // HEADERS padded (5 bytes) with a priority field, then two CONTINUATIONs
    const first = Buffer.concat([Buffer.from([5]), Buffer.alloc(5), block.subarray(0, 100), Buffer.alloc(5)]);
    client.write(frame(FrameType.Headers, Flag.Padded | Flag.Priority, 1, first));
    client.write(frame(FrameType.Continuation, 0, 1, block.subarray(100, 200)));
    client.write(frame(FrameType.Continuation, Flag.EndHeaders, 1, block.subarray(200)));
    const message = grpcMessage(Buffer.from('padded'));
    client.write(
      frame(
        FrameType.Data,
        Flag.Padded | Flag.EndStream,
        1,
        Buffer.concat([Buffer.from([3]), message, Buffer.alloc(3)]),
      ),
    );
    await client.until('answer', () => client.ended(1));
    assert.deepEqual(client.data(1), message);
    assert.equal(client.trailers(1)?.['grpc-status'], '0');
    client.destroy();
  });

  it('holds DATA until the client opens its window (flow control)', async () => {
    // GIVEN a client whose streams start with a 3-byte window
    const client = new RawClient(server.port, [[Setting.InitialWindowSize, 3]]);
    client.request(1, '/t/Echo', Buffer.from('0123456789'));
    await client.until("the window's 3 bytes", () => client.data(1).length >= 3);
    // (and a moment for anything beyond the window to show up, were it sent)
    await new Promise((resolve) => setTimeout(resolve, 100));
    // THEN only 3 bytes have come, and no trailers yet
    assert.equal(client.data(1).length, 3);
    assert.equal(client.ended(1), false);
    // WHEN the window opens
    const increment = Buffer.alloc(4);
    increment.writeUInt32BE(100);
    client.write(frame(FrameType.WindowUpdate, 0, 1, increment));
    await client.until('the rest', () => client.ended(1));
    assert.deepEqual(client.data(1), grpcMessage(Buffer.from('0123456789')));
    client.destroy();
  });

  it('ends a streaming call when the client resets it, and keeps writing to the others', async () => {
    const client = new RawClient(server.port);
    const before = closedStreams;
    client.request(1, '/t/Watch', Buffer.from('one'));
    client.request(3, '/t/Watch', Buffer.from('two'));
    await client.until('both first messages', () => client.data(1).length > 0 && client.data(3).length > 0);
    const rst = Buffer.alloc(4);
    rst.writeUInt32BE(ErrorCode.Cancel);
    client.write(frame(FrameType.RstStream, 0, 1, rst));
    await client.until('close callback', () => closedStreams === before + 1);
    (streams[streams.length - 1] as ServerStreamCall<unknown>).write(Buffer.from('more'));
    (streams[streams.length - 1] as ServerStreamCall<unknown>).end();
    await client.until('stream 3 ends', () => client.ended(3));
    assert.deepEqual(
      client.data(3),
      Buffer.concat([grpcMessage(Buffer.from('two')), grpcMessage(Buffer.from('more'))]),
    );
    assert.equal(client.trailers(3)?.['grpc-status'], '0');
    assert.equal(closedStreams, before + 2);
    client.destroy();
  });

  it('ends the connection with the right GOAWAY code on protocol errors', async () => {
    const cases: [string, Buffer, ErrorCode][] = [
      ['a bad preface', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), ErrorCode.ProtocolError],
      [
        'HEADERS on an even stream',
        frame(FrameType.Headers, Flag.EndHeaders, 2, requestBlock('/t/Echo')),
        ErrorCode.ProtocolError,
      ],
      ['a frame over 16 KiB', frame(FrameType.Data, 0, 1, Buffer.alloc(16_385)), ErrorCode.FrameSizeError],
      [
        'a malformed header block',
        frame(FrameType.Headers, Flag.EndHeaders, 1, Buffer.from([0x80])),
        ErrorCode.CompressionError,
      ],
      ['a PING of 7 bytes', frame(FrameType.Ping, 0, 0, Buffer.alloc(7)), ErrorCode.FrameSizeError],
      ['DATA on an idle stream', frame(FrameType.Data, 0, 5, Buffer.alloc(1)), ErrorCode.ProtocolError],
      [
        'an interrupted header block',
        Buffer.concat([
          frame(FrameType.Headers, 0, 1, requestBlock('/t/Echo')),
          frame(FrameType.Ping, 0, 0, Buffer.alloc(8)),
        ]),
        ErrorCode.ProtocolError,
      ],
    ];
    for (const [what, bytes, code] of cases) {
      const client = new RawClient(server.port, [], what !== 'a bad preface');
      client.write(bytes);
      await client.until(`GOAWAY after ${what}`, () => client.closed);
      assert.equal(goAwayCode(client), code, what);
    }
  });

  it('refuses a request with upper-case field names as malformed, without ending the connection', async () => {
    const client = new RawClient(server.port);
    client.write(frame(FrameType.Headers, Flag.EndHeaders, 1, requestBlock('/t/Echo', [['X-Bad', '1']])));
    await client.until('RST_STREAM', () => client.frames.some((f) => f.type === FrameType.RstStream));
    const rst = client.frames.find((f) => f.type === FrameType.RstStream) as Frame;
    assert.equal(rst.payload.readUInt32BE(0), ErrorCode.ProtocolError);
    client.request(3, '/t/Echo', Buffer.from('ok'));
    await client.until('answer', () => client.ended(3));
    client.destroy();
  });

  it('survives 150 connections of random frames, and still answers', { timeout: 30_000 }, async () => {
    // GIVEN a seeded generator (reproducible) of frames: any type (and unknown ones), flags, small
    // stream ids (odd, even, 0), random payloads, mixed with real requests
    let seed = 4242;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return Math.floor((seed / 0x80000000) * n);
    };
    for (let c = 0; c < 150; c++) {
      const client = new RawClient(server.port);
      const frames: Buffer[] = [];
      for (let f = 0; f < 20; f++) {
        const stream = random(4) === 0 ? 0 : 1 + random(12);
        if (random(3) === 0) {
          frames.push(frame(FrameType.Headers, Flag.EndHeaders | random(2), stream, requestBlock('/t/Echo')));
          continue;
        }
        const payload = Buffer.alloc(random(40));
        for (let i = 0; i < payload.length; i++) payload[i] = random(256);
        frames.push(frame(random(12), random(256), stream, payload));
      }
      // WHEN a client sends them
      client.write(Buffer.concat(frames));
      await client.until('the server to end it', () => client.closed, 50).catch(() => undefined);
      client.destroy();
      // THEN no input reached a bug (which would end the connection with INTERNAL_ERROR)
      assert.notEqual(goAwayCode(client), ErrorCode.InternalError, `connection ${c}`);
    }
    // AND the server (in this very thread: a crash would fail the test) still serves a new client
    const client = new RawClient(server.port);
    client.request(1, '/t/Echo', Buffer.from('alive'));
    await client.until('answer', () => client.ended(1));
    assert.deepEqual(client.data(1), grpcMessage(Buffer.from('alive')));
    client.destroy();
  });

  it('drains on close: open calls finish, new streams are refused, then the connection ends', async () => {
    // GIVEN a server with a call in progress (its handler has run: a fixed sleep was not enough on a
    // loaded machine, and a GOAWAY sent before the server saw stream 1 rightly names stream 0)
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    const handling = new Promise<void>((resolve) => (started = resolve));
    const own = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      methods: [
        {
          codec: codec('/t/Slow'),
          handler: {
            kind: 'unary',
            handle: (request) =>
              new Promise((resolve) => {
                release = () => resolve(request);
                started();
              }),
          },
        },
      ],
    });
    const client = new RawClient(own.port);
    client.request(1, '/t/Slow', Buffer.from('in flight'));
    await handling;
    // WHEN it closes
    const closing = own.close(2000);
    await client.until('GOAWAY', () => client.frames.some((f) => f.type === FrameType.GoAway));
    assert.equal(goAwayCode(client), ErrorCode.NoError);
    assert.equal(client.frames.find((f) => f.type === FrameType.GoAway)?.payload.readUInt32BE(0), 1);
    client.request(3, '/t/Slow', Buffer.from('too late'));
    await client.until('refusal', () =>
      client.frames.some((f) => f.type === FrameType.RstStream && f.stream === 3),
    );
    // THEN the call in flight still gets its answer, and only then does the connection end
    assert.equal(client.closed, false);
    release();
    await closing;
    await client.until('closed', () => client.closed);
    assert.deepEqual(client.data(1), grpcMessage(Buffer.from('in flight')));
    assert.equal(client.trailers(1)?.['grpc-status'], '0');
  });
});
