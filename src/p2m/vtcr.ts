/**
 * VTCR_EL2 and VTTBR_EL2: the values Xen programs (`setup_virt_paging`, `generate_vttbr` in
 * xen/arch/arm/mmu/p2m.c) and the architectural decode the walker needs (start level, IPA and
 * OA sizes, concatenated root), with the validity checks of the Arm pseudocode S2InvalidSL /
 * S2InconsistentSL as QEMU's `check_s2_mmu_setup` implements them.
 *
 * Scope: 4 KB granule, no FEAT_LPA/LPA2 (DS, SL2 and bits above 31 are RES0 and ignored), no
 * FEAT_TTST (SL0=3 invalid, T0SZ at most 39), no FEAT_LVA (T0SZ at least 16).
 */

import { SshmError } from "../common/errors.js";
import { fmt0x } from "../common/format.js";
import { LEVEL_SHIFT, LPAE_ENTRIES } from "./descriptor.js";

// VTCR_EL2 fields (Xen's VTCR_* macros in xen/arch/arm/include/asm/processor.h).
export const VTCR_T0SZ_MASK = 0x3f;
export const VTCR_SL0_SHIFT = 6;
export const VTCR_IRGN0_SHIFT = 8;
export const VTCR_ORGN0_SHIFT = 10;
export const VTCR_SH0_SHIFT = 12;
export const VTCR_TG0_SHIFT = 14;
export const VTCR_PS_SHIFT = 16;
export const VTCR_VS = 1 << 19;
export const VTCR_HA = 1 << 21;
export const VTCR_HD = 1 << 22;
export const VTCR_RES1 = 0x80000000;
/** IRGN0/ORGN0 = 01: write-back read-allocate write-allocate (Xen VTCR_IRGN0_WBWA etc.). */
export const VTCR_IRGN0_WBWA = 1 << VTCR_IRGN0_SHIFT;
export const VTCR_ORGN0_WBWA = 1 << VTCR_ORGN0_SHIFT;
/** SH0 = 11: inner shareable table walks. */
export const VTCR_SH0_IS = 3 << VTCR_SH0_SHIFT;
/** TG0 = 00: 4 KB granule. */
export const VTCR_TG0_4K = 0;

/** ID_AA64MMFR0.PARange / VTCR.PS encoding → address bits. */
export const PA_RANGE_BITS: readonly number[] = Object.freeze([32, 36, 40, 42, 44, 48, 52]);

/** Xen's PADDR_BITS on arm64: where p2m_ipa_bits starts before any restriction. */
export const PADDR_BITS = 48;

/**
 * Xen's `pa_range_info[]` rows for arm64: PA size, T0SZ, root order, SL0. Row 6 (52 bits) is
 * kept for reference but is unreachable (p2m_ipa_bits never exceeds PADDR_BITS = 48) and would
 * trip Xen's BUG_ON(root level 0 with order > 0); see reference §2.1.
 */
export const P2M_PA_RANGE_INFO: readonly {
  readonly paBits: number;
  readonly t0sz: number;
  readonly rootOrder: number;
  readonly sl0: number;
}[] = Object.freeze([
  { paBits: 32, t0sz: 32, rootOrder: 0, sl0: 1 },
  { paBits: 36, t0sz: 28, rootOrder: 0, sl0: 1 },
  { paBits: 40, t0sz: 24, rootOrder: 1, sl0: 1 },
  { paBits: 42, t0sz: 22, rootOrder: 3, sl0: 1 },
  { paBits: 44, t0sz: 20, rootOrder: 0, sl0: 2 },
  { paBits: 48, t0sz: 16, rootOrder: 0, sl0: 2 },
  { paBits: 52, t0sz: 12, rootOrder: 4, sl0: 2 },
]);

export interface P2mConfig {
  /** VTCR_EL2 value (fits 32 bits: every field Xen sets is below bit 32). */
  readonly vtcr: number;
  readonly ipaBits: number;
  /** PS: Xen always configures IPA bits == PA bits. */
  readonly paBits: number;
  /** Index into pa_range_info, which is also the VTCR.PS encoding. */
  readonly paRange: number;
  readonly rootLevel: number;
  /** log2 of the number of concatenated root pages. */
  readonly rootOrder: number;
  readonly t0sz: number;
  readonly sl0: number;
  readonly vmidBits: 8 | 16;
}

/**
 * The configuration Xen's setup_virt_paging chooses when p2m_ipa_bits ends up as `ipaBits`.
 * Only the arm64 rows 32/36/40/42/44/48 are reachable; any other size is what makes Xen panic
 * with "<n>-bit P2M is not supported".
 */
export function p2mConfigForIpaBits(ipaBits: number, opts: { vmid16?: boolean } = {}): P2mConfig {
  const paRange = P2M_PA_RANGE_INFO.findIndex((r) => r.paBits === ipaBits);
  const row = P2M_PA_RANGE_INFO[paRange];
  if (row === undefined || ipaBits > PADDR_BITS) {
    throw new SshmError("EP2M_IPA_BITS", `${ipaBits}-bit P2M is not supported`);
  }
  const vmid16 = opts.vmid16 === true;
  let vtcr = VTCR_RES1 | VTCR_SH0_IS | VTCR_ORGN0_WBWA | VTCR_IRGN0_WBWA;
  vtcr |= paRange << VTCR_PS_SHIFT;
  vtcr |= VTCR_TG0_4K;
  if (vmid16) vtcr |= VTCR_VS;
  vtcr |= row.sl0 << VTCR_SL0_SHIFT;
  vtcr |= row.t0sz;
  return {
    vtcr: vtcr >>> 0,
    ipaBits: 64 - row.t0sz,
    paBits: row.paBits,
    paRange,
    rootLevel: 2 - row.sl0,
    rootOrder: row.rootOrder,
    t0sz: row.t0sz,
    sl0: row.sl0,
    vmidBits: vmid16 ? 16 : 8,
  };
}

/** Accepts an ID_AA64MMFR0.PARange encoding (0..6) or a size in bits (32..52). */
export function paRangeToBits(parange: number): number {
  if (Number.isInteger(parange) && parange >= 0 && parange < PA_RANGE_BITS.length) {
    return PA_RANGE_BITS[parange] as number;
  }
  if (PA_RANGE_BITS.includes(parange)) return parange;
  throw new SshmError(
    "EP2M_PARANGE",
    `invalid PARange ${parange}: expected 0..6 or one of ${PA_RANGE_BITS.join("/")}`,
  );
}

export interface SetupVirtPagingInput {
  /** The CPU's ID_AA64MMFR0.PARange (encoding 0..6 or bits); default 48 bits. */
  readonly paRange?: number;
  /** An IOMMU's IPA limit passed to p2m_restrict_ipa_bits, if any. */
  readonly iommuIpaBits?: number;
  /** All CPUs support 16-bit VMIDs (ID_AA64MMFR1.VMIDBits = 2). */
  readonly vmid16?: boolean;
}

/**
 * Xen's boot-time choice: p2m_ipa_bits starts at PADDR_BITS, is lowered to an IOMMU's limit and
 * to the CPU's PA range, and must then equal a row exactly. Returns the config and the two lines
 * Xen prints ("P2M: 40-bit IPA with 40-bit PA and 8-bit VMID", "P2M: 3 levels with order-1
 * root, VTCR 0x0000000080023558").
 */
export function setupVirtPaging(
  input: SetupVirtPagingInput = {},
): P2mConfig & { readonly log: readonly string[] } {
  let ipaBits = PADDR_BITS;
  if (input.iommuIpaBits !== undefined && input.iommuIpaBits < ipaBits) ipaBits = input.iommuIpaBits;
  const cpuBits = paRangeToBits(input.paRange ?? 48);
  if (cpuBits < ipaBits) ipaBits = cpuBits;
  const cfg = p2mConfigForIpaBits(ipaBits, input.vmid16 === undefined ? {} : { vmid16: input.vmid16 });
  const log = [
    `P2M: ${cfg.ipaBits}-bit IPA with ${cfg.paBits}-bit PA and ${cfg.vmidBits}-bit VMID`,
    // PRIregister on arm64 is "016lx".
    `P2M: ${4 - cfg.rootLevel} levels with order-${cfg.rootOrder} root, VTCR 0x${cfg.vtcr.toString(16).padStart(16, "0")}`,
  ];
  return { ...cfg, log };
}

// ---------------------------------------------------------------------------------------------
// Architectural decode

export interface DecodedVtcr {
  /** False when any walk must take a Translation fault at level 0 (see `reason`). */
  readonly valid: boolean;
  readonly reason: string;
  readonly t0sz: number;
  readonly sl0: number;
  readonly tg0: number;
  /** VTCR.PS encoding as programmed. */
  readonly ps: number;
  readonly startLevel: number;
  readonly ipaBits: number;
  /** Effective output size: min(PS, PARange), at most 48 without FEAT_LPA2. */
  readonly oaBits: number;
  /** Entries in the (possibly concatenated) root table. */
  readonly rootEntries: number;
  /** Root pages concatenated (1..16). */
  readonly concat: number;
  /** Root table alignment in bytes (= rootEntries * 8); lower VTTBR.BADDR bits are ignored. */
  readonly rootAlign: number;
  readonly vmidBits: 8 | 16;
  /** Hardware access-flag update (VTCR.HA, FEAT_HAFDBS assumed implemented). */
  readonly ha: boolean;
  /** Hardware dirty-state update through DBM (VTCR.HD). */
  readonly hd: boolean;
  /** FEAT_XNX: XN is two bits with per-EL meaning. A CPU property, not a VTCR field. */
  readonly xnx: boolean;
  readonly irgn0: number;
  readonly orgn0: number;
  readonly sh0: number;
  /** 2^ipaBits: IPAs at or above it take a Translation fault at level 0. */
  readonly ipaLimit: number;
  /** 2^oaBits: a root or descriptor address at or above it takes an Address size fault. */
  readonly oaLimit: number;
}

function splitWord(v: number | bigint): { lo: number; hi: number } {
  if (typeof v === "bigint") {
    const u = BigInt.asUintN(64, v);
    return { lo: Number(u & 0xffffffffn), hi: Number(u >> 32n) };
  }
  return { lo: v >>> 0, hi: Math.floor(v / 4294967296) >>> 0 };
}

/**
 * Decode VTCR_EL2 for a stage-2 walk. `parange` is the CPU's ID_AA64MMFR0.PARange (0..6 or
 * bits; default 48 bits). Invalid configurations are reported, not thrown: the architecture
 * turns them into a level-0 Translation fault on every access.
 */
export function decodeVtcr(
  vtcr: number | bigint,
  parange?: number,
  features: { readonly xnx?: boolean } = {},
): DecodedVtcr {
  const { lo } = splitWord(vtcr);
  const t0sz = lo & VTCR_T0SZ_MASK;
  const sl0 = (lo >>> VTCR_SL0_SHIFT) & 3;
  const tg0 = (lo >>> VTCR_TG0_SHIFT) & 3;
  const ps = (lo >>> VTCR_PS_SHIFT) & 7;
  const pamax = paRangeToBits(parange ?? 48);
  // A reserved PS (7) is bounded by PARange like any other value (QEMU: MIN(PARange, PS)).
  const psBits = ps < PA_RANGE_BITS.length ? (PA_RANGE_BITS[ps] as number) : 52;
  // Without FEAT_LPA2 (DS=0) the effective OA size is at most 48 bits.
  const oaBits = Math.min(psBits, pamax, 48);
  const ipaBits = 64 - t0sz;
  const startLevel = 2 - sl0;

  let reason = "";
  if (tg0 !== 0) {
    // sshm models the 4 KB granule only, the one Xen uses.
    reason = `TG0=${tg0} (only the 4 KB granule is modelled)`;
  } else if (t0sz < 16 || t0sz > 39) {
    // TxSZ out of range: QEMU (and FEAT_LVA's required behaviour) raise a level 0 fault.
    reason = `T0SZ=${t0sz} outside 16..39`;
  } else if (sl0 === 3) {
    reason = "SL0=3 needs FEAT_TTST";
  } else if (sl0 === 2 && pamax < 44) {
    // S2InvalidSL: starting at level 0 needs PAMax >= 44.
    reason = `SL0=2 (level 0) needs PARange >= 44 bits, CPU has ${pamax}`;
  } else {
    // S2InconsistentSL: levels*9 + 13 <= IPA <= levels*9 + 25 (up to 16 concatenated roots).
    const levels = 3 - startLevel;
    const min = levels * 9 + 13;
    const max = levels * 9 + 25;
    if (ipaBits < min || ipaBits > max) {
      reason = `SL0=${sl0} (start level ${startLevel}) inconsistent with ${ipaBits}-bit IPA (needs ${min}..${max})`;
    }
  }
  const valid = reason === "";
  const levelBits = valid ? ipaBits - (LEVEL_SHIFT[startLevel] as number) : 9;
  const rootEntries = 2 ** levelBits;
  return {
    valid,
    reason,
    t0sz,
    sl0,
    tg0,
    ps,
    startLevel,
    ipaBits,
    oaBits,
    rootEntries,
    concat: Math.max(1, rootEntries / LPAE_ENTRIES),
    rootAlign: rootEntries * 8,
    vmidBits: lo & VTCR_VS ? 16 : 8,
    ha: (lo & VTCR_HA) !== 0,
    hd: (lo & VTCR_HD) !== 0,
    xnx: features.xnx === true,
    irgn0: (lo >>> VTCR_IRGN0_SHIFT) & 3,
    orgn0: (lo >>> VTCR_ORGN0_SHIFT) & 3,
    sh0: (lo >>> VTCR_SH0_SHIFT) & 3,
    ipaLimit: 2 ** ipaBits,
    oaLimit: 2 ** oaBits,
  };
}

const CACHE = ["NC", "WBWA", "WT", "WBnWA"];
const SHARE = ["NSH", "SH0=01(reserved)", "OSH", "ISH"];

/** One readable line for a decoded VTCR, for display and logs. */
export function describeVtcr(d: DecodedVtcr): string {
  const head = `T0SZ=${d.t0sz} (${d.ipaBits}-bit IPA) SL0=${d.sl0}`;
  const start = d.valid ? ` (start L${d.startLevel}, ${d.concat} root page${d.concat > 1 ? "s" : ""})` : "";
  const rest = ` PS=${d.ps} (OA ${d.oaBits}-bit) TG0=${d.tg0 === 0 ? "4K" : d.tg0} SH0=${SHARE[d.sh0]} ORGN0=${CACHE[d.orgn0]} IRGN0=${CACHE[d.irgn0]} VMID=${d.vmidBits}-bit${d.ha ? " HA" : ""}${d.hd ? " HD" : ""}`;
  return `${head}${start}${rest}${d.valid ? "" : ` INVALID: ${d.reason}`}`;
}

// ---------------------------------------------------------------------------------------------
// VTTBR_EL2

/** A 64-bit register value as two uint32 words (2^48 * VMID exceeds 2^53 once VMID >= 32). */
export interface RegWords {
  readonly lo: number;
  readonly hi: number;
}

export type Vttbr = number | bigint | RegWords;

/** Xen's generate_vttbr: root maddr | (vmid << 48), as two words. */
export function generateVttbr(rootMaddr: number, vmid: number): RegWords {
  if (!Number.isSafeInteger(rootMaddr) || rootMaddr < 0 || rootMaddr >= 2 ** 48) {
    throw new SshmError("EP2M_VTTBR", `root address ${fmt0x(rootMaddr)} does not fit VTTBR.BADDR (48 bits)`);
  }
  if (!Number.isInteger(vmid) || vmid < 0 || vmid > 0xffff) {
    throw new SshmError("EP2M_VTTBR", `VMID ${vmid} does not fit 16 bits`);
  }
  return { lo: rootMaddr >>> 0, hi: ((Math.floor(rootMaddr / 4294967296) & 0xffff) | (vmid << 16)) >>> 0 };
}

/** The same value as a BigInt, for display and tests. */
export function generateVttbrBig(rootMaddr: number, vmid: number): bigint {
  const w = generateVttbr(rootMaddr, vmid);
  return (BigInt(w.hi) << 32n) | BigInt(w.lo);
}

export function vttbrWords(v: Vttbr): RegWords {
  if (typeof v === "object") return { lo: v.lo >>> 0, hi: v.hi >>> 0 };
  return splitWord(v);
}

export interface DecodedVttbr {
  /** BADDR, bits 47:1 (bit 0 is CnP). Alignment to the root size is applied by the walker. */
  readonly baddr: number;
  readonly vmid: number;
  readonly cnp: boolean;
}

/** Split VTTBR_EL2. With 8-bit VMIDs (VTCR.VS=0) only bits 55:48 form the VMID. */
export function decodeVttbr(v: Vttbr, vmidBits: 8 | 16 = 16): DecodedVttbr {
  const { lo, hi } = vttbrWords(v);
  const vmid = hi >>> 16;
  return {
    baddr: (hi & 0xffff) * 4294967296 + ((lo & ~1) >>> 0),
    vmid: vmidBits === 8 ? vmid & 0xff : vmid,
    cnp: (lo & 1) !== 0,
  };
}
