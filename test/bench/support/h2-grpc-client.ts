/**
 * The scaler benchmark's gRPC client: unary calls on one HTTP/2 connection, framed by hand, sending what
 * grpc-go (KEDA) sends and compressing headers the way its HPACK encoder does (each field indexed the
 * first time, referenced by index after).
 *
 * Why not node:http2: its client makes a V8 external string of every response header value, and the
 * major collections they cost stalled the generator itself for tens of ms, which the benchmark then
 * reported as the runtime's latency. KEDA is a Go program on another node; the generator should add as
 * little of its own as it can.
 */
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import {
  ACK,
  FRAME_HEADER_BYTES,
  Flag,
  FrameType,
  PREFACE,
  Setting,
  frame,
  settingsFrame,
  windowUpdateFrame,
  writeFrameHeader,
} from '../../../runtime/service/grpc/h2/frames.js';
import { HpackDecoder } from '../../../runtime/service/grpc/h2/hpack.js';

export type UnaryDone = (error: Error | undefined, answeredAt: number, message: Buffer | undefined) => void;

/** Pairs in HPACK's static table (RFC 7541 Appendix A) that our requests use. */
const STATIC_PAIRS = new Map([
  [':method\0POST', 3],
  [':scheme\0http', 6],
]);
const DYNAMIC_TABLE_SIZE = 4096;
const RECEIVE_WINDOW = 1 << 20;

/**
 * Encodes a small fixed set of fields as grpc-go does: a field not yet in the dynamic table goes as a
 * literal with incremental indexing (§6.2.1), one already there as its index (§6.1). The set fits in
 * the table, so nothing is evicted, and once every field is in, a block can be reused as it is.
 */
class FieldEncoder {
  /** Dynamic table keys, newest first (index 62 + position). */
  private readonly table: string[] = [];
  private size = 0;

  /** The block, and whether it added to the table (then it is only valid where it was encoded). */
  encode(fields: readonly (readonly [string, string])[]): { block: Buffer; added: boolean } {
    const parts: Buffer[] = [];
    let added = false;
    for (const [name, value] of fields) {
      const key = `${name}\0${value}`;
      const at = this.table.indexOf(key);
      const known = STATIC_PAIRS.get(key) ?? (at >= 0 ? 62 + at : 0);
      if (known > 0) {
        parts.push(integer(0x80, 7, known));
        continue;
      }
      this.size += name.length + value.length + 32;
      if (this.size > DYNAMIC_TABLE_SIZE) throw new Error('request fields outgrow the dynamic table');
      this.table.unshift(key);
      added = true;
      parts.push(Buffer.from([0x40]), integer(0, 7, name.length), Buffer.from(name, 'latin1'));
      parts.push(integer(0, 7, value.length), Buffer.from(value, 'latin1'));
    }
    return { block: Buffer.concat(parts), added };
  }
}

/** An HPACK integer (§5.1) with an N-bit prefix under `high`. */
function integer(high: number, bits: number, value: number): Buffer {
  const max = (1 << bits) - 1;
  if (value < max) return Buffer.from([high | value]);
  const out = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  out.push(rest);
  return Buffer.from(out);
}

interface Pending {
  readonly done: UnaryDone;
  body: Buffer | undefined;
  status: string | undefined;
}

export class GrpcH2Client {
  private readonly socket: Socket;
  private readonly encoder = new FieldEncoder();
  private readonly decoder = new HpackDecoder();
  /** Header blocks that add nothing to the table, by path. */
  private readonly stable = new Map<string, Buffer>();
  private readonly pending = new Map<number, Pending>();
  private nextStream = 1;
  private rest: Buffer | undefined;
  private consumed = 0;
  private status: string | undefined;
  private failed: Error | undefined;

  constructor(
    private readonly port: number,
    private readonly userAgent = 'grpc-go/1.68.1',
  ) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error('connection closed')));
    this.socket.write(
      Buffer.concat([
        PREFACE,
        settingsFrame([[Setting.InitialWindowSize, RECEIVE_WINDOW]]),
        windowUpdateFrame(0, RECEIVE_WINDOW),
      ]),
    );
  }

  /** One unary call: `framed` is the request with gRPC's 5-byte prefix; `done` gets the answer's message. */
  unary(path: string, framed: Buffer, done: UnaryDone): void {
    if (this.failed) return done(this.failed, performance.now(), undefined);
    const id = this.nextStream;
    this.nextStream += 2;
    const block = this.headerBlock(path);
    const out = Buffer.allocUnsafe(2 * FRAME_HEADER_BYTES + block.length + framed.length);
    writeFrameHeader(out, 0, block.length, FrameType.Headers, Flag.EndHeaders, id);
    block.copy(out, FRAME_HEADER_BYTES);
    const at = FRAME_HEADER_BYTES + block.length;
    writeFrameHeader(out, at, framed.length, FrameType.Data, Flag.EndStream, id);
    framed.copy(out, at + FRAME_HEADER_BYTES);
    this.pending.set(id, { done, body: undefined, status: undefined });
    this.socket.write(out);
  }

  close(): void {
    this.socket.end();
  }

  private headerBlock(path: string): Buffer {
    const cached = this.stable.get(path);
    if (cached) return cached;
    const { block, added } = this.encoder.encode([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', path],
      [':authority', `127.0.0.1:${this.port}`],
      ['content-type', 'application/grpc'],
      ['user-agent', this.userAgent],
      ['te', 'trailers'],
      ['grpc-timeout', '3S'],
    ]);
    // A new entry shifts the indexes of the older ones: blocks encoded before are stale.
    if (added) this.stable.clear();
    else this.stable.set(path, block);
    return block;
  }

  private receive(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    let at = 0;
    while (buf.length - at >= FRAME_HEADER_BYTES) {
      const length = buf.readUIntBE(at, 3);
      if (buf.length - at < FRAME_HEADER_BYTES + length) break;
      const type = buf[at + 3] as number;
      const flags = buf[at + 4] as number;
      const id = buf.readUInt32BE(at + 5) & 0x7fffffff;
      this.onFrame(type, flags, id, buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length));
      at += FRAME_HEADER_BYTES + length;
    }
    this.rest = at < buf.length ? Buffer.from(buf.subarray(at)) : undefined;
  }

  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    if (type === FrameType.Settings && !(flags & ACK)) this.socket.write(frame(FrameType.Settings, ACK, 0));
    else if (type === FrameType.Ping && !(flags & ACK))
      this.socket.write(frame(FrameType.Ping, ACK, 0, payload));
    else if (type === FrameType.GoAway) this.fail(new Error('GOAWAY'));
    else if (type === FrameType.RstStream) this.finish(id, new Error('stream reset'));
    else if (type === FrameType.Data) this.onData(flags, id, payload);
    else if (type === FrameType.Headers) this.onHeaders(flags, id, payload);
  }

  private onData(flags: number, id: number, payload: Buffer): void {
    this.consumed += payload.length;
    if (this.consumed >= RECEIVE_WINDOW / 2) {
      this.socket.write(windowUpdateFrame(0, this.consumed));
      this.consumed = 0;
    }
    const call = this.pending.get(id);
    if (!call) return;
    call.body = call.body ? Buffer.concat([call.body, payload]) : Buffer.from(payload);
    if (flags & Flag.EndStream) this.finish(id, new Error('no trailers'));
  }

  private onHeaders(flags: number, id: number, payload: Buffer): void {
    // The server's blocks are small: one frame, never padded or continued.
    this.status = undefined;
    this.decoder.decode(payload, this.onField);
    const call = this.pending.get(id);
    if (!call) return;
    if (this.status !== undefined) call.status = this.status;
    if (!(flags & Flag.EndStream)) return;
    if (call.status !== '0') return this.finish(id, new Error(`grpc-status ${String(call.status)}`));
    const body = call.body;
    const length = body && body.length >= 5 ? body.readUInt32BE(1) : -1;
    if (!body || length < 0 || body.length < 5 + length)
      return this.finish(id, new Error('truncated answer'));
    this.pending.delete(id);
    call.done(undefined, performance.now(), body.subarray(5, 5 + length));
  }

  private readonly onField = (name: string, value: string): void => {
    if (name === 'grpc-status') this.status = value;
  };

  private finish(id: number, error: Error): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    call.done(error, performance.now(), undefined);
  }

  private fail(error: Error): void {
    this.failed ??= error;
    for (const id of [...this.pending.keys()]) this.finish(id, error);
  }
}
