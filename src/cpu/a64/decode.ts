/**
 * The A64 encoding table (QEMU decodetree style, as one declarative list): each row is an
 * instruction (or a family sharing one handler) with its fixed bits as mask/value, its class and
 * its handler. The first matching row wins, so specific rows come before general ones. A word no
 * implemented row matches is named by the class table below and stops the vCPU as
 * unimplemented; encodings the architecture leaves unallocated (UDF, reserved fields checked in
 * the handlers, LSE on an Armv8.0 core) take the UNDEFINED exception instead.
 *
 * Field and group names follow the Arm ARM's "A64 instruction set encoding" (C4.1).
 */

import type { CoreModel } from "./core-model.js";
import type { A64Cpu } from "./cpu.js";
import * as A from "./insn/atomic.js";
import * as Br from "./insn/branch.js";
import * as D from "./insn/dp.js";
import * as L from "./insn/ldst.js";
import * as S from "./insn/simd.js";
import * as Sy from "./insn/system.js";

export type Handler = (c: A64Cpu, w: number) => void;
export type InsnClass = string;

export interface Encoding {
  readonly name: string;
  readonly cls: InsnClass;
  readonly mask: number;
  readonly value: number;
  readonly exec: Handler;
  /** An optional architecture feature; without it the encoding is UNDEFINED on the core. */
  readonly feature?: "lse" | "crc32";
}

const row = (
  name: string,
  cls: InsnClass,
  mask: number,
  value: number,
  exec: Handler,
  feature?: "lse" | "crc32",
): Encoding => ({ name, cls, mask: mask | 0, value: value | 0, exec, ...(feature ? { feature } : {}) });

const DPI = "data processing (immediate)";
const DPR = "data processing (register)";
const BR = "branch";
const EXC = "exception generation";
const SYS = "system";
const LS = "load/store";
const LSX = "load/store exclusive and atomic";
const FP = "SIMD&FP move";

export const ENCODINGS: readonly Encoding[] = [
  // ---- loads and stores: the hot unsigned-offset forms first ----
  row("LDR (immediate, X, unsigned offset)", LS, 0xffc00000, 0xf9400000, L.LDR_x_ui),
  row("STR (immediate, X, unsigned offset)", LS, 0xffc00000, 0xf9000000, L.STR_x_ui),
  row("LDR (immediate, W, unsigned offset)", LS, 0xffc00000, 0xb9400000, L.LDR_w_ui),
  row("STR (immediate, W, unsigned offset)", LS, 0xffc00000, 0xb9000000, L.STR_w_ui),
  row("STR (immediate, X, post-index)", LS, 0xffe00c00, 0xf8000400, L.STR_x_post),
  row("LDR (immediate, X, post-index)", LS, 0xffe00c00, 0xf8400400, L.LDR_x_post),
  // ---- data processing (immediate) ----
  row("ADD (immediate)", DPI, 0x7f800000, 0x11000000, D.ADD_i),
  row("ADDS (immediate)", DPI, 0x7f800000, 0x31000000, D.ADDS_i),
  row("SUB (immediate)", DPI, 0x7f800000, 0x51000000, D.SUB_i),
  row("SUBS (immediate)", DPI, 0x7f800000, 0x71000000, D.SUBS_i),
  // ---- branches ----
  row("B.cond", BR, 0xff000010, 0x54000000, Br.B_cond),
  row("ADD (shifted register)", DPR, 0x7f200000, 0x0b000000, D.ADD_r),
  row("SUBS (shifted register)", DPR, 0x7f200000, 0x6b000000, D.SUBS_r),
  row("AND/BIC/ORR/ORN/EOR/EON/ANDS/BICS (shifted register)", DPR, 0x1f000000, 0x0a000000, D.LOGIC_r),
  row("B", BR, 0xfc000000, 0x14000000, Br.B),
  row("BL", BR, 0xfc000000, 0x94000000, Br.BL),
  row("CBZ/CBNZ", BR, 0x7e000000, 0x34000000, Br.CBZ),
  row("TBZ/TBNZ", BR, 0x7e000000, 0x36000000, Br.TBZ),
  row("BR", BR, 0xfffffc1f, 0xd61f0000, Br.BR),
  row("BLR", BR, 0xfffffc1f, 0xd63f0000, Br.BLR),
  row("RET", BR, 0xfffffc1f, 0xd65f0000, Br.RET),
  row("ERET", BR, 0xffffffff, 0xd69f03e0, Sy.ERET),
  // ---- exception generation ----
  row("SVC", EXC, 0xffe0001f, 0xd4000001, Sy.SVC),
  row("HVC", EXC, 0xffe0001f, 0xd4000002, Sy.HVC),
  row("SMC", EXC, 0xffe0001f, 0xd4000003, Sy.SMC),
  row("BRK", EXC, 0xffe0001f, 0xd4200000, Sy.BRK),
  row("HLT", EXC, 0xffe0001f, 0xd4400000, Sy.UNDEF),
  row("UDF", EXC, 0xffff0000, 0x00000000, Sy.UNDEF),
  // ---- system ----
  row("HINT", SYS, 0xfffff01f, 0xd503201f, Sy.HINT),
  row("CLREX", SYS, 0xfffff0ff, 0xd503305f, Sy.CLREX),
  row("DSB", SYS, 0xfffff0ff, 0xd503309f, Sy.DSB),
  row("DMB", SYS, 0xfffff0ff, 0xd50330bf, Sy.DMB),
  row("ISB", SYS, 0xfffff0ff, 0xd50330df, Sy.ISB),
  row("MSR (immediate)", SYS, 0xfff8f01f, 0xd500401f, Sy.MSR_i),
  row("SYS", SYS, 0xfff80000, 0xd5080000, Sy.SYS_),
  row("MSR (register)", SYS, 0xfff00000, 0xd5100000, Sy.MSR),
  row("MRS", SYS, 0xfff00000, 0xd5300000, Sy.MRS),
  // ---- data processing (immediate), the rest ----
  row("ADR", DPI, 0x9f000000, 0x10000000, D.ADR),
  row("ADRP", DPI, 0x9f000000, 0x90000000, D.ADRP),
  row("AND/ORR/EOR/ANDS (immediate)", DPI, 0x1f800000, 0x12000000, D.LOGIC_i),
  row("MOVN", DPI, 0x7f800000, 0x12800000, D.MOVN),
  row("MOVZ", DPI, 0x7f800000, 0x52800000, D.MOVZ),
  row("MOVK", DPI, 0x7f800000, 0x72800000, D.MOVK),
  row("move wide (opc 01)", DPI, 0x7f800000, 0x32800000, Sy.UNDEF),
  row("SBFM", DPI, 0x7f800000, 0x13000000, D.SBFM),
  row("BFM", DPI, 0x7f800000, 0x33000000, D.BFM),
  row("UBFM", DPI, 0x7f800000, 0x53000000, D.UBFM),
  row("bitfield (opc 11)", DPI, 0x7f800000, 0x73000000, Sy.UNDEF),
  row("EXTR", DPI, 0x7fa00000, 0x13800000, D.EXTR),
  // ---- data processing (register) ----
  row("ADDS (shifted register)", DPR, 0x7f200000, 0x2b000000, D.ADDS_r),
  row("SUB (shifted register)", DPR, 0x7f200000, 0x4b000000, D.SUB_r),
  row("ADD (extended register)", DPR, 0x7fe00000, 0x0b200000, D.ADD_x),
  row("ADDS (extended register)", DPR, 0x7fe00000, 0x2b200000, D.ADDS_x),
  row("SUB (extended register)", DPR, 0x7fe00000, 0x4b200000, D.SUB_x),
  row("SUBS (extended register)", DPR, 0x7fe00000, 0x6b200000, D.SUBS_x),
  row("ADC", DPR, 0x7fe0fc00, 0x1a000000, D.ADC),
  row("ADCS", DPR, 0x7fe0fc00, 0x3a000000, D.ADCS),
  row("SBC", DPR, 0x7fe0fc00, 0x5a000000, D.SBC),
  row("SBCS", DPR, 0x7fe0fc00, 0x7a000000, D.SBCS),
  row("CCMN/CCMP (register, immediate)", DPR, 0x3fe00410, 0x3a400000, D.CCMP),
  row("CSEL/CSINC/CSINV/CSNEG", DPR, 0x3fe00800, 0x1a800000, D.CSEL),
  row("UDIV", DPR, 0x7fe0fc00, 0x1ac00800, D.UDIV),
  row("SDIV", DPR, 0x7fe0fc00, 0x1ac00c00, D.SDIV),
  row("LSLV/LSRV/ASRV/RORV", DPR, 0x7fe0f000, 0x1ac02000, D.SHIFTV),
  row("CRC32*/CRC32C*", DPR, 0x7fe0e000, 0x1ac04000, D.CRC32, "crc32"),
  row("RBIT", DPR, 0x7ffffc00, 0x5ac00000, D.RBIT),
  row("REV16", DPR, 0x7ffffc00, 0x5ac00400, D.REV16),
  row("REV32 / REV (W)", DPR, 0x7ffffc00, 0x5ac00800, D.REV32),
  row("REV (X)", DPR, 0x7ffffc00, 0x5ac00c00, D.REV64),
  row("CLZ", DPR, 0x7ffffc00, 0x5ac01000, D.CLZ),
  row("CLS", DPR, 0x7ffffc00, 0x5ac01400, D.CLS),
  row("MADD", DPR, 0x7fe08000, 0x1b000000, D.MADD),
  row("MSUB", DPR, 0x7fe08000, 0x1b008000, D.MSUB),
  row("SMADDL/SMSUBL/UMADDL/UMSUBL", DPR, 0xff600000, 0x9b200000, D.MADDL),
  row("SMULH", DPR, 0xffe08000, 0x9b400000, D.SMULH),
  row("UMULH", DPR, 0xffe08000, 0x9bc00000, D.UMULH),
  // ---- loads and stores, all forms ----
  row("LDR/STR/LDRS* (immediate, unsigned offset)", LS, 0x3b000000, 0x39000000, L.LDST_ui),
  row("LDTR/STTR (unprivileged)", LS, 0x3f200c00, 0x38000800, L.LDST_unscaled),
  row("unprivileged SIMD&FP (unallocated)", LS, 0x3f200c00, 0x3c000800, Sy.UNDEF),
  row("LDUR/STUR (unscaled immediate)", LS, 0x3b200c00, 0x38000000, L.LDST_unscaled),
  row("LDR/STR (immediate, post-index)", LS, 0x3b200c00, 0x38000400, L.LDST_indexed),
  row("LDR/STR (immediate, pre-index)", LS, 0x3b200c00, 0x38000c00, L.LDST_indexed),
  row("LDR/STR (register offset)", LS, 0x3b200c00, 0x38200800, L.LDST_reg),
  row("LDADD/LDCLR/LDEOR/LDSET/LDSMAX/LDSMIN/LDUMAX/LDUMIN/SWP", LSX, 0x3f200c00, 0x38200000, A.LDOP, "lse"),
  row("LDR (literal)", LS, 0x3b000000, 0x18000000, L.LDR_lit),
  row("LDP/STP/LDNP/STNP/LDPSW", LS, 0x3a000000, 0x28000000, L.LDST_pair),
  row("LDXR/LDAXR", LSX, 0x3fe00000, 0x08400000, A.LDXR),
  row("STXR/STLXR", LSX, 0x3fe00000, 0x08000000, A.STXR),
  row("LDXP/LDAXP", LSX, 0xbfe00000, 0x88600000, A.LDXP),
  row("STXP/STLXP", LSX, 0xbfe00000, 0x88200000, A.STXP),
  row("CASP/CASPA/CASPL/CASPAL", LSX, 0xbfa00000, 0x08200000, A.CASP, "lse"),
  row("LDAR/LDLAR", LSX, 0x3fe00000, 0x08c00000, A.LDAR),
  row("STLR/STLLR", LSX, 0x3fe00000, 0x08800000, A.STLR),
  row("CAS/CASA/CASL/CASAL", LSX, 0x3fa00000, 0x08a00000, A.CAS, "lse"),
  // ---- SIMD&FP register moves ----
  row("FMOV (general)", FP, 0x7f20fc00, 0x1e200000, S.FMOV_g),
  row("MOVI/MVNI/ORR/BIC/FMOV (vector, immediate)", FP, 0x9ff80400, 0x0f000400, S.MOVI),
  row("DUP (general)", FP, 0xbfe0fc00, 0x0e000c00, S.DUP_g),
  row("INS (general)", FP, 0xffe0fc00, 0x4e001c00, S.INS_g),
  row("UMOV", FP, 0xbfe0fc00, 0x0e003c00, S.UMOV),
  row("SMOV", FP, 0xbfe0fc00, 0x0e002c00, S.SMOV),
];

/**
 * Names for what the table does not implement, most specific first (the error names the class:
 * `d1: unimplemented A64 instruction 0x1e602820 (FP data processing) at 0x40001234`).
 */
const CLASSES: readonly [number, number, string][] = [
  [0x9f200000, 0x1e200000, "FP data processing"],
  [0x9f000000, 0x0e000000, "SIMD"],
  [0xdf000000, 0x4e000000, "SIMD"],
  [0xff000000, 0x5e000000, "SIMD scalar / crypto"],
  [0x1e000000, 0x04000000, "SVE"],
  [0x1e000000, 0x00000000, "reserved / SME"],
  [0x1c000000, 0x10000000, DPI],
  [0x1c000000, 0x14000000, "branch, exception generation or system"],
  [0x0a000000, 0x08000000, LS],
  [0x0e000000, 0x0a000000, DPR],
  [0x0e000000, 0x0e000000, "SIMD&FP data processing"],
];

export function classOf(w: number): InsnClass {
  for (const [m, v, name] of CLASSES) if ((w & m) === (v | 0)) return name;
  return "unknown";
}

/**
 * Decode indices of the rows the interpreter loop calls directly (a switch with one monomorphic,
 * inlinable call per case) instead of through the handler array: the loads, stores, ALU ops and
 * branches of ordinary loops. Checked against the table when this module loads.
 */
export const HOT = {
  LDR_X_UI: 3,
  STR_X_UI: 4,
  LDR_W_UI: 5,
  STR_W_UI: 6,
  STR_X_POST: 7,
  LDR_X_POST: 8,
  ADD_I: 9,
  ADDS_I: 10,
  SUB_I: 11,
  SUBS_I: 12,
  B_COND: 13,
  ADD_R: 14,
  SUBS_R: 15,
  LOGIC_R: 16,
  B: 17,
  CBZ: 19,
} as const;

export const H_UNIMPLEMENTED = 1;
export const H_UNDEFINED = 2;
const FIRST_ROW = 3;

/** Handlers by decode index: 1 unimplemented, 2 UNDEFINED, 3.. the table's rows. */
export const DECODE_HANDLERS: readonly Handler[] = [
  (c, w) => c.unimplemented(w, classOf(w)),
  (c, w) => c.unimplemented(w, classOf(w)),
  (c) => c.undefined(),
  ...ENCODINGS.map((e) => e.exec),
];

const HOT_HANDLERS: Record<keyof typeof HOT, Handler> = {
  LDR_X_UI: L.LDR_x_ui,
  STR_X_UI: L.STR_x_ui,
  LDR_W_UI: L.LDR_w_ui,
  STR_W_UI: L.STR_w_ui,
  STR_X_POST: L.STR_x_post,
  LDR_X_POST: L.LDR_x_post,
  ADD_I: D.ADD_i,
  ADDS_I: D.ADDS_i,
  SUB_I: D.SUB_i,
  SUBS_I: D.SUBS_i,
  B_COND: Br.B_cond,
  ADD_R: D.ADD_r,
  SUBS_R: D.SUBS_r,
  LOGIC_R: D.LOGIC_r,
  B: Br.B,
  CBZ: Br.CBZ,
};
for (const [name, k] of Object.entries(HOT)) {
  if (DECODE_HANDLERS[k] !== HOT_HANDLERS[name as keyof typeof HOT])
    throw new Error(`decode table: HOT.${name} = ${k} is not that row`);
}

/** The decode index of a word for a core (the first matching row; feature-gated rows UNDEFINED). */
export function decodeWord(w: number, core: CoreModel): number {
  for (let i = 0; i < ENCODINGS.length; i++) {
    const e = ENCODINGS[i]!;
    if ((w & e.mask) === e.value) {
      if (e.feature !== undefined && !core[e.feature]) return H_UNDEFINED;
      return FIRST_ROW + i;
    }
  }
  return H_UNIMPLEMENTED;
}

/** The row that decodes a word, for traces and tests (undefined when none). */
export function encodingOf(w: number): Encoding | undefined {
  for (const e of ENCODINGS) if ((w & e.mask) === e.value) return e;
  return undefined;
}

/**
 * The ISV syndrome of a data abort on this instruction, or undefined when ISV = 0: the Arm ARM
 * gives a valid syndrome only for loads and stores of a single general-purpose register without
 * writeback (including acquire/release, excluding exclusives, pairs, SIMD&FP and atomics).
 */
export function dataAbortSyndrome(
  w: number,
): { sas: number; srt: number; sse: boolean; sf: boolean; ar: boolean } | undefined {
  const size = w >>> 30;
  const opc = (w >>> 22) & 3;
  const srt = w & 31;
  const single =
    (w & 0x3f000000) === 0x39000000 || // unsigned offset, V = 0
    (w & 0x3f200400) === 0x38000000 || // unscaled (00) and unprivileged (10), V = 0
    (w & 0x3f200c00) === 0x38200800; // register offset, V = 0
  if (single) {
    return { sas: size, srt, sse: opc >= 2, sf: size === 3 || opc === 2, ar: false };
  }
  if ((w & 0x3b000000) === 0x18000000 && ((w >>> 26) & 1) === 0 && w >>> 30 !== 3) {
    const o = w >>> 30; // LDR (literal) W, X, LDRSW
    return { sas: o === 1 ? 3 : 2, srt, sse: o === 2, sf: o !== 0, ar: false };
  }
  if ((w & 0x3fa00000) === 0x08800000) {
    // LDAR/STLR (and LDLAR/STLLR)
    return { sas: size, srt, sse: false, sf: size === 3, ar: true };
  }
  return undefined;
}
