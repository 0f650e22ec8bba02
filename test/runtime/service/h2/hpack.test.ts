import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { HpackDecoder, HpackError, encodeLiteralField } from '../../../../runtime/service/grpc/h2/hpack.js';
import {
  HUFFMAN_CODES,
  HUFFMAN_CODE_LENGTHS,
  huffmanDecode,
  huffmanEncode,
} from '../../../../runtime/service/grpc/h2/huffman.js';

type Field = [name: string, value: string];

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function decodeAll(decoder: HpackDecoder, block: Uint8Array): { fields: Field[]; size: number } {
  const fields: Field[] = [];
  const size = decoder.decode(block, (name, value) => fields.push([name, value]));
  return { fields, size };
}

/** A §5.1 integer: `flags` in the bits above a `prefix`-bit prefix. */
function int(flags: number, prefix: number, value: number): number[] {
  const max = (1 << prefix) - 1;
  if (value < max) return [flags | value];
  const out = [flags | max];
  for (value -= max; value >= 128; value = Math.floor(value / 128)) out.push((value & 127) | 128);
  out.push(value);
  return out;
}

/**
 * The dynamic table, newest first, read through the decoder itself: indexed fields (§6.1) from 62 up until
 * one is out of range. Indexed fields never change the table, so this only observes.
 */
function tableOf(decoder: HpackDecoder): Field[] {
  const table: Field[] = [];
  for (let index = 62; ; index++) {
    try {
      table.push(...decodeAll(decoder, Buffer.from(int(0x80, 7, index))).fields);
    } catch (err) {
      assert.ok(err instanceof HpackError);
      return table;
    }
  }
}

/** §4.1 size of a table. */
const sizeOf = (table: Field[]): number => table.reduce((sum, [n, v]) => sum + n.length + v.length + 32, 0);

describe('HPACK decoder: RFC 7541 Appendix C', () => {
  it('C.2.1-C.2.4: each representation on a fresh decoder', () => {
    // GIVEN fresh decoders  WHEN each C.2 block is decoded  THEN fields and dynamic tables match the RFC
    let d = new HpackDecoder();
    const c21 = decodeAll(d, hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
    assert.deepEqual(c21.fields, [['custom-key', 'custom-header']]);
    assert.equal(c21.size, 55);
    assert.deepEqual(tableOf(d), [['custom-key', 'custom-header']]);

    d = new HpackDecoder();
    assert.deepEqual(decodeAll(d, hex('040c 2f73 616d 706c 652f 7061 7468')).fields, [
      [':path', '/sample/path'],
    ]);
    assert.deepEqual(tableOf(d), []);

    d = new HpackDecoder();
    assert.deepEqual(decodeAll(d, hex('1008 7061 7373 776f 7264 0673 6563 7265 74')).fields, [
      ['password', 'secret'],
    ]);
    assert.deepEqual(tableOf(d), []);

    d = new HpackDecoder();
    assert.deepEqual(decodeAll(d, hex('82')).fields, [[':method', 'GET']]);
    assert.deepEqual(tableOf(d), []);
  });

  // C.3 (raw) and C.4 (Huffman) encode the same three requests; C.5 and C.6 the same three responses.
  const requests: Field[][] = [
    [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ],
    [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
      ['cache-control', 'no-cache'],
    ],
    [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/index.html'],
      [':authority', 'www.example.com'],
      ['custom-key', 'custom-value'],
    ],
  ];
  const requestTables: Field[][] = [
    [[':authority', 'www.example.com']],
    [
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    [
      ['custom-key', 'custom-value'],
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
  ];
  const cookie = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
  const responses: Field[][] = [
    [
      [':status', '302'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['location', 'https://www.example.com'],
    ],
    [
      [':status', '307'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['location', 'https://www.example.com'],
    ],
    [
      [':status', '200'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
      ['location', 'https://www.example.com'],
      ['content-encoding', 'gzip'],
      ['set-cookie', cookie],
    ],
  ];
  const responseTables: Field[][] = [
    [
      ['location', 'https://www.example.com'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['cache-control', 'private'],
      [':status', '302'],
    ],
    // 307 went in; :status 302 was evicted to make room (256-octet table).
    [
      [':status', '307'],
      ['location', 'https://www.example.com'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['cache-control', 'private'],
    ],
    // The 98-octet set-cookie entry evicted all but two.
    [
      ['set-cookie', cookie],
      ['content-encoding', 'gzip'],
      ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
    ],
  ];

  function series(
    maxTableSize: number,
    blocks: string[],
    want: Field[][],
    tables: Field[][],
    sizes: number[],
  ) {
    const d = new HpackDecoder(maxTableSize);
    blocks.forEach((block, i) => {
      const { fields, size } = decodeAll(d, hex(block));
      assert.deepEqual(fields, want[i], `block ${i + 1}`);
      assert.equal(size, sizeOf(want[i]!), `header list size of block ${i + 1}`);
      const table = tableOf(d);
      assert.deepEqual(table, tables[i], `table after block ${i + 1}`);
      assert.equal(sizeOf(table), sizes[i], `table size after block ${i + 1}`);
    });
  }

  it('C.3: three requests on one decoder, no Huffman', () => {
    // GIVEN one decoder  WHEN the three C.3 blocks are decoded in order  THEN later blocks resolve
    // indexes 62.. to the entries earlier blocks added
    series(
      4096,
      [
        '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
        '8286 84be 5808 6e6f 2d63 6163 6865',
        '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
      ],
      requests,
      requestTables,
      [57, 110, 164],
    );
  });

  it('C.4: the same requests with Huffman strings', () => {
    // GIVEN one decoder  WHEN the C.4 blocks (Huffman literals) are decoded  THEN same fields and tables
    series(
      4096,
      [
        '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
        '8286 84be 5886 a8eb 1064 9cbf',
        '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
      ],
      requests,
      requestTables,
      [57, 110, 164],
    );
  });

  it('C.5: responses on a 256-octet table, with evictions', () => {
    // GIVEN a decoder whose table holds 256 octets  WHEN the C.5 responses are decoded  THEN entries
    // are evicted oldest first and indexes c1/c0/bf (65, 64, 63) resolve to what is left
    series(
      256,
      [
        `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
         2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
        '4803 3330 37c1 c0bf',
        `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
         54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
         5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`,
      ],
      responses,
      responseTables,
      [222, 222, 215],
    );
  });

  it('C.6: the same responses with Huffman strings', () => {
    // GIVEN a 256-octet table  WHEN the C.6 blocks are decoded  THEN evictions follow decoded lengths
    series(
      256,
      [
        `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
        '4883 640e ffc1 c0bf',
        `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
         9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
      ],
      responses,
      responseTables,
      [222, 222, 215],
    );
  });

  it('size updates at the start of a block shrink the table, and an oversized entry empties it', () => {
    // GIVEN the C.3 table (3 entries, 164 octets)
    const d = new HpackDecoder();
    for (const block of [
      '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '8286 84be 5808 6e6f 2d63 6163 6865',
      '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
    ]) {
      decodeAll(d, hex(block));
    }
    // WHEN the peer shrinks it to 110 octets THEN the oldest entry (:authority, 57) goes
    assert.deepEqual(decodeAll(d, Buffer.from(int(0x20, 5, 110))).fields, []);
    assert.deepEqual(tableOf(d), requestTables[2]!.slice(0, 2));
    // WHEN two updates (0 then 4096) precede a field THEN the table is empty and grows again
    decodeAll(d, Buffer.from([...int(0x20, 5, 0), ...int(0x20, 5, 4096), 0x40, 1, 0x61, 1, 0x62]));
    assert.deepEqual(tableOf(d), [['a', 'b']]);
    // WHEN a 65-octet entry meets the (now 64-octet) table THEN the table ends up empty (§4.4)
    decodeAll(d, Buffer.from([...int(0x20, 5, 64), 0x40, 1, 0x63, 32, ...Buffer.from('x'.repeat(32))]));
    assert.deepEqual(tableOf(d), []);
  });
});

describe('HPACK Huffman code', () => {
  it('the code lengths form a complete prefix code, with the RFC codes', () => {
    // GIVEN the 257 code lengths  THEN their Kraft sum is exactly 1 (complete: every bit string decodes)
    assert.equal(HUFFMAN_CODE_LENGTHS.length, 257);
    assert.equal(
      HUFFMAN_CODE_LENGTHS.reduce((sum, len) => sum + 2 ** (30 - len), 0),
      2 ** 30,
    );
    // AND EOS is 30 ones
    assert.equal(HUFFMAN_CODE_LENGTHS[256], 30);
    assert.equal(HUFFMAN_CODES[256], 0x3fffffff);
    // AND the canonical construction reproduces the RFC's "code as hex" column
    const rfc: [number, number][] = [
      [0, 0x1ff8],
      [9, 0xffffea],
      [10, 0x3ffffffc],
      [32, 0x14],
      [48, 0x0],
      [92, 0x7fff0],
      [127, 0xffffffc],
      [128, 0xfffe6],
      [199, 0x1ffffec],
      [255, 0x3ffffee],
    ];
    for (const [sym, code] of rfc) assert.equal(HUFFMAN_CODES[sym], code, `symbol ${sym}`);
  });

  it('every byte value round-trips through encode and decode', () => {
    // GIVEN all 256 byte values, forwards and backwards  WHEN Huffman-encoded and decoded  THEN unchanged
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i < 256 ? i : 511 - i)));
    const encoded = huffmanEncode(bytes);
    const out = Buffer.alloc(Math.floor((encoded.length * 8) / 5));
    const n = huffmanDecode(encoded, 0, encoded.length, out);
    assert.deepEqual(out.subarray(0, n), bytes);
  });
});

/** A frame header (RFC 7540 §4.1) followed by payload. */
function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/**
 * Has node:http2 (nghttp2's HPACK encoder) send `requests` to a raw TCP server that speaks just enough
 * HTTP/2 (SETTINGS with `settings` as [id, value] pairs, and SETTINGS ACK) and returns the header blocks
 * in the order they arrived, with their stream ids.
 */
async function captureHeaderBlocks(
  settings: [number, number][],
  requests: http2.OutgoingHttpHeaders[],
): Promise<{ stream: number; block: Buffer }[]> {
  const blocks: { stream: number; block: Buffer }[] = [];
  const sockets: Socket[] = [];
  let allArrived!: () => void;
  const arrived = new Promise<void>((resolve) => (allArrived = resolve));
  const server = createServer((socket) => {
    sockets.push(socket);
    const params = Buffer.alloc(6 * settings.length);
    settings.forEach(
      ([id, value], i) => (params.writeUInt16BE(id, 6 * i), params.writeUInt32BE(value, 6 * i + 2)),
    );
    socket.write(frame(4, 0, 0, params));
    let data = Buffer.alloc(0);
    let prefaceSeen = false;
    let fragments: Buffer[] = [];
    let stream = 0;
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (!prefaceSeen) {
        if (data.length < 24) return;
        data = data.subarray(24); // PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n
        prefaceSeen = true;
      }
      while (data.length >= 9 && data.length >= 9 + data.readUIntBE(0, 3)) {
        const length = data.readUIntBE(0, 3);
        const [type, flags, id] = [data[3]!, data[4]!, data.readUInt32BE(5) & 0x7fffffff];
        const payload = data.subarray(9, 9 + length);
        data = data.subarray(9 + length);
        if (type === 4 && !(flags & 0x1)) socket.write(frame(4, 0x1, 0)); // SETTINGS -> ACK
        if (type === 1) {
          // HEADERS: strip PADDED (pad length octet + padding) and PRIORITY (5 octets).
          let [start, end] = [0, payload.length];
          if (flags & 0x8) [start, end] = [1, end - payload[0]!];
          if (flags & 0x20) start += 5;
          fragments = [payload.subarray(start, end)];
          stream = id;
        }
        if (type === 9) fragments.push(payload); // CONTINUATION
        if ((type === 1 || type === 9) && flags & 0x4) {
          blocks.push({ stream, block: Buffer.concat(fragments) });
          if (blocks.length === requests.length) allArrived();
        }
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const client = http2.connect(`http://127.0.0.1:${port}`);
  client.on('error', () => {});
  try {
    await once(client, 'remoteSettings'); // so every block is encoded under our settings
    for (const headers of requests) client.request(headers, { endStream: true }).on('error', () => {});
    await arrived;
  } finally {
    client.destroy();
    for (const socket of sockets) socket.destroy();
    server.close();
  }
  return blocks;
}

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('HPACK decoder against nghttp2 (node:http2 client)', () => {
  /** ~50 requests with random custom values; some repeat, so nghttp2 indexes and refers back. */
  function randomRequests(seed: number, count: number): Record<string, string>[] {
    const random = rng(seed);
    const pick = (n: number): number => Math.floor(random() * n);
    const str = (length: number, char: () => number): string =>
      String.fromCharCode(...Array.from({ length }, char));
    const printable = (): number => 0x20 + pick(0x7f - 0x20);
    const alnum = (): number => '0123456789abcdefghijklmnopqrstuvwxyz'.charCodeAt(pick(36));
    const latin1 = (): number => (random() < 0.5 ? printable() : 0x80 + pick(0x80));
    const pool = Array.from({ length: 4 }, () => str(1 + pick(40), printable));
    return Array.from({ length: count }, (_, i) => ({
      // One value too big for the table and for one frame: literal without indexing, plus CONTINUATION.
      ...(i === 0 ? { 'x-big': str(20_000, alnum) } : {}),
      ...(i % 7 === 3 ? { 'x-secret': str(10, alnum) } : {}), // sent never-indexed, see below
      'x-printable': str(pick(80), printable),
      'x-alnum': str(pick(120), alnum), // Huffman-friendly
      'x-latin1': str(1 + pick(60), latin1),
      'x-repeat': pool[pick(pool.length)]!,
      'x-constant': 'the same value every time',
    }));
  }

  /** Decodes the captured blocks with one decoder, in order, and checks each against its request. */
  async function differential(settings: [number, number][], maxTableSize: number, seed: number) {
    const requests = randomRequests(seed, 50);
    const outgoing = requests.map((r) => ({ ...r, [http2.sensitiveHeaders]: ['x-secret'] }));
    const blocks = await captureHeaderBlocks(settings, outgoing);
    assert.equal(blocks.length, requests.length);
    const decoder = new HpackDecoder(maxTableSize);
    for (const { stream, block } of blocks) {
      const { fields, size } = decodeAll(decoder, block);
      const custom = Object.fromEntries(fields.filter(([name]) => name.startsWith('x-')));
      assert.deepEqual(custom, requests[(stream - 1) / 2], `stream ${stream}`);
      assert.equal(size, sizeOf(fields));
      assert.ok(fields.some(([name, value]) => name === ':method' && value === 'GET'));
    }
    return { blocks, requests };
  }

  it('decodes ~50 requests on the default 4096-octet table', { timeout: 20_000 }, async () => {
    // GIVEN nghttp2 encoding random latin1 values, repeats and constants on one connection
    // WHEN our decoder reads its header blocks in order
    // THEN every request's custom headers come back exactly, and repeats were sent as references
    const { blocks, requests } = await differential([], 4096, 1);
    const sent = requests.reduce((sum, r) => sum + Object.values(r).join('').length, 0);
    const wire = blocks.reduce((sum, { block }) => sum + block.length, 0);
    assert.ok(wire < sent, `compressed ${wire} octets vs ${sent} raw`);
  });

  it('follows a size update to a 256-octet table, with constant evictions', { timeout: 20_000 }, async () => {
    // GIVEN our SETTINGS_HEADER_TABLE_SIZE of 256 (so nghttp2 sends a size update, then evicts all along)
    // WHEN our decoder (maxTableSize 256) reads the blocks  THEN every request still decodes exactly
    await differential([[0x1, 256]], 256, 2);
  });
});

describe('HPACK decoder: malformed blocks throw HpackError', () => {
  const cases: [string, number[], number?][] = [
    ['index 0', [0x80]],
    ['index past the table (empty dynamic table)', [0x80 | 62]],
    ['name index past the table', [0x40 | 62, 0x01, 0x61]],
    ['integer truncated after a saturated prefix', [0xff]],
    ['integer truncated mid-continuation', [0xff, 0x80]],
    ['integer over 2^31', int(0x80, 7, 2 ** 31)],
    ['integer with more than 5 continuation octets', [0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]],
    ['block ends before a literal name', [0x40]],
    ['block ends before a value', [0x40 | 1]],
    ['string length past the end', [0x40, 0x05, 0x61, 0x62]],
    ['Huffman with EOS inside', [0x40, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00]],
    ['Huffman with 8 bits of padding', [0x40, 0x81, 0xff, 0x00]],
    ["Huffman 'a' + 11 bits of padding", [0x40, 0x82, 0x1f, 0xff, 0x00]],
    ["Huffman padding not all ones ('a' + 000)", [0x40, 0x81, 0x18, 0x00]],
    ['size update above maxTableSize', int(0x20, 5, 257), 256],
    ['size update after a field', [0x82, 0x20]],
  ];
  for (const [name, bytes, maxTableSize] of cases) {
    it(name, () => {
      // GIVEN a fresh decoder  WHEN it decodes the malformed block  THEN HpackError
      const decoder = new HpackDecoder(maxTableSize);
      assert.throws(() => decoder.decode(Buffer.from(bytes), () => {}), HpackError);
    });
  }

  it('accepts the well-formed neighbours of those cases', () => {
    // GIVEN the boundaries just inside the limits  THEN no error (so the cases above fail for the right reason)
    const d = new HpackDecoder(256);
    assert.deepEqual(decodeAll(d, Buffer.from([...int(0x20, 5, 256), 0x40, 0x81, 0x1f, 0x00])).fields, [
      ['a', ''],
    ]);
    assert.deepEqual(decodeAll(d, Buffer.from([0x80 | 62, 0x80 | 61])).fields, [
      ['a', ''],
      ['www-authenticate', ''],
    ]);
    // A non-minimal integer with 5 continuation octets (a value length of 127) is fine.
    const long = [0x40, 0x01, 0x61, 0x7f, 0x80, 0x80, 0x80, 0x80, 0x00, ...Buffer.from('v'.repeat(127))];
    assert.equal(decodeAll(d, Buffer.from(long)).fields[0]![1], 'v'.repeat(127));
  });
});

describe('encodeLiteralField', () => {
  it('round-trips through the decoder without touching its dynamic table', () => {
    // GIVEN a decoder with the C.3 table
    const d = new HpackDecoder();
    decodeAll(d, hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'));
    const before = tableOf(d);
    const latin1 = String.fromCharCode(0x80, 0xa9, 0xe9, 0xff, 0x20, 0x41);
    const fields: Field[] = [
      ['grpc-status', '0'],
      ['grpc-message', latin1],
      ['x-empty', ''],
      ['x-long', 'v'.repeat(300)], // length needs continuation octets
    ];
    // WHEN encoded one by one and decoded as one block
    const block = Buffer.concat(fields.map(([name, value]) => encodeLiteralField(name, value)));
    const { fields: decoded, size } = decodeAll(d, block);
    // THEN the same fields come back, and the table is as it was
    assert.deepEqual(decoded, fields);
    assert.equal(size, sizeOf(fields));
    assert.deepEqual(tableOf(d), before);
    // AND the representation is §6.2.2 with a literal name and raw strings
    assert.deepEqual([...encodeLiteralField('a', 'bc')], [0x00, 0x01, 0x61, 0x02, 0x62, 0x63]);
  });
});

describe('HPACK decoder on random input', () => {
  it('throws only HpackError, and stays usable, over 20,000 random blocks', () => {
    // GIVEN a seeded generator (reproducible) and one decoder that sees every block in turn
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const decoder = new HpackDecoder(4096);
    const valid = Buffer.concat([encodeLiteralField('x-ok', 'still decoding')]);
    let malformed = 0;
    for (let i = 0; i < 20_000; i++) {
      const block = Buffer.alloc(1 + Math.floor(random() * 40));
      for (let j = 0; j < block.length; j++) block[j] = Math.floor(random() * 256);
      // WHEN it decodes random bytes
      try {
        decoder.decode(block, () => undefined);
      } catch (error) {
        // THEN a failure is always the protocol's COMPRESSION_ERROR, never a crash of another kind
        assert.ok(error instanceof HpackError, `block ${block.toString('hex')}: ${String(error)}`);
        malformed++;
      }
    }
    // AND both outcomes occurred, and a well-formed block still decodes afterwards
    assert.ok(malformed > 1000 && malformed < 20_000, `malformed ${malformed}`);
    const fields: string[] = [];
    new HpackDecoder().decode(valid, (name, value) => fields.push(`${name}: ${value}`));
    decoder.decode(valid, () => undefined);
    assert.deepEqual(fields, ['x-ok: still decoding']);
  });
});
