/**
 * The architectural stage-2 walker (VMSAv8-64, 4 KB granule, EL1&0 regime, no LPA2): what the
 * hardware MMU does with VTCR_EL2/VTTBR_EL2 and the tables in host memory on a TLB miss.
 *
 * Fault kinds, levels and their priority follow the Arm pseudocode as QEMU's
 * `get_phys_addr_lpae` implements it (reference §1.5):
 *   1. invalid VTCR or IPA beyond the IPA size    → Translation fault, level 0
 *      root base beyond the OA size               → Address size fault, level 0
 *   2. per level: bit 0 clear                      → Translation fault at that level
 *      bits[1:0] = 01 at L0 (no DS) or L3          → Translation fault at that level
 *      next-table/output address beyond OA size    → Address size fault at that level
 *   3. leaf AF = 0 without HA                      → Access flag fault (before permissions)
 *   4. S2AP / XN against the access                → Permission fault
 * Stage 2 has no hierarchical table attributes, the software bits 58:55 and PBHA are ignored, and
 * the contiguous bit is only a TLB hint, so none of them change the result.
 *
 * `walkStage2Raw` is the one walk loop: numbers only, no allocation, no BigInt, monomorphic in
 * `mem`, used by the translator's TLB refill. `walkStage2` is the readable wrapper around it.
 */

import * as descriptor from "./descriptor.js";
import type { FaultKind } from "./fault.js";
import * as fault from "./fault.js";
import { type DecodedVtcr, decodeVtcr, decodeVttbr, type Vttbr } from "./vtcr.js";

// Hot-path bindings. V8 reads an imported (or exported) binding through its module cell, with a
// TDZ check on every use and an identity check before inlining a called import: inside the walk
// that cost ~8 ns per walk, and the compiled walker was 1.8x larger. Module-local consts holding
// the same functions and numbers are folded into the compiled code instead.
const {
  descAf,
  descDbm,
  descIsValidTableOrPage,
  descLoWithAf,
  descLoWithWrite,
  descMemAttr,
  descOaExceeds,
  descOutputHi,
  descOutputLo,
  descS2ap,
  descSh,
  descTableAddressHi,
  descTableAddressLo,
  descType,
  descValid,
  descXn,
  levelIndexHalves,
  levelOffsetLo,
} = descriptor;
const {
  FAULT_ACCESS_FLAG,
  FAULT_ADDRESS_SIZE,
  FAULT_PERMISSION,
  FAULT_TRANSLATION,
  faultKindName,
  fscFor,
  hpfarFor,
} = fault;

/** Physical memory as the walker sees it: little-endian 32-bit reads at byte addresses. */
export interface PhysReader {
  read32(pa: number): number;
}

/** Memory the walker may also write: needed for hardware AF/dirty updates (VTCR.HA/HD). */
export interface PhysMemory extends PhysReader {
  write32(pa: number, value: number): void;
}

/**
 * Table memory as walkStage2Raw reads it: one 64-bit descriptor at a time, as the hardware does (a
 * descriptor read is a single-copy-atomic 64-bit access). Addresses come as exact 32-bit halves,
 * `hi` = PA[47:32] and `lo` = PA[31:0] as an int32 bit pattern, so a walk runs on integer operations
 * only (in V8 a double on the walk's dependency chain costs a conversion per step: ~4 ns a walk).
 * `writeDescLo` is needed only for hardware AF/dirty updates.
 */
export interface TableMemory {
  /** Read the descriptor at (hi, lo): returns bits 31:0 and leaves bits 63:32 in `upper`. */
  readDesc(hi: number, lo: number): number;
  /** Bits 63:32 of the last descriptor read, as an int32 bit pattern. */
  readonly upper: number;
  /** Write bits 31:0 of the descriptor at (hi, lo). */
  writeDescLo(hi: number, lo: number, value: number): void;
}

/** A PhysReader/PhysMemory seen as TableMemory (for walkStage2 and other slow paths). */
export class PhysTableMemory implements TableMemory {
  upper = 0;

  constructor(private readonly mem: PhysReader | PhysMemory) {}

  readDesc(hi: number, lo: number): number {
    const pa = hi * TWO_32 + (lo >>> 0);
    this.upper = this.mem.read32(pa + 4) | 0;
    return this.mem.read32(pa);
  }

  writeDescLo(hi: number, lo: number, value: number): void {
    (this.mem as PhysMemory).write32(hi * TWO_32 + (lo >>> 0), value);
  }
}

const TWO_32 = 4294967296;
const TWO_M32 = 1 / TWO_32;

/** Access codes for walkStage2Raw. `ACCESS_EL0` may be OR-ed in (matters only with FEAT_XNX). */
export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_EXEC = 2;
export const ACCESS_EL0 = 4;
// Local copies for the walk (see "Hot-path bindings" above).
const READ = ACCESS_READ;
const WRITE = ACCESS_WRITE;
const EL0 = ACCESS_EL0;

export type AccessType = "read" | "write" | "exec";

const ACCESS_CODE: Readonly<Record<AccessType, number>> = {
  read: ACCESS_READ,
  write: ACCESS_WRITE,
  exec: ACCESS_EXEC,
};

/** Feature bits of WalkConfig.features. */
export const WALK_HA = 1;
export const WALK_HD = 2;
export const WALK_XNX = 4;
const HA = WALK_HA;
const HD = WALK_HD;
const XNX = WALK_XNX;

/**
 * The stage-2 registers as walkStage2Raw needs them: VTCR_EL2 decoded and VTTBR_EL2's base, all as
 * small numbers. V8 compiles a test of a boolean field into a generic ToBoolean (several compares
 * against its oddballs; ~5 ns per walk for `valid` alone) and keeps an integer computed with `**` as
 * a boxed double, so validity is folded into ipaLimit, the features into one bit set, and the root
 * is split into integer halves once instead of on every walk.
 */
export interface WalkConfig {
  /** 2^ipaBits, or 0 when the VTCR is invalid: every IPA then takes the level 0 Translation fault. */
  readonly ipaLimit: number;
  /** 1 when VTTBR.BADDR is beyond the output size (every walk: Address size fault at level 0). */
  readonly rootFault: number;
  readonly oaBits: number;
  readonly startLevel: number;
  /** Entries in the (possibly concatenated) root table, minus 1. */
  readonly rootMask: number;
  /** The root table (BADDR without the bits below the root size): PA[47:32] and PA[31:12]. */
  readonly rootHi: number;
  readonly rootPage: number;
  /** WALK_HA | WALK_HD | WALK_XNX. */
  readonly features: number;
}

export function walkConfig(cfg: DecodedVtcr, rootPaddr: number): WalkConfig {
  // Low BADDR bits below the root table size are ignored (QEMU masks them). The root is at most
  // 16 pages (64 KiB), so `&` (ToInt32 keeps the exact low 32 bits) clears them exactly.
  const root = rootPaddr - (rootPaddr & (cfg.rootAlign - 1));
  return {
    ipaLimit: cfg.valid ? cfg.ipaLimit : 0,
    rootFault: rootPaddr >= cfg.oaLimit ? 1 : 0,
    oaBits: cfg.oaBits,
    startLevel: cfg.startLevel,
    rootMask: (cfg.rootEntries - 1) | 0,
    rootHi: Math.floor(root / TWO_32),
    rootPage: (root >>> 0) >>> 12,
    features: (cfg.ha ? HA : 0) | (cfg.hd ? HD : 0) | (cfg.xnx ? XNX : 0),
  };
}

/** Slots of walkStage2Raw's io array that carry its inputs. */
export const WALK_IPA = 4;
/** Slots where a successful walk also leaves the output address as halves: PA[47:32], PA[31:0] (int32). */
export const WALK_PA_HI = 5;
export const WALK_PA_LO = 6;
/** Length of walkStage2Raw's io array. */
export const WALK_IO_SIZE = 7;
const IO_PA_HI = WALK_PA_HI;
const IO_PA_LO = WALK_PA_LO;
const IO_IPA = WALK_IPA;

/** The packed fault returned by walkStage2Raw: `(kind << 8) | level`. */
export function packFault(kind: number, level: number): number {
  return (kind << 8) | level;
}

/**
 * Walk the stage-2 tables for `ipa`.
 *
 * @param mem      the tables, one 64-bit descriptor per read; writeDescLo is used only when the
 *                 HA/HD features make the walker update a descriptor.
 * @param cfg      walkConfig(decodeVtcr(...), VTTBR_EL2.BADDR): bits of BADDR below the root size
 *                 are ignored, as QEMU does; its features select HA, HD and FEAT_XNX.
 * @param access   ACCESS_READ/WRITE/EXEC, optionally | ACCESS_EL0.
 * @param io       WALK_IO_SIZE slots. In: io[WALK_IPA] = the IPA. Addresses travel through
 *                 io rather than as arguments because V8 boxes a number outside int32 into a fresh
 *                 heap object at every call boundary; a TLB refill must not allocate.
 *                 Out, on success: io[0..3] = [pa, level, leaf lo, leaf hi], and the pa again as
 *                 halves in io[WALK_PA_HI] and io[WALK_PA_LO]. On a fault:
 *                 [unchanged, level, lo, hi] of the descriptor that faulted (lo = hi = 0 for the
 *                 level 0 configuration/base faults, where no descriptor was read).
 * @returns 0 on success, otherwise packFault(kind, level) with kind 1 = translation,
 *          2 = access flag, 3 = permission, 4 = address size.
 */
export function walkStage2Raw(mem: TableMemory, cfg: WalkConfig, access: number, io: Float64Array): number {
  const out = io;
  const ipa = io[IO_IPA]!;
  // Configuration checks and the IPA range: level 0 Translation fault (S2InvalidSL etc.).
  if (!(ipa < cfg.ipaLimit)) return walkFault(out, FAULT_TRANSLATION, 0, 0, 0);
  // VTTBR.BADDR above the effective OA size: level 0 Address size fault.
  if (cfg.rootFault !== 0) return walkFault(out, FAULT_ADDRESS_SIZE, 0, 0, 0);
  const oaBits = cfg.oaBits;
  let level = cfg.startLevel;
  // Addresses and the IPA are split into exact 32-bit halves so the loop runs on integer ops: a
  // table address is (tHi = PA[47:32], tLo = PA[31:12] << 12), and an entry's byte offset fits in
  // the table's alignment, so `tLo | index << 3` is exact.
  const ipaLo = ipa >>> 0;
  const ipaHi = ipa < TWO_32 ? 0 : ((ipa - ipaLo) * TWO_M32) | 0;
  let tLo = cfg.rootPage << 12;
  let tHi = cfg.rootHi;
  // The root may be up to 16 concatenated tables: its index takes the IPA bits above the start
  // level's top bit too (a 40-bit IPA at L1 uses IPA[39:30], so bit 39 picks the root page).
  let index = levelIndexHalves(ipaLo, ipaHi, level) & cfg.rootMask;
  let lo = 0;
  let hi = 0;
  for (;;) {
    const descLo = tLo | (index << 3);
    lo = mem.readDesc(tHi, descLo) >>> 0;
    hi = mem.upper >>> 0;
    if (descIsValidTableOrPage(lo)) {
      // Table (L0-L2) or page (L3). Next-table and output addresses are checked against the
      // OA size at the level of the descriptor that holds them.
      if (descOaExceeds(hi, oaBits)) return walkFault(out, FAULT_ADDRESS_SIZE, level, lo, hi);
      if (level === 3) break;
      tLo = descTableAddressLo(lo);
      tHi = descTableAddressHi(hi);
      level++;
      index = levelIndexHalves(ipaLo, ipaHi, level) & 511;
      continue;
    }
    // bit 0 clear: invalid. bits 01: a block, which exists only at L1/L2 with a 4 KB granule
    // (L0 needs DS); at L0 or L3 it is a reserved encoding and faults as invalid.
    if (!descValid(lo) || level === 3 || level === 0) return walkFault(out, FAULT_TRANSLATION, level, lo, hi);
    if (descOaExceeds(hi, oaBits)) return walkFault(out, FAULT_ADDRESS_SIZE, level, lo, hi);
    break;
  }

  // Leaf. Hardware updates are computed first but written only if the access is then allowed
  // (QEMU writes the updated descriptor after the permission check).
  const features = cfg.features;
  if (descAf(lo) && (features & HD) === 0) {
    // Nothing for the hardware to update (the common case): permissions only.
    if (!leafAllows(lo, hi, access, features)) return walkFault(out, FAULT_PERMISSION, level, lo, hi);
  } else {
    let newLo = lo;
    if (!descAf(lo)) {
      if ((features & HA) === 0) return walkFault(out, FAULT_ACCESS_FLAG, level, lo, hi);
      newLo = descLoWithAf(newLo);
    }
    if ((features & HD) !== 0 && (access & 3) === WRITE && descDbm(hi)) newLo = descLoWithWrite(newLo);
    if (!leafAllows(newLo, hi, access, features)) return walkFault(out, FAULT_PERMISSION, level, lo, hi);
    if (newLo !== lo) {
      // Single-threaded model of the hardware's atomic update: no compare-and-swap needed.
      mem.writeDescLo(tHi, tLo | (index << 3), newLo);
      lo = newLo;
    }
  }
  // The output address as halves (for the TLB refill) and as one number (for everyone else).
  const paHi = descOutputHi(lo, hi, level);
  const paLo = descOutputLo(lo, level) | levelOffsetLo(ipaLo, level);
  out[0] = paHi * TWO_32 + (paLo >>> 0);
  out[IO_PA_HI] = paHi;
  out[IO_PA_LO] = paLo;
  out[1] = level;
  out[2] = lo;
  out[3] = hi;
  return 0;
}

/** Stage-2 permission check of a leaf descriptor for an access (S2AP, XN; FEAT_XNX when xnx). */
function leafAllows(lo: number, hi: number, access: number, features: number): boolean {
  const kind = access & 3;
  if (kind === READ) return (descS2ap(lo) & 1) !== 0;
  if (kind === WRITE) return (descS2ap(lo) & 2) !== 0;
  const xn = descXn(hi);
  if ((features & XNX) !== 0) {
    // FEAT_XNX: 00 both ELs, 01 EL0 only ("PXN"), 10 neither, 11 EL1 only ("UXN").
    const el0 = (access & EL0) !== 0;
    return xn === 0 || (xn === 1 && el0) || (xn === 3 && !el0);
  }
  // Only bit 54 counts; with an AArch64 EL2 execution does not require read permission.
  return (xn & 2) === 0;
}

/** Record the faulting level and descriptor in `out` and return the packed fault. */
function walkFault(out: Float64Array, kind: number, level: number, lo: number, hi: number): number {
  out[1] = level;
  out[2] = lo;
  out[3] = hi;
  return (kind << 8) | level;
}

// ---------------------------------------------------------------------------------------------
// Readable wrapper

export interface Stage2Regs {
  readonly vtcr: number | bigint;
  readonly vttbr: Vttbr;
}

export interface WalkOptions {
  /** Hardware access-flag update; overrides VTCR.HA when given. */
  readonly ha?: boolean;
  /** Hardware dirty-state update through DBM; overrides VTCR.HD when given. */
  readonly hd?: boolean;
  /** FEAT_XNX implemented (two-bit XN with per-EL meaning). Default false. */
  readonly xnx?: boolean;
  /** Exception level the access comes from; matters only with xnx. Default 1. */
  readonly el?: 0 | 1;
  /** The CPU's PARange (encoding 0..6 or bits). Default 48 bits. */
  readonly parange?: number;
}

export interface WalkSuccess {
  readonly ok: true;
  readonly pa: number;
  readonly level: number;
  readonly memAttr: number;
  readonly sh: number;
  readonly s2ap: number;
  readonly xn: number;
  readonly swType: number;
}

export interface WalkFault {
  readonly ok: false;
  readonly fault: FaultKind;
  readonly level: number;
  readonly fsc: number;
  readonly ipa: number;
  /** HPFAR_EL2 as hardware would fill it: FIPA[43:4] = IPA[47:12]. */
  readonly hpfar: number;
  readonly esrIss: { readonly dfsc: number; readonly wnr: 0 | 1 };
}

export type WalkResult = WalkSuccess | WalkFault;

/**
 * Translate one IPA through the stage-2 tables in `mem` as the hardware would.
 * `mem` needs `write32` only when HA/HD are on and a descriptor must be updated.
 */
export function walkStage2(
  mem: PhysReader | PhysMemory,
  regs: Stage2Regs,
  ipa: number,
  access: AccessType,
  opts: WalkOptions = {},
): WalkResult {
  if (!Number.isSafeInteger(ipa) || ipa < 0) {
    throw new RangeError(`walkStage2: IPA must be a non-negative integer below 2^53, got ${ipa}`);
  }
  const code = ACCESS_CODE[access];
  if (code === undefined) throw new RangeError(`walkStage2: unknown access "${String(access)}"`);
  const base = decodeVtcr(regs.vtcr, opts.parange, opts.xnx === undefined ? {} : { xnx: opts.xnx });
  const cfg: DecodedVtcr = { ...base, ha: opts.ha ?? base.ha, hd: opts.hd ?? base.hd };
  if ((cfg.ha || cfg.hd) && typeof (mem as Partial<PhysMemory>).write32 !== "function") {
    throw new TypeError("walkStage2: hardware AF/dirty update (ha/hd) needs mem.write32");
  }
  const root = decodeVttbr(regs.vttbr).baddr;
  const out = new Float64Array(WALK_IO_SIZE);
  out[WALK_IPA] = ipa;
  const r = walkStage2Raw(
    new PhysTableMemory(mem),
    walkConfig(cfg, root),
    code | (opts.el === 0 ? ACCESS_EL0 : 0),
    out,
  );
  if (r === 0) {
    const lo = out[2] as number;
    const hi = out[3] as number;
    return {
      ok: true,
      pa: out[0] as number,
      level: out[1] as number,
      memAttr: descMemAttr(lo),
      sh: descSh(lo),
      s2ap: descS2ap(lo),
      xn: descXn(hi),
      swType: descType(hi),
    };
  }
  const kind = r >>> 8;
  const level = r & 0xff;
  const fsc = fscFor(kind, level);
  return {
    ok: false,
    fault: faultKindName(kind),
    level,
    fsc,
    ipa,
    hpfar: hpfarFor(ipa),
    esrIss: { dfsc: fsc, wnr: code === ACCESS_WRITE ? 1 : 0 },
  };
}
