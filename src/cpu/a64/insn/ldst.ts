/**
 * Loads and stores of general-purpose and SIMD&FP registers (Arm ARM C4.1.66): unsigned offset,
 * unscaled, pre- and post-index, unprivileged, register offset, literal and pairs.
 *
 * Every access computes its address first (A64Cpu.dataAddr: address size and alignment faults at
 * EL1), then reads or writes through the translator (a stage-2 fault throws and the run loop
 * restarts the instruction, so registers are written only after every read succeeded), then
 * writes back the base register.
 */

import { RD, RSP } from "../arch.js";
import { extendReg, OUT } from "../bits.js";
import type { A64Cpu } from "../cpu.js";

const TWO32 = 4294967296;

/** OUT[0..1] = X[slot] + off (off a small signed integer). */
function addOffset(c: A64Cpu, slot: number, off: number): void {
  const lo = c.r[2 * slot]!;
  const s = (lo >>> 0) + off;
  OUT[0] = s | 0;
  OUT[1] = (c.r[2 * slot + 1]! + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0;
}

/**
 * GPR load or store of 2^size bytes at the address in OUT[0..1]: opc 00 store, 01 load
 * (zero-extend), 10 load sign-extended to 64 bits, 11 load sign-extended to 32 bits. Returns false
 * when the access took an exception (the caller then must not write back).
 */
function gprAccess(c: A64Cpu, size: number, opc: number, t: number): boolean {
  const bytes = 1 << size;
  const a = c.dataAddr(OUT[0]!, OUT[1]!, bytes, opc === 0);
  if (a < 0) return false;
  const mem = c.mem;
  const r = c.r;
  if (opc === 0) {
    const lo = r[2 * t]!;
    if (size === 3) {
      const hi = r[2 * t + 1]!;
      mem.write32(a, lo);
      mem.write32(a + 4, hi);
    } else if (size === 2) mem.write32(a, lo);
    else if (size === 1) mem.write16(a, lo & 0xffff);
    else mem.write8(a, lo & 0xff);
    return true;
  }
  let lo: number;
  let hi = 0;
  if (size === 3) {
    lo = mem.read32(a);
    hi = mem.read32(a + 4);
  } else if (size === 2) {
    lo = mem.read32(a) | 0;
    if (opc === 2) hi = lo >> 31;
  } else if (size === 1) {
    lo = mem.read16(a);
    if (opc >= 2) {
      lo = (lo << 16) >> 16;
      if (opc === 2) hi = lo >> 31;
    }
  } else {
    lo = mem.read8(a);
    if (opc >= 2) {
      lo = (lo << 24) >> 24;
      if (opc === 2) hi = lo >> 31;
    }
  }
  const d = RD[t]!;
  r[2 * d] = lo;
  r[2 * d + 1] = opc === 3 ? 0 : hi;
  return true;
}

/**
 * SIMD&FP load or store of `bytes` (1..16) at OUT[0..1] to/from V[t]; a load zeroes the rest of
 * the register. Returns false when the access took an exception.
 */
function fpAccess(c: A64Cpu, bytes: number, load: boolean, t: number): boolean {
  const a = c.dataAddr(OUT[0]!, OUT[1]!, bytes, !load);
  if (a < 0) return false;
  if (load) {
    fpRead(c, a, bytes, 0);
    c.vreg.set(FPBUF.subarray(0, 4), 4 * t);
  } else fpWrite(c, a, bytes, t);
  return true;
}

/** Scratch for SIMD&FP loads: two registers' worth of words. */
const FPBUF = new Int32Array(8);

/** Read `bytes` at a into FPBUF[at..at+3], zero-extended to 128 bits. */
function fpRead(c: A64Cpu, a: number, bytes: number, at: number): void {
  const mem = c.mem;
  if (bytes >= 4) {
    FPBUF[at] = mem.read32(a);
    FPBUF[at + 1] = bytes >= 8 ? mem.read32(a + 4) : 0;
    FPBUF[at + 2] = bytes === 16 ? mem.read32(a + 8) : 0;
    FPBUF[at + 3] = bytes === 16 ? mem.read32(a + 12) : 0;
  } else {
    FPBUF[at] = bytes === 2 ? mem.read16(a) : mem.read8(a);
    FPBUF[at + 1] = 0;
    FPBUF[at + 2] = 0;
    FPBUF[at + 3] = 0;
  }
}

/** Write the low `bytes` of V[t] at a. */
function fpWrite(c: A64Cpu, a: number, bytes: number, t: number): void {
  const mem = c.mem;
  const v = c.vreg;
  const b = 4 * t;
  if (bytes >= 4) {
    mem.write32(a, v[b]!);
    if (bytes >= 8) mem.write32(a + 4, v[b + 1]!);
    if (bytes === 16) {
      mem.write32(a + 8, v[b + 2]!);
      mem.write32(a + 12, v[b + 3]!);
    }
  } else if (bytes === 2) mem.write16(a, v[b]! & 0xffff);
  else mem.write8(a, v[b]! & 0xff);
}

/** Base register slot for Rn (SP when 31), or -1 after an SP alignment fault. */
function base(c: A64Cpu, w: number): number {
  const n = (w >>> 5) & 31;
  if (n === 31 && c.spAlignFault()) return -1;
  return RSP[n]!;
}

/**
 * Single-register access, GPR or SIMD&FP, by the size/V/opc fields (bits 31:30, 26, 23:22), at
 * OUT[0..1]. PRFM (size 11, opc 10) is a hint: no access, no fault. Returns false on exception.
 */
function single(c: A64Cpu, w: number): boolean {
  const size = w >>> 30;
  const opc = (w >>> 22) & 3;
  const t = w & 31;
  if ((w >>> 26) & 1) {
    if (c.fpTrap()) return false;
    const q = (opc & 2) !== 0;
    if (q && size !== 0) {
      c.undefined();
      return false;
    }
    return fpAccess(c, q ? 16 : 1 << size, (opc & 1) === 1, t);
  }
  if (opc >= 2 && size >= 2) {
    if (size === 3 && opc === 2) return true; // PRFM
    if (opc === 3) {
      c.undefined();
      return false;
    }
  }
  return gprAccess(c, size, opc, t);
}

/** Element size in bytes of a single access (for the scaled offsets). */
function scaleOf(w: number): number {
  const size = w >>> 30;
  return (w >>> 26) & 1 && ((w >>> 23) & 1) !== 0 ? 4 : size;
}

// ---- the fast unsigned-offset forms of the common loads and stores ----

export function LDR_x_ui(c: A64Cpu, w: number): void {
  const n = (w >>> 5) & 31;
  if (n === 31 && c.spAlignFault()) return;
  const b = 2 * RSP[n]!;
  const r = c.r;
  const s = (r[b]! >>> 0) + (((w >>> 10) & 0xfff) << 3);
  const hi = r[b + 1]! + (s > 0xffffffff ? 1 : 0);
  const a = c.dataAddr(s | 0, hi | 0, 8, false);
  if (a < 0) return;
  const lo = c.mem.read32(a);
  const h = c.mem.read32(a + 4);
  const d = 2 * RD[w & 31]!;
  r[d] = lo;
  r[d + 1] = h;
}

export function STR_x_ui(c: A64Cpu, w: number): void {
  const n = (w >>> 5) & 31;
  if (n === 31 && c.spAlignFault()) return;
  const b = 2 * RSP[n]!;
  const r = c.r;
  const s = (r[b]! >>> 0) + (((w >>> 10) & 0xfff) << 3);
  const hi = r[b + 1]! + (s > 0xffffffff ? 1 : 0);
  const a = c.dataAddr(s | 0, hi | 0, 8, true);
  if (a < 0) return;
  const t = 2 * (w & 31);
  c.mem.write32(a, r[t]!);
  c.mem.write32(a + 4, r[t + 1]!);
}

export function LDR_w_ui(c: A64Cpu, w: number): void {
  const n = (w >>> 5) & 31;
  if (n === 31 && c.spAlignFault()) return;
  const b = 2 * RSP[n]!;
  const r = c.r;
  const s = (r[b]! >>> 0) + (((w >>> 10) & 0xfff) << 2);
  const hi = r[b + 1]! + (s > 0xffffffff ? 1 : 0);
  const a = c.dataAddr(s | 0, hi | 0, 4, false);
  if (a < 0) return;
  const v = c.mem.read32(a);
  const d = 2 * RD[w & 31]!;
  r[d] = v;
  r[d + 1] = 0;
}

export function STR_w_ui(c: A64Cpu, w: number): void {
  const n = (w >>> 5) & 31;
  if (n === 31 && c.spAlignFault()) return;
  const b = 2 * RSP[n]!;
  const r = c.r;
  const s = (r[b]! >>> 0) + (((w >>> 10) & 0xfff) << 2);
  const hi = r[b + 1]! + (s > 0xffffffff ? 1 : 0);
  const a = c.dataAddr(s | 0, hi | 0, 4, true);
  if (a < 0) return;
  c.mem.write32(a, r[2 * (w & 31)]!);
}

/** STR Xt, [Xn|SP], #imm9 (post-index), the store of copy and fill loops. */
export function STR_x_post(c: A64Cpu, w: number): void {
  const n = (w >>> 5) & 31;
  if (n === 31 && c.spAlignFault()) return;
  const b = 2 * RSP[n]!;
  const r = c.r;
  const lo = r[b]!;
  const hi = r[b + 1]!;
  const a = c.dataAddr(lo, hi, 8, true);
  if (a < 0) return;
  const t = 2 * (w & 31);
  c.mem.write32(a, r[t]!);
  c.mem.write32(a + 4, r[t + 1]!);
  const s = (lo >>> 0) + ((w << 11) >> 23);
  r[b] = s;
  r[b + 1] = hi + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0);
}

/** LDR Xt, [Xn|SP], #imm9 (post-index). */
export function LDR_x_post(c: A64Cpu, w: number): void {
  const n = (w >>> 5) & 31;
  if (n === 31 && c.spAlignFault()) return;
  const b = 2 * RSP[n]!;
  const r = c.r;
  const lo = r[b]!;
  const hi = r[b + 1]!;
  const a = c.dataAddr(lo, hi, 8, false);
  if (a < 0) return;
  const vl = c.mem.read32(a);
  const vh = c.mem.read32(a + 4);
  // Rt before the writeback, as the general form (and QEMU) order them: with Rt == Rn, which is
  // CONSTRAINED UNPREDICTABLE, the written-back address wins.
  const d = 2 * RD[w & 31]!;
  r[d] = vl;
  r[d + 1] = vh;
  const s = (lo >>> 0) + ((w << 11) >> 23);
  r[b] = s;
  r[b + 1] = hi + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0);
}

// ---- the general forms ----

/** LDR/STR/LDRS* (immediate, unsigned offset), GPR and SIMD&FP. */
export function LDST_ui(c: A64Cpu, w: number): void {
  const b = base(c, w);
  if (b < 0) return;
  addOffset(c, b, ((w >>> 10) & 0xfff) << scaleOf(w));
  single(c, w);
}

/** LDUR/STUR and LDTR/STTR (unprivileged: with the MMU off, the same access as at EL1). */
export function LDST_unscaled(c: A64Cpu, w: number): void {
  const b = base(c, w);
  if (b < 0) return;
  addOffset(c, b, (w << 11) >> 23);
  single(c, w);
}

/** Pre- (bit 11 = 1) and post-indexed (bit 11 = 0) immediate forms, with base writeback. */
export function LDST_indexed(c: A64Cpu, w: number): void {
  const b = base(c, w);
  if (b < 0) return;
  const imm = (w << 11) >> 23;
  const pre = ((w >>> 11) & 1) === 1;
  addOffset(c, b, imm);
  const nl = OUT[0]!;
  const nh = OUT[1]!;
  if (!pre) {
    OUT[0] = c.r[2 * b]!;
    OUT[1] = c.r[2 * b + 1]!;
  }
  if (!single(c, w)) return;
  c.r[2 * b] = nl;
  c.r[2 * b + 1] = nh;
}

/** Register offset: X[n] + ExtendReg(m, option, S ? scale : 0); option<1> must be 1. */
export function LDST_reg(c: A64Cpu, w: number): void {
  const option = (w >>> 13) & 7;
  if ((option & 2) === 0) {
    c.undefined();
    return;
  }
  const b = base(c, w);
  if (b < 0) return;
  const m = (w >>> 16) & 31;
  extendReg(c.r[2 * m]!, c.r[2 * m + 1]!, option, (w >>> 12) & 1 ? scaleOf(w) : 0);
  const ol = OUT[0]!;
  const oh = OUT[1]!;
  const s = (c.r[2 * b]! >>> 0) + (ol >>> 0);
  OUT[0] = s | 0;
  OUT[1] = (c.r[2 * b + 1]! + oh + (s > 0xffffffff ? 1 : 0)) | 0;
  single(c, w);
}

/** LDR (literal), LDRSW (literal), PRFM (literal) and the SIMD&FP LDR (literal). */
export function LDR_lit(c: A64Cpu, w: number): void {
  const opc = w >>> 30;
  const t = w & 31;
  const a = c.pc - 4 + (((w << 8) >> 13) << 2);
  if (a < 0) {
    // Below zero wraps to the top of the 64-bit space: beyond PARange, an address size fault.
    c.dataAbortEl1(0x00, a | 0, -1, false);
    return;
  }
  OUT[0] = a % TWO32;
  OUT[1] = Math.floor(a / TWO32);
  if ((w >>> 26) & 1) {
    if (c.fpTrap()) return;
    if (opc === 3) {
      c.undefined();
      return;
    }
    fpAccess(c, 4 << opc, true, t);
    return;
  }
  if (opc === 3) return; // PRFM
  gprAccess(c, opc === 0 ? 2 : opc === 1 ? 3 : 2, opc === 2 ? 2 : 1, t);
}

/**
 * LDP/STP/LDNP/STNP/LDPSW, GPR and SIMD&FP: bits 24:23 = 00 no-allocate (offset), 01 post-index,
 * 10 signed offset, 11 pre-index; L = bit 22.
 */
export function LDST_pair(c: A64Cpu, w: number): void {
  const opc = w >>> 30;
  const fp = ((w >>> 26) & 1) === 1;
  const load = ((w >>> 22) & 1) === 1;
  const mode = (w >>> 23) & 3;
  if (opc === 3 || (!fp && opc === 1 && (!load || mode === 0))) {
    c.undefined();
    return;
  }
  if (fp && c.fpTrap()) return;
  const b = base(c, w);
  if (b < 0) return;
  const bytes = fp ? 4 << opc : opc === 2 ? 8 : 4;
  const t = w & 31;
  const t2 = (w >>> 10) & 31;
  addOffset(c, b, ((w << 10) >> 25) * bytes);
  const nl = OUT[0]!;
  const nh = OUT[1]!;
  if (mode === 1) {
    OUT[0] = c.r[2 * b]!;
    OUT[1] = c.r[2 * b + 1]!;
  }
  const al = OUT[0]!;
  const ah = OUT[1]!;
  const a = c.dataAddr(al, ah, bytes, !load);
  if (a < 0) return;
  const a2 = a + bytes;
  if (a2 >= c.paLimit) {
    c.dataAbortEl1(0x00, (a2 % TWO32) | 0, Math.floor(a2 / TWO32), !load);
    return;
  }
  OUT[0] = (a % TWO32) | 0;
  OUT[1] = Math.floor(a / TWO32);
  if (fp) {
    // Both elements are read before either register is written (a fault restarts cleanly).
    if (load) {
      fpRead(c, a, bytes, 0);
      fpRead(c, a2, bytes, 4);
      c.vreg.set(FPBUF.subarray(0, 4), 4 * t);
      c.vreg.set(FPBUF.subarray(4, 8), 4 * t2);
    } else {
      fpWrite(c, a, bytes, t);
      fpWrite(c, a2, bytes, t2);
    }
  } else if (load) {
    const mem = c.mem;
    let l1: number;
    let h1: number;
    let l2: number;
    let h2: number;
    if (bytes === 8) {
      l1 = mem.read32(a);
      h1 = mem.read32(a + 4);
      l2 = mem.read32(a2);
      h2 = mem.read32(a2 + 4);
    } else {
      l1 = mem.read32(a) | 0;
      l2 = mem.read32(a2) | 0;
      h1 = opc === 1 ? l1 >> 31 : 0;
      h2 = opc === 1 ? l2 >> 31 : 0;
    }
    const r = c.r;
    const d1 = RD[t]!;
    const d2 = RD[t2]!;
    r[2 * d1] = l1;
    r[2 * d1 + 1] = h1;
    r[2 * d2] = l2;
    r[2 * d2 + 1] = h2;
  } else {
    const mem = c.mem;
    const r = c.r;
    // Read both sources before the writeback (STP with Rt == Rn stores the old base).
    const l1 = r[2 * t]!;
    const h1 = r[2 * t + 1]!;
    const l2 = r[2 * t2]!;
    const h2 = r[2 * t2 + 1]!;
    mem.write32(a, l1);
    if (bytes === 8) mem.write32(a + 4, h1);
    mem.write32(a2, l2);
    if (bytes === 8) mem.write32(a2 + 4, h2);
  }
  if (mode === 1 || mode === 3) {
    c.r[2 * b] = nl;
    c.r[2 * b + 1] = nh;
  }
}
