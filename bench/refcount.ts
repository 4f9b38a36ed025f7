/** Suite `refcount` (one op = one page): Xen's get_page_nr + put_page_nr against raw Atomics. */
import { Machine } from "../src/pagealloc/index.js";
import type { BenchSuite } from "./lib.js";

const PAGES = 262_144; // 1 GiB of 4 KiB pages

export const refcountSuite: BenchSuite = {
  name: "refcount",
  unit: "page",
  cases() {
    const m = new Machine([{ base: 0x4000_0000, size: 2 ** 31 }]);
    const d = m.alloc.domain(1);
    d.maxPages = PAGES;
    const first = m.alloc.alloc_domheap_pages(d, 18);
    if (first < 0) throw new Error("cannot allocate 1 GiB");
    const pdx0 = m.frames.pdx(first);
    const frames = m.frames;
    const raw = new Int32Array(new SharedArrayBuffer(PAGES * 4)).fill(1);
    let sink = 0;
    return [
      {
        name: "raw Atomics.add 1GiB",
        ops: PAGES,
        fn: () => {
          for (let i = 0; i < PAGES; i++) {
            Atomics.add(raw, i, 1);
            sink += Atomics.sub(raw, i, 1);
          }
          return sink;
        },
      },
      {
        name: "get_page_nr+put_page_nr 1GiB",
        baseline: "raw Atomics.add 1GiB",
        ops: PAGES,
        target: { maxRatio: 1.5 },
        fn: () => {
          for (let i = 0; i < PAGES; i++) {
            if (frames.get_page_nr(pdx0 + i, 1, 1)) frames.put_page_nr(pdx0 + i, 1);
          }
        },
      },
    ];
  },
};
