/** Suite `alloc` (one op = one 4 KiB page): allocate and free 1 GiB with the buddy heap. */
import { Machine } from "../src/pagealloc/index.js";
import type { BenchSuite } from "./lib.js";

const PAGES = 262_144;

export const allocSuite: BenchSuite = {
  name: "alloc",
  unit: "page",
  cases() {
    const m = new Machine([{ base: 0x4000_0000, size: 2 ** 31 }]);
    const a = m.alloc;
    const got = new Float64Array(PAGES);
    // Raw baseline: the cheapest possible allocator, a stack of free page numbers.
    const stack = new Int32Array(PAGES).map((_, i) => i);
    let top = PAGES;
    return [
      {
        name: "raw free-stack pop+push 1GiB",
        ops: PAGES,
        fn: () => {
          for (let i = 0; i < PAGES; i++) got[i] = stack[--top]!;
          for (let i = 0; i < PAGES; i++) stack[top++] = got[i]!;
        },
      },
      {
        name: "alloc+free 1GiB in 4K pages",
        baseline: "raw free-stack pop+push 1GiB",
        ops: PAGES,
        fn: () => {
          for (let i = 0; i < PAGES; i++) got[i] = a.alloc_heap_pages(0);
          for (let i = 0; i < PAGES; i++) a.free_heap_pages(got[i]!, 0);
        },
      },
      {
        name: "alloc+free 1GiB in 2M blocks",
        baseline: "raw free-stack pop+push 1GiB",
        ops: PAGES,
        fn: () => {
          for (let i = 0; i < 512; i++) got[i] = a.alloc_heap_pages(9);
          for (let i = 0; i < 512; i++) a.free_heap_pages(got[i]!, 9);
        },
      },
    ];
  },
};
