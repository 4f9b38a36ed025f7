import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  descAf,
  descLoWithValid,
  descS2ap,
  LEVEL_SIZE,
  levelIndex,
  p2mEntryHi,
  p2mEntryLo,
  tableEntryHi,
  tableEntryLo,
} from "../../src/p2m/descriptor.js";
import { packedFaultKind, packedFaultLevel } from "../../src/p2m/fault.js";
import {
  type P2mAccess,
  type P2mType,
  p2m_access_n,
  p2m_access_rwx,
  p2m_map_foreign_rw,
  p2m_mmio_direct_dev,
  p2m_ram_ro,
  p2m_ram_rw,
} from "../../src/p2m/types.js";
import {
  type DecodedVtcr,
  decodeVtcr,
  generateVttbr,
  generateVttbrBig,
  p2mConfigForIpaBits,
} from "../../src/p2m/vtcr.js";
import {
  ACCESS_EL0,
  ACCESS_EXEC,
  ACCESS_READ,
  ACCESS_WRITE,
  type AccessType,
  type PhysReader,
  PhysTableMemory,
  WALK_IO_SIZE,
  WALK_IPA,
  walkConfig,
  walkStage2,
  walkStage2Raw,
} from "../../src/p2m/walker.js";

/** Sparse host memory of 32-bit little-endian words; unwritten words read 0. */
class SparseMem {
  readonly words = new Map<number, number>();
  reads = 0;
  read32(pa: number): number {
    this.reads++;
    return this.words.get(pa) ?? 0;
  }
  write32(pa: number, v: number): void {
    this.words.set(pa, v >>> 0);
  }
  writeDesc(pa: number, lo: number, hi: number): void {
    this.write32(pa, lo);
    this.write32(pa + 4, hi);
  }
  readDesc(pa: number): { lo: number; hi: number } {
    return { lo: this.read32(pa), hi: this.read32(pa + 4) };
  }
}

/** A p2m built the way Xen builds one, on top of SparseMem, for a Xen IPA-size row. */
class TestP2m {
  readonly mem = new SparseMem();
  readonly cfg;
  readonly root: number;
  private next: number;
  constructor(ipaBits: number, root = 0x80_0000_0000 / 2 ** (48 - ipaBits) /* above 2^32 where it fits */) {
    this.cfg = p2mConfigForIpaBits(ipaBits);
    this.root = root;
    this.next = root + 2 ** this.cfg.rootOrder * 4096;
  }
  get regs() {
    return { vtcr: this.cfg.vtcr, vttbr: generateVttbr(this.root, 1) };
  }
  /** Address of the entry for `ipa` at `level`, creating tables on the way. */
  entryPa(ipa: number, level: number): number {
    let l = this.cfg.rootLevel;
    const rootEntries = 2 ** (this.cfg.ipaBits - 12 - 9 * (3 - l));
    let table = this.root;
    let index = Math.floor(ipa / (LEVEL_SIZE[l] as number)) % rootEntries;
    while (l < level) {
      const pa = table + index * 8;
      let { lo, hi } = this.mem.readDesc(pa);
      if ((lo & 3) !== 3) {
        const page = this.next;
        this.next += 4096;
        lo = tableEntryLo(page / 4096);
        hi = tableEntryHi(page / 4096);
        this.mem.writeDesc(pa, lo, hi);
      }
      table = (hi & 0xffff) * 2 ** 32 + ((lo & 0xfffff000) >>> 0);
      l++;
      index = levelIndex(ipa, l);
    }
    return table + index * 8;
  }
  map(
    ipa: number,
    pa: number,
    level: number,
    t: P2mType = p2m_ram_rw,
    a: P2mAccess = p2m_access_rwx,
  ): number {
    const mfn = pa / 4096;
    const at = this.entryPa(ipa, level);
    this.mem.writeDesc(at, p2mEntryLo(mfn, t, a, level), p2mEntryHi(mfn, t, a));
    return at;
  }
  set(ipa: number, level: number, lo: number, hi: number): number {
    const at = this.entryPa(ipa, level);
    this.mem.writeDesc(at, lo, hi);
    return at;
  }
  walk(ipa: number, access: AccessType = "read", opts = {}) {
    return walkStage2(this.mem, this.regs, ipa, access, opts);
  }
}

const fault = (kind: string, level: number, fsc: number) => ({ ok: false, fault: kind, level, fsc });

describe("successful walks", () => {
  it("4K page, 2M block and 1G block in a 40-bit p2m (root at L1, 2 pages)", () => {
    const p = new TestP2m(40);
    p.map(0x4000_1000, 0x8000_5000, 3, p2m_map_foreign_rw);
    p.map(0x4020_0000, 0x8020_0000, 2);
    p.map(0x8000_0000, 0x1_0000_0000, 1, p2m_mmio_direct_dev);
    expect(p.walk(0x4000_1234)).toEqual({
      ok: true,
      pa: 0x8000_5234,
      level: 3,
      memAttr: 0xf,
      sh: 3,
      s2ap: 3,
      xn: 2,
      swType: p2m_map_foreign_rw,
    });
    expect(p.walk(0x403f_fffc, "write")).toMatchObject({
      ok: true,
      pa: 0x803f_fffc,
      level: 2,
      xn: 0,
      swType: 1,
    });
    expect(p.walk(0xbfff_fff0, "write")).toMatchObject({
      ok: true,
      pa: 0x1_3fff_fff0,
      level: 1,
      memAttr: 1,
      sh: 2,
    });
  });

  it("IPA bit 39 selects the second concatenated root page", () => {
    const p = new TestP2m(40);
    const ipa = 0x80_4000_0000; // bit 39 set, IPA[38:30] = 1
    p.map(0x00_4000_0000, 0x4000_0000, 1); // the same index in the first page
    const at = p.map(ipa, 0x8000_0000, 1);
    expect(at).toBe(p.root + 4096 + 8);
    expect(p.walk(ipa + 0x123)).toMatchObject({ ok: true, pa: 0x8000_0123, level: 1 });
    expect(p.walk(0x4000_0123)).toMatchObject({ ok: true, pa: 0x4000_0123, level: 1 });
    expect(p.walk(2 ** 40 - 1)).toMatchObject(fault("translation", 1, 0x05));
  });

  it("42-bit p2m uses 8 concatenated root pages; 48-bit starts at L0", () => {
    const p42 = new TestP2m(42);
    const ipa = 2 ** 42 - 4096;
    expect(p42.map(ipa, 0x5000, 3)).toBeGreaterThan(0);
    expect(p42.walk(ipa + 8)).toMatchObject({ ok: true, pa: 0x5008, level: 3 });
    // root index 4095 sits in the last (8th) root page
    expect(p42.mem.readDesc(p42.root + 7 * 4096 + 511 * 8).lo & 3).toBe(3);

    const p48 = new TestP2m(48, 0x1234_5678_9000);
    const ipa48 = 0xfedc_ba98_7000;
    p48.map(ipa48, 0xabc_def0_1000, 3);
    const before = p48.mem.reads;
    expect(p48.walk(ipa48 + 0xfff)).toMatchObject({ ok: true, pa: 0xabc_def0_1fff, level: 3 });
    expect(p48.mem.reads - before).toBe(8); // four levels, two words each
  });

  it("32-bit p2m: L1 root with 4 entries; 2^32 and beyond is a level 0 translation fault", () => {
    const p = new TestP2m(32, 0x4000_0000);
    p.map(0xc000_0000, 0x4000_0000, 1);
    expect(p.walk(0xffff_ffff)).toMatchObject({ ok: true, pa: 0x7fff_ffff, level: 1 });
    expect(p.walk(2 ** 32)).toMatchObject(fault("translation", 0, 0x04));
  });

  it("masks the RES0 output-address bits inside a block (as QEMU does)", () => {
    const p = new TestP2m(40);
    p.map(0x4000_0000, 0x8000_0000 + 0x2000_0000, 1); // 1G block with OA[29:12] non-zero
    p.map(0x8020_0000, 0x8020_0000 + 0x1_f000, 2); // 2M block with OA[20:12] non-zero
    expect(p.walk(0x4000_0123)).toMatchObject({ ok: true, pa: 0x8000_0123 });
    expect(p.walk(0x8020_0123)).toMatchObject({ ok: true, pa: 0x8020_0123 });
  });

  it("ignores software bits, PBHA, table attribute bits, contiguous and misaligned/CnP VTTBR low bits", () => {
    const p = new TestP2m(40);
    const leafPa = p.map(0x4000_1000, 0x8000_5000, 3, p2m_ram_rw);
    // Set every ignored/hint bit in the leaf: SW 58:55 = 0xF, PBHA 62:59, bit 63, contiguous.
    const { lo, hi } = p.mem.readDesc(leafPa);
    p.mem.writeDesc(leafPa, lo, ((hi | 0xff900000) >>> 0) & (~(1 << 22) >>> 0));
    // Set bits 63:59 (stage-1 APTable/XNTable/NSTable positions) on the L1 table entry.
    const l1 = p.root + 8;
    const t = p.mem.readDesc(l1);
    p.mem.writeDesc(l1, t.lo, (t.hi | 0xf8000000) >>> 0);
    const r = p.walk(0x4000_1234, "write");
    expect(r).toMatchObject({ ok: true, pa: 0x8000_5234, level: 3, swType: 0xf, xn: 0 });
    expect(p.walk(0x4000_1234, "exec")).toMatchObject({ ok: true });
    // A root address with RES0 low bits (below the 8 KiB root alignment) and CnP set.
    const regs = { vtcr: p.cfg.vtcr, vttbr: BigInt(p.root + 0x1ff1) | (7n << 48n) };
    expect(walkStage2(p.mem, regs, 0x4000_1234, "read")).toMatchObject({ ok: true, pa: 0x8000_5234 });
  });

  it("accepts vttbr as number, bigint or words with a 16-bit VMID", () => {
    const p = new TestP2m(40, 0x8000_0000);
    p.map(0x1000, 0x9000, 3);
    const vtcr = p2mConfigForIpaBits(40, { vmid16: true }).vtcr;
    for (const vttbr of [
      0x8000_0000,
      generateVttbrBig(0x8000_0000, 0xfedc),
      generateVttbr(0x8000_0000, 0xfedc),
    ]) {
      expect(walkStage2(p.mem, { vtcr, vttbr }, 0x1004, "read")).toMatchObject({ ok: true, pa: 0x9004 });
    }
  });
});

describe("faults per kind and level, in priority order", () => {
  it("configuration and IPA range: translation L0", () => {
    const p = new TestP2m(40);
    p.map(0, 0x1000, 3);
    expect(p.walk(0)).toMatchObject({ ok: true });
    expect(p.walk(2 ** 40)).toEqual({
      ...fault("translation", 0, 0x04),
      ipa: 2 ** 40,
      hpfar: 2 ** 32, // IPA[47:12] << 4
      esrIss: { dfsc: 0x04, wnr: 0 },
    });
    const bad = (vtcr: number, parange?: number) =>
      walkStage2(
        p.mem,
        { vtcr, vttbr: generateVttbr(p.root, 1) },
        0,
        "read",
        parange === undefined ? {} : { parange },
      );
    expect(bad(0x80023518)).toMatchObject(fault("translation", 0, 0x04)); // SL0=0 with 40-bit IPA
    expect(bad(0x800235d8)).toMatchObject(fault("translation", 0, 0x04)); // SL0=3
    expect(bad(0x80023568)).toMatchObject(fault("translation", 0, 0x04)); // T0SZ=40
    expect(bad(0x80027558)).toMatchObject(fault("translation", 0, 0x04)); // TG0=64K
    expect(bad(0x80053590, 40)).toMatchObject(fault("translation", 0, 0x04)); // L0 start, PAMax < 44
  });

  it("root base beyond the OA size: address size L0 (after the IPA checks)", () => {
    const p = new TestP2m(40);
    const regs = { vtcr: p.cfg.vtcr, vttbr: generateVttbr(2 ** 40, 1) };
    expect(walkStage2(p.mem, regs, 0x1000, "read")).toMatchObject(fault("address-size", 0, 0x00));
    expect(walkStage2(p.mem, regs, 2 ** 40, "read")).toMatchObject(fault("translation", 0, 0x04));
    // With a 48-bit PS the same base is in range: the walk reaches the (empty) L0 root entry.
    const wide = { vtcr: 0x80053590, vttbr: generateVttbr(2 ** 40, 1) };
    const before = p.mem.reads;
    expect(walkStage2(p.mem, wide, 0x1000, "read")).toMatchObject(fault("translation", 0, 0x04));
    expect(p.mem.reads - before).toBe(2);
  });

  it("invalid entries: translation at L1, L2, L3 (40-bit) and L0 (48-bit)", () => {
    const p = new TestP2m(40);
    expect(p.walk(0x4000_0000)).toMatchObject(fault("translation", 1, 0x05));
    p.map(0x4000_0000, 0x1000, 3);
    expect(p.walk(0x4020_0000)).toMatchObject(fault("translation", 2, 0x06));
    expect(p.walk(0x4000_1000)).toMatchObject(fault("translation", 3, 0x07));
    // Xen's hardware-invalid but typed entries are still invalid to the hardware.
    const at = p.entryPa(0x4000_0000, 3);
    const d = p.mem.readDesc(at);
    p.mem.writeDesc(at, descLoWithValid(d.lo, false), d.hi);
    expect(p.walk(0x4000_0000, "write")).toMatchObject({
      ...fault("translation", 3, 0x07),
      esrIss: { dfsc: 7, wnr: 1 },
    });
    const p48 = new TestP2m(48);
    expect(p48.walk(0x1234_5678_9000)).toMatchObject(fault("translation", 0, 0x04));
  });

  it("reserved encodings: a block at L0 and 01 at L3 are translation faults at that level", () => {
    const p48 = new TestP2m(48);
    p48.set(0x80_0000_0000, 0, 0x7fd, 0x0080_0000); // would be a 512 GiB block
    expect(p48.walk(0x80_0000_1000)).toMatchObject(fault("translation", 0, 0x04));
    const p = new TestP2m(40);
    p.set(0x4000_1000, 3, 0x8000_57fd, 0x0080_0000);
    expect(p.walk(0x4000_1000)).toMatchObject(fault("translation", 3, 0x07));
    // Reserved beats address size: OA out of range in the same reserved descriptor.
    p.set(0x4000_2000, 3, 0x8000_57fd, 0x0080_ffff);
    expect(p.walk(0x4000_2000)).toMatchObject(fault("translation", 3, 0x07));
  });

  it("address size at each level where an address exceeds PS", () => {
    const p = new TestP2m(40);
    // with PS=40 any MFN >= 2^28 is out of range.
    p.map(0x4000_1000, 2 ** 40, 3);
    expect(p.walk(0x4000_1000)).toMatchObject(fault("address-size", 3, 0x03));
    p.map(0x4000_1000, 2 ** 40 - 4096, 3);
    expect(p.walk(0x4000_1000)).toMatchObject({ ok: true, pa: 2 ** 40 - 4096 });
    p.map(0x4020_0000, 0x100_0020_0000, 2);
    expect(p.walk(0x4020_0000)).toMatchObject(fault("address-size", 2, 0x02));
    p.map(0xc000_0000, 0x100_4000_0000, 1);
    expect(p.walk(0xc000_0000)).toMatchObject(fault("address-size", 1, 0x01));
    // A table descriptor pointing beyond the OA size faults at the table's level.
    p.set(0x1_0000_0000, 1, tableEntryLo(2 ** 28), tableEntryHi(2 ** 28));
    expect(p.walk(0x1_0000_0000)).toMatchObject(fault("address-size", 1, 0x01));
    // L0 in a 44-bit p2m.
    const p44 = new TestP2m(44);
    p44.set(0, 0, tableEntryLo(2 ** 32), tableEntryHi(2 ** 32));
    expect(p44.walk(0x1000)).toMatchObject(fault("address-size", 0, 0x00));
    // Address size beats the access flag.
    p.set(0x4000_3000, 3, 0x0000_33ff, 0x0080_0100); // AF=0, OA >= 2^40
    expect(p.walk(0x4000_3000)).toMatchObject(fault("address-size", 3, 0x03));
  });

  it("access flag at L1, L2, L3, before permission checks", () => {
    const p = new TestP2m(40);
    const noAf = (ipa: number, level: number, a: P2mAccess = p2m_access_rwx) => {
      const at = p.map(ipa, 0x4000_0000, level, p2m_ram_rw, a);
      const d = p.mem.readDesc(at);
      p.mem.writeDesc(at, d.lo & ~0x400, d.hi);
    };
    noAf(0x4000_0000, 1);
    noAf(0x8020_0000, 2);
    noAf(0xc000_1000, 3, p2m_access_n); // S2AP=00 and XN too: AF still wins
    expect(p.walk(0x4000_0000)).toMatchObject(fault("access-flag", 1, 0x09));
    expect(p.walk(0x8020_0000)).toMatchObject(fault("access-flag", 2, 0x0a));
    expect(p.walk(0xc000_1000, "write")).toMatchObject(fault("access-flag", 3, 0x0b));
    expect(p.walk(0xc000_1000, "exec")).toMatchObject(fault("access-flag", 3, 0x0b));
  });

  it("permission: S2AP against read/write, XN against exec, at L1, L2, L3", () => {
    const p = new TestP2m(40);
    p.map(0x4000_1000, 0x8000_5000, 3, p2m_ram_ro);
    p.map(0x4020_0000, 0x8020_0000, 2, p2m_map_foreign_rw);
    p.map(0x8000_0000, 0x8000_0000, 1, p2m_ram_rw, p2m_access_n);
    expect(p.walk(0x4000_1000, "read")).toMatchObject({ ok: true, s2ap: 1 });
    expect(p.walk(0x4000_1000, "exec")).toMatchObject({ ok: true });
    expect(p.walk(0x4000_1000, "write")).toMatchObject({
      ...fault("permission", 3, 0x0f),
      esrIss: { wnr: 1 },
    });
    expect(p.walk(0x4020_0000, "write")).toMatchObject({ ok: true });
    expect(p.walk(0x4020_0000, "exec")).toMatchObject(fault("permission", 2, 0x0e));
    expect(p.walk(0x8000_0000, "read")).toMatchObject(fault("permission", 1, 0x0d));
    expect(p.walk(0x8000_0000, "write")).toMatchObject(fault("permission", 1, 0x0d));
    expect(p.walk(0x8000_0000, "exec")).toMatchObject(fault("permission", 1, 0x0d));
  });

  it("write-only and execute-only S2AP/XN combinations", () => {
    const p = new TestP2m(40);
    p.map(0x1000, 0x1000, 3, p2m_ram_rw, 2 /* w: read cleared, XN */);
    p.map(0x2000, 0x2000, 3, p2m_ram_rw, 4 /* x: read and write cleared */);
    expect(p.walk(0x1000, "write")).toMatchObject({ ok: true, s2ap: 2 });
    expect(p.walk(0x1000, "read")).toMatchObject(fault("permission", 3, 0x0f));
    // AArch64 EL2: execution needs no read permission at stage 2.
    expect(p.walk(0x2000, "exec")).toMatchObject({ ok: true, s2ap: 0 });
    expect(p.walk(0x2000, "read")).toMatchObject(fault("permission", 3, 0x0f));
  });
});

describe("hardware features", () => {
  const clearAf = (p: TestP2m, at: number) => {
    const d = p.mem.readDesc(at);
    p.mem.writeDesc(at, d.lo & ~0x400, d.hi);
  };

  it("HA sets AF in memory instead of faulting (opts.ha or VTCR.HA)", () => {
    const p = new TestP2m(40);
    const at = p.map(0x4000_1000, 0x8000_5000, 3);
    clearAf(p, at);
    expect(p.walk(0x4000_1000)).toMatchObject(fault("access-flag", 3, 0x0b));
    expect(p.walk(0x4000_1000, "read", { ha: true })).toMatchObject({ ok: true, pa: 0x8000_5000 });
    expect(descAf(p.mem.readDesc(at).lo)).toBe(true);
    clearAf(p, at);
    const regs = { vtcr: (p.cfg.vtcr | (1 << 21)) >>> 0, vttbr: generateVttbr(p.root, 1) };
    expect(walkStage2(p.mem, regs, 0x4000_1000, "read")).toMatchObject({ ok: true });
    expect(descAf(p.mem.readDesc(at).lo)).toBe(true);
    clearAf(p, at);
    expect(walkStage2(p.mem, regs, 0x4000_1000, "read", { ha: false })).toMatchObject(
      fault("access-flag", 3, 0x0b),
    );
  });

  it("HA does not update AF when the access then takes a permission fault", () => {
    const p = new TestP2m(40);
    const at = p.map(0x4000_1000, 0x8000_5000, 3, p2m_ram_ro);
    clearAf(p, at);
    expect(p.walk(0x4000_1000, "write", { ha: true })).toMatchObject(fault("permission", 3, 0x0f));
    expect(descAf(p.mem.readDesc(at).lo)).toBe(false);
  });

  it("HA/HD need a writable memory", () => {
    const p = new TestP2m(40);
    p.map(0x1000, 0x1000, 3);
    const ro = { read32: (pa: number) => p.mem.read32(pa) };
    expect(() => walkStage2(ro, p.regs, 0x1000, "read", { ha: true })).toThrow(TypeError);
    expect(walkStage2(ro, p.regs, 0x1000, "read")).toMatchObject({ ok: true });
  });

  it("HD with DBM makes a read-only page writable on write", () => {
    const p = new TestP2m(40);
    const at = p.map(0x4000_1000, 0x8000_5000, 3, p2m_ram_ro);
    const d = p.mem.readDesc(at);
    p.mem.writeDesc(at, d.lo, (d.hi | (1 << 19)) >>> 0);
    expect(p.walk(0x4000_1000, "write")).toMatchObject(fault("permission", 3, 0x0f));
    expect(p.walk(0x4000_1000, "write", { hd: true })).toMatchObject({ ok: true, s2ap: 3 });
    expect(descS2ap(p.mem.readDesc(at).lo)).toBe(3);
  });

  it("FEAT_XNX: XN[1:0] per exception level; without XNX only bit 54 counts", () => {
    const p = new TestP2m(40);
    const xnPage = (ipa: number, xn: number) => {
      const at = p.map(ipa, ipa, 3, p2m_ram_rw);
      const d = p.mem.readDesc(at);
      p.mem.writeDesc(at, d.lo, ((d.hi & ~(3 << 21)) | (xn << 21)) >>> 0);
    };
    xnPage(0x1000, 0);
    xnPage(0x2000, 1); // PXN: EL0 only
    xnPage(0x3000, 2); // XN
    xnPage(0x4000, 3); // UXN: EL1 only
    const ex = (ipa: number, el: 0 | 1, xnx: boolean) => p.walk(ipa, "exec", { xnx, el }).ok;
    expect([0x1000, 0x2000, 0x3000, 0x4000].map((a) => ex(a, 0, true))).toEqual([true, true, false, false]);
    expect([0x1000, 0x2000, 0x3000, 0x4000].map((a) => ex(a, 1, true))).toEqual([true, false, false, true]);
    expect([0x1000, 0x2000, 0x3000, 0x4000].map((a) => ex(a, 0, false))).toEqual([true, true, false, false]);
    expect([0x1000, 0x2000, 0x3000, 0x4000].map((a) => ex(a, 1, false))).toEqual([true, true, false, false]);
    // Data accesses ignore XN entirely.
    expect(p.walk(0x3000, "write", { xnx: true, el: 0 }).ok).toBe(true);
  });
});

/** walkStage2Raw with the IPA placed in io[WALK_IPA]. */
function raw(
  mem: PhysReader,
  cfg: DecodedVtcr,
  root: number,
  ipa: number,
  access: number,
  out: Float64Array,
) {
  out[WALK_IPA] = ipa;
  return walkStage2Raw(new PhysTableMemory(mem), walkConfig(cfg, root), access, out);
}

describe("walkStage2Raw", () => {
  it("fills out[] and returns 0 or a packed fault, reusing one buffer", () => {
    const p = new TestP2m(40);
    p.map(0x4000_1000, 0x8000_5000, 3, p2m_map_foreign_rw);
    const cfg = decodeVtcr(p.cfg.vtcr);
    const out = new Float64Array(WALK_IO_SIZE);
    expect(raw(p.mem, cfg, p.root, 0x4000_1abc, ACCESS_READ, out)).toBe(0);
    expect(Array.from(out.subarray(0, 4))).toEqual([
      0x8000_5abc,
      3,
      p2mEntryLo(0x80005, p2m_map_foreign_rw, p2m_access_rwx, 3),
      p2mEntryHi(0x80005, p2m_map_foreign_rw, p2m_access_rwx),
    ]);
    const r = raw(p.mem, cfg, p.root, 0x4000_1abc, ACCESS_EXEC, out);
    expect(r).toBe((3 << 8) | 3);
    expect([packedFaultKind(r), packedFaultLevel(r)]).toEqual([3, 3]);
    expect(raw(p.mem, cfg, p.root, 0x4000_1abc, ACCESS_WRITE, out)).toBe(0);
    expect(raw(p.mem, cfg, p.root, 0x4020_0000, ACCESS_READ, out)).toBe((1 << 8) | 2);
    expect(out[1]).toBe(2);
    expect(out[2]).toBe(0);
    expect(raw(p.mem, cfg, p.root, 2 ** 40, ACCESS_READ, out)).toBe(1 << 8);
    expect(raw(p.mem, cfg, 2 ** 41, 0, ACCESS_READ, out)).toBe(4 << 8);
  });

  it("ACCESS_EL0 selects the EL0 XN column when cfg.xnx", () => {
    const p = new TestP2m(40);
    const at = p.map(0x1000, 0x1000, 3);
    const d = p.mem.readDesc(at);
    p.mem.writeDesc(at, d.lo, (d.hi | (1 << 21)) >>> 0); // XN=01: EL0 may execute
    const cfg = decodeVtcr(p.cfg.vtcr, undefined, { xnx: true });
    const out = new Float64Array(WALK_IO_SIZE);
    expect(raw(p.mem, cfg, p.root, 0x1000, ACCESS_EXEC | ACCESS_EL0, out)).toBe(0);
    expect(raw(p.mem, cfg, p.root, 0x1000, ACCESS_EXEC, out)).toBe((3 << 8) | 3);
  });
});

describe("property: walks agree with a reference map", () => {
  interface Mapping {
    gfn: number;
    level: 1 | 2 | 3;
    mfn: number;
    t: P2mType;
  }
  const pagesAt = (level: number) => 2 ** (9 * (3 - level));
  const overlaps = (a: Mapping, b: Mapping) => {
    const ae = a.gfn + pagesAt(a.level);
    const be = b.gfn + pagesAt(b.level);
    return a.gfn < be && b.gfn < ae;
  };
  const arbMapping: fc.Arbitrary<Mapping> = fc
    .record({
      level: fc.constantFrom(1, 2, 3) as fc.Arbitrary<1 | 2 | 3>,
      // Keep IPAs within a few GiB so mappings share tables and collide often.
      slot: fc.integer({ min: 0, max: 4 * 512 * 512 - 1 }),
      // Output frames anywhere below 2^28 (PS = 40 bits).
      mslot: fc.integer({ min: 0, max: 2 ** 28 - 1 }),
      t: fc.constantFrom(
        p2m_ram_rw,
        p2m_ram_ro,
        p2m_map_foreign_rw,
        p2m_mmio_direct_dev,
      ) as fc.Arbitrary<P2mType>,
    })
    .map(({ level, slot, mslot, t }) => {
      const n = pagesAt(level);
      return { level, gfn: Math.floor(slot / n) * n, mfn: Math.floor(mslot / n) * n, t };
    });

  it("4K/2M/1G mappings: pa, level and faults", () => {
    fc.assert(
      fc.property(
        fc.array(arbMapping, { maxLength: 24, size: "max" }),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.integer({ min: 0, max: 2 ** 42 - 1 }),
            fc.constantFrom("read", "write", "exec"),
          ),
          {
            minLength: 1,
            maxLength: 24,
          },
        ),
        (candidates, probes) => {
          const p = new TestP2m(40);
          const maps: Mapping[] = [];
          for (const m of candidates) {
            if (maps.some((o) => overlaps(o, m))) continue;
            maps.push(m);
            p.map(m.gfn * 4096, m.mfn * 4096, m.level, m.t);
          }
          for (const [pick, rnd, access] of probes) {
            // Half the probes land inside a mapping, half anywhere (up to 2^42, beyond the IPA).
            const m0 = maps[pick % Math.max(1, maps.length)];
            const ipa =
              m0 !== undefined && pick % 2 === 0 ? m0.gfn * 4096 + (rnd % (pagesAt(m0.level) * 4096)) : rnd;
            const r = p.walk(ipa, access as AccessType);
            const gfn = Math.floor(ipa / 4096);
            const hit = maps.find((m) => gfn >= m.gfn && gfn < m.gfn + pagesAt(m.level));
            if (ipa >= 2 ** 40) {
              expect(r).toMatchObject(fault("translation", 0, 0x04));
            } else if (hit === undefined) {
              // The walk stops at the first level with no entry: L1 unless a smaller mapping
              // made a table in the same 1G (then L2), or in the same 2M (then L3).
              const same = (level: number) =>
                maps.some(
                  (m) =>
                    m.level > level &&
                    Math.floor(m.gfn / pagesAt(level)) === Math.floor(gfn / pagesAt(level)),
                );
              const level = same(2) ? 3 : same(1) ? 2 : 1;
              expect(r).toMatchObject(fault("translation", level, 0x04 | level));
            } else {
              const writable = hit.t !== p2m_ram_ro;
              const exec = hit.t === p2m_ram_rw || hit.t === p2m_ram_ro;
              const allowed = access === "read" || (access === "write" ? writable : exec);
              if (allowed) {
                expect(r).toEqual({
                  ok: true,
                  pa: hit.mfn * 4096 + (ipa - hit.gfn * 4096),
                  level: hit.level,
                  memAttr: hit.t === p2m_mmio_direct_dev ? 1 : 0xf,
                  sh: hit.t === p2m_mmio_direct_dev ? 2 : 3,
                  s2ap: writable ? 3 : 1,
                  xn: exec ? 0 : 2,
                  swType: hit.t,
                });
              } else {
                expect(r).toMatchObject(fault("permission", hit.level, 0x0c | hit.level));
              }
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
