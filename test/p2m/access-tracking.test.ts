/**
 * Xen's access tracking through hardware-invalid entries (reference X-10..X-12, X-25): after
 * p2m_invalidate_root, a guest's first access faults once per level and Xen resolves each fault;
 * resolving a table entry invalidates the table below and costs one VMID flush at unlock.
 */
import { describe, expect, it } from "vitest";
import { isStage2Fault, P2m, p2m_ram_rw, Vcpu } from "../../src/p2m/index.js";
import { Machine } from "../../src/pagealloc/index.js";

function setup(ipaBits: number) {
  const m = new Machine([{ base: 0x8000_0000, size: 0x400_0000 }]);
  const p = new P2m(m, 1, 1, { ipaBits });
  return { m, p };
}

function firstTouch(p: P2m, m: Machine, ipa: number) {
  p.invalidateRoot();
  const flushes0 = p.stats.flushes;
  const v = new Vcpu(m.mem, p.handle(), { resolveTranslationFault: (g) => p.resolveTranslationFault(g) });
  const value = v.read32(ipa);
  return { value, faults: v.stats.resolved, flushes: p.stats.flushes - flushes0, v };
}

describe("p2m access tracking (X-10..X-12)", () => {
  it("p2m_invalidate_root clears the valid bits of the root entries, keeps them valid to Xen, and flushes once", () => {
    const { p } = setup(40);
    p.insertMapping(0x40000, 3, 0x80005, p2m_ram_rw);
    const before = p.stats.flushes;
    p.invalidateRoot();
    expect(p.stats.flushes - before).toBe(1);
    // Software lookups ignore the hardware valid bit.
    expect(p.lookup(0x40001)).toMatchObject({ mfn: 0x80006, type: p2m_ram_rw });
  });

  it("X-10: 40-bit IPA, 4 KiB mappings: 3 faults (L1, L2, L3), 2 flushes, then the access succeeds", () => {
    const { m, p } = setup(40);
    p.insertMapping(0x40000, 3, 0x80005, p2m_ram_rw);
    m.mem.write32(0x8000_6234, 0x5a5a);
    expect(firstTouch(p, m, 0x4000_1234)).toMatchObject({ value: 0x5a5a, faults: 3, flushes: 2 });
  });

  it("X-11: 48-bit IPA (L0 root): 4 faults, 3 flushes", () => {
    const { m, p } = setup(48);
    p.insertMapping(0x40000, 3, 0x80005, p2m_ram_rw);
    expect(firstTouch(p, m, 0x4000_1234)).toMatchObject({ faults: 4, flushes: 3 });
  });

  it("X-12: inside a 2 MiB block: 2 faults (L1, L2), 1 flush", () => {
    const { m, p } = setup(40);
    p.insertMapping(0x40000, 0x200, 0x80200, p2m_ram_rw);
    expect(firstTouch(p, m, 0x4000_1234)).toMatchObject({ faults: 2, flushes: 1 });
  });

  it("X-25: a fault on an entry already valid (a racing update) counts as resolved; an unmapped gfn is not", () => {
    const { p } = setup(40);
    p.insertMapping(0x40000, 1, 0x80005, p2m_ram_rw);
    expect(p.resolveTranslationFault(0x40000)).toBe(true); // never invalidated: valid
    expect(p.resolveTranslationFault(0x40001)).toBe(false); // valid to nobody
    expect(p.resolveTranslationFault(0x90000)).toBe(false); // above max_mapped_gfn
  });

  it("without a resolver the first access after invalidation is a translation fault the guest sees", () => {
    const { m, p } = setup(40);
    p.insertMapping(0x40000, 1, 0x80005, p2m_ram_rw);
    p.invalidateRoot();
    const v = new Vcpu(m.mem, p.handle());
    let err: unknown;
    try {
      v.read32(0x4000_0000);
    } catch (e) {
      err = e;
    }
    expect(isStage2Fault(err) && err.kind === "translation" && err.level === 1).toBe(true);
  });
});
