/** The p2m tables: Xen's mapping behaviour (vectors X-13..X-21) and a property test against a model. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { descriptorHex } from "../../src/p2m/descriptor.js";
import {
  INVALID_MFN,
  P2m,
  p2m_map_foreign_rw,
  p2m_ram_ro,
  p2m_ram_rw,
  walkStage2,
} from "../../src/p2m/index.js";

import { Machine } from "../../src/pagealloc/index.js";

/** Tables live in the low bank; the high bank gives mapped frames real page_info for refcounts. */
function machine() {
  return new Machine([
    { base: 0x4000_0000, size: 0x400_0000 },
    { base: 0x8_8000_0000, size: 0x4000_0000 },
  ]);
}

function leafCount(p: P2m): number[] {
  return [...p.stats.mappings];
}

describe("p2m_set_entry block-size choice (X-13..X-16)", () => {
  it("X-13: 1 GiB aligned gfn, mfn and nr give one L1 block", () => {
    const p = new P2m(machine(), 1, 1);
    expect(p.insertMapping(0x80000, 0x40000, 0x880000, p2m_ram_rw)).toBe(0);
    expect(leafCount(p)).toEqual([0, 1, 0, 0]);
    const e = p.lookup(0x80000 + 0x12345);
    expect(e).toMatchObject({ mfn: 0x880000 + 0x12345, level: 1, type: p2m_ram_rw });
    expect(descriptorHex(e.lo, e.hi)).toBe("0x00800008800007FD");
  });

  it("X-14: gfn 0x80200 nr 0x400 gives two 2 MiB blocks", () => {
    const p = new P2m(machine(), 1, 1);
    p.insertMapping(0x80200, 0x400, 0x880200, p2m_ram_rw);
    expect(leafCount(p)).toEqual([0, 0, 2, 0]);
  });

  it("X-15: nr = 0x201 is not a multiple of 512, so all 513 pages are 4 KiB", () => {
    const p = new P2m(machine(), 1, 1);
    p.insertMapping(0x80000, 0x201, 0x880000, p2m_ram_rw);
    expect(leafCount(p)).toEqual([0, 0, 0, 513]);
    expect(p.lookup(0x80200)).toMatchObject({ mfn: 0x880200, level: 3 });
  });

  it("X-16: an unaligned mfn forces 4 KiB pages", () => {
    const p = new P2m(machine(), 1, 1);
    p.insertMapping(0x80200, 0x200, 0x880201, p2m_ram_rw);
    expect(leafCount(p)).toEqual([0, 0, 0, 512]);
  });

  it("mem_access forces 4 KiB pages", () => {
    const p = new P2m(machine(), 1, 1);
    p.memAccessEnabled = true;
    p.insertMapping(0x80000, 0x400, 0x880000, p2m_ram_rw);
    expect(leafCount(p)).toEqual([0, 0, 0, 0x400]);
  });
});

describe("foreign references at teardown (X-17, X-18, X-20)", () => {
  function owned(m: Machine, nr: number, extra: number) {
    const d = m.alloc.domain(7);
    d.maxPages = nr;
    const order = Math.log2(nr);
    const mfn = m.alloc.alloc_domheap_pages(d, order);
    const pdx = m.frames.pdx(mfn);
    expect(m.frames.get_page_nr_range(pdx, nr, 7, extra)).toBe(-1);
    return { mfn, pdx };
  }

  it("X-18: a 2 MiB foreign block drops 512 references", () => {
    const m = machine();
    const { mfn, pdx } = owned(m, 512, 1);
    const p = new P2m(m, 1, 1);
    p.map_regions_p2mt(0x50000, 512, mfn, p2m_map_foreign_rw);
    expect(leafCount(p)).toEqual([0, 0, 1, 0]);
    const e = p.lookup(0x50000);
    // The heap gives the highest zone first, so the block may lie above 4 GiB: OA bits 47:32 too.
    const hex8 = (v: number) => (v >>> 0).toString(16).toUpperCase().padStart(8, "0");
    const loHex = hex8((mfn % 0x100000) * 4096 + 0x7fd);
    const hiHex = hex8(0x0340_0000 + Math.floor(mfn / 0x100000));
    expect(descriptorHex(e.lo, e.hi)).toBe(`0x${hiHex}${loHex}`); // foreign_rw block: XN, type 6
    expect(p.relinquish()).toBe(0);
    for (let i = 0; i < 512; i++) expect(m.frames.getCount(pdx + i)).toBe(1);
  });

  it("X-17: a 1 GiB foreign block drops nothing (Xen's leak); fixL1ForeignLeak drops 2^18", () => {
    for (const fix of [false, true]) {
      const m = machine();
      const { mfn, pdx } = owned(m, 0x40000, 1);
      const p = new P2m(m, 1, 1, { fixL1ForeignLeak: fix });
      p.map_regions_p2mt(0x80000, 0x40000, mfn, p2m_map_foreign_rw);
      expect(leafCount(p)).toEqual([0, 1, 0, 0]);
      p.relinquish();
      expect(m.frames.getCount(pdx)).toBe(fix ? 1 : 2);
      expect(m.frames.getCount(pdx + 0x3ffff)).toBe(fix ? 1 : 2);
    }
  });

  it("X-20: removing 100 foreign 4 KiB pages puts 100 references and flushes once at unlock", () => {
    const m = machine();
    const { mfn, pdx } = owned(m, 128, 1);
    const p = new P2m(m, 1, 1);
    p.map_regions_p2mt(0x50001, 100, mfn, p2m_map_foreign_rw);
    const before = p.stats.flushes;
    p.removeMapping(0x50001, 100);
    expect(p.stats.flushes - before).toBe(1);
    for (let i = 0; i < 100; i++) expect(m.frames.getCount(pdx + i)).toBe(1);
    expect(m.frames.getCount(pdx + 100)).toBe(2);
    expect(p.lookup(0x50001).mfn).toBe(INVALID_MFN);
  });

  it("X-19: replacing a valid foreign 4 KiB entry: 1 flush, then the old page is put", () => {
    const m = machine();
    const { mfn, pdx } = owned(m, 2, 1);
    const p = new P2m(m, 1, 1);
    p.map_regions_p2mt(0x50000, 1, mfn, p2m_map_foreign_rw);
    const before = p.stats.flushes;
    p.map_regions_p2mt(0x50000, 1, mfn + 1, p2m_map_foreign_rw);
    expect(p.stats.flushes - before).toBe(1);
    expect(m.frames.getCount(pdx)).toBe(1);
    expect(m.frames.getCount(pdx + 1)).toBe(2);
  });
});

describe("shattering (X-21)", () => {
  it("changing one page of a 2 MiB ram_rw block to ram_ro shatters it with 2 flushes", () => {
    const p = new P2m(machine(), 1, 1);
    p.insertMapping(0x80200, 0x200, 0x880200, p2m_ram_rw);
    const before = p.stats.flushes;
    const tablesBefore = p.tablePages;
    p.insertMapping(0x80205, 1, 0x880205, p2m_ram_ro);
    expect(p.stats.flushes - before).toBe(2);
    expect(p.stats.shattered).toEqual([0, 0, 1, 0]);
    expect(p.tablePages).toBe(tablesBefore + 1);
    const e = p.lookup(0x80205);
    expect(descriptorHex(e.lo, e.hi)).toBe("0x010000088020577F");
    const n = p.lookup(0x80206);
    expect(descriptorHex(n.lo, n.hi)).toBe("0x00800008802067FF");
    expect(n.level).toBe(3);
  });

  it("mapping a 2 MiB block over an L3 table frees the table to the pool", () => {
    const p = new P2m(machine(), 1, 1);
    p.insertMapping(0x80200, 3, 0x880200, p2m_ram_rw);
    const tables = p.tablePages;
    p.insertMapping(0x80200, 0x200, 0x880200, p2m_ram_rw);
    expect(p.tablePages).toBe(tables - 1);
    expect(p.poolPages).toBe(1);
    expect(p.lookup(0x80201).level).toBe(2);
  });

  it("refuses new mappings while the domain is dying (-ENOMEM) and gfns beyond the IPA (-EINVAL)", () => {
    const p = new P2m(machine(), 1, 1);
    expect(p.insertMapping(2 ** 28, 1, 0x880000, p2m_ram_rw)).toBe(-22);
    p.isDying = true;
    expect(p.insertMapping(0x80000, 1, 0x880000, p2m_ram_rw)).toBe(-12);
  });
});

describe("p2m against a reference map", () => {
  const opArb = fc.oneof(
    fc.record({
      k: fc.constant("map" as const),
      gfn: fc.integer({ min: 0, max: 0x7ff }),
      nr: fc.constantFrom(1, 3, 0x200, 0x201, 0x400),
      mfn: fc.integer({ min: 0, max: 0x7ff }),
      ro: fc.boolean(),
      foreign: fc.boolean(),
    }),
    fc.record({
      k: fc.constant("unmap" as const),
      gfn: fc.integer({ min: 0, max: 0x7ff }),
      nr: fc.constantFrom(1, 7, 0x200, 0x400),
    }),
  );

  it("lookup, the architectural walk over the table bytes and the model agree; teardown returns every table", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 25, size: "max" }), (ops) => {
        const m = machine();
        const heapBefore = m.alloc.freePages;
        const p = new P2m(m, 1, 1);
        const model = new Map<number, { mfn: number; t: number }>();
        const GBASE = 0x80000; // gfn base (2 GiB IPA), 2 MiB aligned
        const MBASE = 0x880000;
        for (const op of ops) {
          if (op.k === "map") {
            const t = op.foreign ? p2m_map_foreign_rw : op.ro ? p2m_ram_ro : p2m_ram_rw;
            const mfnBase = op.mfn - (op.nr >= 0x200 && op.gfn % 0x200 === 0 ? op.mfn % 0x200 : 0);
            expect(p.insertMapping(GBASE + op.gfn, op.nr, MBASE + mfnBase, t)).toBe(0);
            for (let i = 0; i < op.nr; i++) model.set(GBASE + op.gfn + i, { mfn: MBASE + mfnBase + i, t });
          } else {
            expect(p.removeMapping(GBASE + op.gfn, op.nr)).toBe(0);
            for (let i = 0; i < op.nr; i++) model.delete(GBASE + op.gfn + i);
          }
        }
        const regs = { vtcr: p.cfg.vtcr, vttbr: p.vttbr };
        for (let g = GBASE; g < GBASE + 0xc00; g += 1) {
          const want = model.get(g);
          const e = p.lookup(g);
          const w = walkStage2(m.mem, regs, g * 4096 + 0x10, "read");
          if (!want) {
            expect(e.mfn).toBe(INVALID_MFN);
            expect(w.ok).toBe(false);
            continue;
          }
          expect(e.mfn).toBe(want.mfn);
          expect(e.type).toBe(want.t);
          expect(w.ok && w.pa).toBe(want.mfn * 4096 + 0x10);
          const ww = walkStage2(m.mem, regs, g * 4096, "write");
          expect(ww.ok).toBe(want.t !== p2m_ram_ro);
          const wx = walkStage2(m.mem, regs, g * 4096, "exec");
          expect(wx.ok).toBe(want.t !== p2m_map_foreign_rw);
        }
        // Foreign entries over frames without owners would underflow: none exist here (mfns
        // outside the owned range are never put because they have count 0 -> recorded).
        p.relinquish();
        for (let g = GBASE; g < GBASE + 0xc00; g += 0x40) expect(p.lookup(g).mfn).toBe(INVALID_MFN);
        p.teardown();
        expect(m.alloc.freePages).toBe(heapBefore);
      }),
      { numRuns: 60 },
    );
  });
});
