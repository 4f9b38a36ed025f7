/**
 * The SIMD&FP register moves compiled C code needs without FP arithmetic: FMOV between general
 * and SIMD&FP registers (C7.2 FMOV (general)), MOVI/MVNI/ORR/BIC/FMOV (vector, immediate) with
 * AdvSIMDExpandImm, DUP (general), INS (general), UMOV and SMOV. Each checks CPACR_EL1.FPEN
 * first (AArch64.CheckFPAdvSIMDEnabled). FP arithmetic and other SIMD data processing stop the
 * vCPU as unimplemented.
 */

import { RD } from "../arch.js";
import type { A64Cpu } from "../cpu.js";

/** FMOV (general): sf = bit 31, ftype = 23:22, rmode = 20:19, opcode = 18:16. */
export function FMOV_g(c: A64Cpu, w: number): void {
  const sf = w >>> 31;
  const ftype = (w >>> 22) & 3;
  const rmode = (w >>> 19) & 3;
  const opcode = (w >>> 16) & 7;
  if (opcode < 6 || ftype === 3) {
    c.unimplemented(w, "FP<->integer conversion");
    return;
  }
  const toV = opcode === 7;
  let part: number;
  if (sf === 0 && ftype === 0 && rmode === 0) part = 0;
  else if (sf === 1 && ftype === 1 && rmode === 0) part = 1;
  else if (sf === 1 && ftype === 2 && rmode === 1) part = 2;
  else {
    c.undefined();
    return;
  }
  if (c.fpTrap()) return;
  const n = (w >>> 5) & 31;
  const d = w & 31;
  const r = c.r;
  const v = c.vreg;
  if (toV) {
    if (part === 2) {
      v[4 * d + 2] = r[2 * n]!;
      v[4 * d + 3] = r[2 * n + 1]!;
    } else {
      v[4 * d] = r[2 * n]!;
      v[4 * d + 1] = part === 1 ? r[2 * n + 1]! : 0;
      v[4 * d + 2] = 0;
      v[4 * d + 3] = 0;
    }
  } else {
    const dd = RD[d]!;
    const b = part === 2 ? 4 * n + 2 : 4 * n;
    r[2 * dd] = v[b]!;
    r[2 * dd + 1] = part === 0 ? 0 : v[b + 1]!;
  }
}

/** VFPExpandImm for single precision. */
function fpImm32(imm8: number): number {
  const b = (imm8 >>> 6) & 1;
  const exp = (b ? 0x7c : 0x80) | ((imm8 >>> 4) & 3);
  return ((imm8 >>> 7) << 31) | (exp << 23) | ((imm8 & 15) << 19);
}

/** VFPExpandImm for double precision: the upper word (the lower is zero). */
function fpImm64hi(imm8: number): number {
  const b = (imm8 >>> 6) & 1;
  const exp = (b ? 0x3fc : 0x400) | ((imm8 >>> 4) & 3);
  return ((imm8 >>> 7) << 31) | (exp << 20) | ((imm8 & 15) << 16);
}

/**
 * AdvSIMD modified immediate (MOVI, MVNI, ORR, BIC, FMOV vector): Q = bit 30, op = bit 29,
 * cmode = 15:12, o2 = bit 11, a:b:c:d:e:f:g:h = 18:16, 9:5.
 */
export function MOVI(c: A64Cpu, w: number): void {
  const q = (w >>> 30) & 1;
  const op = (w >>> 29) & 1;
  const cmode = (w >>> 12) & 15;
  if ((w >>> 11) & 1) {
    c.unimplemented(w, "FMOV (vector, immediate, half-precision)");
    return;
  }
  if (cmode === 15 && op === 1 && q === 0) {
    c.undefined();
    return;
  }
  if (c.fpTrap()) return;
  const imm8 = (((w >>> 16) & 7) << 5) | ((w >>> 5) & 31);
  // AdvSIMDExpandImm(op, cmode, imm8) as two words (the 64-bit pattern, replicated for Q).
  let lo: number;
  let hi: number;
  switch (cmode >>> 1) {
    case 0:
    case 1:
    case 2:
    case 3:
      lo = hi = imm8 << (8 * (cmode >>> 1));
      break;
    case 4:
    case 5: {
      const h = imm8 << (8 * ((cmode >>> 1) & 1));
      lo = hi = h | (h << 16);
      break;
    }
    case 6:
      lo = hi = (cmode & 1) === 0 ? (imm8 << 8) | 0xff : (imm8 << 16) | 0xffff;
      break;
    default:
      if (cmode === 14 && op === 0) lo = hi = imm8 * 0x01010101;
      else if (cmode === 14) {
        lo = 0;
        hi = 0;
        for (let i = 0; i < 8; i++) {
          const byte = (imm8 >>> i) & 1 ? 0xff : 0;
          if (i < 4) lo |= byte << (8 * i);
          else hi |= byte << (8 * (i - 4));
        }
      } else if (op === 0) lo = hi = fpImm32(imm8);
      else {
        lo = 0;
        hi = fpImm64hi(imm8);
      }
  }
  const v = c.vreg;
  const d = 4 * (w & 31);
  const shifted = cmode < 12 && (cmode & 1) === 1; // ORR / BIC
  if (shifted) {
    const bic = op === 1;
    for (let k = 0; k < (q ? 4 : 2); k++) {
      const m = (k & 1) === 0 ? lo : hi;
      v[d + k] = bic ? v[d + k]! & ~m : v[d + k]! | m;
    }
  } else {
    const inv = op === 1 && cmode < 14; // MVNI
    v[d] = inv ? ~lo : lo;
    v[d + 1] = inv ? ~hi : hi;
    v[d + 2] = q ? v[d]! : 0;
    v[d + 3] = q ? v[d + 1]! : 0;
  }
  if (!q && shifted) {
    v[d + 2] = 0;
    v[d + 3] = 0;
  }
}

/** Element size log2 from imm5 (lowest set bit), or -1 when reserved. */
function elemSize(imm5: number): number {
  if (imm5 & 1) return 0;
  if (imm5 & 2) return 1;
  if (imm5 & 4) return 2;
  if (imm5 & 8) return 3;
  return -1;
}

/** Read element `idx` of size 2^size bytes of V[n] as lo/hi into `out`. */
function getElem(v: Int32Array, n: number, size: number, idx: number, out: Int32Array): void {
  if (size === 3) {
    out[0] = v[4 * n + 2 * idx]!;
    out[1] = v[4 * n + 2 * idx + 1]!;
    return;
  }
  const per = 4 >>> size; // elements per word
  const word = v[4 * n + Math.floor(idx / per)]!;
  const bits = 8 << size;
  const sh = (idx % per) * bits;
  out[0] = bits === 32 ? word : (word >>> sh) & ((1 << bits) - 1);
  out[1] = 0;
}

function setElem(v: Int32Array, d: number, size: number, idx: number, lo: number, hi: number): void {
  if (size === 3) {
    v[4 * d + 2 * idx] = lo;
    v[4 * d + 2 * idx + 1] = hi;
    return;
  }
  const per = 4 >>> size;
  const i = 4 * d + Math.floor(idx / per);
  const bits = 8 << size;
  if (bits === 32) {
    v[i] = lo;
    return;
  }
  const sh = (idx % per) * bits;
  const m = ((1 << bits) - 1) << sh;
  v[i] = (v[i]! & ~m) | ((lo << sh) & m);
}

const E = new Int32Array(2);

/** DUP (general): Vd.<T> = replicate(Rn<esize-1:0>). */
export function DUP_g(c: A64Cpu, w: number): void {
  const q = (w >>> 30) & 1;
  const size = elemSize((w >>> 16) & 31);
  if (size < 0 || (size === 3 && q === 0)) {
    c.undefined();
    return;
  }
  if (c.fpTrap()) return;
  const n = (w >>> 5) & 31;
  const d = w & 31;
  const lo = c.r[2 * n]!;
  const hi = c.r[2 * n + 1]!;
  const v = c.vreg;
  const count = (q ? 16 : 8) >>> size;
  for (let i = 0; i < count; i++) setElem(v, d, size, i, lo, hi);
  if (!q) {
    v[4 * d + 2] = 0;
    v[4 * d + 3] = 0;
  }
}

/** INS (general): Vd.<Ts>[index] = Rn. */
export function INS_g(c: A64Cpu, w: number): void {
  const imm5 = (w >>> 16) & 31;
  const size = elemSize(imm5);
  if (size < 0) {
    c.undefined();
    return;
  }
  if (c.fpTrap()) return;
  const n = (w >>> 5) & 31;
  setElem(c.vreg, w & 31, size, imm5 >>> (size + 1), c.r[2 * n]!, c.r[2 * n + 1]!);
}

/** UMOV: Wd/Xd = zero-extended element (X only for D, W for B/H/S). */
export function UMOV(c: A64Cpu, w: number): void {
  const q = (w >>> 30) & 1;
  const imm5 = (w >>> 16) & 31;
  const size = elemSize(imm5);
  if (size < 0 || (q === 1) !== (size === 3)) {
    c.undefined();
    return;
  }
  if (c.fpTrap()) return;
  getElem(c.vreg, (w >>> 5) & 31, size, imm5 >>> (size + 1), E);
  const d = RD[w & 31]!;
  c.r[2 * d] = E[0]!;
  c.r[2 * d + 1] = E[1]!;
}

/** SMOV: Wd/Xd = sign-extended element (B/H to W or X, S to X only). */
export function SMOV(c: A64Cpu, w: number): void {
  const q = (w >>> 30) & 1;
  const imm5 = (w >>> 16) & 31;
  const size = elemSize(imm5);
  if (size < 0 || size === 3 || (size === 2 && q === 0)) {
    c.undefined();
    return;
  }
  if (c.fpTrap()) return;
  getElem(c.vreg, (w >>> 5) & 31, size, imm5 >>> (size + 1), E);
  const lo = size === 0 ? (E[0]! << 24) >> 24 : size === 1 ? (E[0]! << 16) >> 16 : E[0]!;
  const d = RD[w & 31]!;
  c.r[2 * d] = lo;
  c.r[2 * d + 1] = q ? lo >> 31 : 0;
}
