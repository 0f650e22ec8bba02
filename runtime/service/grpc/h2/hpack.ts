/**
 * HPACK (RFC 7541) header-block decoder for our own HTTP/2 server, built to leave little garbage behind:
 * strings come straight off the block as latin1 (one on-heap one-byte string each, never an external
 * string), Huffman strings go through one scratch buffer owned by the decoder, and the dynamic table is a
 * ring of preallocated slots.
 */
import { huffmanDecode } from './huffman.js';

/** A malformed header block: the connection must end with COMPRESSION_ERROR (RFC 7540 §4.3). */
export class HpackError extends Error {
  override name = 'HpackError';
}

/** Buffer#latin1Slice: undocumented but long-standing; skips toString's encoding lookup. */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

// RFC 7541 Appendix A, index 1..61 (slot 0 unused).
// prettier-ignore
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  ['', ''],
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''],
  ['cache-control', ''], ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''],
  ['content-length', ''], ['content-location', ''], ['content-range', ''], ['content-type', ''],
  ['cookie', ''], ['date', ''], ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''],
  ['if-match', ''], ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''],
  ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''],
  ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''],
  ['retry-after', ''], ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''],
  ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
];
const STATIC_COUNT = 61;
const STATIC_NAMES = STATIC_TABLE.map(([name]) => name);
const STATIC_VALUES = STATIC_TABLE.map(([, value]) => value);

/** §4.1: an entry's size is its name and value octets plus 32. */
const ENTRY_OVERHEAD = 32;
/** Integers above this are rejected (§5.1 leaves the limit to us); nothing legitimate comes close. */
const MAX_INT = 2 ** 31 - 1;

export class HpackDecoder {
  /** Our SETTINGS_HEADER_TABLE_SIZE: the most a size update (§6.3) may ask for. */
  private readonly maxTableSize: number;
  /** The table's current maximum size, as last set by the peer (§4.2). */
  private limit: number;
  /** Sum of the entries' sizes (§4.1). */
  private size = 0;
  // Ring of entries; head is the newest (dynamic index 62), the oldest sits count - 1 slots after it.
  // Each entry takes at least 32 octets, so maxTableSize / 32 slots always suffice.
  private readonly names: string[];
  private readonly values: string[];
  private head = 0;
  private count = 0;
  /** Huffman output, reused for every string; grows to the longest one seen. */
  private scratch: Buffer = Buffer.allocUnsafeSlow(256);
  /** Read position in the block being decoded (a field, so helpers return values without allocating). */
  private pos = 0;

  /** @param maxTableSize our SETTINGS_HEADER_TABLE_SIZE, the most the peer may set the dynamic table to. @default 4096 */
  constructor(maxTableSize = 4096) {
    if (!Number.isSafeInteger(maxTableSize) || maxTableSize < 0) {
      throw new RangeError(`maxTableSize must be a non-negative integer, got ${maxTableSize}`);
    }
    this.maxTableSize = this.limit = maxTableSize;
    const slots = Math.max(1, Math.floor(maxTableSize / ENTRY_OVERHEAD));
    this.names = new Array<string>(slots).fill('');
    this.values = new Array<string>(slots).fill('');
  }

  /**
   * Decodes one complete header block (the HEADERS + CONTINUATION fragments concatenated, padding and
   * priority fields already removed), calling onField(name, value) for each field in order, and returns
   * the header list size as RFC 7540 §6.5.2 counts it (sum of name.length + value.length + 32).
   * The dynamic table is updated for the whole block even when the caller will reject the list.
   * Throws HpackError on malformed input.
   */
  decode(block: Uint8Array, onField: (name: string, value: string) => void): number {
    const buf = (
      Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength)
    ) as Latin1Buffer;
    const end = buf.length;
    let listSize = 0;
    let sawField = false;
    this.pos = 0;
    while (this.pos < end) {
      const b = buf[this.pos]!;
      let name: string;
      let value: string;
      if (b & 0x80) {
        // §6.1 Indexed Header Field: 1xxxxxxx, 7-bit index.
        const index = this.int(buf, 7);
        if (index >= 1 && index <= STATIC_COUNT) {
          name = STATIC_NAMES[index]!;
          value = STATIC_VALUES[index]!;
        } else {
          const slot = this.slot(index);
          name = this.names[slot]!;
          value = this.values[slot]!;
        }
      } else if (b & 0x40) {
        // §6.2.1 Literal with Incremental Indexing: 01xxxxxx, 6-bit name index (0: literal name).
        const index = this.int(buf, 6);
        name = index === 0 ? this.str(buf) : this.nameAt(index);
        value = this.str(buf);
        this.insert(name, value);
      } else if (b & 0x20) {
        // §6.3 Dynamic Table Size Update: 001xxxxx. §4.2: only at the start of a block.
        if (sawField) throw new HpackError('dynamic table size update after a header field');
        const size = this.int(buf, 5);
        if (size > this.maxTableSize) {
          throw new HpackError(`dynamic table size update to ${size} exceeds our limit ${this.maxTableSize}`);
        }
        this.limit = size;
        this.evict(0);
        continue;
      } else {
        // §6.2.2 without Indexing (0000xxxx) and §6.2.3 Never Indexed (0001xxxx): 4-bit name index.
        const index = this.int(buf, 4);
        name = index === 0 ? this.str(buf) : this.nameAt(index);
        value = this.str(buf);
      }
      sawField = true;
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      onField(name, value); // must not throw: the rest of the block would never reach the table
    }
    return listSize;
  }

  /** §5.1: reads an integer whose first octet keeps `prefix` low bits, advancing pos. */
  private int(buf: Buffer, prefix: number): number {
    const end = buf.length;
    if (this.pos >= end) throw new HpackError('header block truncated');
    const mask = (1 << prefix) - 1;
    let value = buf[this.pos++]! & mask;
    if (value < mask) return value;
    // At most 5 continuation octets (35 bits, exact in a double); larger values are never legitimate.
    for (let shift = 1; shift <= 2 ** 28; shift *= 128) {
      if (this.pos >= end) throw new HpackError('integer truncated');
      const b = buf[this.pos++]!;
      value += (b & 0x7f) * shift;
      if (b < 0x80) {
        if (value > MAX_INT) throw new HpackError('integer overflow');
        return value;
      }
    }
    throw new HpackError('integer overflow');
  }

  /** §5.2: reads a string literal (raw or Huffman), advancing pos. */
  private str(buf: Latin1Buffer): string {
    const huffman = this.pos < buf.length && buf[this.pos]! & 0x80;
    const length = this.int(buf, 7);
    const start = this.pos;
    const end = start + length;
    if (end > buf.length) throw new HpackError('string literal runs past the end of the header block');
    this.pos = end;
    if (!huffman) return buf.latin1Slice(start, end);
    const need = Math.floor((length * 8) / 5);
    if (this.scratch.length < need) {
      // allocUnsafeSlow: a long-lived buffer of its own, not a slice pinning a shared pool slab.
      this.scratch = Buffer.allocUnsafeSlow(Math.max(need, this.scratch.length * 2));
    }
    const n = huffmanDecode(buf, start, end, this.scratch);
    if (n < 0) throw new HpackError('invalid Huffman-encoded string');
    return (this.scratch as Latin1Buffer).latin1Slice(0, n);
  }

  private nameAt(index: number): string {
    return index <= STATIC_COUNT ? STATIC_NAMES[index]! : this.names[this.slot(index)]!;
  }

  /** Ring slot of a dynamic-table index (§2.3.3); throws for 0 and anything past the table. */
  private slot(index: number): number {
    const i = index - STATIC_COUNT - 1;
    if (i < 0 || i >= this.count) {
      throw new HpackError(`index ${index} is outside the table (1..${STATIC_COUNT + this.count})`);
    }
    return (this.head + i) % this.names.length;
  }

  /** §4.4: evicts to make room, then adds at the front; an entry larger than the table just empties it. */
  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    this.evict(size);
    if (size > this.limit) return;
    this.head = (this.head === 0 ? this.names.length : this.head) - 1;
    this.names[this.head] = name;
    this.values[this.head] = value;
    this.count++;
    this.size += size;
  }

  /** §4.3/§4.4: drops the oldest entries until `room` more octets fit under the limit. */
  private evict(room: number): void {
    while (this.count > 0 && this.size + room > this.limit) {
      const slot = (this.head + this.count - 1) % this.names.length;
      this.size -= this.names[slot]!.length + this.values[slot]!.length + ENTRY_OVERHEAD;
      this.names[slot] = ''; // let the strings go
      this.values[slot] = '';
      this.count--;
    }
  }
}

/** One field as "Literal Header Field without Indexing — New Name" (RFC 7541 §6.2.2), raw (no Huffman) latin1 octets. For response headers/trailers. */
export function encodeLiteralField(name: string, value: string): Buffer {
  // latin1: one octet per character (characters above U+00FF keep only their low byte).
  const out = Buffer.allocUnsafe(
    1 + intSize(name.length) + name.length + intSize(value.length) + value.length,
  );
  out[0] = 0x00; // 0000 0000: not indexed, name index 0 = literal name
  let p = writeInt(out, 1, name.length);
  p += out.write(name, p, 'latin1');
  p = writeInt(out, p, value.length);
  out.write(value, p, 'latin1');
  return out;
}

/** Octets of a §5.1 integer with a 7-bit prefix. */
function intSize(value: number): number {
  let n = 1;
  if (value >= 0x7f) for (value -= 0x7f, n++; value >= 0x80; value = Math.floor(value / 0x80)) n++;
  return n;
}

/** Writes a §5.1 integer with a 7-bit prefix and H = 0 (raw string) at out[p]; returns the next position. */
function writeInt(out: Buffer, p: number, value: number): number {
  if (value < 0x7f) {
    out[p++] = value;
    return p;
  }
  out[p++] = 0x7f;
  for (value -= 0x7f; value >= 0x80; value = Math.floor(value / 0x80)) out[p++] = (value & 0x7f) | 0x80;
  out[p++] = value;
  return p;
}
