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

/** Give every word of frames [mfn, mfn + n) a distinct value, so that a read from a wrong frame shows. */
function stamp(m: Machine, mfn: number, n: number): void {
  for (let f = mfn; f < mfn + n; f++) {
    const loc = m.mem.locate(f * 4096, 4096);
    const u32 = m.mem.chunkU32(loc.chunk);
    const base = loc.offset / 4;
    for (let w = 0; w < 1024; w++) u32[base + w] = f * 1024 + w;
  }
}

/** A random guest 32-bit access to model page g (0..gMax), word `off`. */
function rwOp(gMax: number) {
  return fc.record({
    k: fc.constant("rw" as const),
    g: fc.integer({ min: 0, max: gMax }),
    off: fc.integer({ min: 0, max: 1023 }),
    val: fc.integer(),
    write: fc.boolean(),
  });
}

/**
 * One guest 32-bit access after a sync point, checked against the model entry of its page (absent:
 * unmapped) and against host memory at `host`, the byte the model says it lands on.
 */
function expectAccess(
  m: Machine,
  v: Vcpu,
  e: { readonly ro: boolean } | undefined,
  ipa: number,
  host: number,
  o: { readonly write: boolean; readonly val: number },
): void {
  v.sync();
  if (!e) {
    expect(fault(() => (o.write ? v.write32(ipa, o.val) : v.read32(ipa))).kind).toBe("translation");
  } else if (o.write && e.ro) {
    expect(fault(() => v.write32(ipa, o.val)).kind).toBe("permission");
  } else if (o.write) {
    v.write32(ipa, o.val);
    expect(m.mem.read32(host)).toBe(o.val >>> 0);
  } else {
    expect(v.read32(ipa)).toBe(m.mem.read32(host));
  }
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
      rwOp(70),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 60, size: "max" }), (ops) => {
        const { m, p, v } = setup(3); // tiny TLB: lots of conflict misses
        stamp(m, 0x40100, 263);
        const model = new Map<number, { h: number; ro: boolean }>();
        for (const o of ops) {
          if (o.k === "map") {
            p.insertMapping(0x50000 + o.g, o.n, 0x40100 + o.h, o.ro ? p2m_ram_ro : p2m_ram_rw);
            for (let i = 0; i < o.n; i++) model.set(o.g + i, { h: o.h + i, ro: o.ro });
          } else if (o.k === "unmap") {
            p.removeMapping(0x50000 + o.g, o.n);
            for (let i = 0; i < o.n; i++) model.delete(o.g + i);
          } else {
            const e = model.get(o.g);
            const host = e ? (0x40100 + e.h) * 4096 + o.off * 4 : 0;
            expectAccess(m, v, e, (0x50000 + o.g) * 4096 + o.off * 4, host, o);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** A host whose RAM spans two 1 GiB windows (two host buffers), with a 48-bit IPA p2m. */
function twoChunks(tlbBits: number) {
  const m = new Machine([
    { base: 0x4000_0000, size: 0x100_0000 },
    { base: 0x8000_0000, size: 0x100_0000 },
  ]);
  const p = new P2m(m, 1, 1, { ipaBits: 48 });
  const v = new Vcpu(m.mem, p.handle(), { tlbBits });
  return { m, p, v };
}

describe("vCPU tags: host chunks and IPA sizes", () => {
  it("pages in two host buffers alternate correctly, even in the same TLB slot", () => {
    const { m, p, v } = twoChunks(0); // one slot: every page evicts the other
    p.insertMapping(0x50000, 1, 0x40100, p2m_ram_rw); // window 1
    p.insertMapping(0x50001, 1, 0x80100, p2m_ram_rw); // window 2
    m.mem.write32(0x4010_0010, 0x1111);
    m.mem.write32(0x8010_0010, 0x2222);
    for (let k = 0; k < 4; k++) {
      expect(v.read32(0x5000_0010)).toBe(0x1111);
      expect(v.read32(0x5000_1010)).toBe(0x2222);
    }
    // With a larger TLB both pages stay cached; the hit path must still tell the buffers apart.
    const w = new Vcpu(m.mem, p.handle(), { tlbBits: 4 });
    for (let k = 0; k < 4; k++) {
      w.write32(0x5000_0020 + 4 * k, 100 + k);
      w.write32(0x5000_1020 + 4 * k, 200 + k);
      expect(w.read8(0x5000_0020 + 4 * k)).toBe(100 + k);
      expect(w.read8(0x5000_1020 + 4 * k)).toBe(200 + k);
    }
    expect(m.mem.read32(0x4010_002c)).toBe(103);
    expect(m.mem.read32(0x8010_002c)).toBe(203);
  });

  it("IPAs above 2^43 (48-bit guests) are cached and translated exactly", () => {
    const { m, p, v } = twoChunks(4);
    const top = 2 ** 48 - 4096; // the last page of a 48-bit IPA space
    const gfn = top / 4096;
    p.insertMapping(gfn, 1, 0x80200, p2m_ram_rw);
    // Same TLB slot and same low 32 address bits as `top`, 2^44 lower: must not alias.
    p.insertMapping(gfn - 2 ** 32, 1, 0x40200, p2m_ram_rw);
    v.write32(top + 8, 0xabcd);
    v.write32(top - 2 ** 44 + 8, 0x1234);
    expect(v.read32(top + 8)).toBe(0xabcd);
    expect(v.read32(top - 2 ** 44 + 8)).toBe(0x1234);
    expect(m.mem.read32(0x8020_0008)).toBe(0xabcd);
    expect(m.mem.read32(0x4020_0008)).toBe(0x1234);
    expect(v.translate(top + 0xfff)).toBe(0x8020_0fff);
    // Both pages use slot 15 of 16: every switch between them is a refill, never an alias.
    expect(v.stats.misses).toBe(5);
    p.removeMapping(gfn, 1);
    v.sync();
    expect(fault(() => v.read32(top + 8))).toMatchObject({ kind: "translation", level: 3 });
  });

  it("an empty TLB never hits: IPA 0 and the last 48-bit page fault before anything was cached", () => {
    const { v } = twoChunks(0);
    expect(fault(() => v.read32(0)).kind).toBe("translation");
    expect(fault(() => v.read32(2 ** 48 - 4)).kind).toBe("translation");
    expect(fault(() => v.read8(2 ** 48 - 1)).kind).toBe("translation");
  });

  it("a page cached by a byte access is read correctly by the first word access", () => {
    // read8's slow path fills the TLB without choosing the hit path's buffer: the word hit that
    // follows must not read through a buffer that was never chosen.
    const { m, p, v } = twoChunks(4);
    p.insertMapping(0x50000, 1, 0x40100, p2m_ram_rw);
    m.mem.write32(0x4010_0040, 0xfeedf00d);
    expect(v.read8(0x5000_0040)).toBe(0x0d);
    expect(v.read32(0x5000_0040)).toBe(0xfeedf00d);
    expect(v.fetch32(0x5000_0040)).toBe(0xfeedf00d);
  });

  it("misaligned accesses never take the fast path's word view", () => {
    const { m, p, v } = twoChunks(4);
    p.insertMapping(0x50000, 2, 0x80100, p2m_ram_rw);
    for (let i = 0; i < 8; i++) m.mem.write8(0x8010_0ff8 + i, i + 1);
    expect(v.read32(0x5000_0ff8)).toBe(0x04030201); // cached now
    expect(v.read32(0x5000_0ff9)).toBe(0x05040302);
    expect(v.read32(0x5000_0ffe)).toBe(0x00000807 | (m.mem.read16(0x8010_1000) << 16));
    expect(v.read16(0x5000_0ffb)).toBe(0x0504);
  });

  it("agrees with a reference model across two host buffers and high IPAs", () => {
    // Guest pages: 8 low ones and 8 just below 2^48 (few pages, so accesses revisit cached ones);
    // host frames in either window.
    const gfnOf = (g: number) => (g < 8 ? 0x50000 + g : 2 ** 36 - 16 + g);
    const mfnOf = (h: number) => (h < 16 ? 0x40100 + h : 0x80100 + h - 16);
    const op = fc.oneof(
      fc.record({
        k: fc.constant("map" as const),
        g: fc.integer({ min: 0, max: 15 }),
        h: fc.integer({ min: 0, max: 31 }),
        ro: fc.boolean(),
      }),
      fc.record({ k: fc.constant("unmap" as const), g: fc.integer({ min: 0, max: 15 }) }),
      rwOp(15),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.array(op, { minLength: 10, maxLength: 60, size: "max" }),
        (bits, ops) => {
          const { m, p, v } = twoChunks(bits);
          stamp(m, 0x40100, 16);
          stamp(m, 0x80100, 16);
          const model = new Map<number, { h: number; ro: boolean }>();
          for (const o of ops) {
            if (o.k === "map") {
              p.insertMapping(gfnOf(o.g), 1, mfnOf(o.h), o.ro ? p2m_ram_ro : p2m_ram_rw);
              model.set(o.g, { h: o.h, ro: o.ro });
            } else if (o.k === "unmap") {
              p.removeMapping(gfnOf(o.g), 1);
              model.delete(o.g);
            } else {
              const e = model.get(o.g);
              const host = e ? mfnOf(e.h) * 4096 + o.off * 4 : 0;
              expectAccess(m, v, e, gfnOf(o.g) * 4096 + o.off * 4, host, o);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
