/** Xen behaviours of the page allocator and refcounts that static shared memory relies on. */
import { describe, expect, it } from "vitest";
import { DOMID_IO } from "../../src/common/index.js";
import {
  Machine,
  PGC_allocated,
  PGC_state_free,
  PGC_state_shift,
  PGC_static,
} from "../../src/pagealloc/index.js";

const BANK = { base: 0x1000_0000, size: 0x1000_0000 };
const SHM = { start: 0x1800_0000, size: 0x20_0000 };

function host() {
  const m = new Machine([BANK], { reserved: [SHM] });
  m.alloc.unprepare_staticmem_pages(SHM.start / 4096, SHM.size / 4096);
  return m;
}

describe("count_info and static memory (reference §3, §4.4, §5)", () => {
  it("static shm pages start as free|static and report Xen's count_info layout", () => {
    const m = host();
    const pdx = m.frames.pdx(SHM.start / 4096);
    expect(m.frames.countInfo(pdx)).toBe(PGC_static | (BigInt(PGC_state_free) << PGC_state_shift));
    expect(m.frames.countInfo(pdx)).toBe(0x2180000000000000n);
  });

  it("acquire for dom_io then N borrower references gives count 1 + N with PGC_allocated|PGC_static", () => {
    const m = host();
    const io = m.alloc.domain(DOMID_IO);
    io.maxPages += 512;
    expect(m.alloc.acquire_domstatic_pages(io, SHM.start / 4096, 512)).toBe(0);
    const pdx = m.frames.pdx(SHM.start / 4096);
    expect(m.frames.get_page_nr_range(pdx, 512, DOMID_IO, 2)).toBe(-1);
    expect(m.frames.countInfo(pdx)).toBe(PGC_allocated | PGC_static | 3n);
    expect(io.totPages).toBe(512);
  });

  it("acquiring pages that are not free|static fails with Xen's pg[i] line and -ENOENT, changing nothing", () => {
    const m = host();
    const d1 = m.alloc.domain(1);
    d1.maxPages = 1024;
    const io = m.alloc.domain(DOMID_IO);
    io.maxPages = 1024;
    expect(m.alloc.acquire_domstatic_pages(d1, SHM.start / 4096 + 4, 4)).toBe(0);
    expect(m.alloc.acquire_domstatic_pages(io, SHM.start / 4096, 512)).toBe(-2);
    expect(m.alloc.log).toEqual(["pg[4] Static MFN 18004 c=0xa000000000000001 t=0x0"]);
    const first = m.frames.pdx(SHM.start / 4096);
    expect(m.frames.countInfo(first)).toBe(0x2180000000000000n); // rolled back to free|static
    expect(io.totPages).toBe(0);
  });

  it("assign_pages refuses to exceed max_pages with Xen's message and -E2BIG", () => {
    const m = host();
    const d = m.alloc.domain(3);
    d.maxPages = 4;
    expect(m.alloc.alloc_domheap_pages(d, 3)).toBe(-1);
    expect(m.alloc.log).toEqual(["Over-allocation for d3: 8 > 4"]);
    expect(m.alloc.alloc_domheap_pages(d, 2)).toBeGreaterThan(0);
  });

  it("a static page freed by its last put goes to the owner's resv_page_list, and the dying owner's reference drops with the last page", () => {
    const m = host();
    const d = m.alloc.domain(1);
    d.maxPages = 512;
    let gone = false;
    d.onLastPageFreed = () => {
      gone = true;
    };
    const mfn0 = SHM.start / 4096;
    expect(m.alloc.acquire_domstatic_pages(d, mfn0, 2)).toBe(0);
    const p0 = m.frames.pdx(mfn0);
    expect(m.frames.get_page_nr(p0, 1, 1)).toBe(true); // a borrower's reference
    m.alloc.put_page_alloc_ref(mfn0); // owner relinquishes
    m.alloc.put_page_alloc_ref(mfn0 + 1);
    expect(d.totPages).toBe(1);
    expect(d.resvPageList.toArray()).toEqual([p0 + 1]);
    expect(gone).toBe(false);
    m.frames.put_page(p0); // the borrower's mapping goes
    expect(gone).toBe(true);
    expect(d.totPages).toBe(0);
    expect(m.frames.countInfo(p0)).toBe(0x2180000000000000n);
    // free again and acquirable again
    expect(m.alloc.acquire_domstatic_pages(m.alloc.domain(2), mfn0, 2)).toBe(-22); // d2 max_pages 0
    m.alloc.domain(2).maxPages = 2;
    expect(m.alloc.acquire_domstatic_pages(m.alloc.domain(2), mfn0, 2)).toBe(0);
  });

  it("get_page_nr fails on a page with count 0, on overflow, and on an owner mismatch (count unchanged)", () => {
    const m = host();
    const d = m.alloc.domain(1);
    d.maxPages = 1;
    const mfn = m.alloc.alloc_domheap_pages(d, 0);
    const p = m.frames.pdx(mfn);
    expect(m.frames.get_page_nr(p, 2, 5)).toBe(false);
    expect(m.frames.getCount(p)).toBe(1);
    expect(m.frames.get_page_nr(p, 1, 0x7ffffffe)).toBe(true);
    expect(m.frames.get_page_nr(p, 1, 1)).toBe(false); // would overflow
    m.frames.put_page_nr(p, 0x7ffffffe);
    const free = m.frames.pdx(SHM.start / 4096);
    expect(m.frames.get_page(free, 1)).toBe(false); // count 0: not allocated
    expect(() => m.frames.put_page(free)).toThrowError(/reference count would go below zero/);
  });

  it("a heap page is freed back to the heap when its last reference goes", () => {
    const m = host();
    const d = m.alloc.domain(1);
    d.maxPages = 1;
    const before = m.alloc.freePages;
    const mfn = m.alloc.alloc_domheap_pages(d, 0);
    expect(m.alloc.freePages).toBe(before - 1);
    m.alloc.free_domheap_pages(mfn, 0);
    expect(m.alloc.freePages).toBe(before);
    expect(d.totPages).toBe(0);
  });

  it("unprepare_staticmem_pages refuses frames that were not reserved at boot", () => {
    const m = host();
    expect(() => m.alloc.unprepare_staticmem_pages(0x10000, 1)).toThrowError(
      "mfn 10000 (0x0000000010000000) was not reserved at boot; it cannot become static memory",
    );
  });
});
