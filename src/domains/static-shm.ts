/**
 * Xen's domain-construction half of static shared memory (xen/common/device-tree/static-shmem.c):
 * process_shm -> handle_shared_mem_bank -> assign_shared_memory -> acquire_shared_memory_bank,
 * and save_map_heap_pages for regions allocated from the heap. Every step prints what Xen prints
 * and returns what Xen returns, quirks included (B1: the guest address read from the wrong cells;
 * B3: a failed get_page_nr still returns 0; B8: only the first page decides whether dom_io owns
 * the region).
 */

import { fmtMfn, fmtPaddr } from "../common/format.js";
import { DOMID_IO, type DomId, formatDomain, SshmError } from "../common/index.js";
import type { ParsedShmNode, ShmBank } from "../dom0less/index.js";
import { p2m_map_foreign_rw } from "../p2m/index.js";
import type { DomainPages } from "../pagealloc/index.js";
import type { Domain } from "./domain.js";
import type { Hypervisor } from "./hypervisor.js";
import type { RegionRecord } from "./region.js";

const EINVAL = 22;
const ENOENT = 2;
const ENOMEM = 12;
const ENOSPC = 28;
const UINT_MAX = 0xffff_ffff;
export const NR_SHMEM_BANKS = 32;

/** Thrown where real Xen would crash (BUG_ON, a debug ASSERT, undefined behaviour) rather than fail. */
export class XenCrash extends SshmError {
  constructor(message: string) {
    super("EXEN_CRASH", message);
  }
}

/** A warning raised while building (what Xen accepts silently). */
export interface BuildWarning {
  readonly code: string;
  readonly node: string;
  readonly message: string;
}

/** One backing chunk of a bank handed to handle_shared_mem_bank (the bank, or a heap chunk). */
interface BankChunk {
  readonly start: number;
  readonly size: number;
  readonly nrBorrowers: number;
  readonly id: string;
}

/** State of the static-shm build across domains (Xen's shm_heap_banks and our region records). */
export class StaticShmBuilder {
  readonly heapBanks: BankChunk[] = [];
  readonly regions = new Map<string, RegionRecord>();
  readonly warnings: BuildWarning[] = [];
  /** The shm node being processed (the culprit when construction fails). */
  current: ParsedShmNode | undefined;

  constructor(
    private readonly hv: Hypervisor,
    banks: readonly ShmBank[],
  ) {
    for (const b of banks) {
      this.regions.set(b.id, {
        id: b.id,
        size: b.size,
        form: b.start === null ? "heap" : "host",
        chunks: b.start === null ? [] : [{ start: b.start, size: b.size }],
        nrBorrowers: b.nrBorrowers,
        owner: undefined,
        borrowers: [],
        ownerMapping: undefined,
        source: b.path,
      });
    }
  }

  private get log(): string[] {
    return this.hv.log;
  }

  /** process_shm(d, kinfo, node): every shm node Xen maps into d, in child order. */
  process_shm(d: Domain, nodes: readonly ParsedShmNode[], banks: readonly ShmBank[]): number {
    for (const n of nodes) {
      this.current = n;
      const underflows = d.p2m.putUnderflows.length;
      // BUG_ON((strlen(shm_id) <= 0) || (strlen(shm_id) >= MAX_SHM_ID_LENGTH))
      if (n.id.length === 0)
        throw new XenCrash(
          `Xen BUG in process_shm(): BUG_ON(strlen(shm_id) <= 0) for ${n.path} (empty xen,shm-id) while building ${formatDomain(d.domid)}`,
        );
      const bank = banks.find((b) => b.id === n.id);
      if (!bank) {
        this.log.push(`${formatDomain(d.domid)}: static shared memory bank not found: '${n.id}'`);
        return -ENOENT;
      }
      const psize = bank.size;
      let gbase: number;
      if (bank.start !== null) {
        const pbase = bank.start;
        if (n.buildGuestAddrBig === null)
          throw new XenCrash(
            `process_shm() reads the guest address of ${n.path} past the end of its xen,shared-mem property (bug B1): undefined behaviour`,
          );
        gbase = Number(n.buildGuestAddrBig);
        if (n.form === "heap") {
          this.warnings.push({
            code: "B1",
            node: n.path,
            message: `${n.path}: id "${n.id}" has a host address from an earlier node, so Xen reads this node's guest address from cells [ac..2ac) and maps it at ${fmtPaddr(gbase)} instead of ${fmtPaddr(n.guestAddr)}`,
          });
        }
        if (d.directMap && pbase !== gbase) {
          this.log.push(
            `${formatDomain(d.domid)}: physical address ${fmtPaddr(pbase)} and guest address ${fmtPaddr(gbase)} are not direct-mapped.`,
          );
          return -EINVAL;
        }
        // Xen's mfn_valid() asks the frame table, not the RAM banks. A bank outside RAM has
        // normally crashed Xen already in setup_mm (setup-mm.ts); what reaches this loop with a
        // frame that is not RAM lies in a hole of a mapped PDX group, and mfn_valid() passes it.
        const m0 = pbase / 4096;
        for (let i = 0; i < psize / 4096; i++) {
          if (!this.hv.frameTable.mfnValid(m0 + i)) {
            this.log.push(`${formatDomain(d.domid)}: invalid physical address 0x${fmtMfn(m0 + i)}`);
            return -EINVAL;
          }
        }
        for (let i = 0; i < psize / 4096; i++) {
          if (!this.hv.machine.ram.mfnValid(m0 + i))
            throw new SshmError(
              "ENOT_RAM_MODELLED",
              `host frame 0x${fmtMfn(m0 + i)} of "${n.id}" is not RAM, but it lies in a 1 GiB PDX group that holds RAM, so Xen's frame table has a (zeroed) entry for it and mfn_valid() accepts it: Xen goes on to acquire and map a frame that is not memory; sshm models RAM frames only and cannot follow`,
              {
                ...(n.loc ? { file: n.loc.file, line: n.loc.line, column: n.loc.column } : {}),
                node: n.path,
                key: "xen,shared-mem",
              },
            );
        }
        const rc = this.handle_shared_mem_bank(d, gbase, n, false, {
          start: pbase,
          size: psize,
          nrBorrowers: bank.nrBorrowers,
          id: bank.id,
        });
        if (rc) return rc;
      } else {
        if (d.directMap) {
          this.log.push(
            `${formatDomain(d.domid)}: host and guest physical address must be supplied for direct-mapped domains`,
          );
          return -EINVAL;
        }
        gbase = n.guestAddr;
        const first = this.heapBanks.findIndex((c) => c.id === n.id);
        if (first < 0) {
          // shm_id identified bank is not yet allocated: allocate_domheap_memory(NULL, ...)
          let g = gbase;
          const ok = this.hv.allocateDomheapMemory(undefined, psize, (mfn, order) => {
            let ret = -ENOSPC;
            if (this.heapBanks.length < NR_SHMEM_BANKS) {
              const chunk: BankChunk = {
                start: mfn * 4096,
                size: 2 ** order * 4096,
                nrBorrowers: bank.nrBorrowers,
                id: n.id,
              };
              this.heapBanks.push(chunk);
              this.regions.get(n.id)!.chunks.push({ start: chunk.start, size: chunk.size });
              ret = this.handle_shared_mem_bank(d, g, n, true, chunk);
              if (!ret) {
                g += chunk.size;
                return true;
              }
            }
            this.log.push(`Failed to allocate static shared memory from Xen heap: (${ret})`);
            return false;
          });
          if (!ok) {
            this.log.push(
              `Failed to allocate (${fmtPaddr(Math.floor(psize / 1024)).slice(2)}KB) pages as static shared memory from heap`,
            );
            return -EINVAL;
          }
        } else {
          let g = gbase;
          for (let i = first; i < this.heapBanks.length && this.heapBanks[i]!.id === n.id; i++) {
            const rc = this.handle_shared_mem_bank(d, g, n, true, this.heapBanks[i]!);
            if (rc) return rc;
            g += this.heapBanks[i]!.size;
          }
        }
      }
      // append_shm_bank_to_domain(): kinfo->shm_mem holds at most NR_SHMEM_BANKS entries.
      if (d.guestShm.length >= NR_SHMEM_BANKS) return -ENOMEM;
      d.guestShm.push({ gaddr: gbase, size: psize, id: n.id, offset: 0 });
      // This node's mapping replaced a foreign entry and put references on pages that hold none
      // (their owner is not built yet, or there is none): Xen's debug builds stop at the ASSERT in
      // put_page; release builds wrap count_info, and the owner's acquire of those pages then fails.
      const u = d.p2m.putUnderflows[underflows];
      if (u)
        throw new XenCrash(
          `put_page() on mfn ${fmtMfn(u.mfn)} with count 0 while building ${formatDomain(d.domid)}: ${n.path} replaced a foreign mapping whose pages hold no reference yet (ASSERT in debug builds; release builds wrap count_info and a later acquire of those pages fails)`,
        );
    }
    this.current = undefined;
    return 0;
  }

  /** handle_shared_mem_bank(d, gbase, role, bank_from_heap, bank). */
  private handle_shared_mem_bank(
    d: Domain,
    gbase: number,
    n: ParsedShmNode,
    fromHeap: boolean,
    bank: BankChunk,
  ): number {
    const ownerDomIo = n.role === undefined;
    if ((ownerDomIo && !this.is_shm_allocated_to_domio(bank.start)) || n.role === "owner") {
      const rc = this.assign_shared_memory(ownerDomIo ? undefined : d, gbase, fromHeap, bank, n);
      if (rc) return rc;
    }
    if (ownerDomIo || n.role === "borrower") {
      // map_regions_p2mt(d, PFN_UP(gbase), PFN_DOWN(psize), PFN_UP(pbase), p2m_map_foreign_rw)
      const rc = d.p2m.map_regions_p2mt(
        Math.ceil(gbase / 4096),
        Math.floor(bank.size / 4096),
        Math.ceil(bank.start / 4096),
        p2m_map_foreign_rw,
      );
      if (rc) return rc;
      const role = ownerDomIo ? "dom_io-borrower" : "borrower";
      d.shm.push({
        id: bank.id,
        gstart: gbase,
        size: bank.size,
        hstart: bank.start,
        role,
        offset: 0,
        source: n.path,
      });
      const r = this.regions.get(bank.id)!;
      if (!r.borrowers.some((b) => b.domid === d.domid && b.gaddr === gbase))
        r.borrowers.push({ domid: d.domid, gaddr: gbase, size: bank.size, offset: 0 });
    }
    return 0;
  }

  /**
   * is_shm_allocated_to_domio(pbase): takes and drops a reference on the first page only (B8). A
   * page owned by another domain prints a warning and answers false, so the caller then tries to
   * give the region to dom_io, which fails.
   */
  private is_shm_allocated_to_domio(pbase: number): boolean {
    const f = this.hv.machine.frames;
    const pdx = f.pdx(pbase / 4096);
    const o = f.page_get_owner_and_nr_reference(pdx, 1);
    if (o <= 0) return false;
    f.put_page(pdx);
    const owner = o - 1;
    if (owner !== DOMID_IO) {
      this.log.push(
        `shm memory node has already been allocated to a specific owner ${formatDomain(owner)}, Please check your configuration`,
      );
      return false;
    }
    return true;
  }

  /** assign_shared_memory(o, gbase, bank_from_heap, bank): o undefined = dom_io. */
  private assign_shared_memory(
    o: Domain | undefined,
    gbase: number,
    fromHeap: boolean,
    bank: BankChunk,
    n: ParsedShmNode,
  ): number {
    const owner: DomainPages = o ? o.pages : this.hv.domIo;
    const od: DomId = o ? o.domid : DOMID_IO;
    const smfn = this.acquire_shared_memory_bank(owner, od, bank.start, bank.size, fromHeap);
    if (smfn < 0) return -EINVAL;
    const r = this.regions.get(bank.id)!;
    r.owner = od;
    const nrPages = Math.floor(bank.size / 4096);
    // DOMID_IO is not auto-translated: no p2m mapping for it.
    if (o) {
      const ret = o.p2m.guest_physmap_add_pages(gbase / 4096, smfn, nrPages);
      if (ret) {
        this.log.push(`Failed to map shared memory to ${formatDomain(od)}.`);
        return ret;
      }
      o.shm.push({
        id: bank.id,
        gstart: gbase,
        size: bank.size,
        hstart: bank.start,
        role: "owner",
        offset: 0,
        source: n.path,
      });
      if (!r.ownerMapping) r.ownerMapping = { gaddr: gbase, size: r.size, offset: 0 };
    }
    // "Instead of letting borrower domain get a page ref, we add as many additional reference as
    // the number of borrowers when the owner is allocated."
    const f = this.hv.machine.frames;
    const pdx = f.pdx(smfn);
    for (let i = 0; i < nrPages; i++) {
      if (!f.get_page_nr(pdx + i, od, bank.nrBorrowers)) {
        this.log.push(`Failed to add ${bank.nrBorrowers} references to page ${fmtMfn(smfn + i)}.`);
        while (i-- > 0) f.put_page_nr(pdx + i, bank.nrBorrowers);
        this.warnings.push({
          code: "B3",
          node: n.path,
          message: `${n.path}: adding ${bank.nrBorrowers} borrower references to the pages of "${bank.id}" failed, yet assign_shared_memory() returns 0 and the boot goes on: borrowers will map pages that hold no references for them`,
        });
        return 0;
      }
    }
    return 0;
  }

  /** acquire_shared_memory_bank(d, pbase, psize, bank_from_heap): the first mfn, or -1 (INVALID_MFN). */
  private acquire_shared_memory_bank(
    d: DomainPages,
    domid: DomId,
    pbase: number,
    psize: number,
    fromHeap: boolean,
  ): number {
    const nr = Math.floor(psize / 4096);
    if (UINT_MAX - d.maxPages < nr) {
      this.log.push(`${formatDomain(domid)}: Over-allocation for d->max_pages: ${nr}.`);
      return -1;
    }
    d.maxPages += nr;
    const smfn = pbase / 4096;
    const alloc = this.hv.machine.alloc;
    let res: number;
    if (fromHeap) {
      try {
        res = alloc.assign_pages(smfn, nr, d);
      } catch (e) {
        if (e instanceof SshmError && e.code === "EASSIGN_NOT_FREE")
          throw new XenCrash(
            `assign_pages() on pages that are already assigned (a second owner of a heap-allocated region, bug B2): ${e.message}; release builds corrupt the page lists`,
          );
        throw e;
      }
    } else res = alloc.acquire_domstatic_pages(d, smfn, nr);
    if (res) {
      this.log.push(
        `${formatDomain(domid)}: failed to ${fromHeap ? "assign" : "acquire"} static memory: ${res}.`,
      );
      d.maxPages -= nr;
      return -1;
    }
    return smfn;
  }
}
