/**
 * Suite `map` (one op = one 4 KiB page): p2m_set_entry of a 1 GiB foreign region, with 4 KiB pages
 * forced (mem_access on) and with blocks, and its removal; against raw descriptor writes.
 */

import { P2m, p2m_map_foreign_rw } from "../src/p2m/index.js";
import { Machine } from "../src/pagealloc/index.js";
import type { BenchSuite } from "./lib.js";

const PAGES = 262_144;
const GFN = 0x80000; // 2 GiB, 1 GiB aligned

export const mapSuite: BenchSuite = {
  name: "map",
  unit: "page",
  cases() {
    const m = new Machine([{ base: 0x4000_0000, size: 2 ** 31 }]);
    const owner = m.alloc.domain(1);
    owner.maxPages = PAGES;
    const mfn = m.alloc.alloc_domheap_pages(owner, 18);
    const pdx = m.frames.pdx(mfn);
    // References the foreign mappings hold (each unmap puts one per page).
    const reref = () => m.frames.get_page_nr_range(pdx, PAGES, 1, 1);
    reref();
    const p4k = new P2m(m, 2, 2);
    p4k.memAccessEnabled = true;
    const pblk = new P2m(m, 3, 3);
    const raw = new Uint32Array(PAGES * 2);
    return [
      {
        name: "raw descriptor writes 1GiB",
        ops: PAGES,
        fn: () => {
          for (let i = 0; i < PAGES; i++) {
            raw[2 * i + 1] = 0x03400000;
            raw[2 * i] = ((mfn + i) * 4096 + 0x7ff) >>> 0;
          }
        },
      },
      {
        name: "map 1GiB foreign 4K",
        baseline: "raw descriptor writes 1GiB",
        ops: PAGES,
        target: { minOpsPerSec: 20e6 },
        fn: () => p4k.map_regions_p2mt(GFN, PAGES, mfn, p2m_map_foreign_rw),
        after: () => {
          p4k.removeMapping(GFN, PAGES);
          reref();
        },
      },
      {
        name: "map 1GiB foreign blocks",
        baseline: "raw descriptor writes 1GiB",
        ops: PAGES,
        fn: () => pblk.map_regions_p2mt(GFN, PAGES, mfn, p2m_map_foreign_rw),
        after: () => pblk.removeMapping(GFN, PAGES), // an L1 block puts nothing (Xen's leak)
      },
      {
        name: "unmap 1GiB foreign 4K",
        baseline: "raw descriptor writes 1GiB",
        ops: PAGES,
        before: () => {
          p4k.map_regions_p2mt(GFN, PAGES, mfn, p2m_map_foreign_rw);
          reref();
        },
        fn: () => p4k.removeMapping(GFN, PAGES),
      },
    ];
  },
};
