/**
 * The hypervisor: one machine (host RAM, frame table, page allocator), the domains built on it,
 * the system domain dom_io, VMIDs, and the log Xen would print. Domain creation, guest RAM
 * allocation and destruction follow Xen's steps (domain_create, allocate_memory,
 * domain_relinquish_resources), so every page reference moves the way it does in Xen.
 */

import {
  DOMID_IO,
  type DomId,
  formatDomain,
  GUEST_RAM0_BASE,
  GUEST_RAM0_SIZE,
  GUEST_RAM1_BASE,
  GUEST_RAM1_SIZE,
  SshmError,
} from "../common/index.js";
import { P2m, type P2mConfig, type PutUnderflow, p2mConfigForIpaBits } from "../p2m/index.js";
import {
  type DomainPages,
  F_ALLOCATED,
  F_STATIC,
  Machine,
  type PhysRange,
  type RamBank,
  XenFrameTable,
} from "../pagealloc/index.js";
import { Domain } from "./domain.js";
import { VmidAllocator } from "./vmid.js";

export interface HypervisorOptions {
  /** IPA size of every p2m, Xen's p2m_ipa_bits (default 40 bits). */
  readonly ipaBits?: number;
  /** 16-bit VMIDs (every CPU has ID_AA64MMFR1_EL1.VMIDBits = 2). Default false. */
  readonly vmid16?: boolean;
  /** Drop 1 GiB foreign blocks' references at teardown (Xen leaks them, bug B4). Default false. */
  readonly fixL1ForeignLeak?: boolean;
  /** Host ranges kept out of the heap at boot. */
  readonly reserved?: readonly PhysRange[];
  /** The heap is still unscrubbed (bootscrub=idle at boot); see AllocatorOptions. Default true. */
  readonly bootscrubIdle?: boolean;
}

export interface PageInfo {
  readonly mfn: number;
  readonly count: number;
  /** Xen's count_info (arm64 layout) as a hex string. */
  readonly countInfo: string;
  readonly owner: string | null;
  readonly state: "inuse" | "offlining" | "offlined" | "free";
  readonly allocated: boolean;
  readonly isStatic: boolean;
}

/** A page reference Xen would drop that would take the count below zero (bug B5 teardown). */
export interface Underflow extends PutUnderflow {
  readonly domain: string;
}

export class Hypervisor {
  readonly machine: Machine;
  /** Where Xen's frame table maps a page_info (init_pdx, init_frametable): Xen's mfn_valid(). */
  readonly frameTable: XenFrameTable;
  /** Xen's console log (shared with the page allocator's messages). */
  readonly log: string[];
  readonly domIo: DomainPages;
  private readonly doms = new Map<DomId, Domain>();
  private readonly vmids: VmidAllocator;
  readonly ipaBits: number;
  readonly vmid16: boolean;
  /** The stage-2 configuration every domain's p2m uses (VTCR_EL2 is one value for all). */
  readonly p2mConfig: P2mConfig;
  readonly fixL1ForeignLeak: boolean;
  /** Every put that would have underflowed a count, in order (Xen: ASSERT in debug builds). */
  readonly underflows: Underflow[] = [];

  constructor(banks: readonly RamBank[], opts: HypervisorOptions = {}) {
    this.machine = new Machine(banks, {
      reserved: opts.reserved ?? [],
      bootscrubIdle: opts.bootscrubIdle ?? true,
    });
    this.frameTable = new XenFrameTable(banks);
    this.log = this.machine.alloc.log;
    this.domIo = this.machine.alloc.domain(DOMID_IO);
    this.ipaBits = opts.ipaBits ?? 40;
    this.vmid16 = opts.vmid16 === true;
    this.p2mConfig = p2mConfigForIpaBits(this.ipaBits, { vmid16: this.vmid16 });
    this.vmids = new VmidAllocator(this.vmid16 ? 16 : 8);
    this.fixL1ForeignLeak = opts.fixL1ForeignLeak ?? false;
  }

  get domains(): Domain[] {
    return [...this.doms.values()];
  }

  domain(domid: DomId): Domain | undefined {
    return this.doms.get(domid);
  }

  domainByName(name: string): Domain | undefined {
    return this.domains.find((d) => d.name === name && d.state !== "destroyed");
  }

  /** domain_create(): a new domain with an empty p2m and max_pages set. */
  createDomain(init: {
    domid: DomId;
    name: string;
    maxPages: number;
    directMap: boolean;
    source: string;
  }): Domain {
    if (this.doms.has(init.domid)) throw new SshmError("EDOMID", `domain id ${init.domid} is already in use`);
    const vmid = this.vmids.alloc();
    const pages = this.machine.alloc.domain(init.domid);
    pages.maxPages = init.maxPages;
    const p2m = new P2m(this.machine, init.domid, vmid, {
      ipaBits: this.ipaBits,
      vmid16: this.vmid16,
      fixL1ForeignLeak: this.fixL1ForeignLeak,
    });
    const d = new Domain({ ...init, vmid, pages, p2m, mem: this.machine.mem });
    pages.onLastPageFreed = () => this.finalDestroy(d);
    this.doms.set(init.domid, d);
    return d;
  }

  /**
   * allocate_domheap_memory(): split `size` greedily into power-of-two chunks (largest order not
   * above what is left, at most MAX_ORDER), retrying with smaller orders when an order fails, and
   * hand each chunk to cb. Returns false when a single page cannot be had or cb refuses.
   */
  allocateDomheapMemory(
    d: DomainPages | undefined,
    size: number,
    cb: (mfn: number, order: number) => boolean,
  ): boolean {
    let maxOrder = Number.POSITIVE_INFINITY;
    let left = size;
    while (left > 0) {
      // get_allocation_size(): the largest order whose size does not exceed what is left.
      let order = Math.min(maxOrder, Math.floor(Math.log2(left / 4096)));
      while (order > 0 && 2 ** order * 4096 > left) order--;
      const mfn = this.machine.alloc.alloc_domheap_pages(d, order);
      if (mfn < 0) {
        if (order === 0) return false;
        maxOrder = order - 1;
        continue;
      }
      if (!cb(mfn, order)) return false;
      left -= 2 ** order * 4096;
    }
    return true;
  }

  /**
   * allocate_memory() for a domain that is not direct-mapped: RAM goes to GUEST_RAM0 then
   * GUEST_RAM1, mapped p2m_ram_rw. Returns the bytes that could not be allocated (0 = success).
   */
  allocateGuestRam(d: Domain, size: number): number {
    let left = size;
    for (const [base, bankSize] of [
      [GUEST_RAM0_BASE, GUEST_RAM0_SIZE],
      [GUEST_RAM1_BASE, GUEST_RAM1_SIZE],
    ] as const) {
      if (left === 0) break;
      const want = Math.min(left, bankSize);
      let g = base;
      const ok = this.allocateDomheapMemory(d.pages, want, (mfn, order) => {
        if (d.p2m.guest_physmap_add_pages(g / 4096, mfn, 2 ** order) !== 0) return false;
        d.ram.push({ gstart: g, size: 2 ** order * 4096, hstart: mfn * 4096 });
        g += 2 ** order * 4096;
        return true;
      });
      left -= g - base;
      if (!ok) return left;
    }
    return left;
  }

  /** Direct-mapped RAM (gfn == mfn) from the heap, as allocate_memory_11 gives Dom0. */
  allocateRam11(d: Domain, size: number): number {
    let left = size;
    this.allocateDomheapMemory(d.pages, size, (mfn, order) => {
      if (d.p2m.guest_physmap_add_pages(mfn, mfn, 2 ** order) !== 0) return false;
      d.ram.push({ gstart: mfn * 4096, size: 2 ** order * 4096, hstart: mfn * 4096 });
      left -= 2 ** order * 4096;
      return true;
    });
    return left;
  }

  /**
   * Destroy a domain the way Xen relinquishes it: foreign mappings put their references (1 per
   * L3 page, 512 per L2 block, none for an L1 block), every owned page drops its allocation
   * reference, the p2m is torn down. Pages still referenced elsewhere stay, and so does the dying
   * domain, until its last page is freed.
   */
  destroyDomain(domid: DomId): void {
    const d = this.doms.get(domid);
    if (d?.state !== "running")
      throw new SshmError(
        "ENODOM",
        `no running domain with id ${domid}${d ? ` (${d.name} is ${d.state})` : ""}`,
      );
    d.state = "dying";
    d.pages.isDying = true;
    d.p2m.isDying = true;
    const before = d.p2m.putUnderflows.length;
    d.p2m.relinquish();
    for (const u of d.p2m.putUnderflows.slice(before)) this.underflows.push({ ...u, domain: d.name });
    // relinquish_memory(d, &d->page_list): drop every allocation reference.
    const f = this.machine.frames;
    for (const pdx of d.pages.pageList.toArray()) this.machine.alloc.put_page_alloc_ref(f.ram.pdxToMfn(pdx));
    d.p2m.teardown();
    this.vmids.free(d.vmid);
    if (d.pages.totPages === 0) this.finalDestroy(d);
  }

  private finalDestroy(d: Domain): void {
    if (d.state === "destroyed") return;
    if (d.state === "running") return; // pages of a live domain reaching 0 (e.g. all shm freed)
    d.state = "destroyed";
    this.doms.delete(d.domid);
    this.machine.alloc.forgetDomain(d.domid);
  }

  /** Everything about one host frame, as a report line or for tests. */
  pageInfo(mfn: number): PageInfo {
    const f = this.machine.frames;
    const pdx = f.pdx(mfn);
    const flags = f.getFlags(pdx);
    const o = f.getOwner(pdx);
    const state = (["inuse", "offlining", "offlined", "free"] as const)[f.getState(pdx)]!;
    return {
      mfn,
      count: f.getCount(pdx),
      countInfo: `0x${f.countInfo(pdx).toString(16)}`,
      owner: o === undefined ? null : this.domainLabel(o),
      state,
      allocated: (flags & F_ALLOCATED) !== 0,
      isStatic: (flags & F_STATIC) !== 0,
    };
  }

  /** "d[IO]", "domU1 (d1)". */
  domainLabel(domid: DomId): string {
    const d = this.doms.get(domid);
    return d ? `${d.name} (${formatDomain(domid)})` : formatDomain(domid);
  }

  /** Reference count of a host frame (for simulations and reports). */
  pageCount(mfn: number): number {
    return this.machine.frames.getCount(this.machine.frames.pdx(mfn));
  }
}
