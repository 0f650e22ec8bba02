/**
 * The HPACK Huffman code (RFC 7541 Appendix B). The code is canonical (codes are handed out in order of
 * (length, symbol)), so the 257 code lengths are all the data there is; codes and the decode table are
 * built from them at module load.
 */

/** Code length in bits of each symbol: bytes 0..255, then EOS (256). RFC 7541 Appendix B, "len". */
// prettier-ignore
export const HUFFMAN_CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, //   0..15
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //  16..31
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //          32..47  ' '..'/'
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //               48..63  '0'..'?'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //                 64..79  '@'..'O'
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //              80..95  'P'..'_'
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //                 96..111 '`'..'o'
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //            112..127 'p'..DEL
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128..143
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144..159
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160..175
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176..191
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192..207
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208..223
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224..239
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240..255
  30, //                                                              EOS
];

const EOS = 256;

/** Each symbol's code, right-aligned (the RFC's "code as hex"). */
export const HUFFMAN_CODES: Uint32Array = (() => {
  const lengths = HUFFMAN_CODE_LENGTHS;
  const order = lengths.map((_, sym) => sym).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const codes = new Uint32Array(lengths.length);
  let code = 0;
  let len = lengths[order[0]!]!;
  for (const sym of order) {
    code <<= lengths[sym]! - len; // longest code is 30 bits: stays a positive int32
    len = lengths[sym]!;
    codes[sym] = code++;
  }
  return codes;
})();

/*
 * Decoding is a finite-state machine that eats 4 bits at a time (two table lookups a byte). A state is an
 * internal node of the code tree (the root is 0; a complete code over 257 leaves has 256 internal nodes).
 * DECODE[state << 4 | nibble] = next state | EMIT (with the symbol in bits 16..23) | FAIL (EOS reached).
 * No code is shorter than 5 bits, so a nibble completes at most one symbol.
 * ACCEPT[state] = 1 where the string may end: the bits since the last symbol are at most 7 and all ones
 * (a prefix of EOS), which is the only padding §5.2 allows.
 */
const EMIT = 0x100;
const FAIL = 0x200;
const DECODE = new Uint32Array(256 * 16);
const ACCEPT = new Uint8Array(256);
(() => {
  // child[node * 2 + bit]: >= 0 an internal node, < 0 the leaf ~symbol.
  const child = new Int32Array(256 * 2);
  let nodes = 1;
  ACCEPT[0] = 1;
  HUFFMAN_CODE_LENGTHS.forEach((len, sym) => {
    const code = HUFFMAN_CODES[sym]!;
    let node = 0;
    let ones = true;
    for (let depth = 1; depth < len; depth++) {
      const bit = (code >>> (len - depth)) & 1;
      ones &&= bit === 1;
      const slot = node * 2 + bit;
      if (child[slot] === 0) {
        child[slot] = nodes;
        ACCEPT[nodes] = ones && depth <= 7 ? 1 : 0;
        nodes++;
      }
      node = child[slot]!;
    }
    child[node * 2 + (code & 1)] = ~sym;
  });
  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let bit = 3; bit >= 0; bit--) {
        const next = child[node * 2 + ((nibble >>> bit) & 1)]!;
        if (next >= 0) {
          node = next;
        } else if (~next === EOS) {
          entry = FAIL;
          break;
        } else {
          entry = EMIT | (~next << 16);
          node = 0;
        }
      }
      DECODE[(state << 4) | nibble] = entry | (entry & FAIL ? 0 : node);
    }
  }
})();

/**
 * Decodes the Huffman string src[start, end) into out, which must hold at least floor((end - start) * 8 / 5)
 * bytes (the most that many bits can carry, as the shortest code is 5 bits). Returns the number of bytes
 * written, or -1 if the string is invalid (EOS inside it, or padding longer than 7 bits or not all ones).
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let state = 0;
  let o = 0;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    let e = DECODE[(state << 4) | (b >>> 4)]!;
    if (e & EMIT) out[o++] = e >>> 16;
    else if (e & FAIL) return -1;
    e = DECODE[((e & 0xff) << 4) | (b & 0x0f)]!;
    if (e & EMIT) out[o++] = e >>> 16;
    else if (e & FAIL) return -1;
    state = e & 0xff;
  }
  return ACCEPT[state] ? o : -1;
}

/** Huffman-encodes bytes, padding with the most significant bits of EOS. For tests; not on a hot path. */
export function huffmanEncode(bytes: Uint8Array): Buffer {
  const out: number[] = [];
  let acc = 0; // pending bits, at most 7 + 30: exact in a double, so no 32-bit shifts
  let bits = 0;
  for (const b of bytes) {
    const len = HUFFMAN_CODE_LENGTHS[b]!;
    acc = acc * 2 ** len + HUFFMAN_CODES[b]!;
    bits += len;
    while (bits >= 8) {
      bits -= 8;
      const high = Math.floor(acc / 2 ** bits);
      out.push(high);
      acc -= high * 2 ** bits;
    }
  }
  if (bits > 0) out.push(acc * 2 ** (8 - bits) + (2 ** (8 - bits) - 1));
  return Buffer.from(out);
}
