/**
 * A gfn beyond the IPA size (issue 11 §1): p2m_get_root_pointer only checks the root page index,
 * so Xen's __p2m_set_entry accepts what lands in an existing root page and refuses the rest with
 * -EINVAL; the hardware walk (T0SZ = 64 - IPA bits) faults at level 0 for every IPA at or above
 * 2^IPA bits. p2mRootSlot is the model of both; the P2m and the walker must agree with it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  P2m,
  p2m_map_foreign_rw,
  p2mConfigForIpaBits,
  p2mRootSlot,
  walkStage2,
} from "../../src/p2m/index.js";
import { Machine } from "../../src/pagealloc/index.js";

const IPA_SIZES = [32, 36, 40, 42, 44, 48] as const;

function setup(ipaBits: number) {
  const m = new Machine([{ base: 0x8000_0000, size: 0x100_0000 }]);
  return { m, p: new P2m(m, 1, 1, { ipaBits }) };
}

describe("p2mRootSlot: Xen's root lookup against the IPA size", () => {
  it("44 bits (A57): 2^44 is accepted in L0 entry 32 of the one root page, but unreachable", () => {
    const cfg = p2mConfigForIpaBits(44);
    expect(p2mRootSlot(cfg, 0xfff_0000_0000 / 4096)).toEqual({
      rootTable: 0,
      index: 31,
      accepted: true,
      reachable: true,
    });
    expect(p2mRootSlot(cfg, 0x1000_0000_0000 / 4096)).toEqual({
      rootTable: 0,
      index: 32,
      accepted: true,
      reachable: false,
    });
    // Only 2^48 leaves the root page.
    expect(p2mRootSlot(cfg, 2 ** 36 - 1).accepted).toBe(true);
    expect(p2mRootSlot(cfg, 2 ** 36)).toMatchObject({ rootTable: 1, accepted: false });
  });

  it("40 bits (A53): two concatenated L1 pages cover exactly 2^40; 1 TiB needs root table 2", () => {
    const cfg = p2mConfigForIpaBits(40);
    expect(p2mRootSlot(cfg, 0xff_0000_0000 / 4096)).toEqual({
      rootTable: 1,
      index: 508,
      accepted: true,
      reachable: true,
    });
    expect(p2mRootSlot(cfg, 0x100_0000_0000 / 4096)).toEqual({
      rootTable: 2,
      index: 0,
      accepted: false,
      reachable: false,
    });
  });

  it("36 and 32 bits: one L1 page accepts everything below 2^39", () => {
    for (const bits of [32, 36]) {
      const cfg = p2mConfigForIpaBits(bits);
      expect(p2mRootSlot(cfg, 2 ** bits / 4096)).toMatchObject({ accepted: true, reachable: false });
      expect(p2mRootSlot(cfg, 2 ** 39 / 4096 - 1)).toMatchObject({ accepted: true, reachable: false });
      expect(p2mRootSlot(cfg, 2 ** 39 / 4096)).toMatchObject({ accepted: false });
    }
  });

  it("a 44-bit P2m writes the 2^44 mapping into L0 entry 32 and the walk faults at level 0", () => {
    const { m, p } = setup(44);
    const gfn = 0x1000_0000_0000 / 4096;
    expect(p.insertMapping(gfn, 16, 0x80010, p2m_map_foreign_rw)).toBe(0);
    // The entry Xen wrote: a table descriptor in root entry 32.
    const root = p.rootPaddr;
    expect(m.mem.read32(root + 32 * 8) & 3).toBe(3);
    expect(p.lookup(gfn)).toMatchObject({ mfn: 0x80010, type: p2m_map_foreign_rw, level: 3 });
    const regs = { vtcr: p.cfg.vtcr, vttbr: p.vttbr };
    expect(walkStage2(m.mem, regs, gfn * 4096, "read", { parange: 44 })).toMatchObject({
      ok: false,
      fault: "translation",
      level: 0,
      fsc: 0x04,
    });
    // Just below 2^44 the same table bytes translate.
    expect(p.insertMapping(0xfff_0000_0000 / 4096, 1, 0x80020, p2m_map_foreign_rw)).toBe(0);
    expect(walkStage2(m.mem, regs, 0xfff_0000_0123, "read", { parange: 44 })).toMatchObject({
      ok: true,
      pa: 0x8002_0123,
    });
    expect(p.lastRootReject).toBe(-1);
  });

  it("property: setEntry succeeds exactly when p2mRootSlot accepts; the walk reaches exactly the reachable gfns", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...IPA_SIZES),
        // gfns up to 2^40 (IPA 2^52): every root-table case of every IPA size.
        fc.oneof(
          fc.integer({ min: 0, max: 2 ** 40 - 1 }),
          fc.constantFrom(...IPA_SIZES.flatMap((b) => [2 ** (b - 12) - 1, 2 ** (b - 12), 2 ** 27, 2 ** 36])),
        ),
        (bits, gfn) => {
          const { m, p } = setup(bits);
          const slot = p2mRootSlot(p.cfg, gfn);
          const rc = p.insertMapping(gfn, 1, 0x80001, p2m_map_foreign_rw);
          expect(rc).toBe(slot.accepted ? 0 : -22);
          expect(p.lastRootReject).toBe(slot.accepted ? -1 : gfn);
          if (!slot.accepted) return;
          const w = walkStage2(m.mem, { vtcr: p.cfg.vtcr, vttbr: p.vttbr }, gfn * 4096 + 8, "read", {
            parange: bits,
          });
          if (slot.reachable) expect(w).toMatchObject({ ok: true, pa: 0x8000_1008 });
          else expect(w).toMatchObject({ ok: false, fault: "translation", level: 0 });
        },
      ),
      { numRuns: 150 },
    );
  });
});
