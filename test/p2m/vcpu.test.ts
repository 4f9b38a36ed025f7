/** The translator: guest accesses through the TLB agree with the p2m, faults are typed, no stale entry survives. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  isStage2Fault,
  P2m,
  p2m_map_foreign_rw,
  p2m_ram_ro,
  p2m_ram_rw,
  type Stage2Fault,
  Vcpu,
} from "../../src/p2m/index.js";

import { Machine } from "../../src/pagealloc/index.js";

const RAM = 0x4000_0000;

function setup(tlbBits = 4) {
  const m = new Machine([{ base: RAM, size: 0x400_0000 }]);
  const p = new P2m(m, 1, 1);
  const v = new Vcpu(m.mem, p.handle(), { tlbBits });
  return { m, p, v };
}

function fault(fn: () => unknown): Stage2Fault {
  try {
    fn();
  } catch (e) {
    if (isStage2Fault(e)) return e;
    throw e;
  }
  throw new Error("expected a stage-2 fault");
}

describe("vCPU guest accesses", () => {
  it("reads and writes land in the mapped host frames, little-endian, across pages", () => {
    const { m, p, v } = setup();
    p.insertMapping(0x50000, 2, 0x40100, p2m_ram_rw);
    v.write32(0x5000_0ffc, 0x11223344);
    expect(m.mem.read32(0x4010_0ffc)).toBe(0x11223344);
    v.write32(0x5000_0ffe, 0xaabbccdd); // straddles the two pages
    expect(m.mem.read16(0x4010_0ffe)).toBe(0xccdd);
    expect(m.mem.read16(0x4010_1000)).toBe(0xaabb);
    expect(v.read32(0x5000_0ffe)).toBe(0xaabbccdd);
    expect(v.read16(0x5000_0fff)).toBe(0xbbcc);
    v.write64(0x5000_1008, 0xdeadbeef, 0x01020304);
    const out = [0, 0];
    v.read64(0x5000_1008, out);
    expect(out).toEqual([0xdeadbeef, 0x01020304]);
    const src = new Uint8Array(6000).map((_, i) => (i * 7) & 0xff);
    v.writeBytes(0x5000_0100, src);
    const back = new Uint8Array(6000);
    v.readBytes(0x5000_0100, back);
    expect(back).toEqual(src);
    expect(v.translate(0x5000_1234)).toBe(0x4010_1234);
  });

  it("an access one byte past a mapping faults with the level and FSC a hypervisor would see", () => {
    const { p, v } = setup();
    p.insertMapping(0x50000, 1, 0x40100, p2m_ram_rw);
    expect(v.read8(0x5000_0fff)).toBe(0);
    const f = fault(() => v.read8(0x5000_1000));
    expect(f).toMatchObject({ kind: "translation", level: 3, fsc: 0x07, ipa: 0x5000_1000, wnr: 0 });
    expect(f.message).toBe(
      "stage-2 translation fault at level 3 on read to IPA 0x0000000050001000 (DFSC 0x07)",
    );
    const g = fault(() => v.write32(0x6000_0000, 1));
    expect(g).toMatchObject({ kind: "translation", level: 2, wnr: 1 });
    expect(g.hpfar).toBe(0x600000);
  });

  it("permissions: ram_ro refuses writes, foreign refuses instruction fetches, through the fast path too", () => {
    const { p, v } = setup();
    p.insertMapping(0x50000, 1, 0x40100, p2m_ram_ro);
    p.insertMapping(0x50001, 1, 0x40101, p2m_map_foreign_rw);
    expect(v.read32(0x5000_0000)).toBe(0); // now cached for read
    expect(fault(() => v.write32(0x5000_0000, 1))).toMatchObject({ kind: "permission", level: 3, fsc: 0x0f });
    v.write32(0x5000_1000, 5);
    expect(v.read32(0x5000_1000)).toBe(5);
    const f = fault(() => v.fetch32(0x5000_1000));
    expect(f).toMatchObject({ kind: "permission", access: "exec" });
    expect(f.esr >>> 0).toBe(0x8200000f);
  });

  it("a removed mapping is never used again once the vCPU reaches a sync point", () => {
    const { m, p, v } = setup();
    p.insertMapping(0x50000, 1, 0x40100, p2m_ram_rw);
    v.write32(0x5000_0000, 7);
    p.removeMapping(0x50000, 1);
    expect(v.sync()).toBe(true);
    expect(fault(() => v.read32(0x5000_0000)).kind).toBe("translation");
    // remapped elsewhere: the new frame is seen
    p.insertMapping(0x50000, 1, 0x40200, p2m_ram_rw);
    m.mem.write32(0x4020_0000, 9);
    expect(v.read32(0x5000_0000)).toBe(9);
  });

  it("agrees with the p2m and a reference model over random map/unmap/access sequences", () => {
    const op = fc.oneof(
      fc.record({
        k: fc.constant("map" as const),
        g: fc.integer({ min: 0, max: 63 }),
        n: fc.integer({ min: 1, max: 8 }),
        h: fc.integer({ min: 0, max: 255 }),
        ro: fc.boolean(),
      }),
      fc.record({
        k: fc.constant("unmap" as const),
        g: fc.integer({ min: 0, max: 63 }),
        n: fc.integer({ min: 1, max: 8 }),
      }),
      fc.record({
        k: fc.constant("rw" as const),
        g: fc.integer({ min: 0, max: 70 }),
        off: fc.integer({ min: 0, max: 1023 }),
        val: fc.integer(),
        write: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { m, p, v } = setup(3); // tiny TLB: lots of conflict misses
        const model = new Map<number, { h: number; ro: boolean }>();
        for (const o of ops) {
          if (o.k === "map") {
            p.insertMapping(0x50000 + o.g, o.n, 0x40100 + o.h, o.ro ? p2m_ram_ro : p2m_ram_rw);
            for (let i = 0; i < o.n; i++) model.set(o.g + i, { h: o.h + i, ro: o.ro });
          } else if (o.k === "unmap") {
            p.removeMapping(0x50000 + o.g, o.n);
            for (let i = 0; i < o.n; i++) model.delete(o.g + i);
          } else {
            v.sync();
            const ipa = (0x50000 + o.g) * 4096 + o.off * 4;
            const e = model.get(o.g);
            if (!e) {
              expect(fault(() => (o.write ? v.write32(ipa, o.val) : v.read32(ipa))).kind).toBe("translation");
            } else if (o.write && e.ro) {
              expect(fault(() => v.write32(ipa, o.val)).kind).toBe("permission");
            } else if (o.write) {
              v.write32(ipa, o.val);
              expect(m.mem.read32((0x40100 + e.h) * 4096 + o.off * 4)).toBe(o.val >>> 0);
            } else {
              expect(v.read32(ipa)).toBe(m.mem.read32((0x40100 + e.h) * 4096 + o.off * 4));
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
