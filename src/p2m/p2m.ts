/**
 * A domain's stage-2 table, built the way Xen builds it (xen/arch/arm/mmu/p2m.c) in real host
 * memory: table pages come from the host's page allocator and hold little-endian 64-bit
 * descriptors, so the architectural walker and the translators read exactly the bytes hardware
 * would.
 *
 * Reproduced Xen behaviour:
 * - p2m_set_entry maps greedily by the alignment of (mfn | gfn | nr): 1 GiB, 2 MiB or 4 KiB
 *   (`nr` is part of the mask, so a count that is not a multiple of 512 maps everything with 4 KiB
 *   pages); 4 KiB is forced while mem_access is enabled.
 * - A superpage that is only partly changed is shattered (p2m_split_superpage), with
 *   break-before-make: write 0, flush, write the new table.
 * - Replacing a valid entry flushes at once; removals defer one flush to the unlock.
 * - p2m_free_entry drops foreign references: 1 per L3 page, 512 per L2 block, none for an L1 block
 *   (Xen's TODO; `fixL1ForeignLeak` puts them instead). Freed tables return to the p2m pool.
 * - Lookups decide validity from the software type, not the hardware valid bit.
 * Every TLB flush (TLBI VMALLS12E1IS for this VMID) is counted and bumps `epoch`, a shared word
 * that vCPU translators compare at their synchronisation points.
 */

import { type Gfn, type Mfn, SshmError } from "../common/index.js";
import type { HostMemory, PageAllocator } from "../pagealloc/index.js";
import * as descriptor from "./descriptor.js";
import type { P2mAccess, P2mType } from "./types.js";
import * as types from "./types.js";
import {
  type DecodedVtcr,
  decodeVtcr,
  generateVttbr,
  type P2mConfig,
  p2mConfigForIpaBits,
  type RegWords,
} from "./vtcr.js";

// Hot-path bindings: module-local consts instead of imports, which V8 reads through their module
// cells with a TDZ check on every use (see the same note in walker.ts); the map loop writes
// hundreds of thousands of entries per call.
const {
  descMfn,
  descRead,
  descType,
  descValid,
  descWrite,
  descXn,
  LEVEL_ORDER,
  p2mEntryHi,
  p2mEntryLo,
  tableEntryHi,
  tableEntryLo,
} = descriptor;
const { p2m_access_rwx, p2m_invalid, p2m_is_foreign } = types;

export const INVALID_MFN = -1;
const ENOMEM = 12;
const EINVAL = 22;

/** What p2m_get_entry reports for a gfn. */
export interface P2mEntryInfo {
  /** Host frame backing the gfn (block base + offset), or INVALID_MFN when unmapped. */
  readonly mfn: number;
  readonly type: P2mType;
  /** Level of the entry that decided (the leaf, or the empty entry of a hole). */
  readonly level: number;
  /** log2 pages covered by that entry: 18, 9 or 0 (or the hole's size). */
  readonly order: number;
  /** Hardware valid bit of the leaf (Xen may keep valid-to-software entries hardware-invalid). */
  readonly valid: boolean;
  readonly read: boolean;
  readonly write: boolean;
  /** XN field (bits 54:53). */
  readonly xn: number;
  /** The leaf descriptor words (0 when unmapped). */
  readonly lo: number;
  readonly hi: number;
}

export interface P2mStats {
  /** Leaf mappings per level (Xen's p2m->stats.mappings). */
  readonly mappings: number[];
  /** Superpages shattered per level (p2m->stats.shattered). */
  readonly shattered: number[];
  /** TLB invalidations of this VMID. */
  flushes: number;
}

/** What a vCPU in another thread needs to translate through this p2m. */
export interface P2mHandle {
  readonly vtcr: number;
  readonly rootPaddr: number;
  readonly vmid: number;
  readonly ipaBits: number;
  /** Int32Array[1] over this SAB: bumped by every TLB flush of the VMID. */
  readonly epoch: SharedArrayBuffer;
}

export interface P2mOptions {
  readonly ipaBits?: number;
  /** 16-bit VMIDs (VTCR_EL2.VS), when every CPU has them (setup_virt_paging). Default false. */
  readonly vmid16?: boolean;
  /** Drop the references of 1 GiB foreign blocks at teardown (Xen leaks them). Default false. */
  readonly fixL1ForeignLeak?: boolean;
}

/** A reference Xen would put but that would take a page's count below zero (bug B5). */
export interface PutUnderflow {
  readonly mfn: number;
  readonly level: number;
}

export class P2m {
  readonly domid: number;
  readonly vmid: number;
  readonly cfg: P2mConfig;
  readonly decoded: DecodedVtcr;
  readonly rootMfn: number;
  readonly stats: P2mStats = { mappings: [0, 0, 0, 0], shattered: [0, 0, 0, 0], flushes: 0 };
  readonly epoch: Int32Array;
  /** Set by the domain when it is dying: new mappings are refused (-ENOMEM), as Xen does. */
  isDying = false;
  /** mem_access on: every mapping is made 4 KiB by 4 KiB. */
  memAccessEnabled = false;
  readonly fixL1ForeignLeak: boolean;
  /**
   * The last gfn p2m_get_root_pointer refused (root table >= P2M_ROOT_PAGES, so __p2m_set_entry
   * returned -EINVAL), or -1: lets a report say that a failed mapping failed on the IPA size.
   */
  lastRootReject = -1;
  /** Puts that would have underflowed a count; Xen only ASSERTs (debug) and wraps (release). */
  readonly putUnderflows: PutUnderflow[] = [];
  /** Table pages in use (Xen's p2m->pages) and the free pool (d->arch.paging.p2m_freelist). */
  private readonly tables = new Set<number>();
  private readonly pool: number[] = [];
  private needFlush = false;
  private lowestMapped = Number.POSITIVE_INFINITY;
  private maxMapped = -1;
  /** L3 table of the last 4 KiB leaf written by setEntry (-1 if none), for run-filling. */
  private lastL3 = -1;
  private readonly mem: HostMemory;
  private readonly alloc: PageAllocator;
  private readonly rootPages: number;
  private readonly rootShift: number;

  constructor(
    m: { readonly mem: HostMemory; readonly alloc: PageAllocator },
    domid: number,
    vmid: number,
    opts: P2mOptions = {},
  ) {
    this.mem = m.mem;
    this.alloc = m.alloc;
    this.domid = domid;
    this.vmid = vmid;
    this.cfg = p2mConfigForIpaBits(opts.ipaBits ?? 40, { vmid16: opts.vmid16 === true });
    this.decoded = decodeVtcr(this.cfg.vtcr, this.cfg.paBits);
    this.fixL1ForeignLeak = opts.fixL1ForeignLeak ?? false;
    this.rootPages = 2 ** this.cfg.rootOrder;
    this.rootShift = LEVEL_ORDER[this.cfg.rootLevel]! + 9;
    // p2m_alloc_table: the root is 2^order naturally aligned pages, cleared.
    const root = this.alloc.alloc_heap_pages(this.cfg.rootOrder);
    if (root < 0) throw new SshmError("ENOMEM_P2M", `no memory for the p2m root of d${domid}`);
    this.rootMfn = root;
    this.mem.fill(root * 4096, this.rootPages * 4096, 0);
    this.epoch = new Int32Array(new SharedArrayBuffer(4));
    // p2m_alloc_table flushes the new VMID.
    this.forceFlush();
  }

  get rootPaddr(): number {
    return this.rootMfn * 4096;
  }

  /** VTTBR_EL2 = root | VMID << 48, as {lo, hi} words. */
  get vttbr(): RegWords {
    return generateVttbr(this.rootPaddr, this.vmid);
  }

  handle(): P2mHandle {
    return {
      vtcr: this.cfg.vtcr,
      rootPaddr: this.rootPaddr,
      vmid: this.vmid,
      ipaBits: this.cfg.ipaBits,
      epoch: this.epoch.buffer as SharedArrayBuffer,
    };
  }

  /** Number of table pages (root included) and pool pages held. */
  get tablePages(): number {
    return this.tables.size + this.rootPages;
  }

  get poolPages(): number {
    return this.pool.length;
  }

  // ---- descriptor memory ----

  private u32: Uint32Array = new Uint32Array(0);

  /** Point this.u32 at the chunk holding table `mfn`; return the word index of its entry 0. */
  private table(mfn: number): number {
    const pa = mfn * 4096;
    const id = this.mem.chunkIdOf(pa);
    this.u32 = this.mem.chunkU32(id);
    return (pa - this.mem.chunks[id]!.origin) / 4;
  }

  /** Install an entry so a concurrent walker never sees a half-written one: hi first, then lo. */
  private writeEntry(w: number, lo: number, hi: number): void {
    this.u32[w + 1] = hi;
    Atomics.store(this.u32, w, lo);
  }

  /** p2m_remove_pte: break the entry (lo with the valid bit first). */
  private zapEntry(w: number): void {
    Atomics.store(this.u32, w, 0);
    this.u32[w + 1] = 0;
  }

  // ---- TLB ----

  private forceFlush(): void {
    this.stats.flushes++;
    this.needFlush = false;
    Atomics.add(this.epoch, 0, 1);
  }

  /** p2m_tlb_flush_sync: flush only if something is pending. */
  private flushSync(): void {
    if (this.needFlush) this.forceFlush();
  }

  /** p2m_write_unlock: the deferred flush of removals happens here. */
  private unlock(): void {
    this.flushSync();
  }

  // ---- table pages ----

  private allocTable(): number {
    let mfn = this.pool.pop();
    if (mfn === undefined) {
      mfn = this.alloc.alloc_heap_pages(0);
      if (mfn < 0) return -1;
    }
    this.mem.fill(mfn * 4096, 4096, 0);
    this.tables.add(mfn);
    return mfn;
  }

  private freeTable(mfn: number): void {
    this.tables.delete(mfn);
    this.pool.push(mfn);
  }

  // ---- public operations (each is one p2m write-lock section) ----

  /**
   * p2m_set_entry(gfn, nr, mfn, t, a) under the p2m lock. mfn = INVALID_MFN removes.
   * Returns 0 or -errno (-ENOMEM when the domain is dying or memory ran out, -EINVAL for a gfn
   * beyond the IPA size).
   */
  setEntry(
    gfn: Gfn | number,
    nr: number,
    mfn: Mfn | number,
    t: P2mType,
    a: P2mAccess = p2m_access_rwx,
  ): number {
    const rc = this.p2m_set_entry(gfn, nr, mfn, t, a);
    this.unlock();
    return rc;
  }

  /** guest_physmap_add_pages / p2m_insert_mapping: map [gfn, gfn+nr) -> [mfn, ...) with type t. */
  insertMapping(gfn: Gfn | number, nr: number, mfn: Mfn | number, t: P2mType): number {
    return this.setEntry(gfn, nr, mfn, t, p2m_access_rwx);
  }

  /** map_regions_p2mt: what static shm uses for borrowers (p2m_map_foreign_rw). */
  map_regions_p2mt(gfn: Gfn | number, nr: number, mfn: Mfn | number, t: P2mType): number {
    return this.insertMapping(gfn, nr, mfn, t);
  }

  /** guest_physmap_add_pages: owner RAM (p2m_ram_rw). */
  guest_physmap_add_pages(gfn: Gfn | number, mfn: Mfn | number, nr: number): number {
    return this.insertMapping(gfn, nr, mfn, 1);
  }

  /** p2m_remove_mapping: unmap [gfn, gfn+nr). */
  removeMapping(gfn: Gfn | number, nr: number): number {
    return this.setEntry(gfn, nr, INVALID_MFN, p2m_invalid);
  }

  private p2m_set_entry(sgfn: number, nr: number, smfn: number, t: P2mType, a: P2mAccess): number {
    const removing = smfn === INVALID_MFN;
    // "Any reference taken by the P2M mappings (e.g. foreign mapping) will be dropped in
    // relinquish_p2m_mapping(). [...] we need to prevent mapping to be added when the domain is
    // dying."
    if (!removing && this.isDying) return -ENOMEM;
    while (nr > 0) {
      let order = 0;
      if (!this.memAccessEnabled) {
        if (aligned(sgfn, 18) && aligned(nr, 18) && (removing || aligned(smfn, 18))) order = 18;
        else if (aligned(sgfn, 9) && aligned(nr, 9) && (removing || aligned(smfn, 9))) order = 9;
      }
      const rc = this.__p2m_set_entry(sgfn, order, smfn, t, a);
      if (rc !== 0) return rc;
      let done = 2 ** order;
      if (order === 0 && this.lastL3 >= 0) {
        // The following gfns of the same L3 table are not 512-aligned, so Xen would map each of
        // them at order 0 by walking down to this same table: update them in place.
        const run = Math.min(nr - 1, 511 - (sgfn & 511));
        if (run > 0)
          this.setLeafRun(this.lastL3, (sgfn & 511) + 1, run, sgfn + 1, removing ? smfn : smfn + 1, t, a);
        done += run;
      }
      sgfn += done;
      if (!removing) smfn += done;
      nr -= done;
    }
    return 0;
  }

  /** One __p2m_set_entry: set the entry of order `order` (0, 9, 18) at sgfn. */
  private __p2m_set_entry(sgfn: number, order: number, smfn: number, t: P2mType, a: P2mAccess): number {
    const removing = smfn === INVALID_MFN;
    const target = 3 - order / 9;
    this.lastL3 = -1;
    const rootIdx = Math.floor(sgfn / 2 ** this.rootShift);
    if (rootIdx >= this.rootPages) {
      this.lastRootReject = sgfn;
      return -EINVAL;
    }
    let tbl = this.rootMfn + rootIdx;
    let level = this.cfg.rootLevel;
    let w = 0;
    let superpage = false;
    for (; level < target; level++) {
      w = this.table(tbl) + offset(sgfn, level) * 2;
      let lo = this.u32[w]!;
      let hi = this.u32[w + 1]!;
      if (descType(hi) === p2m_invalid) {
        // Nothing mapped here: nothing to remove; otherwise p2m_create_table (no flush needed).
        if (removing) return 0;
        const nt = this.allocTable();
        if (nt < 0) return -ENOMEM;
        lo = tableEntryLo(nt);
        hi = tableEntryHi(nt);
        this.table(tbl);
        this.writeEntry(w, lo, hi);
      }
      if ((lo & 2) === 0) {
        superpage = true;
        break;
      }
      tbl = descMfn(lo, hi);
    }
    if (superpage) {
      // Shatter the block down to the target level, then break-before-make the block entry.
      this.table(tbl);
      const blo = this.u32[w]!;
      const bhi = this.u32[w + 1]!;
      const split = this.splitSuperpage(blo, bhi, level, target, sgfn);
      if (split < 0) return -ENOMEM;
      this.table(tbl);
      this.zapEntry(w);
      this.forceFlush();
      this.writeEntry(w, tableEntryLo(split), tableEntryHi(split));
      tbl = split;
      for (level++; level < target; level++) {
        w = this.table(tbl) + offset(sgfn, level) * 2;
        tbl = descMfn(this.u32[w]!, this.u32[w + 1]!);
      }
    }
    const base = this.table(tbl);
    this.setLeaf(base + offset(sgfn, target) * 2, target, smfn, t, a, sgfn, order);
    if (target === 3) this.lastL3 = tbl;
    return 0;
  }

  /** The leaf step of __p2m_set_entry at word w of the current table. */
  private setLeaf(
    w: number,
    level: number,
    smfn: number,
    t: P2mType,
    a: P2mAccess,
    gfn: number,
    order: number,
  ): void {
    const removing = smfn === INVALID_MFN;
    const u32 = this.u32;
    const olo = u32[w]!;
    const ohi = u32[w + 1]!;
    const hwValid = (olo & 1) !== 0;
    const swValid = descType(ohi) !== p2m_invalid;
    if (hwValid || removing) this.zapEntry(w);
    let nmfn = 0;
    if (removing) {
      if (hwValid) this.needFlush = true;
    } else {
      if (hwValid) this.forceFlush();
      else if (!swValid) this.stats.mappings[level]!++;
      this.writeEntry(w, p2mEntryLo(smfn, t, a, level), p2mEntryHi(smfn, t, a));
      nmfn = smfn;
      if (gfn < this.lowestMapped) this.lowestMapped = gfn;
      const last = gfn + 2 ** order - 1;
      if (last > this.maxMapped) this.maxMapped = last;
    }
    // "Free the entry only if the original pte was valid and the base is different (to avoid
    // freeing when permission is changed)." A removal writes 0, so an old mfn of 0 is not freed.
    if (swValid && descMfn(olo, ohi) !== nmfn) this.freeEntry(olo, ohi, level);
  }

  /**
   * setLeaf over the `n` entries of L3 table `tbl` from index `first` (gfns gfn0..gfn0+n-1), with
   * a fast path for the common case of an empty slot being mapped (no flush, nothing to free).
   */
  private setLeafRun(
    tbl: number,
    first: number,
    n: number,
    gfn0: number,
    smfn: number,
    t: P2mType,
    a: P2mAccess,
  ): void {
    const removing = smfn === INVALID_MFN;
    let w = this.table(tbl) + first * 2;
    const end = w + n * 2;
    let m = smfn;
    let g = gfn0;
    for (; w < end; w += 2, g++) {
      const u32 = this.u32;
      if (!removing && u32[w] === 0 && u32[w + 1] === 0) {
        this.stats.mappings[3]!++;
        u32[w + 1] = p2mEntryHi(m, t, a);
        Atomics.store(u32, w, p2mEntryLo(m, t, a, 3));
      } else {
        this.setLeaf(w, 3, removing ? INVALID_MFN : m, t, a, g, 0);
        this.table(tbl);
      }
      if (!removing) m++;
    }
    if (!removing && g - 1 > this.maxMapped) this.maxMapped = g - 1;
  }

  /**
   * p2m_split_superpage: build, off-line, a table of 512 entries copying the block's attributes
   * with the MFN advanced, recursing toward `target` along sgfn. Returns the new table's mfn.
   */
  private splitSuperpage(lo: number, hi: number, level: number, target: number, sgfn: number): number {
    const next = level + 1;
    const nt = this.allocTable();
    if (nt < 0) return -1;
    const mfn0 = descMfn(lo, hi);
    const step = 2 ** LEVEL_ORDER[next]!;
    const base = this.table(nt);
    const u32 = this.u32;
    // Keep every attribute of the block: only the address and the table bit change.
    const loAttr = lo & 0xffd; // bits 11:0 without bit 1
    const hiAttr = hi & ~0xffff;
    for (let i = 0; i < 512; i++) {
      const m = mfn0 + i * step;
      const w = base + i * 2;
      u32[w + 1] = (hiAttr | (Math.floor(m / 2 ** 20) & 0xffff)) >>> 0;
      u32[w] = (loAttr | (next === 3 ? 2 : 0) | ((m & 0xfffff) << 12)) >>> 0;
    }
    this.stats.shattered[level]!++;
    this.stats.mappings[level]!--;
    this.stats.mappings[next]! += 512;
    if (next !== target) {
      const w = base + offset(sgfn, next) * 2;
      const sub = this.splitSuperpage(this.u32[w]!, this.u32[w + 1]!, next, target, sgfn);
      if (sub < 0) return -1;
      this.table(nt);
      this.writeEntry(w, tableEntryLo(sub), tableEntryHi(sub));
    }
    return nt;
  }

  /** p2m_free_entry: drop what an entry holds (foreign references; sub-tables). */
  private freeEntry(lo: number, hi: number, level: number): void {
    const t = descType(hi);
    if (t === p2m_invalid) return;
    if (level === 3 || (lo & 2) === 0) {
      this.stats.mappings[level]!--;
      this.putPage(descMfn(lo, hi), t, level);
      return;
    }
    const tbl = descMfn(lo, hi);
    for (let i = 0; i < 512; i++) {
      const w = this.table(tbl) + i * 2;
      this.freeEntry(this.u32[w]!, this.u32[w + 1]!, level + 1);
    }
    // "Make sure all the references in the TLB have been removed before freeing the
    // intermediate page table."
    this.flushSync();
    this.freeTable(tbl);
  }

  /** p2m_put_page: p2m_put_l3_page / p2m_put_l2_superpage; nothing for level 1 (Xen's TODO). */
  private putPage(mfn: number, t: number, level: number): void {
    if (!p2m_is_foreign(t)) return;
    let n = 0;
    if (level === 3) n = 1;
    else if (level === 2) n = 512;
    else if (level === 1 && this.fixL1ForeignLeak) n = 2 ** 18;
    const f = this.alloc.frames;
    for (let i = 0; i < n; i++) {
      const pdx = f.ram.mfnToPdx(mfn + i);
      if (pdx < 0) continue;
      if (f.getCount(pdx) === 0) {
        this.putUnderflows.push({ mfn: mfn + i, level });
        continue;
      }
      f.put_page(pdx);
    }
  }

  // ---- lookups ----

  /** p2m_get_entry(gfn): software view (validity from the type). */
  lookup(gfn: Gfn | number): P2mEntryInfo {
    const rootIdx = Math.floor(gfn / 2 ** this.rootShift);
    let level = this.cfg.rootLevel;
    if (rootIdx >= this.rootPages) return unmapped(level, LEVEL_ORDER[level]! + 9);
    let tbl = this.rootMfn + rootIdx;
    for (;;) {
      const w = this.table(tbl) + offset(gfn, level) * 2;
      const lo = this.u32[w]!;
      const hi = this.u32[w + 1]!;
      const t = descType(hi) as P2mType;
      if (t === p2m_invalid) return unmapped(level, LEVEL_ORDER[level]!);
      if (level === 3 || (lo & 2) === 0) {
        const order = LEVEL_ORDER[level]!;
        return {
          mfn: descMfn(lo, hi) + (gfn % 2 ** order),
          type: t,
          level,
          order,
          valid: descValid(lo),
          read: descRead(lo),
          write: descWrite(lo),
          xn: descXn(hi),
          lo,
          hi,
        };
      }
      tbl = descMfn(lo, hi);
      level++;
    }
  }

  // ---- access tracking: hardware-invalid entries that are valid to Xen ----

  /**
   * p2m_invalidate_table: clear the hardware valid bit of every entry of a table (entries stay
   * valid to Xen, which decides by type); the flush is deferred to the unlock.
   */
  private invalidateTable(tbl: number): void {
    const base = this.table(tbl);
    for (let i = 0; i < 512; i++) {
      const w = base + i * 2;
      const lo = this.u32[w]!;
      // "avoid updating the entry if the valid bit is already cleared"
      if ((lo & 1) === 0) continue;
      Atomics.store(this.u32, w, (lo & ~1) >>> 0);
    }
    this.needFlush = true;
  }

  /**
   * p2m_invalidate_root: what p2m_domain_creation_finished does when the IOMMU does not share
   * the p2m. Every guest access then takes translation faults that Xen resolves level by level.
   */
  invalidateRoot(): void {
    for (let r = 0; r < this.rootPages; r++) this.invalidateTable(this.rootMfn + r);
    this.unlock();
  }

  /**
   * p2m_resolve_translation_fault(gfn): go down to the first entry whose valid bit is clear; if it
   * is valid to Xen, invalidate its sub-table (when it is a table) and set its valid bit. Returns
   * true when the fault is resolved (also when the entry was already valid: a racing update).
   */
  resolveTranslationFault(gfn: Gfn | number): boolean {
    if (gfn > this.maxMapped) return false;
    const rootIdx = Math.floor(gfn / 2 ** this.rootShift);
    if (rootIdx >= this.rootPages) return false;
    let tbl = this.rootMfn + rootIdx;
    let w = 0;
    let level = this.cfg.rootLevel;
    for (; level <= 3; level++) {
      w = this.table(tbl) + offset(gfn, level) * 2;
      const lo = this.u32[w]!;
      const hi = this.u32[w + 1]!;
      if (level === 3 || (lo & 1) === 0) break;
      // p2m_next_level(read-only): an entry invalid to Xen, or a block, stops the walk.
      if (descType(hi) === p2m_invalid || (lo & 2) === 0) break;
      tbl = descMfn(lo, hi);
    }
    this.table(tbl);
    const lo = this.u32[w]!;
    const hi = this.u32[w + 1]!;
    let resolved = false;
    if ((lo & 1) !== 0) resolved = true;
    else if (descType(hi) !== p2m_invalid) {
      if (level < 3 && (lo & 2) !== 0) this.invalidateTable(descMfn(lo, hi));
      this.table(tbl);
      // No flush needed for the entry itself: its valid bit was clear.
      Atomics.store(this.u32, w, (lo | 1) >>> 0);
      resolved = true;
    }
    this.unlock();
    return resolved;
  }

  // ---- teardown ----

  /**
   * relinquish_p2m_mapping: remove every mapping from the lowest to the highest mapped gfn, one
   * entry at a time (holes are skipped by their size), putting foreign references per level.
   */
  relinquish(): number {
    if (this.maxMapped < 0) return 0;
    let g = this.lowestMapped;
    const end = this.maxMapped + 1;
    while (g < end) {
      const e = this.lookup(g);
      const size = 2 ** e.order;
      const start = g - (g % size);
      if (e.mfn !== INVALID_MFN) {
        const rc = this.__p2m_set_entry(start, e.order, INVALID_MFN, p2m_invalid, p2m_access_rwx);
        if (rc !== 0) {
          this.unlock();
          return rc;
        }
      }
      g = start + size;
    }
    this.unlock();
    return 0;
  }

  /** p2m_teardown + p2m_final_teardown: every table, pool page and the root back to the heap. */
  teardown(): void {
    for (const t of this.tables) this.pool.push(t);
    this.tables.clear();
    for (const p of this.pool) this.alloc.free_heap_pages(p, 0);
    this.pool.length = 0;
    this.alloc.free_heap_pages(this.rootMfn, this.cfg.rootOrder);
  }
}

/** Where p2m_get_root_pointer and DECLARE_OFFSETS put a gfn (see p2mRootSlot). */
export interface P2mRootSlot {
  /** gfn >> (XEN_PT_LEVEL_ORDER(P2M_ROOT_LEVEL) + XEN_PT_LPAE_SHIFT): which root page. */
  readonly rootTable: number;
  /** offsets[P2M_ROOT_LEVEL]: the entry inside that root page (9 bits of the address). */
  readonly index: number;
  /** rootTable < P2M_ROOT_PAGES: __p2m_set_entry goes on and writes the entry. */
  readonly accepted: boolean;
  /** gfn < 2^(IPA bits - 12): a stage-2 walk with VTCR.T0SZ = 64 - IPA bits can reach it. */
  readonly reachable: boolean;
}

/**
 * Xen's root lookup for a gfn (p2m_get_root_pointer in xen/arch/arm/mmu/p2m.c). It checks only
 * that the root *page* exists, not that the address fits the IPA size: the bits of the gfn above
 * the root level's 9 select the root page, so a gfn beyond 2^(IPA bits) is still accepted while
 * its root page index is below P2M_ROOT_PAGES. With a 44-bit IPA (root at level 0, one page,
 * T0SZ = 20) gfns from 2^32 to 2^36 land in L0 entries 32..511, which a walk never reads (only
 * entries 0..31 cover 44 bits); with 36 or 32 bits (level 1, one page) everything below 2^39 is
 * accepted. 40, 42 and 48 bits use every root entry, so there the check is exact.
 */
export function p2mRootSlot(cfg: P2mConfig, gfn: number): P2mRootSlot {
  const rootTable = Math.floor(gfn / 2 ** (LEVEL_ORDER[cfg.rootLevel]! + 9));
  return {
    rootTable,
    index: offset(gfn, cfg.rootLevel),
    accepted: rootTable < 2 ** cfg.rootOrder,
    reachable: gfn < 2 ** (cfg.ipaBits - 12),
  };
}

/** x is a multiple of 2^bits (bits <= 30). `&` keeps the exact low bits of an integer < 2^53. */
function aligned(x: number, bits: number): boolean {
  return (x & ((1 << bits) - 1)) === 0;
}

/** Index of gfn's entry in its table at `level` (exact for gfn < 2^53). */
function offset(gfn: number, level: number): number {
  return Math.floor(gfn / 2 ** LEVEL_ORDER[level]!) & 511;
}

function unmapped(level: number, order: number): P2mEntryInfo {
  return {
    mfn: INVALID_MFN,
    type: p2m_invalid,
    level,
    order,
    valid: false,
    read: false,
    write: false,
    xn: 0,
    lo: 0,
    hi: 0,
  };
}
