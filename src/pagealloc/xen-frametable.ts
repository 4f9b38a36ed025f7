/**
 * Where Xen's frame table lives in its virtual address space (arm64, MMU), as Xen lays it out at
 * boot: init_pdx() (xen/arch/arm/setup.c) with PDX mask compression (CONFIG_PDX_MASK_COMPRESSION,
 * the Arm default: pfn_pdx_compression_setup() in xen/common/pdx.c), then init_frametable()
 * (xen/arch/arm/mmu/mm.c), which maps one chunk of `struct page_info` per run of valid PDX groups
 * and nothing for the gaps, below the first group of RAM or past max_pdx.
 *
 * This decides what happens when Xen touches the `struct page_info` of a frame that is not RAM:
 * - a frame whose entry init_frametable() never mapped: the read takes a data abort in Xen;
 * - an entry in the page-rounding tail of a chunk: init_frametable_chunk() filled it with 0xff;
 * - an entry in a mapped chunk (a hole inside a valid 1 GiB PDX group): zeroed like RAM's.
 *
 * Boot-time only (a few calls per static bank), so it computes with BigInt.
 */
import type { RamBank } from "./ram.js";

const PAGE_SHIFT = 12n;
/** sizeof(struct page_info) on arm64 (PAGE_INFO_SIZE). */
export const PAGE_INFO_SIZE = 56;
/** offsetof(struct page_info, count_info): after `struct page_list_entry list` (a list_head). */
export const COUNT_INFO_OFFSET = 16;
/** Fields mark_page_free() reads for its "pg MFN" printk: count_info .. tlbflush_timestamp. */
const PRINTK_FIELDS_END = 44;
/** PDX_GROUP_COUNT = (1 << SECOND_SHIFT) / ISOLATE_LSB(sizeof(struct page_info)) = 2^21 / 8. */
export const PDX_GROUP_COUNT = 2n ** 18n;
/** MAX_ORDER on Arm (CONFIG_PAGEALLOC_MAX_ORDER). */
const MAX_ORDER = 18n;
/** XEN_VM_MAPPING = SLOT0(20); FRAMETABLE_VIRT_START = XEN_VM_MAPPING + 32 GiB. */
export const FRAMETABLE_VIRT_START = (20n << 39n) + 32n * 2n ** 30n;
/** FRAMETABLE_SIZE: 32 GiB of virtual space. */
const FRAMETABLE_SIZE = 32n * 2n ** 30n;
const PAGE = 4096n;

/** What a read of a frame's `struct page_info` finds. */
export type PageInfoState =
  /** Mapped, zeroed by init_frametable_chunk() (RAM, or a hole inside a valid PDX group). */
  | "zeroed"
  /** Mapped, in the chunk's page-rounding tail: every byte 0xff. */
  | "poisoned"
  /** Not mapped: the first access takes a data abort. */
  | "unmapped";

export interface PageInfoAt {
  /** Index into frame_table: pdx - frametable_base_pdx (negative below the table). */
  readonly index: bigint;
  /** Virtual address of its count_info field. */
  readonly countInfoVa: bigint;
  readonly state: PageInfoState;
  /** For "poisoned": whether every field mark_page_free() prints lies inside the mapping. */
  readonly printkFieldsMapped: boolean;
}

interface Chunk {
  /** First and end pdx of the entries init_frametable_chunk() zeroed. */
  readonly pdxS: bigint;
  readonly pdxE: bigint;
  /** End of the mapping, as a byte offset from frame_table (rounded up to a page). */
  readonly mappedEnd: bigint;
}

function fillMask(mask: bigint): bigint {
  let m = mask;
  while ((m & (m + 1n)) !== 0n) m |= m + 1n;
  return m;
}

export class XenFrameTable {
  private readonly bottomMask: bigint;
  private readonly holeMask: bigint;
  private readonly topMask: bigint;
  private readonly holeShift: bigint;
  /** Indices of the PDX groups set_pdx_range() marked (pdx_group_valid starts with bit 0 set). */
  private readonly groupValid = new Set<bigint>([0n]);
  readonly maxPage: bigint;
  readonly maxPdx: bigint;
  readonly frametableBasePdx: bigint;
  private readonly chunks: Chunk[] = [];

  constructor(banks: readonly RamBank[]) {
    const ranges = banks.map((b) => ({ base: BigInt(b.base), size: BigInt(b.size) }));
    // pfn_pdx_compression_setup(0): the bits no RAM address moves in, above MAX_ORDER.
    let holeShift = 0n;
    let bottomShift = 0n;
    let mask = fillMask((1n << (MAX_ORDER + PAGE_SHIFT)) - 1n) >> PAGE_SHIFT;
    for (const r of ranges) {
      const basePfn = r.base >> PAGE_SHIFT;
      const pages = ((r.base + r.size + PAGE - 1n) >> PAGE_SHIFT) - basePfn;
      mask |= basePfn | fillMask(basePfn ^ (basePfn + pages - 1n));
    }
    const bit = (i: bigint) => ((mask >> i) & 1n) === 1n;
    for (let j = MAX_ORDER - 1n; ; ) {
      let i = j + 1n;
      while (i < 64n && bit(i)) i++;
      if (i >= 64n) break;
      let k = i + 1n;
      while (k < 64n && !bit(k)) k++;
      if (k >= 64n) break;
      j = k;
      if (k - i > holeShift) {
        holeShift = k - i;
        bottomShift = i;
      }
    }
    this.holeShift = holeShift;
    this.bottomMask = holeShift ? (1n << bottomShift) - 1n : (1n << 64n) - 1n;
    this.holeMask = holeShift ? ((1n << holeShift) - 1n) << bottomShift : 0n;
    this.topMask = holeShift ? ((1n << 64n) - 1n) & ~(this.bottomMask | this.holeMask) : 0n;
    // init_pdx(): a RAM bank the mask cannot compress turns compression off again.
    if (holeShift && ranges.some((r) => !this.compressible(r.base, r.size))) {
      this.holeShift = 0n;
      this.bottomMask = (1n << 64n) - 1n;
      this.holeMask = 0n;
      this.topMask = 0n;
    }
    let ramEnd = 0n;
    let ramStart = -1n;
    for (const r of ranges) {
      const s = r.base >> PAGE_SHIFT;
      const e = (r.base + r.size) >> PAGE_SHIFT;
      // set_pdx_range(smfn, emfn)
      const eidx = (this.pfnToPdx(e - 1n) + PDX_GROUP_COUNT) / PDX_GROUP_COUNT;
      for (let idx = this.pfnToPdx(s) / PDX_GROUP_COUNT; idx < eidx; idx++) this.groupValid.add(idx);
      if (r.base + r.size > ramEnd) ramEnd = r.base + r.size;
      if (ramStart < 0n || r.base < ramStart) ramStart = r.base;
    }
    this.maxPage = ramEnd >> PAGE_SHIFT;
    this.maxPdx = this.pfnToPdx(this.maxPage - 1n) + 1n;
    // init_frametable(ram_start): the base rounded down to a group, then one chunk per run of
    // valid groups, the last one ending at max_pdx.
    const maxIdx = (this.maxPdx + PDX_GROUP_COUNT - 1n) / PDX_GROUP_COUNT;
    this.frametableBasePdx = (this.pfnToPdx(ramStart >> PAGE_SHIFT) / PDX_GROUP_COUNT) * PDX_GROUP_COUNT;
    const valid = (i: bigint) => this.groupValid.has(i);
    let sidx = this.frametableBasePdx / PDX_GROUP_COUNT;
    for (;;) {
      let eidx = sidx;
      while (eidx < maxIdx && valid(eidx)) eidx++;
      let nidx = eidx;
      while (nidx < maxIdx && !valid(nidx)) nidx++;
      if (nidx >= maxIdx) break;
      this.addChunk(sidx * PDX_GROUP_COUNT, eidx * PDX_GROUP_COUNT);
      sidx = nidx;
    }
    this.addChunk(sidx * PDX_GROUP_COUNT, this.maxPdx);
  }

  /** init_frametable_chunk(): entries zeroed, the mapping rounded up to a page, the rest 0xff. */
  private addChunk(pdxS: bigint, pdxE: bigint): void {
    const off = (pdxS - this.frametableBasePdx) * BigInt(PAGE_INFO_SIZE);
    const bytes = (pdxE - pdxS) * BigInt(PAGE_INFO_SIZE);
    this.chunks.push({ pdxS, pdxE, mappedEnd: off + ((bytes + PAGE - 1n) / PAGE) * PAGE });
  }

  private compressible(base: bigint, size: bigint): boolean {
    const pfn = base >> PAGE_SHIFT;
    const npages = ((base + size + PAGE - 1n) >> PAGE_SHIFT) - pfn;
    const maVaBottomMask = this.holeShift ? (PAGE << this.lowBits()) - 1n : (1n << 64n) - 1n;
    return (
      (pfn & this.holeMask) === 0n && (fillMask(base ^ (base + npages * PAGE - 1n)) & ~maVaBottomMask) === 0n
    );
  }

  private lowBits(): bigint {
    let n = 0n;
    while (((this.bottomMask >> n) & 1n) === 1n) n++;
    return n;
  }

  /** pfn_to_pdx(): the hole bits squeezed out. */
  pfnToPdx(pfn: bigint): bigint {
    if (!this.holeShift) return pfn;
    return (pfn & this.bottomMask) | ((pfn & this.topMask) >> this.holeShift);
  }

  /** Arm's mfn_valid(): pdx >= frametable_base_pdx && __mfn_valid() (max_page, hole, group). */
  mfnValid(mfn: number): boolean {
    const m = BigInt(mfn);
    const pdx = this.pfnToPdx(m);
    if (pdx < this.frametableBasePdx) return false;
    if (m >= this.maxPage || (m & this.holeMask) !== 0n) return false;
    return this.groupValid.has(pdx / PDX_GROUP_COUNT);
  }

  /** What mfn_to_page(mfn) points at. */
  pageInfo(mfn: number): PageInfoAt {
    const pdx = this.pfnToPdx(BigInt(mfn));
    const index = pdx - this.frametableBasePdx;
    const off = index * BigInt(PAGE_INFO_SIZE);
    const countInfoVa = FRAMETABLE_VIRT_START + off + BigInt(COUNT_INFO_OFFSET);
    const at = (state: PageInfoState, printkFieldsMapped = true): PageInfoAt => ({
      index,
      countInfoVa,
      state,
      printkFieldsMapped,
    });
    // Below frame_table or past FRAMETABLE_SIZE: nothing else is mapped in those slots of the
    // layout (xen/arch/arm/include/asm/mmu/layout.h: 2 GiB..32 GiB and 64 GiB.. are unused).
    if (index < 0n || off >= FRAMETABLE_SIZE) return at("unmapped");
    for (const c of this.chunks) {
      const cOff = (c.pdxS - this.frametableBasePdx) * BigInt(PAGE_INFO_SIZE);
      if (off < cOff || off >= c.mappedEnd) continue;
      if (pdx < c.pdxE) return at("zeroed");
      const countEnd = off + BigInt(COUNT_INFO_OFFSET) + 8n;
      if (countEnd > c.mappedEnd) return at("unmapped");
      return at("poisoned", off + BigInt(PRINTK_FIELDS_END) <= c.mappedEnd);
    }
    return at("unmapped");
  }
}
