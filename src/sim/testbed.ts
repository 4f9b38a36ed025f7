/**
 * A SimSystem built directly from a Machine and P2m tables, without the hypervisor: the owner maps
 * the region's frames as p2m_ram_rw, each borrower maps (part of) them as p2m_map_foreign_rw at its
 * own guest address, optionally starting `offset` bytes into the region. The owner's frames carry
 * one reference per borrower, as Xen's static-shm set-up takes them, and a foreign mapping's
 * removal puts one back. For tests, benchmarks and demos; the real system comes from src/domains.
 *
 * Deliberate mistakes for tests: `shiftPages` maps the borrower's window that many frames off,
 * `wrongPage` maps one page of its window to an unrelated frame.
 */
import { P2m, p2m_map_foreign_rw, p2m_ram_rw } from "../p2m/index.js";
import { Machine } from "../pagealloc/index.js";
import type { SimParticipant, SimSystem } from "./types.js";

export interface TestbedBorrower {
  readonly domid: number;
  readonly name?: string;
  readonly gaddr: number;
  /** Window start in the region (bytes, page aligned; default 0). */
  readonly offset?: number;
  /** Window size (default: the rest of the region). */
  readonly size?: number;
  readonly shiftPages?: number;
  /** Page index in the window mapped to a stray frame instead. */
  readonly wrongPage?: number;
}

export interface TestbedOptions {
  readonly ramBytes?: number;
  readonly regionBytes: number;
  readonly ownerDomid?: number;
  readonly ownerGaddr?: number;
  readonly borrowers: readonly TestbedBorrower[];
  readonly regionId?: string;
}

export interface Testbed extends SimSystem {
  readonly host: Machine;
  readonly p2ms: ReadonlyMap<number, P2m>;
  /** First host frame of the region. */
  readonly regionMfn: number;
  readonly destroyed: number[];
}

const RAM_BASE = 0x4000_0000;

export function buildTestbed(o: TestbedOptions): Testbed {
  const host = new Machine([{ base: RAM_BASE, size: o.ramBytes ?? 256 * 2 ** 20 }]);
  const ownerId = o.ownerDomid ?? 1;
  const pages = Math.ceil(o.regionBytes / 4096);
  const order = Math.ceil(Math.log2(pages));
  const od = host.alloc.domain(ownerId);
  od.maxPages = 2 ** order;
  const regionMfn = host.alloc.alloc_domheap_pages(od, order);
  if (regionMfn < 0) throw new Error("testbed: no memory for the region");
  const stray = host.alloc.alloc_heap_pages(0);
  host.mem.touch(regionMfn * 4096, pages * 4096);
  host.mem.fill(regionMfn * 4096, pages * 4096, 0);
  host.mem.fill(stray * 4096, 4096, 0xee);
  const p2ms = new Map<number, P2m>();
  const owner = new P2m(host, ownerId, ownerId);
  p2ms.set(ownerId, owner);
  const ownerGaddr = o.ownerGaddr ?? 0x8000_0000;
  check(owner.insertMapping(ownerGaddr / 4096, pages, regionMfn, p2m_ram_rw));
  const participants: SimParticipant[] = [
    {
      domid: ownerId,
      name: `owner${ownerId}`,
      p2m: owner.handle(),
      gaddr: ownerGaddr,
      size: pages * 4096,
      role: "owner",
      offset: 0,
    },
  ];
  const windows = new Map<number, { gfn: number; n: number }>();
  for (const b of o.borrowers) {
    const off = b.offset ?? 0;
    const size = b.size ?? pages * 4096 - off;
    const n = Math.ceil(size / 4096);
    const p = new P2m(host, b.domid, b.domid);
    p2ms.set(b.domid, p);
    const gfn = b.gaddr / 4096;
    const first = regionMfn + off / 4096 + (b.shiftPages ?? 0);
    for (let i = 0; i < n; i++) {
      const mfn = i === b.wrongPage ? stray : first + i;
      check(p.insertMapping(gfn + i, 1, mfn, p2m_map_foreign_rw));
    }
    windows.set(b.domid, { gfn, n });
    // Xen's assign_shared_memory: one reference per borrower on every page of the region.
    for (let i = 0; i < pages; i++) host.frames.get_page(host.frames.pdx(regionMfn + i), ownerId);
    participants.push({
      domid: b.domid,
      name: b.name ?? `guest${b.domid}`,
      p2m: p.handle(),
      gaddr: b.gaddr,
      size: n * 4096,
      role: "borrower",
      offset: off,
    });
  }
  const destroyed: number[] = [];
  return {
    host,
    p2ms,
    regionMfn,
    destroyed,
    machine: host.share(),
    regions: [{ id: o.regionId ?? "shm0", participants }],
    destroyDomain(domid: number): void {
      const w = windows.get(domid);
      const p = p2ms.get(domid);
      if (!w || !p) throw new Error(`testbed: d${domid} is not a borrower`);
      // Tear down the foreign mappings: puts their references and flushes the VMID (epoch bump).
      check(p.removeMapping(w.gfn, w.n));
      destroyed.push(domid);
    },
    pageCount(mfn: number): number {
      return host.frames.getCount(host.frames.pdx(mfn));
    },
  };
}

function check(rc: number): void {
  if (rc !== 0) throw new Error(`testbed: p2m update failed (${rc})`);
}
