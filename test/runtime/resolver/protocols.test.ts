/**
 * WebSocket upgrades and gRPC (HTTP/2 cleartext) through the resolver, with real clients and servers:
 * both are held during a cold start and then pass through (the WebSocket as a byte tunnel after the
 * pod's 101, gRPC as HTTP/2 streams with trailers and status codes intact); combinations the resolver
 * cannot carry are refused with a message that says why.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { FakeCluster, HOST, until } from './support/cluster.js';

/** A masked client text frame (RFC 6455). */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** Opens a WebSocket through `port`: resolves with the handshake answer and a reader of text frames. */
function openWebSocket(
  port: number,
  id: string,
): Promise<{ head: string; socket: net.Socket; next: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const socket = net.connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let head: string | undefined;
    const frames: string[] = [];
    const waiters: ((t: string) => void)[] = [];
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (head === undefined) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + 4);
        const expected = createHash('sha1')
          .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
          .digest('base64');
        if (head.startsWith('HTTP/1.1 101') && !head.includes(expected))
          return reject(new Error('bad accept'));
        resolve({
          head,
          socket,
          next: () =>
            new Promise<string>((r) => {
              const f = frames.shift();
              if (f !== undefined) r(f);
              else waiters.push(r);
            }),
        });
      }
      while (buffer.length >= 2) {
        const length = (buffer[1] as number) & 0x7f;
        if (buffer.length < 2 + length) break;
        const text = buffer.subarray(2, 2 + length).toString('utf8');
        buffer = buffer.subarray(2 + length);
        const w = waiters.shift();
        if (w) w(text);
        else frames.push(text);
      }
    });
    socket.on('error', reject);
    socket.write(
      [
        'GET /chat HTTP/1.1',
        `Host: ${HOST}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
        `X-Request-Id: ${id}`,
        '',
        '',
      ].join('\r\n'),
    );
  });
}

describe('WebSocket upgrades through the resolver', () => {
  let cluster: FakeCluster;
  before(async () => {
    cluster = await FakeCluster.start({ scheduleMs: 100, appStartMs: 400 });
  });
  after(async () => {
    await cluster?.close();
  });

  it('holds the upgrade during the cold start, then tunnels the WebSocket both ways', async () => {
    // WHEN a WebSocket opens against the target at zero
    const ws = await openWebSocket(cluster.resolver.proxyPort, 'ws-1');
    // THEN it was held until the pod came up and then switched protocols with the pod
    assert.match(ws.head, /^HTTP\/1\.1 101/);
    assert.equal(cluster.starts, 1);
    assert.equal(await cluster.metric('elasticai_resolver_released_total', { target: 'shop/web' }), 1);
    // AND frames flow both ways through the tunnel
    ws.socket.write(clientFrame('hello'));
    assert.equal(await ws.next(), 'echo:hello');
    ws.socket.write(clientFrame('again'));
    assert.equal(await ws.next(), 'echo:again');
    // AND the pod saw the resolver in Via
    const upgrade = cluster.backends[0]?.events.find((e) => e.event === 'upgrade');
    assert.match(String(upgrade?.via), /elasticai-resolver\.elasticai-system/);
    ws.socket.destroy();
  });
});

describe('gRPC through the resolver (HTTP/2 cleartext)', () => {
  let cluster: FakeCluster;
  let client: grpc.Client;
  const passthrough = (b: Buffer): Buffer => b;
  /** One unary call; settles once both the answer and the final status (with trailers) are in. */
  const call = (
    text: string,
  ): Promise<{ reply?: string; error?: grpc.ServiceError; trailer?: grpc.Metadata }> =>
    new Promise((resolve) => {
      let answer: { reply?: string; error?: grpc.ServiceError } | undefined;
      let trailer: grpc.Metadata | undefined;
      let statusSeen = false;
      const done = (): void => {
        if (answer && statusSeen) resolve({ ...answer, ...(trailer ? { trailer } : {}) });
      };
      const c = client.makeUnaryRequest(
        '/echo.Echo/Say',
        passthrough,
        passthrough,
        Buffer.from(text),
        new grpc.Metadata(),
        { deadline: Date.now() + 20_000 },
        (error, reply) => {
          answer = { ...(error ? { error } : {}), ...(reply ? { reply: reply.toString() } : {}) };
          done();
        },
      );
      c.on('status', (s: grpc.StatusObject) => {
        trailer = s.metadata;
        statusSeen = true;
        done();
      });
    });

  before(async () => {
    cluster = await FakeCluster.start({
      scheduleMs: 100,
      appStartMs: 400,
      backendEnv: { MODE: 'grpc' },
      route: { protocol: 'h2c', hosts: ['grpc.example.com'] },
    });
    client = new grpc.Client(`127.0.0.1:${cluster.resolver.proxyPort}`, grpc.credentials.createInsecure(), {
      'grpc.default_authority': 'grpc.example.com',
    });
  });
  after(async () => {
    client?.close();
    await cluster?.close();
  });

  it('holds gRPC calls during the cold start, then passes them through with status, messages and trailers', async () => {
    // WHEN 20 unary calls arrive at zero
    const calls = await Promise.all(Array.from({ length: 20 }, (_, i) => call(`call-${i}`)));
    // THEN each got its own answer from the pod, started once
    calls.forEach((c, i) => assert.equal(c.reply, [...`call-${i}`].reverse().join(''), String(c.error)));
    assert.equal(cluster.starts, 1);
    assert.equal(await cluster.metric('elasticai_resolver_released_total', { target: 'shop/web' }), 20);
    // AND trailers (custom metadata) come through
    assert.deepEqual(calls[0]?.trailer?.get('x-served-by'), ['backend']);
    // AND a gRPC error status with its message passes through unchanged
    const missing = await call('missing');
    assert.equal(missing.error?.code, grpc.status.NOT_FOUND);
    assert.equal(missing.error?.details, 'no such thing');
    // AND the backend saw exactly these calls, each once
    const ids = cluster.deliveries.map((d) => d.id).sort();
    assert.deepEqual(ids, [...Array.from({ length: 20 }, (_, i) => `call-${i}`), 'missing'].sort());
  });

  it('refuses an HTTP/1.1 upgrade to the HTTP/2 target with 501 and a reason', async () => {
    const socket = net.connect(cluster.resolver.proxyPort, '127.0.0.1');
    socket.write(
      'GET / HTTP/1.1\r\nHost: grpc.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\n\r\n',
    );
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('close', () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1\.1 501/);
    assert.match(answer, /speaks HTTP\/2/);
    assert.equal(
      await cluster.metric('elasticai_resolver_rejected_total', {
        target: 'shop/web',
        reason: 'unsupported',
      }),
      1,
    );
  });
});

describe('gRPC to an HTTP/1.1 target', () => {
  let cluster: FakeCluster;
  before(async () => {
    cluster = await FakeCluster.start({ scheduleMs: 50, appStartMs: 100 });
  });
  after(async () => {
    await cluster?.close();
  });

  it('is refused as UNIMPLEMENTED with a message naming the route protocol, while plain HTTP/2 requests pass', async () => {
    const client = new grpc.Client(
      `127.0.0.1:${cluster.resolver.proxyPort}`,
      grpc.credentials.createInsecure(),
      {
        'grpc.default_authority': HOST,
      },
    );
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest(
        '/echo.Echo/Say',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from('x'),
        (e) => resolve(e),
      ),
    );
    client.close();
    assert.equal(error?.code, grpc.status.UNIMPLEMENTED);
    assert.match(error?.details ?? '', /protocol "http"\); gRPC needs .* "h2c"/);
    assert.equal(cluster.starts, 0, 'a refused call wakes nothing');
    // a plain HTTP/2 (prior knowledge) request is translated to HTTP/1.1 for the pod
    const session = http2.connect(`http://127.0.0.1:${cluster.resolver.proxyPort}`);
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const stream = session.request({ ':path': '/h2', ':authority': HOST, 'x-request-id': 'h2-1' });
      let status = 0;
      let body = '';
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', (c: Buffer) => (body += c.toString()));
      stream.on('end', () => resolve({ status, body }));
      stream.on('error', reject);
      stream.end();
    });
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body).id, 'h2-1');
    // the target is warm and its Service bypasses the resolver: the HTTP/2 client is asked to reconnect
    await until(() => goaway, 10_000, 'GOAWAY');
    session.close();
    await until(() => cluster.deliveries.length === 1, 10_000, 'the delivery');
  });
});
