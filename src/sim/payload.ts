/**
 * Message payloads and their checksum. Every word of a small payload and every 64th word of a large
 * one depend on the sequence number, so a slot read from a previous lap, a wrong page or an earlier
 * run never checks out; the rest is a fixed pattern so large payloads cost one memcpy to produce.
 *
 * Checksum: FNV-1a (32-bit prime 16777619) over the payload's little-endian 32-bit words in four
 * interleaved lanes folded together at the end — the four independent multiply chains run ~3x
 * faster than one, which matters at 64 KiB. The lanes start from the FNV basis XOR a per-run
 * nonce, so stale bytes from an earlier run fail too. Bytes past LEN in the last word count as 0.
 */

import type { GuestMem } from "./guest-mem.js";

const FNV_BASIS = 0x811c9dc5 | 0;
const LANE1 = 0x01000193;
const LANE2 = 0x5bd1e995;
const LANE3 = 0x27d4eb2d;
const FNV_PRIME = 16777619;

/** Payloads of at most this many words vary in every word. */
const SMALL_WORDS = 64;

export interface PayloadShape {
  readonly bytes: number;
  readonly words: number;
  /** Words at multiples of this index (besides 0) depend on the sequence number. */
  readonly stride: number;
  /** Mask of the valid bytes of the last word. */
  readonly lastMask: number;
  /** The fixed pattern (lastMask applied). */
  readonly pattern: Uint32Array;
  /** Per-word byte masks (all ones but the last word's). */
  readonly masks: Uint32Array;
}

export function payloadShape(bytes: number): PayloadShape {
  const words = Math.ceil(bytes / 4);
  const rem = bytes & 3;
  const lastMask = rem === 0 ? 0xffffffff : 2 ** (8 * rem) - 1;
  const pattern = new Uint32Array(words);
  let x = 0x2545f491;
  for (let i = 0; i < words; i++) {
    // xorshift32: a pattern that differs from word to word and page to page.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pattern[i] = x;
  }
  pattern[words - 1] = (pattern[words - 1]! & lastMask) >>> 0;
  const masks = new Uint32Array(words).fill(0xffffffff);
  masks[words - 1] = lastMask;
  return { bytes, words, stride: words <= SMALL_WORDS ? 1 : 64, lastMask, pattern, masks };
}

/** Write message `seq`'s payload into buf (a full rewrite for small payloads, the seq words otherwise). */
export function fillPayload(shape: PayloadShape, buf: Uint32Array, seq: number, full: boolean): void {
  const p = shape.pattern;
  const n = shape.words;
  const mix = Math.imul(seq, 0x9e3779b1);
  if (full) buf.set(p);
  const s = shape.stride;
  for (let i = s; i < n; i += s) buf[i] = p[i]! ^ mix;
  buf[0] = seq;
  buf[n - 1] = buf[n - 1]! & shape.lastMask;
}

export function checksum(buf: Uint32Array, n: number, nonce: number): number {
  const basis = FNV_BASIS ^ nonce;
  let a = basis;
  let b = basis ^ LANE1;
  let c = basis ^ LANE2;
  let d = basis ^ LANE3;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    a = Math.imul(a ^ buf[i]!, FNV_PRIME);
    b = Math.imul(b ^ buf[i + 1]!, FNV_PRIME);
    c = Math.imul(c ^ buf[i + 2]!, FNV_PRIME);
    d = Math.imul(d ^ buf[i + 3]!, FNV_PRIME);
  }
  for (; i < n; i++) a = Math.imul(a ^ buf[i]!, FNV_PRIME);
  return fold(a, b, c, d, n);
}

function fold(a: number, b: number, c: number, d: number, n: number): number {
  let h = Math.imul(a ^ b, FNV_PRIME);
  h = Math.imul(h ^ c, FNV_PRIME);
  h = Math.imul(h ^ d, FNV_PRIME);
  return Math.imul(h ^ n, FNV_PRIME) >>> 0;
}

/**
 * Small payloads (stride 1) in one pass: generate message `seq`'s words, store them at addr
 * through the guest's memory and fold the checksum — the same words and the same checksum as
 * fillPayload + checksum, without the intermediate buffer.
 */
export function putSmall(m: GuestMem, addr: number, shape: PayloadShape, seq: number, nonce: number): number {
  const p = shape.pattern;
  const k = shape.masks;
  const n = shape.words;
  const mix = Math.imul(seq, 0x9e3779b1);
  const basis = FNV_BASIS ^ nonce;
  let a = basis;
  let b = basis ^ LANE1;
  let c = basis ^ LANE2;
  let d = basis ^ LANE3;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const w0 = i === 0 ? seq & k[0]! : (p[i]! ^ mix) & k[i]!;
    const w1 = (p[i + 1]! ^ mix) & k[i + 1]!;
    const w2 = (p[i + 2]! ^ mix) & k[i + 2]!;
    const w3 = (p[i + 3]! ^ mix) & k[i + 3]!;
    const q = addr + 4 * i;
    m.write32(q, w0);
    m.write32(q + 4, w1);
    m.write32(q + 8, w2);
    m.write32(q + 12, w3);
    a = Math.imul(a ^ w0, FNV_PRIME);
    b = Math.imul(b ^ w1, FNV_PRIME);
    c = Math.imul(c ^ w2, FNV_PRIME);
    d = Math.imul(d ^ w3, FNV_PRIME);
  }
  for (; i < n; i++) {
    const w = i === 0 ? seq & k[0]! : (p[i]! ^ mix) & k[i]!;
    m.write32(addr + 4 * i, w);
    a = Math.imul(a ^ w, FNV_PRIME);
  }
  return fold(a, b, c, d, n);
}

/** Read a small payload at addr through the guest's memory and return its checksum. */
export function sumSmall(m: GuestMem, addr: number, n: number, nonce: number): number {
  const basis = FNV_BASIS ^ nonce;
  let a = basis;
  let b = basis ^ LANE1;
  let c = basis ^ LANE2;
  let d = basis ^ LANE3;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const q = addr + 4 * i;
    a = Math.imul(a ^ m.read32(q), FNV_PRIME);
    b = Math.imul(b ^ m.read32(q + 4), FNV_PRIME);
    c = Math.imul(c ^ m.read32(q + 8), FNV_PRIME);
    d = Math.imul(d ^ m.read32(q + 12), FNV_PRIME);
  }
  for (; i < n; i++) a = Math.imul(a ^ m.read32(addr + 4 * i), FNV_PRIME);
  return fold(a, b, c, d, n);
}
