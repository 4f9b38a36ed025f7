/**
 * VMSAv8-64 stage-2 descriptors (4 KB granule, 48-bit OA, no LPA2) as Xen writes them.
 *
 * This is the one module that knows descriptor bit positions; every other module goes through
 * the encoders, getters and field updaters below. A descriptor is held as two uint32 words:
 * `lo` = bits 31:0 and `hi` = bits 63:32 (a hi-word bit is the descriptor bit minus 32). Never a
 * BigInt outside the display/test helpers at the end: the walk and TLB refill paths run per access
 * and BigInt costs 20-100x there (reference §4.3).
 *
 * Layout (Arm ARM D8; Xen `lpae_p2m_t` in xen/arch/arm/include/asm/lpae.h):
 *   lo: 0 valid | 1 table/page | 5:2 MemAttr | 6 S2AP[0]=read | 7 S2AP[1]=write | 9:8 SH | 10 AF
 *       | 11 RES0 | 31:12 OA[31:12]
 *   hi: 15:0 OA[47:32] | 18:16 RES0 | 19 DBM | 20 Contiguous | 22:21 XN[1:0] (bits 54:53)
 *       | 26:23 software bits 58:55 (Xen's p2m type) | 30:27 PBHA | 31 ignored
 */

import {
  type P2mAccess,
  type P2mType,
  p2m_access_n,
  p2m_access_n2rwx,
  p2m_access_r,
  p2m_access_r_pw,
  p2m_access_rw,
  p2m_access_rwx,
  p2m_access_rx,
  p2m_access_rx2rw,
  p2m_access_w,
  p2m_access_wx,
  p2m_access_x,
  p2m_grant_map_rw,
  p2m_iommu_map_rw,
  p2m_map_foreign_rw,
  p2m_mmio_direct_c,
  p2m_mmio_direct_dev,
  p2m_mmio_direct_nc,
  p2m_ram_ro,
  p2m_ram_rw,
  p2mTypeName,
} from "./types.js";

// ---------------------------------------------------------------------------------------------
// Bit constants (lo word unless named _HI)

const D_VALID = 0x1;
const D_TABLE = 0x2;
const D_MEMATTR_SHIFT = 2;
const D_READ = 0x40;
const D_WRITE = 0x80;
const D_SH_SHIFT = 8;
const D_AF = 0x400;
const D_OA_LO_MASK = 0xfffff000; // OA[31:12]
const D_OA_HI_MASK = 0xffff; // OA[47:32]
const D_DBM_HI = 1 << 19; // bit 51
const D_CONTIG_HI = 1 << 20; // bit 52
const D_XN_SHIFT_HI = 21; // bits 54:53
const D_XN1_HI = 1 << 22; // bit 54: XN (XN[1] with FEAT_XNX)
const D_TYPE_SHIFT_HI = 23; // bits 58:55
const D_TYPE_MASK_HI = 0xf << D_TYPE_SHIFT_HI;
const D_PBHA_SHIFT_HI = 27; // bits 62:59

const TWO_32 = 4294967296;
const TWO_20 = 1048576;

/** MemAttr values Xen uses (xen/arch/arm/include/asm/page.h). */
export const MATTR_DEV = 0x1; // Device-nGnRE
export const MATTR_MEM_NC = 0x5; // Normal, inner/outer non-cacheable
export const MATTR_MEM = 0xf; // Normal, inner/outer write-back

/** SH encodings (Xen LPAE_SH_*). 01 is reserved. */
export const LPAE_SH_NON = 0;
export const LPAE_SH_OUTER = 2;
export const LPAE_SH_INNER = 3;

/** S2AP encodings: bit 0 grants read, bit 1 grants write (QEMU get_S2prot; Xen read/write). */
export const S2AP_NONE = 0;
export const S2AP_RO = 1;
export const S2AP_WO = 2;
export const S2AP_RW = 3;

// ---------------------------------------------------------------------------------------------
// Level geometry (4 KB granule). Level n resolves IPA bits [levelShift(n)+8 : levelShift(n)].

/** Entries in one 4 KiB table. */
export const LPAE_ENTRIES = 512;
/** IPA shift of each level's index: L0 39, L1 30, L2 21, L3 12. */
export const LEVEL_SHIFT: readonly number[] = Object.freeze([39, 30, 21, 12]);
/** Page order of a mapping at each level (Xen XEN_PT_LEVEL_ORDER): 27, 18, 9, 0. */
export const LEVEL_ORDER: readonly number[] = Object.freeze([27, 18, 9, 0]);
/** Bytes covered by one entry at each level: 512 GiB, 1 GiB, 2 MiB, 4 KiB. */
export const LEVEL_SIZE: readonly number[] = Object.freeze([2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12]);

// Hot-path copies in typed arrays: V8 loads from a frozen JS array of doubles (boxed heap
// numbers) cost ~15 ns per walk in measurement here, a typed-array load is a plain machine load.
const LEVEL_INV = new Float64Array([2 ** -39, 2 ** -30, 2 ** -21, 2 ** -12]);
const LEVEL_OFFSET_MASK = new Int32Array([0, 0x3fffffff, 0x1fffff, 0xfff]);

/**
 * Index of the IPA in a table at `level` before masking (IPA >> LEVEL_SHIFT[level], low 32 bits),
 * from the IPA's exact 32-bit halves (`lo` = IPA[31:0] as from `ipa >>> 0`, `hi` = IPA[52:32]):
 * integer shifts only, for the walk loop. The caller masks (511, or the concatenated root's size).
 */
export function levelIndexHalves(lo: number, hi: number, level: number): number {
  const s = 39 - 9 * level; // LEVEL_SHIFT[level]: 39, 30, 21, 12
  return level === 0 ? hi >>> 7 : (lo >>> s) | (hi << (32 - s));
}

/** Table index of `ipa` at `level` (0..511). */
export function levelIndex(ipa: number, level: number): number {
  return (ipa * (LEVEL_INV[level] as number)) & 511;
}

/**
 * Byte offset of the IPA inside the block/page mapped at `level` (1..3), from IPA[31:0]: every
 * offset mask is below 2^30, so the low word is enough.
 */
export function levelOffsetLo(ipaLo: number, level: number): number {
  return ipaLo & (LEVEL_OFFSET_MASK[level] as number);
}

// ---------------------------------------------------------------------------------------------
// Xen encoders: mfn_to_p2m_entry + p2m_set_permission (xen/arch/arm/mmu/p2m.c)

/**
 * Permission bits Xen derives for a (type, access) pair, packed as bit0 = read, bit1 = write,
 * bit2 = XN. First the type sets write/XN (read is always 1 from mfn_to_p2m_entry), then the
 * mem_access value can only take permissions away.
 */
export function p2mPermissionBits(t: P2mType, a: P2mAccess): number {
  let read = 1;
  let write: number;
  let xn: number;
  switch (t) {
    case p2m_ram_rw:
      xn = 0;
      write = 1;
      break;
    case p2m_ram_ro:
      xn = 0;
      write = 0;
      break;
    case p2m_iommu_map_rw:
    case p2m_map_foreign_rw: // static-shm borrowers can never execute from the shared region
    case p2m_grant_map_rw:
    case p2m_mmio_direct_dev:
    case p2m_mmio_direct_nc:
    case p2m_mmio_direct_c:
      xn = 1;
      write = 1;
      break;
    default: // iommu_map_ro, map_foreign_ro, grant_map_ro, invalid
      xn = 1;
      write = 0;
      break;
  }
  switch (a) {
    case p2m_access_rwx:
      break;
    case p2m_access_wx:
      read = 0;
      break;
    case p2m_access_rw:
      xn = 1;
      break;
    case p2m_access_w:
      read = 0;
      xn = 1;
      break;
    case p2m_access_rx:
    case p2m_access_rx2rw:
      write = 0;
      break;
    case p2m_access_x:
      write = 0;
      read = 0;
      break;
    case p2m_access_r:
    case p2m_access_r_pw:
      write = 0;
      xn = 1;
      break;
    case p2m_access_n:
    case p2m_access_n2rwx:
      read = 0;
      write = 0;
      xn = 1;
      break;
  }
  return read | (write << 1) | (xn << 2);
}

/**
 * MemAttr and SH from the type, as mfn_to_p2m_entry chooses them: Device-nGnRE / NC / WB with
 * Outer shareability for the three MMIO types (Xen: Normal-NC and Device are treated as outer
 * shareable anyway), Normal WB Inner-shareable for everything else (RAM, foreign, grant, iommu).
 */
function memAttrShBits(t: P2mType): number {
  switch (t) {
    case p2m_mmio_direct_dev:
      return (MATTR_DEV << D_MEMATTR_SHIFT) | (LPAE_SH_OUTER << D_SH_SHIFT);
    case p2m_mmio_direct_nc:
      return (MATTR_MEM_NC << D_MEMATTR_SHIFT) | (LPAE_SH_OUTER << D_SH_SHIFT);
    case p2m_mmio_direct_c:
      return (MATTR_MEM << D_MEMATTR_SHIFT) | (LPAE_SH_OUTER << D_SH_SHIFT);
    default:
      return (MATTR_MEM << D_MEMATTR_SHIFT) | (LPAE_SH_INNER << D_SH_SHIFT);
  }
}

/**
 * Low word of the entry Xen writes for `mfn` with type `t` and access `a` at `level`.
 * mfn_to_p2m_entry always sets valid, table, AF and read; __p2m_set_entry clears the table bit
 * for L1/L2 blocks, so bit 1 is set only at level 3. The MFN's low bits are stored as given
 * (Xen does not mask a block's RES0 address bits; its callers align them).
 */
export function p2mEntryLo(mfn: number, t: P2mType, a: P2mAccess, level: number): number {
  const perm = p2mPermissionBits(t, a);
  let lo = D_VALID | D_AF | memAttrShBits(t);
  if (level === 3) lo |= D_TABLE;
  if (perm & 1) lo |= D_READ;
  if (perm & 2) lo |= D_WRITE;
  // `mfn & 0xfffff` applies ToInt32 (mod 2^32) first, so it keeps the exact low 20 bits for any
  // MFN below 2^53.
  return (lo | ((mfn & 0xfffff) << 12)) >>> 0;
}

/** High word of the same entry: OA[47:32], XN (bit 54) and the type in bits 58:55. */
export function p2mEntryHi(mfn: number, t: P2mType, a: P2mAccess): number {
  const perm = p2mPermissionBits(t, a);
  let hi = (Math.floor(mfn / TWO_20) & D_OA_HI_MASK) | (t << D_TYPE_SHIFT_HI);
  if (perm & 4) hi |= D_XN1_HI;
  return hi >>> 0;
}

/**
 * Table descriptors: Xen builds them with mfn_to_p2m_entry(page, p2m_ram_rw, rwx), so a table
 * entry has exactly the bits of a ram_rw page (low 12 bits 0x7FF, type 1); only the level tells
 * them apart. Stage 2 ignores the extra attribute bits in a table descriptor.
 */
export function tableEntryLo(mfn: number): number {
  return p2mEntryLo(mfn, p2m_ram_rw, p2m_access_rwx, 3);
}

export function tableEntryHi(mfn: number): number {
  return p2mEntryHi(mfn, p2m_ram_rw, p2m_access_rwx);
}

// ---------------------------------------------------------------------------------------------
// Field getters: tiny so V8 inlines them into the walker and the TLB refill.

/** Hardware valid bit (bit 0). Xen itself decides validity from the type, see descType. */
export function descValid(lo: number): boolean {
  return (lo & D_VALID) !== 0;
}

/** bits[1:0] = 11: a valid table (L0-L2) or page (L3): the common case of a walk step. */
export function descIsValidTableOrPage(lo: number): boolean {
  return (lo & (D_VALID | D_TABLE)) === (D_VALID | D_TABLE);
}

/** Bit 1: table at L0-L2, page at L3; 0 means block (L1/L2) or reserved (L0, L3). */
export function descIsTableOrPage(lo: number): boolean {
  return (lo & D_TABLE) !== 0;
}

/** OA[47:12] as a frame number (exact: at most 36 bits). */
export function descMfn(lo: number, hi: number): number {
  return (hi & D_OA_HI_MASK) * TWO_20 + (lo >>> 12);
}

/** OA[47:32], the part of the output address held in the high word. */
export function descOaHi(hi: number): number {
  return hi & D_OA_HI_MASK;
}

export function descMemAttr(lo: number): number {
  return (lo >>> D_MEMATTR_SHIFT) & 0xf;
}

export function descS2ap(lo: number): number {
  return (lo >>> 6) & 3;
}

export function descRead(lo: number): boolean {
  return (lo & D_READ) !== 0;
}

export function descWrite(lo: number): boolean {
  return (lo & D_WRITE) !== 0;
}

export function descSh(lo: number): number {
  return (lo >>> D_SH_SHIFT) & 3;
}

export function descAf(lo: number): boolean {
  return (lo & D_AF) !== 0;
}

export function descDbm(hi: number): boolean {
  return (hi & D_DBM_HI) !== 0;
}

export function descContig(hi: number): boolean {
  return (hi & D_CONTIG_HI) !== 0;
}

/** XN[1:0] (descriptor bits 54:53). Without FEAT_XNX only bit 1 (bit 54) has meaning. */
export function descXn(hi: number): number {
  return (hi >>> D_XN_SHIFT_HI) & 3;
}

/** Software bits 58:55, where Xen keeps the p2m type (0..15; Xen stores 0..11). */
export function descType(hi: number): number {
  return (hi >>> D_TYPE_SHIFT_HI) & 0xf;
}

export function descPbha(hi: number): number {
  return (hi >>> D_PBHA_SHIFT_HI) & 0xf;
}

/** Low-word mask of the output address for a block at each level: L0 47:39, L1 47:30, L2 47:21. */
const BLOCK_LO_MASK = new Int32Array([0, 0xc0000000 | 0, 0xffe00000 | 0, D_OA_LO_MASK | 0]);
const BLOCK_HI_MASK = new Int32Array([0xff80, D_OA_HI_MASK, D_OA_HI_MASK, D_OA_HI_MASK]);

/**
 * Output address of a descriptor at `level`, as a byte address: bits 47:12 for a table (any
 * level with bit 1 set below L3) or an L3 page; for a block the bits below the block size are
 * RES0 and are masked off, as QEMU does (L1 keeps 47:30, L2 47:21, an L0 block would keep 47:39).
 */
export function descOutputAddress(lo: number, hi: number, level: number): number {
  const l = (lo & D_TABLE) !== 0 ? 3 : level;
  return (hi & (BLOCK_HI_MASK[l] as number)) * TWO_32 + ((lo & (BLOCK_LO_MASK[l] as number)) >>> 0);
}

/** descOutputAddress as halves: bits 47:32 ... */
export function descOutputHi(lo: number, hi: number, level: number): number {
  return hi & (BLOCK_HI_MASK[(lo & D_TABLE) !== 0 ? 3 : level] as number);
}

/** ... and bits 31:0 as an int32 bit pattern. */
export function descOutputLo(lo: number, level: number): number {
  return lo & (BLOCK_LO_MASK[(lo & D_TABLE) !== 0 ? 3 : level] as number);
}

/** Next-level table address held in a table descriptor (bits 47:12). */
export function descTableAddress(lo: number, hi: number): number {
  return (hi & D_OA_HI_MASK) * TWO_32 + ((lo & D_OA_LO_MASK) >>> 0);
}

/** The table address of a table descriptor as halves: bits 31:12 (as an int32) ... */
export function descTableAddressLo(lo: number): number {
  return lo & D_OA_LO_MASK;
}

/** ... and bits 47:32. descTableAddress = hi * 2^32 + (lo >>> 0). */
export function descTableAddressHi(hi: number): number {
  return hi & D_OA_HI_MASK;
}

/**
 * True when a descriptor's address bits 47:12 exceed an output size of `oaBits` (32..48),
 * the check that raises an Address size fault. Only OA[47:32] can be out of range.
 */
export function descOaExceeds(hi: number, oaBits: number): boolean {
  return (hi & D_OA_HI_MASK) >>> (oaBits - 32) !== 0;
}

// ---------------------------------------------------------------------------------------------
// Field updaters, for the table code (invalidate/resolve, shatter) and hardware AF/DBM updates.

/** Set or clear the hardware valid bit (Xen p2m_invalidate_table / resolve_translation_fault). */
export function descLoWithValid(lo: number, valid: boolean): number {
  return (valid ? lo | D_VALID : lo & ~D_VALID) >>> 0;
}

/** Set the access flag (hardware update when VTCR.HA=1). */
export function descLoWithAf(lo: number): number {
  return (lo | D_AF) >>> 0;
}

/** Set S2AP[1] (write permission): the hardware dirty-state update with VTCR.HD=1 and DBM=1. */
export function descLoWithWrite(lo: number): number {
  return (lo | D_WRITE) >>> 0;
}

/**
 * Turn a block's low word into the entry of a given level's page/block (bit 1 set only at L3),
 * keeping every attribute: what p2m_split_superpage does when it copies a block into 512 children.
 */
export function descLoForLevel(lo: number, level: number): number {
  return (level === 3 ? lo | D_TABLE : lo & ~D_TABLE) >>> 0;
}

/** Replace OA[31:12] (the low-word part of the MFN), keeping attributes. */
export function descLoWithMfn(lo: number, mfn: number): number {
  return ((lo & ~D_OA_LO_MASK) | ((mfn & 0xfffff) << 12)) >>> 0;
}

/** Replace OA[47:32] (the high-word part of the MFN), keeping attributes and type. */
export function descHiWithMfn(hi: number, mfn: number): number {
  return ((hi & ~D_OA_HI_MASK) | (Math.floor(mfn / TWO_20) & D_OA_HI_MASK)) >>> 0;
}

/** Replace the software type bits 58:55. */
export function descHiWithType(hi: number, t: number): number {
  return ((hi & ~D_TYPE_MASK_HI) | ((t & 0xf) << D_TYPE_SHIFT_HI)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Decode and display (slow paths)

export type DescriptorKind = "invalid" | "table" | "block" | "page" | "reserved";

export interface DecodedDescriptor {
  readonly lo: number;
  readonly hi: number;
  readonly level: number;
  /**
   * What hardware makes of it at this level: invalid (bit 0 clear), table (11 at L0-L2),
   * page (11 at L3), block (01 at L1/L2) or reserved (01 at L0 without DS, or at L3).
   */
  readonly kind: DescriptorKind;
  /** What the entry would be if bit 0 were set: Xen keeps meaningful hardware-invalid entries. */
  readonly shape: "table" | "block" | "page" | "reserved";
  readonly valid: boolean;
  readonly mfn: number;
  readonly outputAddress: number;
  readonly memAttr: number;
  readonly s2ap: number;
  readonly read: boolean;
  readonly write: boolean;
  readonly sh: number;
  readonly af: boolean;
  readonly dbm: boolean;
  readonly contig: boolean;
  readonly xn: number;
  readonly swType: number;
  readonly typeName: string;
  readonly pbha: number;
}

function shapeAt(lo: number, level: number): "table" | "block" | "page" | "reserved" {
  if (lo & D_TABLE) return level === 3 ? "page" : "table";
  return level === 1 || level === 2 ? "block" : "reserved";
}

export function decodeDescriptor(lo: number, hi: number, level: number): DecodedDescriptor {
  const l = lo >>> 0;
  const h = hi >>> 0;
  const shape = shapeAt(l, level);
  const swType = descType(h);
  return {
    lo: l,
    hi: h,
    level,
    kind: descValid(l) ? shape : "invalid",
    shape,
    valid: descValid(l),
    mfn: descMfn(l, h),
    outputAddress: descOutputAddress(l, h, level),
    memAttr: descMemAttr(l),
    s2ap: descS2ap(l),
    read: descRead(l),
    write: descWrite(l),
    sh: descSh(l),
    af: descAf(l),
    dbm: descDbm(h),
    contig: descContig(h),
    xn: descXn(h),
    swType,
    typeName: p2mTypeName(swType),
    pbha: descPbha(h),
  };
}

const DEVICE_NAMES: readonly string[] = ["Device-nGnRnE", "Device-nGnRE", "Device-nGRE", "Device-GRE"];
const CACHE_NAMES: readonly string[] = ["?", "NC", "WT", "WB"];

/**
 * Stage-2 MemAttr[3:0] with HCR_EL2.FWB=0 (Xen does not use FWB): 00xx is a Device type,
 * otherwise Normal with outer cacheability in [3:2] and inner in [1:0]; inner 00 is reserved.
 */
export function memAttrName(memAttr: number): string {
  const outer = (memAttr >>> 2) & 3;
  const inner = memAttr & 3;
  if (outer === 0) return DEVICE_NAMES[inner] as string;
  if (inner === 0) return "Normal(reserved)";
  if (outer === inner) return `Normal ${CACHE_NAMES[inner]}`;
  return `Normal o${CACHE_NAMES[outer]}/i${CACHE_NAMES[inner]}`;
}

const S2AP_NAMES: readonly string[] = ["none", "RO", "WO", "RW"];
const SH_NAMES: readonly string[] = ["NSH", "01(reserved)", "OS", "IS"];
// XN[1:0] named as KVM names the FEAT_XNX encodings; without XNX only bit 54 ("XN") matters.
const XN_NAMES: readonly string[] = ["", "PXN", "XN", "UXN"];

function hexUpper(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, "0");
}

/** "0x03400000800057FF": 16 upper-case digits, high word first, as the reference writes them. */
export function descriptorHex(lo: number, hi: number): string {
  return `0x${hexUpper(hi >>> 0, 8)}${hexUpper(lo >>> 0, 8)}`;
}

/**
 * One readable line, e.g.
 * `L3 page mfn=0x80005 p2m_map_foreign_rw MemAttr=0xF(Normal WB) S2AP=RW SH=IS AF XN`.
 * A hardware-invalid entry that still carries data (Xen's invalidated entries) is shown as
 * `invalid(hw)` followed by what it would be; an all-zero entry is `invalid (empty)`.
 */
export function describeDescriptor(lo: number, hi: number, level: number): string {
  const d = decodeDescriptor(lo, hi, level);
  if (d.lo === 0 && d.hi === 0) return `L${level} invalid (empty)`;
  const head = d.valid ? `L${level} ${d.shape}` : `L${level} invalid(hw) ${d.shape}`;
  const parts = [head, `mfn=0x${d.mfn.toString(16)}`, d.typeName];
  if (d.shape === "table") {
    // Stage 2 ignores attributes in table descriptors; show them only if not Xen's usual pattern.
    return parts.join(" ");
  }
  parts.push(`MemAttr=0x${hexUpper(d.memAttr, 1)}(${memAttrName(d.memAttr)})`);
  parts.push(`S2AP=${S2AP_NAMES[d.s2ap]}`);
  parts.push(`SH=${SH_NAMES[d.sh]}`);
  if (d.af) parts.push("AF");
  if (d.xn !== 0) parts.push(XN_NAMES[d.xn] as string);
  if (d.contig) parts.push("Contig");
  if (d.dbm) parts.push("DBM");
  if (d.pbha !== 0) parts.push(`PBHA=0x${d.pbha.toString(16)}`);
  return parts.join(" ");
}

// ---------------------------------------------------------------------------------------------
// BigInt conveniences: tests and display only, never on a walk or access path.

/** The 64-bit value of a (lo, hi) pair. */
export function encodeDescriptorBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Split a 64-bit descriptor value into its two words. */
export function decodeBig(value: bigint): { lo: number; hi: number } {
  const v = BigInt.asUintN(64, value);
  return { lo: Number(v & 0xffffffffn), hi: Number(v >> 32n) };
}
