/**
 * The page allocator: Xen's buddy heap (xen/common/page_alloc.c) over the host's RAM, domain page
 * assignment, and static memory. Orders run 0..MAX_ORDER (18 = 1 GiB on Arm with 4 KiB pages).
 * Blocks are aligned in machine frame numbers, as Xen's are, so a 2 MiB block really is 2 MiB
 * aligned in host memory and the p2m can map it with a block descriptor.
 *
 * Functions keep Xen's names and return Xen's return conventions (0 or -errno; an mfn or -1 for
 * "NULL"), and print Xen's log lines into `log`. A page is named by its mfn at this interface.
 */

import { fmtMfn, fmtPaddr } from "../common/format.js";
import { type DomId, formatDomain, SshmError } from "../common/index.js";
import { DomainPages } from "./domain-pages.js";
import {
  F_ALLOCATED,
  F_EXTRA,
  F_PENDING_FREE,
  F_STATIC,
  FrameTable,
  PGC_state_free,
  PGC_state_inuse,
} from "./frame-table.js";
import { PageLinks, PageList } from "./page-list.js";

export const MAX_ORDER = 18;
/** NR_ZONES = PADDR_BITS - PAGE_SHIFT + 1 (48-bit PADDR_BITS on arm64). */
export const NR_ZONES = 48 - 12 + 1;

/**
 * page_to_zone() for a domheap page: flsl(mfn) (the zone of mfn m holds [2^(z-1), 2^z)), 1 for
 * mfn 0. Zone 0 (MEMZONE_XEN) is only for a separate xenheap, which arm64 does not have.
 */
export function zoneOfMfn(mfn: number): number {
  if (mfn === 0) return 1;
  if (mfn < 2 ** 32) return 32 - Math.clz32(mfn);
  return 64 - Math.clz32(Math.floor(mfn / 2 ** 32));
}
export const EINVAL = 22;
export const ENOENT = 2;
export const ENOMEM = 12;
export const E2BIG = 7;
export const ENOSPC = 28;

const FREE_FLAGS = FrameTable.withState(0, PGC_state_free); // == 0: zero-filled frames are free
const INUSE_FLAGS = FrameTable.withState(0, PGC_state_inuse);
const STATIC_FREE_FLAGS = FrameTable.withState(F_STATIC, PGC_state_free);
const STATIC_INUSE_FLAGS = FrameTable.withState(F_STATIC, PGC_state_inuse);
/** PGC_preserved (xen/common/page_alloc.c): flags assign_pages keeps. */
const PRESERVED = F_EXTRA | F_STATIC;

export interface PhysRange {
  readonly start: number;
  readonly size: number;
}

export interface AllocatorOptions {
  /** Host ranges kept out of the heap at boot (static memory, static shm banks, modules...). */
  readonly reserved?: readonly PhysRange[];
  /**
   * Xen's bootscrub=idle (the default): init_heap_pages frees every boot page "need_scrub", and
   * nothing is scrubbed before the idle loop, so the heap is all dirty while domains are built at
   * boot. false: the pages are clean (bootscrub=0, or bootscrub=1, or a running host whose idle
   * loop has scrubbed them). Default true.
   */
  readonly bootscrubIdle?: boolean;
}

export class PageAllocator {
  readonly frames: FrameTable;
  readonly links: PageLinks;
  /** heap(node 0, zone, order): index zone * (MAX_ORDER + 1) + order. */
  private readonly freeLists: PageList[] = [];
  /** avail[node 0][zone]: free pages per zone. */
  private readonly avail = new Float64Array(NR_ZONES);
  /** order + 1 at the head frame of a free buddy block; 0 elsewhere. */
  private readonly headOrder: Int8Array;
  /** 1 at the head frame of a free block that still needs scrubbing (first_dirty valid). */
  private readonly dirty: Uint8Array;
  /** Pages currently free in the heap. */
  freePages = 0;
  private readonly domains = new Map<DomId, DomainPages>();
  /** Xen's log lines, in order. */
  readonly log: string[] = [];

  constructor(frames: FrameTable, opts: AllocatorOptions = {}) {
    this.frames = frames;
    const ram = frames.ram;
    this.links = new PageLinks(ram.totalFrames);
    this.headOrder = new Int8Array(ram.totalFrames);
    this.dirty = new Uint8Array(ram.totalFrames);
    const bootDirty = opts.bootscrubIdle ?? true;
    for (let i = 0; i < NR_ZONES * (MAX_ORDER + 1); i++) this.freeLists.push(new PageList(this.links));
    frames.onFree = (pdx) => this.pageFreed(pdx);

    const reserved = [...(opts.reserved ?? [])]
      .filter((r) => r.size > 0)
      .map((r) => [Math.floor(r.start / 4096), Math.ceil((r.start + r.size) / 4096)] as const)
      .sort((a, b) => a[0] - b[0]);
    // populate_boot_allocator(): RAM minus what the boot keeps (ascending boot regions).
    const regions: [number, number][] = [];
    for (let b = 0; b < ram.banks.length; b++) {
      const first = ram.bankMfnStart(b);
      const end = first + ram.bankFrames(b);
      let m = first;
      for (const [rs, re] of reserved) {
        if (re <= m || rs >= end) continue;
        if (rs > m) regions.push([m, rs]);
        const from = Math.max(rs, m);
        const to = Math.min(re, end);
        const p = ram.mfnToPdx(from);
        for (let i = 0; i < to - from; i++) frames.setFlags(p + i, INUSE_FLAGS);
        m = Math.max(m, to);
      }
      if (m < end) regions.push([m, end]);
    }
    // end_boot_allocator(): the first region (node 0) goes to the heap first, then the others
    // from the highest down; that order is the order of the free lists.
    const first = regions.shift();
    if (first) this.initHeapRange(first[0], first[1], bootDirty);
    for (const r of regions.reverse()) this.initHeapRange(r[0], r[1], bootDirty);
  }

  private list(zone: number, order: number): PageList {
    return this.freeLists[zone * (MAX_ORDER + 1) + order]!;
  }

  /**
   * _init_heap_pages(): [m, end) as maximal naturally aligned blocks, lowest first, each freed
   * with free_heap_pages (nothing to merge with: the neighbours are reserved). init_heap_pages
   * keeps mfn 0 out.
   */
  private initHeapRange(m0: number, end: number, dirty: boolean): void {
    let m = m0 === 0 ? 1 : m0;
    while (m < end) {
      let k = 0;
      while (k < MAX_ORDER && m % 2 ** (k + 1) === 0 && m + 2 ** (k + 1) <= end) k++;
      const pdx = this.frames.ram.mfnToPdx(m);
      const zone = zoneOfMfn(m);
      this.addScrub(pdx, zone, k, dirty);
      this.avail[zone]! += 2 ** k;
      this.freePages += 2 ** k;
      m += 2 ** k;
    }
  }

  /** page_list_add_scrub(): a dirty block goes to the tail of its list, a clean one to the head. */
  private addScrub(pdx: number, zone: number, order: number, dirty: boolean): void {
    this.headOrder[pdx] = order + 1;
    this.dirty[pdx] = dirty ? 1 : 0;
    if (dirty) this.list(zone, order).addTail(pdx);
    else this.list(zone, order).addHead(pdx);
  }

  // ---- domains ----

  /** The page accounting of domain d, created on first use. */
  domain(d: DomId): DomainPages {
    let dp = this.domains.get(d);
    if (!dp) {
      dp = new DomainPages(d, this.links);
      this.domains.set(d, dp);
    }
    return dp;
  }

  hasDomain(d: DomId): boolean {
    return this.domains.has(d);
  }

  /** Forget a domain whose pages are all gone. */
  forgetDomain(d: DomId): void {
    const dp = this.domains.get(d);
    if (dp && dp.totPages === 0 && dp.pageList.length === 0) {
      while (dp.resvPageList.length > 0) dp.resvPageList.removeHead();
      this.domains.delete(d);
    }
  }

  // ---- the buddy heap ----

  /**
   * get_free_buddy(zone_lo, zone_hi, order): the highest zone first (skipping zones whose avail
   * is too small), in it the smallest order that can serve, the head of that list. The first pass
   * wants a clean block: a dirty head is taken anyway for order 0, otherwise moved to its list's
   * tail; a second pass (MEMF_no_scrub) takes any head. Returns the head pdx with its zone and
   * order in `found`, or -1.
   */
  private getFreeBuddy(order: number, zoneHi: number, zoneLo: number): number {
    const need = 2 ** order;
    for (let pass = 0; pass < 2; pass++) {
      for (let z = zoneHi; z >= zoneLo; z--) {
        if (this.avail[z]! < need) continue;
        for (let j = order; j <= MAX_ORDER; j++) {
          const l = this.list(z, j);
          if (l.length === 0) continue;
          const pdx = l.removeHead();
          if (pass === 1 || this.dirty[pdx] === 0 || order === 0) {
            this.found.zone = z;
            this.found.order = j;
            return pdx;
          }
          l.addTail(pdx);
        }
      }
    }
    return -1;
  }

  private readonly found = { zone: 0, order: 0 };

  /**
   * alloc_heap_pages(zone_lo, zone_hi, order): the block get_free_buddy() found, halved down to
   * `order`, each lower half going back to the heap (same dirtiness) and the top half kept.
   * Returns an unowned, in-use block of 2^order frames, or -1 (NULL).
   */
  alloc_heap_pages(order: number, zoneHi = NR_ZONES - 1, zoneLo = 1): number {
    this.drainPending();
    if (order < 0 || order > MAX_ORDER) return -1;
    let pdx = this.getFreeBuddy(order, zoneHi, zoneLo);
    if (pdx < 0) return -1;
    const zone = this.found.zone;
    let j = this.found.order;
    const dirty = this.dirty[pdx] === 1;
    this.headOrder[pdx] = 0;
    this.dirty[pdx] = 0;
    while (j > order) {
      j--;
      this.addScrub(pdx, zone, j, dirty);
      pdx += 2 ** j;
    }
    this.headOrder[pdx] = 0;
    this.dirty[pdx] = 0;
    this.avail[zone]! -= 2 ** order;
    const n = 2 ** order;
    const f = this.frames;
    for (let i = 0; i < n; i++) {
      f.setFlags(pdx + i, INUSE_FLAGS);
      f.count[pdx + i] = 0;
      f.setOwner(pdx + i, undefined);
    }
    this.freePages -= n;
    return f.ram.pdxToMfn(pdx);
  }

  /**
   * free_heap_pages(pg, order, need_scrub): return a block to the heap, merging with free buddies
   * of its zone; the merged block is dirty if any part is. Pages of a dying domain are freed
   * need_scrub (free_domheap_pages), the default here.
   */
  free_heap_pages(mfn: number, order: number, needScrub = true): void {
    const f = this.frames;
    const n = 2 ** order;
    if (mfn % n !== 0)
      throw new SshmError("EHEAP_FREE", `free_heap_pages(mfn ${fmtMfn(mfn)}, order ${order}): not aligned`);
    const pdx0 = f.rangePdx(mfn, n);
    const flags = f.flags;
    const count = f.count;
    for (let i = 0; i < n; i++) {
      const fl = flags[pdx0 + i]!;
      if (FrameTable.stateOf(fl) === PGC_state_free || this.headOrder[pdx0 + i] !== 0)
        throw new SshmError("EPAGE_DOUBLE_FREE", `mfn ${fmtMfn(mfn + i)} is already free (double free)`);
      if (fl & F_STATIC)
        throw new SshmError(
          "EHEAP_FREE",
          `mfn ${fmtMfn(mfn + i)} is static memory: it never goes to the heap`,
        );
      if (count[pdx0 + i] !== 0)
        throw new SshmError(
          "EHEAP_FREE",
          `mfn ${fmtMfn(mfn + i)} is freed with ${count[pdx0 + i]} references held`,
        );
    }
    flags.fill(FREE_FLAGS, pdx0, pdx0 + n);
    f.owner.fill(0, pdx0, pdx0 + n);
    this.freePages += n;
    const zone = zoneOfMfn(mfn);
    this.avail[zone]! += n;
    const ram = f.ram;
    const bank = ram.bankOf(mfn);
    const bStart = ram.bankMfnStart(bank);
    const bEnd = bStart + ram.bankFrames(bank);
    let m = mfn;
    let k = order;
    let dirty = needScrub;
    while (k < MAX_ORDER) {
      const size = 2 ** k;
      const buddy = Math.floor(m / size) % 2 === 0 ? m + size : m - size;
      if (buddy < bStart || buddy + size > bEnd) break;
      const bpdx = pdx0 + (buddy - mfn);
      if (this.headOrder[bpdx] !== k + 1) break;
      this.list(zone, k).del(bpdx);
      this.headOrder[bpdx] = 0;
      if (this.dirty[bpdx] === 1) dirty = true;
      this.dirty[bpdx] = 0;
      m = Math.min(m, buddy);
      k++;
    }
    this.addScrub(pdx0 + (m - mfn), zone, k, dirty);
  }

  /** alloc_domheap_pages(d, order): allocate and, when d is given, assign to d. -1 on failure. */
  alloc_domheap_pages(d: DomainPages | undefined, order: number): number {
    const mfn = this.alloc_heap_pages(order);
    if (mfn < 0 || !d) return mfn;
    if (this.assign_pages(mfn, 2 ** order, d) !== 0) {
      this.free_heap_pages(mfn, order);
      return -1;
    }
    return mfn;
  }

  /**
   * free_domheap_pages(): free a block. An assigned block drops its allocation reference first,
   * so it really goes back to the heap only when no other reference is held.
   */
  free_domheap_pages(mfn: number, order: number): void {
    const f = this.frames;
    const n = 2 ** order;
    const pdx0 = f.rangePdx(mfn, n);
    if (f.getOwner(pdx0) === undefined) {
      this.free_heap_pages(mfn, order);
      return;
    }
    for (let i = 0; i < n; i++) this.put_page_alloc_ref(mfn + i);
  }

  // ---- domain assignment ----

  /** assign_pages(): hand n in-use frames to d. 0 or -errno. */
  assign_pages(mfn: number, n: number, d: DomainPages): number {
    const f = this.frames;
    const pdx0 = f.rangePdx(mfn, n);
    if (d.isDying) {
      this.log.push(`Cannot assign page to domain${d.domid} -- dying.`);
      return -EINVAL;
    }
    for (let i = 0; i < n; i++) {
      // Xen: ASSERT(!(pg[i].count_info & ~(PGC_extra | PGC_static))) — a debug-build assertion.
      const fl = f.getFlags(pdx0 + i);
      if ((fl & ~PRESERVED) !== INUSE_FLAGS || f.getCount(pdx0 + i) !== 0)
        throw new SshmError(
          "EASSIGN_NOT_FREE",
          `assign_pages: mfn ${fmtMfn(mfn + i)} is already in use (${f.describe(pdx0 + i)}); Xen hits ASSERT(!(pg[i].count_info & ~(PGC_extra | PGC_static)))`,
        );
    }
    const tot = d.totPages + n;
    if (tot > d.maxPages) {
      this.log.push(`Over-allocation for ${formatDomain(d.domid)}: ${tot} > ${d.maxPages}`);
      return -E2BIG;
    }
    if (d.adjustTotPages(n) === n) d.pagesHoldDomainRef = true;
    for (let i = 0; i < n; i++) {
      const p = pdx0 + i;
      f.setOwner(p, d.domid);
      f.setFlags(p, (f.getFlags(p) & PRESERVED) | INUSE_FLAGS | F_ALLOCATED);
      Atomics.store(f.count, p, 1);
      d.pageList.addTail(p);
    }
    return 0;
  }

  /** put_page_alloc_ref() as relinquish_memory uses it: clear PGC_allocated and drop its reference. */
  put_page_alloc_ref(mfn: number): boolean {
    const f = this.frames;
    const p = f.pdx(mfn);
    const old = Atomics.and(f.flags, p, ~F_ALLOCATED);
    if (!(old & F_ALLOCATED)) return false;
    f.put_page(p);
    return true;
  }

  // ---- static memory ----

  /** unprepare_staticmem_pages(): boot-reserved frames become free static pages (free|static). */
  unprepare_staticmem_pages(mfn: number, n: number): void {
    const f = this.frames;
    const pdx0 = f.rangePdx(mfn, n);
    for (let i = 0; i < n; i++) {
      const p = pdx0 + i;
      if (f.getFlags(p) !== INUSE_FLAGS || f.getCount(p) !== 0 || f.getOwner(p) !== undefined)
        throw new SshmError(
          "ESTATIC_NOT_RESERVED",
          `mfn ${fmtMfn(mfn + i)} (${fmtPaddr((mfn + i) * 4096)}) was not reserved at boot; it cannot become static memory`,
        );
    }
    for (let i = 0; i < n; i++) f.setFlags(pdx0 + i, STATIC_FREE_FLAGS);
  }

  /**
   * acquire_domstatic_pages(d, mfn, n): every frame must be exactly free|static; they become
   * static|inuse and are assigned to d. 0, -ENOENT (a frame not free static) or -EINVAL (assign failed).
   */
  acquire_domstatic_pages(d: DomainPages, mfn: number, n: number): number {
    const f = this.frames;
    if (n === 0 || !f.ram.isRamRange(mfn, n)) return -ENOENT;
    const pdx0 = f.ram.mfnToPdx(mfn);
    // acquire_staticmem_pages()
    let i = 0;
    for (; i < n; i++) {
      const p = pdx0 + i;
      if (f.getFlags(p) !== STATIC_FREE_FLAGS || f.getCount(p) !== 0) {
        this.log.push(`pg[${i}] Static MFN ${fmtMfn(mfn + i)} c=0x${f.countInfo(p).toString(16)} t=0x0`);
        while (i-- > 0) f.setFlags(pdx0 + i, STATIC_FREE_FLAGS);
        return -ENOENT;
      }
      f.setFlags(p, STATIC_INUSE_FLAGS);
    }
    for (let j = 0; j < n; j++) {
      const p = pdx0 + j;
      const o = f.getOwner(p);
      if (o !== undefined) {
        const prev = this.domains.get(o);
        if (prev?.resvPageList.has(p)) prev.resvPageList.del(p);
      }
      f.setOwner(p, undefined);
    }
    if (this.assign_pages(mfn, n, d) !== 0) {
      for (let j = 0; j < n; j++) f.setFlags(pdx0 + j, STATIC_FREE_FLAGS);
      return -EINVAL;
    }
    return 0;
  }

  // ---- freeing on the last put ----

  private pageFreed(pdx: number): void {
    if (this.frames.getFlags(pdx) & F_STATIC) this.free_domstatic_page(pdx);
    else this.free_domheap_page(pdx);
  }

  /** free_domstatic_page(): the page goes to its owner's resv_page_list as free|static. */
  private free_domstatic_page(pdx: number): void {
    const f = this.frames;
    const o = f.getOwner(pdx);
    const d = o === undefined ? undefined : this.domains.get(o);
    f.setFlags(pdx, STATIC_FREE_FLAGS);
    if (!d) return;
    if (d.pageList.has(pdx)) d.pageList.del(pdx);
    const left = d.adjustTotPages(-1);
    d.resvPageList.addTail(pdx);
    if (left === 0) this.dropDomainRef(d);
  }

  /** free_domheap_page(): leave the owner's page_list and go back to the heap. */
  private free_domheap_page(pdx: number): void {
    const f = this.frames;
    const o = f.getOwner(pdx);
    const d = o === undefined ? undefined : this.domains.get(o);
    let last = false;
    if (d) {
      if (d.pageList.has(pdx)) d.pageList.del(pdx);
      last = d.adjustTotPages(-1) === 0;
    }
    f.setFlags(pdx, INUSE_FLAGS);
    f.setOwner(pdx, undefined);
    this.free_heap_pages(f.ram.pdxToMfn(pdx), 0);
    if (d && last) this.dropDomainRef(d);
  }

  private dropDomainRef(d: DomainPages): void {
    if (!d.pagesHoldDomainRef) return;
    d.pagesHoldDomainRef = false;
    d.onLastPageFreed?.();
  }

  /** Free the frames whose last reference was dropped by another thread. */
  drainPending(): void {
    const f = this.frames;
    if (Atomics.load(f.pending, 0) === 0) return;
    for (let p = 0; p < f.ram.totalFrames; p++) {
      if (f.flags[p]! & F_PENDING_FREE) {
        Atomics.and(f.flags, p, ~F_PENDING_FREE);
        Atomics.sub(f.pending, 0, 1);
        this.pageFreed(p);
      }
    }
  }

  /** Free blocks per order, all zones together (for reports and tests). */
  freeBlocks(): number[] {
    const out = new Array<number>(MAX_ORDER + 1).fill(0);
    for (let z = 0; z < NR_ZONES; z++) for (let o = 0; o <= MAX_ORDER; o++) out[o]! += this.list(z, o).length;
    return out;
  }
}
