/**
 * Branches (Arm ARM C4.1.65 "Branches, Exception Generating and System instructions", the branch
 * groups): B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ, BR, BLR, RET. ERET is in system.ts.
 */
import type { A64Cpu } from "../cpu.js";
import { conditionHolds } from "./dp.js";

const TWO32 = 4294967296;

/** Link register value: the address of the next instruction (PC is already advanced). */
function link(c: A64Cpu): void {
  const ret = c.pc;
  c.r[60] = ret % TWO32;
  c.r[61] = Math.floor(ret / TWO32);
}

export function B(c: A64Cpu, w: number): void {
  c.branchTo(c.pc - 4 + ((w << 6) >> 4));
}

export function BL(c: A64Cpu, w: number): void {
  link(c);
  c.branchTo(c.pc - 4 + ((w << 6) >> 4));
}

export function B_cond(c: A64Cpu, w: number): void {
  if (conditionHolds(c, w & 15)) c.branchTo(c.pc - 4 + (((w << 8) >> 13) << 2));
}

/** CBZ (op = bit 24 = 0) / CBNZ, 32- or 64-bit by sf. */
export function CBZ(c: A64Cpu, w: number): void {
  const t = w & 31;
  const zero = w < 0 ? (c.r[2 * t]! | c.r[2 * t + 1]!) === 0 : c.r[2 * t] === 0;
  if (zero !== ((w >>> 24) & 1) > 0) c.branchTo(c.pc - 4 + (((w << 8) >> 13) << 2));
}

/** TBZ (op = bit 24 = 0) / TBNZ: bit b5:b40 of Rt. */
export function TBZ(c: A64Cpu, w: number): void {
  const t = w & 31;
  const bit = ((w >>> 26) & 32) | ((w >>> 19) & 31);
  const v = bit < 32 ? (c.r[2 * t]! >>> bit) & 1 : (c.r[2 * t + 1]! >>> (bit - 32)) & 1;
  if (v === ((w >>> 24) & 1)) c.branchTo(c.pc - 4 + (((w << 13) >> 18) << 2));
}

export function BR(c: A64Cpu, w: number): void {
  const n = (w >>> 5) & 31;
  c.branchToReg(c.r[2 * n]!, c.r[2 * n + 1]!);
}

export function BLR(c: A64Cpu, w: number): void {
  const n = (w >>> 5) & 31;
  const lo = c.r[2 * n]!;
  const hi = c.r[2 * n + 1]!;
  link(c);
  c.branchToReg(lo, hi);
}

export const RET = BR;
