/**
 * The server side of one HTTP/2 connection (RFC 9113), just what a gRPC server needs: streams opened by
 * the client, header blocks (HEADERS + CONTINUATION, HPACK-decoded), DATA with flow control both ways,
 * SETTINGS, PING, RST_STREAM, GOAWAY. No server push, no priorities (PRIORITY is parsed and ignored).
 *
 * Why not node:http2: it turns every request header value into a V8 external string, which lives until
 * a major collection and makes that collection slow (tens of ms at KEDA's call rate for 10,000
 * ScaledObjects, see CONTRIBUTING.md). Here a call's header strings are ordinary young-generation
 * strings that die in the next scavenge.
 */
import type { Duplex } from 'node:stream';
import {
  ACK,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  ErrorCode,
  FRAME_HEADER_BYTES,
  Flag,
  FrameType,
  MAX_WINDOW,
  PREFACE,
  Setting,
  frame,
  goAwayFrame,
  rstStreamFrame,
  settingsFrame,
  windowUpdateFrame,
  writeFrameHeader,
} from './frames.js';
import { HpackDecoder, HpackError } from './hpack.js';

/** The request fields a gRPC server reads; everything else is decoded (HPACK needs it) and dropped. */
export interface RequestHead {
  method: string;
  path: string;
  contentType: string;
  /** Header list size (RFC 9113 §6.5.2), checked by the stream's consumer. */
  listSize: number;
}

export interface StreamEvents {
  /** A new stream's request headers. */
  onHeaders(stream: H2Stream, head: RequestHead): void;
  /** Request body bytes (a view into the read buffer: copy to keep past the call). */
  onData(stream: H2Stream, data: Buffer): void;
  /** The client finished its side of the stream. */
  onEnd(stream: H2Stream): void;
  /** The stream ended without an answer: reset by the client, or its connection closed. */
  onAbort(stream: H2Stream): void;
}

export interface ConnectionLimits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS we announce and enforce. */
  readonly maxConcurrentStreams: number;
  /** Our receive window per stream (SETTINGS_INITIAL_WINDOW_SIZE) and, at most, per connection. */
  readonly streamWindow: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE we announce (checked by the consumer against `head.listSize`). */
  readonly maxHeaderListSize: number;
  /** Longest time from accept to the client's preface. */
  readonly prefaceTimeoutMs: number;
}

/** A header block bigger than this ends the connection (CONTINUATION floods). */
const MAX_HEADER_BLOCK_BYTES = 256 * 1024;
/** Our connection-level receive window. */
const CONNECTION_WINDOW = 4 * 1024 * 1024;
/** Output the peer does not read beyond this ends the connection. */
const MAX_UNREAD_OUTPUT = 16 * 1024 * 1024;

export class H2Stream {
  /** Our right to send DATA on this stream (the peer's window). */
  sendWindow: number;
  /** Bytes the client may still send before we open its window again. */
  recvWindow: number;
  remoteEnded = false;
  localEnded = false;
  /** Request bytes counted against the connection's window and not given back yet. */
  held = 0;
  /** DATA waiting for window, then the trailer block that ends the stream. */
  private queued: Buffer[] = [];
  private trailers: Buffer | undefined;
  /** Free for the stream's consumer (the gRPC call). */
  context: unknown;

  constructor(
    readonly id: number,
    private readonly connection: H2Connection,
    sendWindow: number,
    recvWindow: number,
  ) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  get closed(): boolean {
    return this.localEnded;
  }

  /** Response headers; `endStream` makes them a trailers-only response. */
  respond(block: Buffer, endStream: boolean): void {
    if (this.localEnded) return;
    this.connection.writeHeaders(this.id, block, endStream);
    if (endStream) this.finishLocal();
  }

  sendData(payload: Buffer): void {
    if (this.localEnded || this.trailers) return;
    this.queued.push(payload);
    this.flush();
  }

  /** Ends the stream with trailers, after any DATA still waiting for window. */
  sendTrailers(block: Buffer): void {
    if (this.localEnded || this.trailers) return;
    this.trailers = block;
    this.flush();
  }

  /**
   * Headers, one DATA payload and trailers in one write when the windows allow (a unary answer),
   * else the same through the queue.
   */
  respondUnary(headers: Buffer, payload: Buffer, trailers: Buffer): void {
    if (this.localEnded) return;
    if (!this.connection.writeUnary(this, headers, payload, trailers)) {
      this.respond(headers, false);
      this.sendData(payload);
      this.sendTrailers(trailers);
      return;
    }
    this.finishLocal();
  }

  reset(code: ErrorCode): void {
    if (this.localEnded) return;
    this.localEnded = true;
    this.queued = [];
    this.connection.resetStream(this, code);
  }

  /** Writes what the windows allow; called again on WINDOW_UPDATE. */
  flush(): void {
    while (this.queued.length > 0) {
      const head = this.queued[0] as Buffer;
      const sent = this.connection.writeData(this, head);
      if (sent === head.length) this.queued.shift();
      else {
        if (sent > 0) this.queued[0] = head.subarray(sent);
        this.connection.blocked.add(this);
        return;
      }
    }
    if (this.trailers) {
      this.connection.writeHeaders(this.id, this.trailers, true);
      this.trailers = undefined;
      this.finishLocal();
    }
  }

  private finishLocal(): void {
    this.localEnded = true;
    this.connection.streamDone(this);
  }
}

export class H2Connection {
  readonly streams = new Map<number, H2Stream>();
  /** Streams with DATA waiting for window. */
  readonly blocked = new Set<H2Stream>();
  private readonly decoder = new HpackDecoder();
  private rest: Buffer | undefined;
  private prefaceSeen = false;
  private lastStreamId = 0;
  private goingAway = false;
  private dead = false;
  private closeNotified = false;
  private corked = false;
  /** The peer's settings that shape what we send. */
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private connSendWindow = DEFAULT_WINDOW;
  private connRecvWindow = CONNECTION_WINDOW;
  /** Bytes given back and not yet announced in a WINDOW_UPDATE. */
  private connFreed = 0;
  /** Our first header block starts with a dynamic table size update to 0: we never index. */
  private sentTableSizeUpdate = false;
  /** A header block in progress (HEADERS without END_HEADERS, then CONTINUATION). */
  private partial: { id: number; flags: number; fragments: Buffer[]; bytes: number } | undefined;
  private head: RequestHead | undefined;
  private headError: string | undefined;
  private regularSeen = false;
  private readonly prefaceTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: Duplex,
    private readonly events: StreamEvents,
    private readonly limits: ConnectionLimits,
    private readonly onClosed: (connection: H2Connection) => void,
  ) {
    this.write(
      settingsFrame([
        [Setting.MaxConcurrentStreams, limits.maxConcurrentStreams],
        [Setting.InitialWindowSize, limits.streamWindow],
        [Setting.MaxHeaderListSize, limits.maxHeaderListSize],
        [Setting.EnablePush, 0],
      ]),
    );
    this.write(windowUpdateFrame(0, CONNECTION_WINDOW - DEFAULT_WINDOW));
    this.prefaceTimer = setTimeout(() => this.destroy(), limits.prefaceTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.receiveSafely(chunk));
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.closed());
    socket.on('end', () => this.destroy());
  }

  /** Graceful: no new streams (GOAWAY), close once the open ones finish. */
  goAway(): void {
    if (this.goingAway || this.dead) return;
    this.goingAway = true;
    this.write(goAwayFrame(this.lastStreamId, ErrorCode.NoError));
    this.endIfIdle();
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.socket.destroy();
    this.closed();
  }

  // ---- output ----

  private write(bytes: Buffer): void {
    if (this.dead) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(bytes);
    if (this.socket.writableLength > MAX_UNREAD_OUTPUT) this.destroy();
  }

  writeHeaders(id: number, block: Buffer, endStream: boolean): void {
    const prefix = this.sentTableSizeUpdate ? 0 : 1;
    this.sentTableSizeUpdate = true;
    // Our blocks are small (truncated status messages); one frame always holds them.
    const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + prefix + block.length);
    writeFrameHeader(
      out,
      0,
      prefix + block.length,
      FrameType.Headers,
      Flag.EndHeaders | (endStream ? Flag.EndStream : 0),
      id,
    );
    if (prefix) out[FRAME_HEADER_BYTES] = 0x20;
    block.copy(out, FRAME_HEADER_BYTES + prefix);
    this.write(out);
  }

  /** Sends as much of `payload` as the windows allow; returns the bytes sent. */
  writeData(stream: H2Stream, payload: Buffer): number {
    const n = Math.min(payload.length, stream.sendWindow, this.connSendWindow, this.peerMaxFrameSize);
    if (n <= 0) return 0;
    stream.sendWindow -= n;
    this.connSendWindow -= n;
    const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + n);
    writeFrameHeader(out, 0, n, FrameType.Data, 0, stream.id);
    payload.copy(out, FRAME_HEADER_BYTES, 0, n);
    this.write(out);
    return n;
  }

  /** HEADERS + DATA + trailing HEADERS in one buffer, when the windows take the payload at once. */
  writeUnary(stream: H2Stream, headers: Buffer, payload: Buffer, trailers: Buffer): boolean {
    const n = payload.length;
    if (!this.sentTableSizeUpdate || n > stream.sendWindow || n > this.connSendWindow) return false;
    if (n > this.peerMaxFrameSize) return false;
    stream.sendWindow -= n;
    this.connSendWindow -= n;
    const total = 3 * FRAME_HEADER_BYTES + headers.length + n + trailers.length;
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    writeFrameHeader(out, at, headers.length, FrameType.Headers, Flag.EndHeaders, stream.id);
    at += FRAME_HEADER_BYTES + headers.copy(out, at + FRAME_HEADER_BYTES);
    writeFrameHeader(out, at, n, FrameType.Data, 0, stream.id);
    at += FRAME_HEADER_BYTES + payload.copy(out, at + FRAME_HEADER_BYTES);
    writeFrameHeader(
      out,
      at,
      trailers.length,
      FrameType.Headers,
      Flag.EndHeaders | Flag.EndStream,
      stream.id,
    );
    trailers.copy(out, at + FRAME_HEADER_BYTES);
    this.write(out);
    return true;
  }

  resetStream(stream: H2Stream, code: ErrorCode): void {
    this.write(rstStreamFrame(stream.id, code));
    this.forget(stream);
  }

  /** We sent END_STREAM: the stream is closed once the client's side is too. */
  streamDone(stream: H2Stream): void {
    // A complete answer before the request ended: tell the client to stop sending (RFC 9113 §8.1).
    if (!stream.remoteEnded) this.write(rstStreamFrame(stream.id, ErrorCode.NoError));
    this.forget(stream);
  }

  private forget(stream: H2Stream): void {
    this.release(stream);
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    this.endIfIdle();
  }

  private endIfIdle(): void {
    if (this.goingAway && this.streams.size === 0 && !this.dead) {
      this.socket.end();
      this.dead = true;
      this.closed();
    }
  }

  private closed(): void {
    this.dead = true;
    if (this.closeNotified) return;
    this.closeNotified = true;
    clearTimeout(this.prefaceTimer);
    const open = [...this.streams.values()];
    this.streams.clear();
    this.blocked.clear();
    for (const stream of open) {
      if (stream.localEnded) continue;
      stream.localEnded = true;
      this.events.onAbort(stream);
    }
    this.onClosed(this);
  }

  /** A connection error (RFC 9113 §5.4.1): GOAWAY with the code, then close. */
  private fail(code: ErrorCode, debug: string): void {
    if (this.dead) return;
    this.write(goAwayFrame(this.lastStreamId, code, debug));
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.dead = true;
    this.closed();
  }

  // ---- input ----

  /** A bug met by one connection's input ends that connection, not the thread serving all of them. */
  private receiveSafely(chunk: Buffer): void {
    try {
      this.receive(chunk);
    } catch (error) {
      this.fail(ErrorCode.InternalError, error instanceof Error ? error.message : String(error));
    }
  }

  private receive(chunk: Buffer): void {
    if (this.dead) return;
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    let at = 0;
    if (!this.prefaceSeen) {
      const have = Math.min(buf.length, PREFACE.length);
      if (buf.compare(PREFACE, 0, have, 0, have) !== 0)
        return this.fail(ErrorCode.ProtocolError, 'bad preface');
      if (buf.length < PREFACE.length) {
        this.rest = Buffer.from(buf);
        return;
      }
      this.prefaceSeen = true;
      clearTimeout(this.prefaceTimer);
      at = PREFACE.length;
    }
    while (buf.length - at >= FRAME_HEADER_BYTES) {
      const length = ((buf[at] as number) << 16) | ((buf[at + 1] as number) << 8) | (buf[at + 2] as number);
      if (length > DEFAULT_MAX_FRAME_SIZE) return this.fail(ErrorCode.FrameSizeError, 'frame too large');
      if (buf.length - at < FRAME_HEADER_BYTES + length) break;
      const type = buf[at + 3] as number;
      const flags = buf[at + 4] as number;
      const id = buf.readUInt32BE(at + 5) & 0x7fffffff;
      const payload = buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
      at += FRAME_HEADER_BYTES + length;
      this.onFrame(type, flags, id, payload);
      if (this.dead) return;
    }
    // Keep only the partial frame (copied: the rest of the read buffer can go).
    this.rest = at < buf.length ? Buffer.from(buf.subarray(at)) : undefined;
  }

  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.partial && type !== FrameType.Continuation)
      return this.fail(ErrorCode.ProtocolError, 'header block interrupted');
    switch (type) {
      case FrameType.Data:
        return this.onDataFrame(flags, id, payload);
      case FrameType.Headers:
        return this.onHeadersFrame(flags, id, payload);
      case FrameType.Continuation:
        return this.onContinuation(flags, id, payload);
      case FrameType.Priority:
        if (id === 0) return this.fail(ErrorCode.ProtocolError, 'PRIORITY on stream 0');
        if (payload.length !== 5) return this.fail(ErrorCode.FrameSizeError, 'PRIORITY size');
        return;
      case FrameType.RstStream:
        return this.onRstStream(id, payload);
      case FrameType.Settings:
        return this.onSettings(flags, id, payload);
      case FrameType.PushPromise:
        return this.fail(ErrorCode.ProtocolError, 'PUSH_PROMISE from a client');
      case FrameType.Ping:
        if (id !== 0) return this.fail(ErrorCode.ProtocolError, 'PING on a stream');
        if (payload.length !== 8) return this.fail(ErrorCode.FrameSizeError, 'PING size');
        if (!(flags & ACK)) this.write(frame(FrameType.Ping, ACK, 0, payload));
        return;
      case FrameType.GoAway:
        if (id !== 0) return this.fail(ErrorCode.ProtocolError, 'GOAWAY on a stream');
        // The client opens no more streams here; finish the open ones, then close.
        this.goingAway = true;
        return this.endIfIdle();
      case FrameType.WindowUpdate:
        return this.onWindowUpdate(id, payload);
      default:
        return; // Unknown frame types are ignored (RFC 9113 §4.1).
    }
  }

  private onDataFrame(flags: number, id: number, payload: Buffer): void {
    if (id === 0) return this.fail(ErrorCode.ProtocolError, 'DATA on stream 0');
    this.connRecvWindow -= payload.length;
    if (this.connRecvWindow < 0) return this.fail(ErrorCode.FlowControlError, 'connection window exceeded');
    const stream = this.streams.get(id);
    if (!stream) {
      if (id > this.lastStreamId) return this.fail(ErrorCode.ProtocolError, 'DATA on an idle stream');
      return this.giveBack(payload.length); // A stream we already closed: ignored.
    }
    // Held until the request is complete (or the stream gone): what clients can make us buffer is
    // bounded by the connection window, however many streams they open.
    stream.held += payload.length;
    if (stream.remoteEnded) return this.abort(stream, ErrorCode.StreamClosed);
    stream.recvWindow -= payload.length;
    if (stream.recvWindow < 0) return this.abort(stream, ErrorCode.FlowControlError);
    const data = this.unpad(flags, payload, 0);
    if (data === undefined) return this.fail(ErrorCode.ProtocolError, 'bad padding');
    if (data.length > 0) this.events.onData(stream, data);
    if (flags & Flag.EndStream) {
      stream.remoteEnded = true;
      this.events.onEnd(stream);
      this.release(stream);
      if (stream.localEnded) this.forget(stream);
    } else if (stream.recvWindow <= this.limits.streamWindow / 2 && !stream.localEnded) {
      this.write(windowUpdateFrame(id, this.limits.streamWindow - stream.recvWindow));
      stream.recvWindow = this.limits.streamWindow;
    }
  }

  /** Gives a stream's held bytes back to the connection's window. */
  private release(stream: H2Stream): void {
    const held = stream.held;
    stream.held = 0;
    if (held > 0) this.giveBack(held);
  }

  private giveBack(bytes: number): void {
    this.connFreed += bytes;
    if (this.connFreed < CONNECTION_WINDOW / 2 || this.dead) return;
    this.write(windowUpdateFrame(0, this.connFreed));
    this.connRecvWindow += this.connFreed;
    this.connFreed = 0;
  }

  /** The frame's content without padding (and `skip` more leading bytes), or undefined if malformed. */
  private unpad(flags: number, payload: Buffer, skip: number): Buffer | undefined {
    if (!(flags & Flag.Padded)) return skip ? payload.subarray(skip) : payload;
    if (payload.length < 1) return undefined;
    const pad = payload[0] as number;
    if (1 + skip + pad > payload.length) return undefined;
    return payload.subarray(1 + skip, payload.length - pad);
  }

  private onHeadersFrame(flags: number, id: number, payload: Buffer): void {
    if (id === 0 || id % 2 === 0) return this.fail(ErrorCode.ProtocolError, `HEADERS on stream ${id}`);
    const fragment = this.unpad(flags, payload, flags & Flag.Priority ? 5 : 0);
    if (fragment === undefined) return this.fail(ErrorCode.ProtocolError, 'bad padding');
    if (flags & Flag.EndHeaders) return this.onHeaderBlock(id, flags, fragment);
    this.partial = { id, flags, fragments: [Buffer.from(fragment)], bytes: fragment.length };
  }

  private onContinuation(flags: number, id: number, payload: Buffer): void {
    const partial = this.partial;
    if (!partial || partial.id !== id) return this.fail(ErrorCode.ProtocolError, 'unexpected CONTINUATION');
    partial.bytes += payload.length;
    if (partial.bytes > MAX_HEADER_BLOCK_BYTES)
      return this.fail(ErrorCode.EnhanceYourCalm, 'header block too large');
    partial.fragments.push(Buffer.from(payload));
    if (!(flags & Flag.EndHeaders)) return;
    this.partial = undefined;
    this.onHeaderBlock(id, partial.flags, Buffer.concat(partial.fragments));
  }

  private onHeaderBlock(id: number, flags: number, block: Buffer): void {
    const existing = this.streams.get(id);
    const isNew = id > this.lastStreamId;
    if (!this.decodeHead(block)) return;
    const head = this.head as RequestHead;
    if (existing) {
      // Trailers from the client: they must end the stream (RFC 9113 §8.1).
      if (existing.remoteEnded || !(flags & Flag.EndStream))
        return this.abort(existing, ErrorCode.ProtocolError);
      existing.remoteEnded = true;
      this.events.onEnd(existing);
      if (existing.localEnded) this.forget(existing);
      return;
    }
    if (!isNew) return this.fail(ErrorCode.StreamClosed, `HEADERS on closed stream ${id}`);
    this.lastStreamId = id;
    const refuse = this.goingAway || this.streams.size >= this.limits.maxConcurrentStreams;
    if (refuse || this.headError) {
      this.write(rstStreamFrame(id, refuse ? ErrorCode.RefusedStream : ErrorCode.ProtocolError));
      return;
    }
    const stream = new H2Stream(id, this, this.peerInitialWindow, this.limits.streamWindow);
    this.streams.set(id, stream);
    stream.remoteEnded = (flags & Flag.EndStream) !== 0;
    this.events.onHeaders(stream, head);
    if (stream.remoteEnded && !stream.localEnded) this.events.onEnd(stream);
  }

  /** Decodes a header block into `this.head`; false when the connection failed (HPACK state lost). */
  private decodeHead(block: Buffer): boolean {
    this.head = { method: '', path: '', contentType: '', listSize: 0 };
    this.headError = undefined;
    this.regularSeen = false;
    try {
      this.head.listSize = this.decoder.decode(block, this.onField);
    } catch (error) {
      if (!(error instanceof HpackError)) throw error;
      this.fail(ErrorCode.CompressionError, error.message);
      return false;
    }
    const head = this.head;
    if (!this.headError && head.method === '') this.headError = 'no :method';
    return true;
  }

  /** Malformed requests (RFC 9113 §8.1.1) are refused with a stream error. */
  private readonly onField = (name: string, value: string): void => {
    const head = this.head as RequestHead;
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (this.regularSeen) this.headError = 'pseudo-header after a field';
      else if (name === ':method') head.method = value;
      else if (name === ':path') head.path = value;
      else if (name !== ':scheme' && name !== ':authority') this.headError = `pseudo-header ${name}`;
      return;
    }
    this.regularSeen = true;
    if (name === 'content-type') head.contentType = value;
    else if (name !== name.toLowerCase()) this.headError = `upper-case field name ${name}`;
  };

  private onRstStream(id: number, payload: Buffer): void {
    if (id === 0) return this.fail(ErrorCode.ProtocolError, 'RST_STREAM on stream 0');
    if (payload.length !== 4) return this.fail(ErrorCode.FrameSizeError, 'RST_STREAM size');
    if (id > this.lastStreamId) return this.fail(ErrorCode.ProtocolError, 'RST_STREAM on an idle stream');
    const stream = this.streams.get(id);
    if (!stream) return;
    stream.localEnded = true;
    this.forget(stream);
    this.events.onAbort(stream);
  }

  private onSettings(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) return this.fail(ErrorCode.ProtocolError, 'SETTINGS on a stream');
    if (flags & ACK) {
      if (payload.length !== 0) this.fail(ErrorCode.FrameSizeError, 'SETTINGS ack with payload');
      return;
    }
    if (payload.length % 6 !== 0) return this.fail(ErrorCode.FrameSizeError, 'SETTINGS size');
    for (let at = 0; at < payload.length; at += 6) {
      const setting = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (setting === Setting.InitialWindowSize) {
        if (value > MAX_WINDOW) return this.fail(ErrorCode.FlowControlError, 'INITIAL_WINDOW_SIZE');
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
      } else if (setting === Setting.MaxFrameSize) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 16_777_215)
          return this.fail(ErrorCode.ProtocolError, 'MAX_FRAME_SIZE');
        this.peerMaxFrameSize = value;
      } else if (setting === Setting.EnablePush && value > 1) {
        return this.fail(ErrorCode.ProtocolError, 'ENABLE_PUSH');
      }
      // HEADER_TABLE_SIZE: our encoder never indexes (table size 0), so any value suits it.
    }
    this.write(frame(FrameType.Settings, ACK, 0));
    this.flushBlocked();
  }

  private onWindowUpdate(id: number, payload: Buffer): void {
    if (payload.length !== 4) return this.fail(ErrorCode.FrameSizeError, 'WINDOW_UPDATE size');
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (id === 0) {
      if (increment === 0) return this.fail(ErrorCode.ProtocolError, 'WINDOW_UPDATE of 0');
      this.connSendWindow += increment;
      if (this.connSendWindow > MAX_WINDOW) return this.fail(ErrorCode.FlowControlError, 'window overflow');
      return this.flushBlocked();
    }
    const stream = this.streams.get(id);
    if (!stream) return;
    if (increment === 0) return this.abort(stream, ErrorCode.ProtocolError);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) return this.abort(stream, ErrorCode.FlowControlError);
    if (this.blocked.delete(stream)) stream.flush();
  }

  /** A stream error (RFC 9113 §5.4.2): RST_STREAM, and the consumer hears the stream is gone. */
  private abort(stream: H2Stream, code: ErrorCode): void {
    if (stream.localEnded) return;
    stream.reset(code);
    this.events.onAbort(stream);
  }

  private flushBlocked(): void {
    for (const stream of [...this.blocked]) {
      this.blocked.delete(stream);
      stream.flush();
    }
  }
}
