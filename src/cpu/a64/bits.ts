/**
 * The Arm ARM's shared pseudo-code (DDI 0487, J1 "shared/functions") on 64-bit values held as two
 * int32 halves (lo = bits 31:0, hi = bits 63:32): AddWithCarry, ShiftReg, ExtendReg, DecodeBitMasks,
 * ROR, CountLeadingZeroBits/SignBits, BitReverse and exact 64-bit multiply and divide.
 *
 * Results go to the module's scratch words OUT[0] (lo) and OUT[1] (hi), flags to OUT[2] (NZCV in
 * bits 3:0), so nothing allocates: no BigInt, no arrays or objects per call (hot-path rule). Every
 * helper is exact to the bit; the limb arithmetic keeps each intermediate below 2^53.
 */

/** Scratch results: [0] lo, [1] hi, [2] NZCV (N=8, Z=4, C=2, V=1), [3] second result's lo, [4] its hi. */
export const OUT = new Int32Array(5);

const TWO32 = 4294967296;

// ---- AddWithCarry (shared/functions/integer/AddWithCarry) ----

/** AddWithCarry(x, y, carry_in) on 64 bits: OUT = result, OUT[2] = NZCV. */
export function addWithCarry64(alo: number, ahi: number, blo: number, bhi: number, cin: number): void {
  const l = (alo >>> 0) + (blo >>> 0) + cin;
  const lc = l >= TWO32 ? 1 : 0;
  const h = (ahi >>> 0) + (bhi >>> 0) + lc;
  const rlo = l | 0;
  const rhi = h | 0;
  OUT[0] = rlo;
  OUT[1] = rhi;
  // V: the operands' signs agree and the result's differs.
  const v = (~(ahi ^ bhi) & (ahi ^ rhi)) < 0 ? 1 : 0;
  OUT[2] = (rhi < 0 ? 8 : 0) | ((rlo | rhi) === 0 ? 4 : 0) | (h >= TWO32 ? 2 : 0) | v;
}

/** AddWithCarry on 32 bits: OUT[0] = result, OUT[1] = 0, OUT[2] = NZCV. */
export function addWithCarry32(a: number, b: number, cin: number): void {
  const s = (a >>> 0) + (b >>> 0) + cin;
  const r = s | 0;
  OUT[0] = r;
  OUT[1] = 0;
  const v = (~(a ^ b) & (a ^ r)) < 0 ? 1 : 0;
  OUT[2] = (r < 0 ? 8 : 0) | (r === 0 ? 4 : 0) | (s >= TWO32 ? 2 : 0) | v;
}

// ---- shifts (LSL, LSR, ASR, ROR on 64 bits; amount 0..63) ----

export function lsl64(lo: number, hi: number, n: number): void {
  if (n === 0) {
    OUT[0] = lo;
    OUT[1] = hi;
  } else if (n < 32) {
    OUT[1] = (hi << n) | (lo >>> (32 - n));
    OUT[0] = lo << n;
  } else {
    OUT[1] = lo << (n - 32);
    OUT[0] = 0;
  }
}

export function lsr64(lo: number, hi: number, n: number): void {
  if (n === 0) {
    OUT[0] = lo;
    OUT[1] = hi;
  } else if (n < 32) {
    OUT[0] = (lo >>> n) | (hi << (32 - n));
    OUT[1] = hi >>> n;
  } else {
    OUT[0] = hi >>> (n - 32);
    OUT[1] = 0;
  }
}

export function asr64(lo: number, hi: number, n: number): void {
  if (n === 0) {
    OUT[0] = lo;
    OUT[1] = hi;
  } else if (n < 32) {
    OUT[0] = (lo >>> n) | (hi << (32 - n));
    OUT[1] = hi >> n;
  } else {
    OUT[0] = hi >> (n - 32);
    OUT[1] = hi >> 31;
  }
}

export function ror64(lo: number, hi: number, n: number): void {
  if (n === 0) {
    OUT[0] = lo;
    OUT[1] = hi;
  } else if (n < 32) {
    OUT[0] = (lo >>> n) | (hi << (32 - n));
    OUT[1] = (hi >>> n) | (lo << (32 - n));
  } else if (n === 32) {
    OUT[0] = hi;
    OUT[1] = lo;
  } else {
    const m = n - 32;
    OUT[0] = (hi >>> m) | (lo << (32 - m));
    OUT[1] = (lo >>> m) | (hi << (32 - m));
  }
}

/**
 * The logical operation of AND/ORR/EOR/ANDS on one 32-bit half, by the encodings' opc field
 * (0 AND, 1 ORR, 2 EOR, 3 ANDS): the operand is already inverted for BIC/ORN/EON/BICS.
 */
export function logic32(opc: number, a: number, b: number): number {
  return opc === 1 ? a | b : opc === 2 ? a ^ b : a & b;
}

export function ror32(x: number, n: number): number {
  return n === 0 ? x : (x >>> n) | (x << (32 - n));
}

/** ShiftReg(reg, shtype, amount) on 64 bits (shtype 0 LSL, 1 LSR, 2 ASR, 3 ROR). */
export function shiftReg64(lo: number, hi: number, type: number, n: number): void {
  if (type === 0) lsl64(lo, hi, n);
  else if (type === 1) lsr64(lo, hi, n);
  else if (type === 2) asr64(lo, hi, n);
  else ror64(lo, hi, n);
}

/** ShiftReg on 32 bits (amount 0..31). */
export function shiftReg32(x: number, type: number, n: number): number {
  if (n === 0) return x;
  if (type === 0) return x << n;
  if (type === 1) return x >>> n;
  if (type === 2) return x >> n;
  return ror32(x, n);
}

/**
 * ExtendReg(reg, exttype, shift) (aarch64/instrs/extendreg): UXTB/UXTH/UXTW/UXTX = 0..3,
 * SXTB/SXTH/SXTW/SXTX = 4..7, then LSL by shift (0..4).
 */
export function extendReg(lo: number, hi: number, type: number, shift: number): void {
  let l = lo;
  let h = hi;
  switch (type) {
    case 0:
      l = lo & 0xff;
      h = 0;
      break;
    case 1:
      l = lo & 0xffff;
      h = 0;
      break;
    case 2:
      h = 0;
      break;
    case 4:
      l = (lo << 24) >> 24;
      h = l >> 31;
      break;
    case 5:
      l = (lo << 16) >> 16;
      h = l >> 31;
      break;
    case 6:
      h = lo >> 31;
      break;
  }
  lsl64(l, h, shift);
}

// ---- DecodeBitMasks (aarch64/instrs/integer/bitmasks), precomputed for all N:immr:imms ----

/** wmask and tmask halves per key (N << 12 | immr << 6 | imms). */
const WM_LO = new Int32Array(8192);
const WM_HI = new Int32Array(8192);
const TM_LO = new Int32Array(8192);
const TM_HI = new Int32Array(8192);
/** 0 = reserved (len < 1); 1 = valid for bitfield moves only; 2 = valid also as a logical immediate. */
const BM_VALID = new Int8Array(8192);

function initBitMasks(): void {
  for (let key = 0; key < 8192; key++) {
    const n = key >>> 12;
    const immr = (key >>> 6) & 63;
    const imms = key & 63;
    // len = HighestSetBit(immN:NOT(imms))
    const v = (n << 6) | (~imms & 63);
    const len = 31 - Math.clz32(v);
    if (v === 0 || len < 1) continue;
    const levels = (1 << len) - 1;
    const s = imms & levels;
    const r = immr & levels;
    const esize = 1 << len;
    const d = (s - r) & levels;
    let wl = 0;
    let wh = 0;
    let tl = 0;
    let th = 0;
    for (let i = 0; i < 64; i++) {
      const e = i % esize;
      // ROR(welem, R) bit e = welem bit (e + R) mod esize; welem = Ones(S + 1).
      const w = (e + r) % esize <= s;
      const t = e <= d;
      if (i < 32) {
        if (w) wl |= 1 << i;
        if (t) tl |= 1 << i;
      } else {
        if (w) wh |= 1 << (i - 32);
        if (t) th |= 1 << (i - 32);
      }
    }
    WM_LO[key] = wl;
    WM_HI[key] = wh;
    TM_LO[key] = tl;
    TM_HI[key] = th;
    BM_VALID[key] = s === levels ? 1 : 2;
  }
}
initBitMasks();

/**
 * DecodeBitMasks(immN, imms, immr, immediate): OUT[0..1] = wmask, OUT[3..4] = tmask. Returns
 * false where the pseudo-code says UNDEFINED (len < 1, or all-ones element for an immediate).
 */
export function decodeBitMasks(n: number, imms: number, immr: number, immediate: boolean): boolean {
  const key = (n << 12) | (immr << 6) | imms;
  const ok = BM_VALID[key]!;
  if (ok === 0 || (immediate && ok !== 2)) return false;
  OUT[0] = WM_LO[key]!;
  OUT[1] = WM_HI[key]!;
  OUT[3] = TM_LO[key]!;
  OUT[4] = TM_HI[key]!;
  return true;
}

// ---- bit counting and reversal ----

export function clz64(lo: number, hi: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

/** CountLeadingSignBits on 32 bits. */
export function cls32(x: number): number {
  return Math.clz32(((x >>> 1) ^ x) & 0x7fffffff) - 1;
}

/** CountLeadingSignBits on 64 bits: CLZ of x<63:1> EOR x<62:0>, a 63-bit value. */
export function cls64(lo: number, hi: number): number {
  const yl = (lo >>> 1) ^ (hi << 31) ^ lo;
  const yh = ((hi >>> 1) ^ hi) & 0x7fffffff;
  return clz64(yl, yh) - 1;
}

export function rbit32(x: number): number {
  x = ((x >>> 1) & 0x55555555) | ((x & 0x55555555) << 1);
  x = ((x >>> 2) & 0x33333333) | ((x & 0x33333333) << 2);
  x = ((x >>> 4) & 0x0f0f0f0f) | ((x & 0x0f0f0f0f) << 4);
  x = ((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8);
  return (x >>> 16) | (x << 16);
}

export function rev32(x: number): number {
  return (x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24) | 0;
}

export function rev16of32(x: number): number {
  return ((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8) | 0;
}

// ---- multiply ----

/** Unsigned 32x32 -> 64: OUT[0] = lo, OUT[1] = hi (16-bit limbs, every partial below 2^53). */
export function umul32(a: number, b: number): void {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  OUT[0] = (p00 & 0xffff) | (mid << 16);
  OUT[1] = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
}

/** Low 64 bits of a 64x64 product: OUT[0..1]. */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): void {
  umul32(alo, blo);
  OUT[1] = (OUT[1]! + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

/** Signed 32x32 -> 64 (SMULL): OUT[0..1]. */
export function smul32(a: number, b: number): void {
  umul32(a, b);
  // (a mod 2^32)(b mod 2^32) - [a<0] b 2^32 - [b<0] a 2^32, modulo 2^64.
  let h = OUT[1]!;
  if (a < 0) h = (h - b) | 0;
  if (b < 0) h = (h - a) | 0;
  OUT[1] = h;
}

/** Bits 127:64 of the unsigned 128-bit product (UMULH): OUT[0..1]. */
export function umulh64(alo: number, ahi: number, blo: number, bhi: number): void {
  umul32(alo, blo);
  const llHi = OUT[1]! >>> 0;
  umul32(alo, bhi);
  const lhLo = OUT[0]! >>> 0;
  const lhHi = OUT[1]! >>> 0;
  umul32(ahi, blo);
  const hlLo = OUT[0]! >>> 0;
  const hlHi = OUT[1]! >>> 0;
  umul32(ahi, bhi);
  const hhLo = OUT[0]! >>> 0;
  const hhHi = OUT[1]! >>> 0;
  const mid = llHi + lhLo + hlLo; // < 3 * 2^32
  const t = hhLo + lhHi + hlHi + Math.floor(mid / TWO32); // < 4 * 2^32
  OUT[0] = t | 0;
  OUT[1] = (hhHi + Math.floor(t / TWO32)) | 0;
}

/** Bits 127:64 of the signed 128-bit product (SMULH). */
export function smulh64(alo: number, ahi: number, blo: number, bhi: number): void {
  umulh64(alo, ahi, blo, bhi);
  let l = OUT[0]!;
  let h = OUT[1]!;
  // signed = unsigned - [a<0] b 2^64 - [b<0] a 2^64; the high half loses b resp. a.
  if (ahi < 0) {
    const s = (l >>> 0) - (blo >>> 0);
    h = (h - bhi - (s < 0 ? 1 : 0)) | 0;
    l = s | 0;
  }
  if (bhi < 0) {
    const s = (l >>> 0) - (alo >>> 0);
    h = (h - ahi - (s < 0 ? 1 : 0)) | 0;
    l = s | 0;
  }
  OUT[0] = l;
  OUT[1] = h;
}

// ---- divide (UDIV/SDIV: RoundTowardsZero; x / 0 = 0) ----

/** Unsigned 64 / 64 -> OUT[0..1] = quotient. */
export function udiv64(nlo: number, nhi: number, dlo: number, dhi: number): void {
  const nl = nlo >>> 0;
  const nh = nhi >>> 0;
  const dl = dlo >>> 0;
  const dh = dhi >>> 0;
  if (dh === 0) {
    if (dl === 0) {
      OUT[0] = 0;
      OUT[1] = 0;
      return;
    }
    if (nh === 0) {
      OUT[0] = Math.floor(nl / dl) | 0;
      OUT[1] = 0;
      return;
    }
    // Long division by 16-bit digits: every partial dividend is below 2^48, so the double
    // quotients and remainders are exact.
    const qh = Math.floor(nh / dl);
    let r = nh - qh * dl;
    let a = r * 65536 + (nl >>> 16);
    const q1 = Math.floor(a / dl);
    r = a - q1 * dl;
    a = r * 65536 + (nl & 0xffff);
    const q0 = Math.floor(a / dl);
    OUT[0] = (q1 << 16) | q0 | 0; // q1 < 2^16 since r < dl
    OUT[1] = qh | 0;
    return;
  }
  // Divisor >= 2^32: quotient < 2^32; restoring division on halves, one quotient bit per step.
  let rl = 0;
  let rh = 0;
  let ql = 0;
  // 64 steps over the dividend bits: cheap enough for a rare instruction.
  for (let i = 63; i >= 0; i--) {
    // r = (r << 1) | bit i of n; a bit shifted out of r means r >= 2^64 > d
    const top = rh >>> 31;
    rh = (rh << 1) | (rl >>> 31);
    rl = (rl << 1) | (i >= 32 ? (nh >>> (i - 32)) & 1 : (nl >>> i) & 1);
    // if r >= d: r -= d, q bit i = 1 (only bits < 32 can be set)
    const ge = top === 1 || rh >>> 0 > dh || (rh >>> 0 === dh && rl >>> 0 >= dl);
    if (ge) {
      const s = (rl >>> 0) - dl;
      rh = ((rh >>> 0) - dh - (s < 0 ? 1 : 0)) | 0;
      rl = s | 0;
      if (i < 32) ql |= 1 << i;
    }
  }
  OUT[0] = ql;
  OUT[1] = 0;
}

/** Signed 64 / 64 -> OUT[0..1] (INT64_MIN / -1 = INT64_MIN, as the pseudo-code's truncation gives). */
export function sdiv64(nlo: number, nhi: number, dlo: number, dhi: number): void {
  const nneg = nhi < 0;
  const dneg = dhi < 0;
  let al = nlo;
  let ah = nhi;
  if (nneg) {
    al = -nlo | 0;
    ah = (~nhi + (nlo === 0 ? 1 : 0)) | 0;
  }
  let bl = dlo;
  let bh = dhi;
  if (dneg) {
    bl = -dlo | 0;
    bh = (~dhi + (dlo === 0 ? 1 : 0)) | 0;
  }
  udiv64(al, ah, bl, bh);
  if (nneg !== dneg) {
    const l = OUT[0]!;
    OUT[0] = -l | 0;
    OUT[1] = (~OUT[1]! + (l === 0 ? 1 : 0)) | 0;
  }
}
