/**
 * A domain as the hypervisor keeps it: id, name, VMID, its page accounting (tot_pages,
 * max_pages, page lists), its stage-2 table and what was mapped into it, for reports.
 */
import type { DomId } from "../common/index.js";
import { type P2m, Vcpu, type VcpuOptions } from "../p2m/index.js";
import type { DomainPages, HostMemory } from "../pagealloc/index.js";
import type { DomUBoot } from "./domu-boot.js";

export type DomainState = "running" | "dying" | "destroyed";

/** A guest RAM bank: [gstart, gstart+size) backed by host frames (one record per allocation chunk). */
export interface RamChunk {
  readonly gstart: number;
  readonly size: number;
  readonly hstart: number;
}

export type ShmRoleKind = "owner" | "borrower" | "dom_io-borrower";

/** One static-shm mapping made into this domain (one per shm node / xl spec, per backing chunk). */
export interface ShmMapping {
  readonly id: string;
  readonly gstart: number;
  readonly size: number;
  readonly hstart: number;
  readonly role: ShmRoleKind;
  /** Offset of the window inside the owner's region (xl), 0 for the DT feature. */
  readonly offset: number;
  /** Node path (DT) or "file:line:column" (xl). */
  readonly source: string;
}

/** What Xen records for the guest DT (kinfo->shm_mem): one per shm node, whatever the chunking. */
export interface GuestShmRecord {
  readonly gaddr: number;
  readonly size: number;
  readonly id: string;
  readonly offset: number;
}

export class Domain {
  readonly domid: DomId;
  readonly name: string;
  readonly vmid: number;
  readonly pages: DomainPages;
  readonly p2m: P2m;
  readonly directMap: boolean;
  state: DomainState = "running";
  readonly ram: RamChunk[] = [];
  readonly shm: ShmMapping[] = [];
  readonly guestShm: GuestShmRecord[] = [];
  /** Where the domain was described (node path or config file). */
  readonly source: string;
  /** A dom0less domU's boot as Xen's construct_domU did it: its device tree, kernel, vCPU state. */
  domUBoot: DomUBoot | undefined;
  private readonly mem: HostMemory;

  constructor(init: {
    domid: DomId;
    name: string;
    vmid: number;
    pages: DomainPages;
    p2m: P2m;
    directMap: boolean;
    source: string;
    mem: HostMemory;
  }) {
    this.domid = init.domid;
    this.name = init.name;
    this.vmid = init.vmid;
    this.pages = init.pages;
    this.p2m = init.p2m;
    this.directMap = init.directMap;
    this.source = init.source;
    this.mem = init.mem;
  }

  /** A vCPU of this domain (guest reads and writes through its own TLB). */
  vcpu(opts: VcpuOptions = {}): Vcpu {
    // In this thread the hypervisor can resolve stage-2 translation faults (access tracking).
    return new Vcpu(this.mem, this.p2m.handle(), {
      resolveTranslationFault: (gfn) => this.p2m.resolveTranslationFault(gfn),
      ...opts,
    });
  }

  /** Guest RAM banks merged from the allocation chunks (for the guest DT and reports). */
  ramBanks(): { start: number; size: number }[] {
    const sorted = [...this.ram].sort((a, b) => a.gstart - b.gstart);
    const out: { start: number; size: number }[] = [];
    for (const c of sorted) {
      const last = out[out.length - 1];
      if (last && last.start + last.size === c.gstart) last.size += c.size;
      else out.push({ start: c.gstart, size: c.size });
    }
    return out;
  }
}
