/**
 * A real backend process for the resolver's tests and benchmark: it starts listening only after
 * `START_DELAY_MS` (an application booting), and reports every request it receives as one JSON line on
 * stdout, written synchronously before it answers — so the parent counts deliveries even when the
 * process dies right after. Modes (`MODE`):
 *
 * - `http` (default): HTTP/1.1 echo — the answer carries the request's id, method, path, body length
 *   and SHA-256, and the headers the backend saw. `RESPONSE_DELAY_MS` delays answers (`/slow/<ms>`
 *   one answer), `/status/<code>` answers that status, `/trailers` sends a trailer; `DIE_AFTER=n`
 *   exits abruptly when the n-th request has been received (before answering it). A WebSocket upgrade
 *   (RFC 6455 handshake) echoes text frames back.
 * - `grpc`: a gRPC server (`@grpc/grpc-js`, h2c) with one generic unary method `/echo.Echo/Say` that
 *   answers the request bytes reversed, and fails with NOT_FOUND when the request is `missing`.
 *
 * stdout lines: `{"event":"listening","port":…}`, `{"event":"request",…}`, `{"event":"closed"}`.
 */
import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';

const PORT = Number(process.env.PORT ?? 0);
const HOST = process.env.HOST ?? '127.0.0.1';
const START_DELAY_MS = Number(process.env.START_DELAY_MS ?? 0);
const RESPONSE_DELAY_MS = Number(process.env.RESPONSE_DELAY_MS ?? 0);
const DIE_AFTER = Number(process.env.DIE_AFTER ?? 0);
const MODE = process.env.MODE ?? 'http';

let received = 0;
let inflight = 0;
let maxInflight = 0;

function emit(event: Record<string, unknown>): void {
  writeSync(1, `${JSON.stringify(event)}\n`);
}

/** RFC 6455 text frame (server → client, unmasked). */
function frame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const head =
    payload.length < 126
      ? Buffer.from([0x81, payload.length])
      : Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}

/** Decodes masked client frames from a buffer; returns texts and the unread rest. */
function unframe(buffer: Buffer): { texts: string[]; rest: Buffer; close: boolean } {
  const texts: string[] = [];
  let offset = 0;
  let close = false;
  while (buffer.length - offset >= 2) {
    const opcode = (buffer[offset] as number) & 0x0f;
    let length = (buffer[offset + 1] as number) & 0x7f;
    let at = offset + 2;
    if (length === 126) {
      if (buffer.length < at + 2) break;
      length = buffer.readUInt16BE(at);
      at += 2;
    }
    if (buffer.length < at + 4 + length) break;
    const mask = buffer.subarray(at, at + 4);
    const data = Buffer.from(buffer.subarray(at + 4, at + 4 + length));
    for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) ^ (mask[i % 4] as number);
    if (opcode === 0x1) texts.push(data.toString('utf8'));
    if (opcode === 0x8) close = true;
    offset = at + 4 + length;
  }
  return { texts, rest: buffer.subarray(offset), close };
}

function startHttp(): void {
  const server = http.createServer((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    req.on('end', () => {
      received++;
      inflight++;
      maxInflight = Math.max(maxInflight, inflight);
      const id = req.headers['x-request-id'] ?? '';
      const sha = hash.digest('hex');
      emit({
        event: 'request',
        id,
        method: req.method,
        path: req.url,
        bytes,
        sha,
        inflight,
        at: performance.timeOrigin + performance.now(),
      });
      if (DIE_AFTER > 0 && received >= DIE_AFTER) {
        // Dies holding this request (and any in flight): a crash, not a graceful stop.
        process.kill(process.pid, 'SIGKILL');
        return;
      }
      const answer = (): void => {
        inflight--;
        if (req.url?.startsWith('/status/')) {
          res.writeHead(Number(req.url.slice(8)) || 500, { 'content-type': 'text/plain' });
          res.end('status\n');
          return;
        }
        if (req.url === '/trailers') {
          res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
          res.write('body with trailers\n');
          res.addTrailers({ 'x-checksum': sha });
          res.end();
          return;
        }
        const body = JSON.stringify({
          id,
          method: req.method,
          path: req.url,
          bytes,
          sha,
          pid: process.pid,
          headers: req.headers,
          maxInflight,
        });
        res.writeHead(200, {
          'content-type': 'application/json',
          'set-cookie': ['a=1; Path=/', 'b=2; Path=/'],
          'x-backend': 'yes',
        });
        res.end(body);
      };
      const slow = /^\/slow\/(\d+)/.exec(req.url ?? '');
      const delay = slow ? Number(slow[1]) : RESPONSE_DELAY_MS;
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
    req.on('aborted', () => emit({ event: 'aborted', id: req.headers['x-request-id'] ?? '' }));
    res.on('close', () => {
      if (!res.writableFinished) emit({ event: 'client-gone', id: req.headers['x-request-id'] ?? '' });
    });
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const key = req.headers['sec-websocket-key'];
    emit({ event: 'upgrade', id: req.headers['x-request-id'] ?? '', via: req.headers.via ?? '' });
    if (typeof key !== 'string' || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    let pending = head;
    const onData = (chunk: Buffer): void => {
      pending = Buffer.concat([pending, chunk]);
      const { texts, rest, close } = unframe(pending);
      pending = rest;
      for (const t of texts) socket.write(frame(`echo:${t}`));
      if (close) socket.end(Buffer.from([0x88, 0]));
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    if (head.length > 0) onData(Buffer.alloc(0));
  });
  server.keepAliveTimeout = 5_000;
  const stop = (): void => {
    server.close(() => {
      emit({ event: 'closed' });
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.on('SIGTERM', stop);
  setTimeout(() => {
    server.listen(PORT, HOST, () => {
      const address = server.address();
      emit({
        event: 'listening',
        port: typeof address === 'object' && address ? address.port : PORT,
        pid: process.pid,
      });
    });
  }, START_DELAY_MS);
}

function startGrpc(): void {
  const server = new grpc.Server();
  const passthrough = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
  server.addService(
    {
      Say: {
        path: '/echo.Echo/Say',
        requestStream: false,
        responseStream: false,
        requestSerialize: passthrough.serialize,
        requestDeserialize: passthrough.deserialize,
        responseSerialize: passthrough.serialize,
        responseDeserialize: passthrough.deserialize,
      },
    },
    {
      Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        received++;
        const text = call.request.toString('utf8');
        emit({ event: 'request', id: text, method: 'grpc', via: call.metadata.get('via').join(',') });
        if (text === 'missing') {
          callback({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
          return;
        }
        const trailer = new grpc.Metadata();
        trailer.set('x-served-by', 'backend');
        callback(null, Buffer.from([...text].reverse().join(''), 'utf8'), trailer);
      },
    },
  );
  process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
  setTimeout(() => {
    server.bindAsync(`${HOST}:${PORT}`, grpc.ServerCredentials.createInsecure(), (error, port) => {
      if (error) {
        emit({ event: 'error', message: error.message });
        process.exit(1);
      }
      emit({ event: 'listening', port, pid: process.pid });
    });
  }, START_DELAY_MS);
}

if (MODE === 'grpc') startGrpc();
else startHttp();
