/**
 * Data processing, immediate and register (Arm ARM C4.1.86 / C4.1.88): one handler per
 * instruction, each taking the raw word and reading its fields as the encoding diagram names them
 * (sf, op, S, Rn, Rd, ...). The pseudo-code helpers are in ../bits.ts.
 */

import { RD, RSP } from "../arch.js";
import {
  addWithCarry32,
  addWithCarry64,
  cls32,
  cls64,
  clz64,
  decodeBitMasks,
  extendReg,
  logic32,
  mul64,
  OUT,
  rbit32,
  rev16of32,
  rev32,
  ror32,
  ror64,
  sdiv64,
  shiftReg32,
  shiftReg64,
  smul32,
  smulh64,
  udiv64,
  umul32,
  umulh64,
} from "../bits.js";
import type { A64Cpu } from "../cpu.js";
import { crc32Update } from "../crc.js";

const flags = (c: A64Cpu, nzcv: number): void => {
  c.nf = (nzcv >>> 3) & 1;
  c.zf = (nzcv >>> 2) & 1;
  c.cf = (nzcv >>> 1) & 1;
  c.vf = nzcv & 1;
};

/** NZ from a result, C = V = 0 (the logical instructions' flags). */
const logicFlags = (c: A64Cpu, lo: number, hi: number, sf: boolean): void => {
  c.nf = sf ? hi >>> 31 : lo >>> 31;
  c.zf = (sf ? (lo | hi) === 0 : lo === 0) ? 1 : 0;
  c.cf = 0;
  c.vf = 0;
};

/** ConditionHolds(cond) (shared/functions/system/ConditionHolds). */
export function conditionHolds(c: A64Cpu, cond: number): boolean {
  let r: boolean;
  switch (cond >>> 1) {
    case 0:
      r = c.zf === 1;
      break;
    case 1:
      r = c.cf === 1;
      break;
    case 2:
      r = c.nf === 1;
      break;
    case 3:
      r = c.vf === 1;
      break;
    case 4:
      r = c.cf === 1 && c.zf === 0;
      break;
    case 5:
      r = c.nf === c.vf;
      break;
    case 6:
      r = c.nf === c.vf && c.zf === 0;
      break;
    default:
      return true; // AL and NV
  }
  return (cond & 1) !== 0 ? !r : r;
}

// ---- add/subtract (immediate) ----

export function ADD_i(c: A64Cpu, w: number): void {
  const r = c.r;
  const n = RSP[(w >>> 5) & 31]!;
  const d = RSP[w & 31]!;
  const imm = ((w >>> 10) & 0xfff) << ((w >>> 22) & 1 ? 12 : 0);
  if (w < 0) {
    const lo = r[2 * n]!;
    const s = (lo >>> 0) + imm;
    r[2 * d + 1] = r[2 * n + 1]! + (s > 0xffffffff ? 1 : 0);
    r[2 * d] = s;
  } else {
    r[2 * d] = r[2 * n]! + imm;
    r[2 * d + 1] = 0;
  }
}

export function SUB_i(c: A64Cpu, w: number): void {
  const r = c.r;
  const n = RSP[(w >>> 5) & 31]!;
  const d = RSP[w & 31]!;
  const imm = ((w >>> 10) & 0xfff) << ((w >>> 22) & 1 ? 12 : 0);
  if (w < 0) {
    const lo = r[2 * n]!;
    const s = (lo >>> 0) - imm;
    r[2 * d + 1] = r[2 * n + 1]! - (s < 0 ? 1 : 0);
    r[2 * d] = s;
  } else {
    r[2 * d] = r[2 * n]! - imm;
    r[2 * d + 1] = 0;
  }
}

function addsubImmFlags(c: A64Cpu, w: number, sub: boolean): void {
  const r = c.r;
  const n = RSP[(w >>> 5) & 31]!;
  const d = RD[w & 31]!;
  const imm = ((w >>> 10) & 0xfff) << ((w >>> 22) & 1 ? 12 : 0);
  if (w < 0) addWithCarry64(r[2 * n]!, r[2 * n + 1]!, sub ? ~imm : imm, sub ? -1 : 0, sub ? 1 : 0);
  else addWithCarry32(r[2 * n]!, sub ? ~imm : imm, sub ? 1 : 0);
  r[2 * d] = OUT[0]!;
  r[2 * d + 1] = OUT[1]!;
  flags(c, OUT[2]!);
}

export function ADDS_i(c: A64Cpu, w: number): void {
  addsubImmFlags(c, w, false);
}

export function SUBS_i(c: A64Cpu, w: number): void {
  addsubImmFlags(c, w, true);
}

// ---- add/subtract (shifted register, extended register, with carry) ----

function addsubShifted(c: A64Cpu, w: number, sub: boolean, setFlags: boolean): void {
  const r = c.r;
  const m = (w >>> 16) & 31;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  const type = (w >>> 22) & 3;
  const amt = (w >>> 10) & 63;
  if (type === 3 || (w >= 0 && amt >= 32)) {
    c.undefined();
    return;
  }
  if (w < 0) {
    shiftReg64(r[2 * m]!, r[2 * m + 1]!, type, amt);
    const bl = OUT[0]!;
    const bh = OUT[1]!;
    addWithCarry64(r[2 * n]!, r[2 * n + 1]!, sub ? ~bl : bl, sub ? ~bh : bh, sub ? 1 : 0);
  } else {
    const b = shiftReg32(r[2 * m]!, type, amt);
    addWithCarry32(r[2 * n]!, sub ? ~b : b, sub ? 1 : 0);
  }
  r[2 * d] = OUT[0]!;
  r[2 * d + 1] = OUT[1]!;
  if (setFlags) flags(c, OUT[2]!);
}

export function ADD_r(c: A64Cpu, w: number): void {
  if (w < 0 && (w & 0x00c0fc00) === 0) {
    // X form, LSL #0: the common `add xd, xn, xm`, without the ShiftReg/AddWithCarry round trip.
    const r = c.r;
    const m = (w >>> 16) & 31;
    const n = (w >>> 5) & 31;
    const d = RD[w & 31]!;
    const s = (r[2 * n]! >>> 0) + (r[2 * m]! >>> 0);
    r[2 * d + 1] = r[2 * n + 1]! + r[2 * m + 1]! + (s > 0xffffffff ? 1 : 0);
    r[2 * d] = s;
    return;
  }
  addsubShifted(c, w, false, false);
}
export function ADDS_r(c: A64Cpu, w: number): void {
  addsubShifted(c, w, false, true);
}
export function SUB_r(c: A64Cpu, w: number): void {
  addsubShifted(c, w, true, false);
}
export function SUBS_r(c: A64Cpu, w: number): void {
  if (w < 0 && (w & 0x00c0fc00) === 0) {
    // X form, LSL #0 (`cmp xn, xm`, `subs xd, xn, xm`): AddWithCarry(x, NOT(y), 1) written out.
    const r = c.r;
    const m = (w >>> 16) & 31;
    const n = (w >>> 5) & 31;
    const d = RD[w & 31]!;
    const al = r[2 * n]!;
    const ah = r[2 * n + 1]!;
    const bl = r[2 * m]!;
    const bh = r[2 * m + 1]!;
    const l = (al >>> 0) - (bl >>> 0);
    const h = (ah >>> 0) - (bh >>> 0) - (l < 0 ? 1 : 0);
    const rl = l | 0;
    const rh = h | 0;
    r[2 * d] = rl;
    r[2 * d + 1] = rh;
    c.nf = rh >>> 31;
    c.zf = (rl | rh) === 0 ? 1 : 0;
    c.cf = h >= 0 ? 1 : 0;
    c.vf = ((ah ^ bh) & (ah ^ rh)) < 0 ? 1 : 0;
    return;
  }
  addsubShifted(c, w, true, true);
}

function addsubExtended(c: A64Cpu, w: number, sub: boolean, setFlags: boolean): void {
  const r = c.r;
  const m = (w >>> 16) & 31;
  const n = RSP[(w >>> 5) & 31]!;
  const d = setFlags ? RD[w & 31]! : RSP[w & 31]!;
  const option = (w >>> 13) & 7;
  const shift = (w >>> 10) & 7;
  if (shift > 4) {
    c.undefined();
    return;
  }
  extendReg(r[2 * m]!, r[2 * m + 1]!, option, shift);
  const bl = OUT[0]!;
  const bh = OUT[1]!;
  if (w < 0) addWithCarry64(r[2 * n]!, r[2 * n + 1]!, sub ? ~bl : bl, sub ? ~bh : bh, sub ? 1 : 0);
  else addWithCarry32(r[2 * n]!, sub ? ~bl : bl, sub ? 1 : 0);
  r[2 * d] = OUT[0]!;
  r[2 * d + 1] = OUT[1]!;
  if (setFlags) flags(c, OUT[2]!);
}

export function ADD_x(c: A64Cpu, w: number): void {
  addsubExtended(c, w, false, false);
}
export function ADDS_x(c: A64Cpu, w: number): void {
  addsubExtended(c, w, false, true);
}
export function SUB_x(c: A64Cpu, w: number): void {
  addsubExtended(c, w, true, false);
}
export function SUBS_x(c: A64Cpu, w: number): void {
  addsubExtended(c, w, true, true);
}

function addsubCarry(c: A64Cpu, w: number, sub: boolean, setFlags: boolean): void {
  const r = c.r;
  const m = (w >>> 16) & 31;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  const bl = r[2 * m]!;
  const bh = r[2 * m + 1]!;
  if (w < 0) addWithCarry64(r[2 * n]!, r[2 * n + 1]!, sub ? ~bl : bl, sub ? ~bh : bh, c.cf);
  else addWithCarry32(r[2 * n]!, sub ? ~bl : bl, c.cf);
  r[2 * d] = OUT[0]!;
  r[2 * d + 1] = OUT[1]!;
  if (setFlags) flags(c, OUT[2]!);
}

export function ADC(c: A64Cpu, w: number): void {
  addsubCarry(c, w, false, false);
}
export function ADCS(c: A64Cpu, w: number): void {
  addsubCarry(c, w, false, true);
}
export function SBC(c: A64Cpu, w: number): void {
  addsubCarry(c, w, true, false);
}
export function SBCS(c: A64Cpu, w: number): void {
  addsubCarry(c, w, true, true);
}

// ---- logical ----

/** AND/ORR/EOR/ANDS (immediate): opc = bits 30:29; Rd is SP except for ANDS. */
export function LOGIC_i(c: A64Cpu, w: number): void {
  const r = c.r;
  const sf = w < 0;
  const nbit = (w >>> 22) & 1;
  if (!sf && nbit === 1) {
    c.undefined();
    return;
  }
  if (!decodeBitMasks(nbit, (w >>> 10) & 63, (w >>> 16) & 63, true)) {
    c.undefined();
    return;
  }
  const ml = OUT[0]!;
  const mh = sf ? OUT[1]! : 0;
  const opc = (w >>> 29) & 3;
  const n = (w >>> 5) & 31;
  const d = opc === 3 ? RD[w & 31]! : RSP[w & 31]!;
  const al = r[2 * n]!;
  const ah = sf ? r[2 * n + 1]! : 0;
  const lo = logic32(opc, al, ml);
  const hi = logic32(opc, ah, mh);
  r[2 * d] = lo;
  r[2 * d + 1] = hi;
  if (opc === 3) logicFlags(c, lo, hi, sf);
}

/** AND/BIC/ORR/ORN/EOR/EON/ANDS/BICS (shifted register): opc = bits 30:29, N = bit 21. */
export function LOGIC_r(c: A64Cpu, w: number): void {
  const r = c.r;
  if (w < 0 && (w & 0x20e0fc00) === 0) {
    // X form of AND/ORR/EOR (opc 00..10, no flags), N = 0, LSL #0: `orr xd, xzr, xm` (MOV) etc.
    const m = (w >>> 16) & 31;
    const n = (w >>> 5) & 31;
    const d = RD[w & 31]!;
    const opc = (w >>> 29) & 3;
    const bl = r[2 * m]!;
    const bh = r[2 * m + 1]!;
    const al = r[2 * n]!;
    const ah = r[2 * n + 1]!;
    r[2 * d] = logic32(opc, al, bl);
    r[2 * d + 1] = logic32(opc, ah, bh);
    return;
  }
  const sf = w < 0;
  const amt = (w >>> 10) & 63;
  if (!sf && amt >= 32) {
    c.undefined();
    return;
  }
  const m = (w >>> 16) & 31;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  const type = (w >>> 22) & 3;
  let bl: number;
  let bh: number;
  if (sf) {
    shiftReg64(r[2 * m]!, r[2 * m + 1]!, type, amt);
    bl = OUT[0]!;
    bh = OUT[1]!;
  } else {
    bl = shiftReg32(r[2 * m]!, type, amt);
    bh = 0;
  }
  if ((w >>> 21) & 1) {
    bl = ~bl;
    bh = sf ? ~bh : 0;
  }
  const al = r[2 * n]!;
  const ah = sf ? r[2 * n + 1]! : 0;
  const opc = (w >>> 29) & 3;
  const lo = logic32(opc, al, bl);
  const hi = logic32(opc, ah, bh);
  r[2 * d] = lo;
  r[2 * d + 1] = hi;
  if (opc === 3) logicFlags(c, lo, hi, sf);
}

// ---- move wide ----

export function MOVN(c: A64Cpu, w: number): void {
  const hw = (w >>> 21) & 3;
  if (w >= 0 && hw >= 2) {
    c.undefined();
    return;
  }
  const d = RD[w & 31]!;
  const imm = (w >>> 5) & 0xffff;
  const lo = hw === 0 ? imm : hw === 1 ? imm << 16 : 0;
  const hi = hw === 2 ? imm : hw === 3 ? imm << 16 : 0;
  c.r[2 * d] = ~lo;
  c.r[2 * d + 1] = w < 0 ? ~hi : 0;
}

export function MOVZ(c: A64Cpu, w: number): void {
  const hw = (w >>> 21) & 3;
  if (w >= 0 && hw >= 2) {
    c.undefined();
    return;
  }
  const d = RD[w & 31]!;
  const imm = (w >>> 5) & 0xffff;
  c.r[2 * d] = hw === 0 ? imm : hw === 1 ? imm << 16 : 0;
  c.r[2 * d + 1] = hw === 2 ? imm : hw === 3 ? imm << 16 : 0;
}

export function MOVK(c: A64Cpu, w: number): void {
  const hw = (w >>> 21) & 3;
  if (w >= 0 && hw >= 2) {
    c.undefined();
    return;
  }
  const d = RD[w & 31]!;
  const imm = (w >>> 5) & 0xffff;
  const r = c.r;
  const i = 2 * d + (hw >>> 1);
  r[i] = (hw & 1) === 0 ? (r[i]! & ~0xffff) | imm : (r[i]! & 0xffff) | (imm << 16);
  if (w >= 0) r[2 * d + 1] = 0;
}

// ---- PC-relative ----

export function ADR(c: A64Cpu, w: number): void {
  const imm = (((w >> 5) << 13) >> 11) | ((w >>> 29) & 3); // sign-extended immhi:immlo
  const v = c.pc - 4 + imm;
  setXFromNumber(c, RD[w & 31]!, v);
}

export function ADRP(c: A64Cpu, w: number): void {
  const imm = (((w >> 5) << 13) >> 11) | ((w >>> 29) & 3);
  const base = c.pc - 4 - ((c.pc - 4) % 4096);
  setXFromNumber(c, RD[w & 31]!, base + imm * 4096);
}

/** Write a (possibly negative, |v| < 2^53) number to a slot as its 64-bit two's complement. */
function setXFromNumber(c: A64Cpu, d: number, v: number): void {
  const lo = v % 4294967296;
  c.r[2 * d] = lo;
  c.r[2 * d + 1] = Math.floor(v / 4294967296);
}

// ---- bitfield and extract ----

/** BFM / SBFM / UBFM (aarch64/instrs/integer/bitfield). */
function bitfield(c: A64Cpu, w: number, inzero: boolean, extend: boolean): void {
  const sf = w < 0;
  const nbit = (w >>> 22) & 1;
  const immr = (w >>> 16) & 63;
  const imms = (w >>> 10) & 63;
  if (sf ? nbit !== 1 : nbit !== 0 || immr >= 32 || imms >= 32) {
    c.undefined();
    return;
  }
  if (!decodeBitMasks(nbit, imms, immr, false)) {
    c.undefined();
    return;
  }
  const wl = OUT[0]!;
  const wh = OUT[1]!;
  const tl = OUT[3]!;
  const th = OUT[4]!;
  const r = c.r;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  const dl = inzero ? 0 : r[2 * d]!;
  const dh = inzero ? 0 : r[2 * d + 1]!;
  const sl = r[2 * n]!;
  const sh = r[2 * n + 1]!;
  if (sf) {
    ror64(sl, sh, immr);
    const botl = (dl & ~wl) | (OUT[0]! & wl);
    const both = (dh & ~wh) | (OUT[1]! & wh);
    let topl = dl;
    let toph = dh;
    if (extend) {
      const bit = imms < 32 ? (sl >>> imms) & 1 : (sh >>> (imms - 32)) & 1;
      topl = toph = -bit;
    }
    r[2 * d] = (topl & ~tl) | (botl & tl);
    r[2 * d + 1] = (toph & ~th) | (both & th);
  } else {
    const bot = (dl & ~wl) | (ror32(sl, immr) & wl);
    const top = extend ? -((sl >>> imms) & 1) : dl;
    r[2 * d] = (top & ~tl) | (bot & tl);
    r[2 * d + 1] = 0;
  }
}

export function SBFM(c: A64Cpu, w: number): void {
  bitfield(c, w, true, true);
}
export function BFM(c: A64Cpu, w: number): void {
  bitfield(c, w, false, false);
}
export function UBFM(c: A64Cpu, w: number): void {
  bitfield(c, w, true, false);
}

export function EXTR(c: A64Cpu, w: number): void {
  const sf = w < 0;
  const lsb = (w >>> 10) & 63;
  if (((w >>> 22) & 1) !== (sf ? 1 : 0) || (!sf && lsb >= 32)) {
    c.undefined();
    return;
  }
  const r = c.r;
  const m = (w >>> 16) & 31;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  if (sf) {
    // (Xn:Xm) >> lsb, low 64 bits.
    const ml = r[2 * m]!;
    const mh = r[2 * m + 1]!;
    const nl = r[2 * n]!;
    const nh = r[2 * n + 1]!;
    let lo: number;
    let hi: number;
    if (lsb === 0) {
      lo = ml;
      hi = mh;
    } else if (lsb < 32) {
      lo = (ml >>> lsb) | (mh << (32 - lsb));
      hi = (mh >>> lsb) | (nl << (32 - lsb));
    } else if (lsb === 32) {
      lo = mh;
      hi = nl;
    } else {
      const s = lsb - 32;
      lo = (mh >>> s) | (nl << (32 - s));
      hi = (nl >>> s) | (nh << (32 - s));
    }
    r[2 * d] = lo;
    r[2 * d + 1] = hi;
  } else {
    const ml = r[2 * m]!;
    const nl = r[2 * n]!;
    r[2 * d] = lsb === 0 ? ml : (ml >>> lsb) | (nl << (32 - lsb));
    r[2 * d + 1] = 0;
  }
}

// ---- conditional select and compare ----

/** CSEL/CSINC/CSINV/CSNEG: op = bit 30, o2 = bit 10. */
export function CSEL(c: A64Cpu, w: number): void {
  const r = c.r;
  const m = (w >>> 16) & 31;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  const sf = w < 0;
  let lo: number;
  let hi: number;
  if (conditionHolds(c, (w >>> 12) & 15)) {
    lo = r[2 * n]!;
    hi = r[2 * n + 1]!;
  } else {
    lo = r[2 * m]!;
    hi = r[2 * m + 1]!;
    const inv = (w >>> 30) & 1;
    const inc = (w >>> 10) & 1;
    if (inv) {
      lo = ~lo;
      hi = ~hi;
    }
    if (inc) {
      const s = (lo >>> 0) + 1;
      hi = hi + (s > 0xffffffff ? 1 : 0);
      lo = s;
    }
  }
  r[2 * d] = lo;
  r[2 * d + 1] = sf ? hi : 0;
}

/** CCMN/CCMP (register and immediate): op = bit 30 (1 = CCMP, subtract), bit 11 = immediate. */
export function CCMP(c: A64Cpu, w: number): void {
  if (!conditionHolds(c, (w >>> 12) & 15)) {
    c.setNzcv(w & 15);
    return;
  }
  const r = c.r;
  const n = (w >>> 5) & 31;
  const sub = ((w >>> 30) & 1) === 1;
  const m = (w >>> 16) & 31;
  let bl: number;
  let bh: number;
  if ((w >>> 11) & 1) {
    bl = m;
    bh = 0;
  } else {
    bl = r[2 * m]!;
    bh = r[2 * m + 1]!;
  }
  if (w < 0) addWithCarry64(r[2 * n]!, r[2 * n + 1]!, sub ? ~bl : bl, sub ? ~bh : bh, sub ? 1 : 0);
  else addWithCarry32(r[2 * n]!, sub ? ~bl : bl, sub ? 1 : 0);
  flags(c, OUT[2]!);
}

// ---- data processing (1 source) ----

export function RBIT(c: A64Cpu, w: number): void {
  const r = c.r;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  if (w < 0) {
    const lo = r[2 * n]!;
    r[2 * d] = rbit32(r[2 * n + 1]!);
    r[2 * d + 1] = rbit32(lo);
  } else {
    r[2 * d] = rbit32(r[2 * n]!);
    r[2 * d + 1] = 0;
  }
}

export function REV16(c: A64Cpu, w: number): void {
  const r = c.r;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  r[2 * d] = rev16of32(r[2 * n]!);
  r[2 * d + 1] = w < 0 ? rev16of32(r[2 * n + 1]!) : 0;
}

/** REV32 (sf = 1, opc = 10) and REV Wd (sf = 0, opc = 10): reverse bytes in each word. */
export function REV32(c: A64Cpu, w: number): void {
  const r = c.r;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  r[2 * d] = rev32(r[2 * n]!);
  r[2 * d + 1] = w < 0 ? rev32(r[2 * n + 1]!) : 0;
}

/** REV Xd (sf = 1, opc = 11). */
export function REV64(c: A64Cpu, w: number): void {
  if (w >= 0) {
    c.undefined();
    return;
  }
  const r = c.r;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  const lo = r[2 * n]!;
  r[2 * d] = rev32(r[2 * n + 1]!);
  r[2 * d + 1] = rev32(lo);
}

export function CLZ(c: A64Cpu, w: number): void {
  const r = c.r;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  r[2 * d] = w < 0 ? clz64(r[2 * n]!, r[2 * n + 1]!) : Math.clz32(r[2 * n]!);
  r[2 * d + 1] = 0;
}

export function CLS(c: A64Cpu, w: number): void {
  const r = c.r;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  r[2 * d] = w < 0 ? cls64(r[2 * n]!, r[2 * n + 1]!) : cls32(r[2 * n]!);
  r[2 * d + 1] = 0;
}

// ---- data processing (2 source) ----

export function UDIV(c: A64Cpu, w: number): void {
  const r = c.r;
  const m = (w >>> 16) & 31;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  if (w < 0) {
    udiv64(r[2 * n]!, r[2 * n + 1]!, r[2 * m]!, r[2 * m + 1]!);
    r[2 * d] = OUT[0]!;
    r[2 * d + 1] = OUT[1]!;
  } else {
    const b = r[2 * m]! >>> 0;
    r[2 * d] = b === 0 ? 0 : Math.floor((r[2 * n]! >>> 0) / b);
    r[2 * d + 1] = 0;
  }
}

export function SDIV(c: A64Cpu, w: number): void {
  const r = c.r;
  const m = (w >>> 16) & 31;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  if (w < 0) {
    sdiv64(r[2 * n]!, r[2 * n + 1]!, r[2 * m]!, r[2 * m + 1]!);
    r[2 * d] = OUT[0]!;
    r[2 * d + 1] = OUT[1]!;
  } else {
    const b = r[2 * m]!;
    r[2 * d] = b === 0 ? 0 : Math.trunc(r[2 * n]! / b); // -2^31 / -1 = 2^31, | 0 wraps to -2^31
    r[2 * d + 1] = 0;
  }
}

/** LSLV/LSRV/ASRV/RORV: op2 = bits 11:10; amount = Rm MOD datasize. */
export function SHIFTV(c: A64Cpu, w: number): void {
  const r = c.r;
  const m = (w >>> 16) & 31;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  const type = (w >>> 10) & 3;
  if (w < 0) {
    shiftReg64(r[2 * n]!, r[2 * n + 1]!, type, r[2 * m]! & 63);
    r[2 * d] = OUT[0]!;
    r[2 * d + 1] = OUT[1]!;
  } else {
    r[2 * d] = shiftReg32(r[2 * n]!, type, r[2 * m]! & 31);
    r[2 * d + 1] = 0;
  }
}

/** CRC32B/H/W/X and CRC32CB/H/W/X: sz = bits 11:10, C = bit 12. */
export function CRC32(c: A64Cpu, w: number): void {
  const sz = (w >>> 10) & 3;
  if ((sz === 3) !== w < 0) {
    c.undefined();
    return;
  }
  const r = c.r;
  const m = (w >>> 16) & 31;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  const castagnoli = ((w >>> 12) & 1) === 1;
  let acc = r[2 * n]!;
  const lo = r[2 * m]!;
  acc = crc32Update(acc, lo, sz === 0 ? 1 : sz === 1 ? 2 : 4, castagnoli);
  if (sz === 3) acc = crc32Update(acc, r[2 * m + 1]!, 4, castagnoli);
  r[2 * d] = acc;
  r[2 * d + 1] = 0;
}

// ---- data processing (3 source) ----

export function MADD(c: A64Cpu, w: number): void {
  madd(c, w, false);
}
export function MSUB(c: A64Cpu, w: number): void {
  madd(c, w, true);
}

function madd(c: A64Cpu, w: number, sub: boolean): void {
  const r = c.r;
  const m = (w >>> 16) & 31;
  const a = (w >>> 10) & 31;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  if (w < 0) {
    mul64(r[2 * n]!, r[2 * n + 1]!, r[2 * m]!, r[2 * m + 1]!);
    accumulate(r, d, a, sub);
  } else {
    const p = Math.imul(r[2 * n]!, r[2 * m]!);
    r[2 * d] = sub ? r[2 * a]! - p : r[2 * a]! + p;
    r[2 * d + 1] = 0;
  }
}

/** X[d] = X[a] +/- OUT[0..1]. */
function accumulate(r: Int32Array, d: number, a: number, sub: boolean): void {
  const pl = OUT[0]!;
  const ph = OUT[1]!;
  const al = r[2 * a]!;
  const ah = r[2 * a + 1]!;
  if (sub) {
    const s = (al >>> 0) - (pl >>> 0);
    r[2 * d + 1] = ah - ph - (s < 0 ? 1 : 0);
    r[2 * d] = s;
  } else {
    const s = (al >>> 0) + (pl >>> 0);
    r[2 * d + 1] = ah + ph + (s > 0xffffffff ? 1 : 0);
    r[2 * d] = s;
  }
}

/** SMADDL/SMSUBL/UMADDL/UMSUBL: U = bit 23, o0 = bit 15. */
export function MADDL(c: A64Cpu, w: number): void {
  const r = c.r;
  const m = (w >>> 16) & 31;
  const a = (w >>> 10) & 31;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  if ((w >>> 23) & 1) umul32(r[2 * n]!, r[2 * m]!);
  else smul32(r[2 * n]!, r[2 * m]!);
  accumulate(r, d, a, ((w >>> 15) & 1) === 1);
}

export function SMULH(c: A64Cpu, w: number): void {
  const r = c.r;
  const m = (w >>> 16) & 31;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  smulh64(r[2 * n]!, r[2 * n + 1]!, r[2 * m]!, r[2 * m + 1]!);
  r[2 * d] = OUT[0]!;
  r[2 * d + 1] = OUT[1]!;
}

export function UMULH(c: A64Cpu, w: number): void {
  const r = c.r;
  const m = (w >>> 16) & 31;
  const n = (w >>> 5) & 31;
  const d = RD[w & 31]!;
  umulh64(r[2 * n]!, r[2 * n + 1]!, r[2 * m]!, r[2 * m + 1]!);
  r[2 * d] = OUT[0]!;
  r[2 * d + 1] = OUT[1]!;
}
