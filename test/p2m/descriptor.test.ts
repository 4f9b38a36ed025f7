import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeBig,
  decodeDescriptor,
  descAf,
  descContig,
  descDbm,
  descHiWithMfn,
  descHiWithType,
  descIsTableOrPage,
  descLoForLevel,
  descLoWithAf,
  descLoWithMfn,
  descLoWithValid,
  descMemAttr,
  descMfn,
  descOaExceeds,
  descOutputAddress,
  descRead,
  describeDescriptor,
  descriptorHex,
  descS2ap,
  descSh,
  descTableAddress,
  descType,
  descValid,
  descWrite,
  descXn,
  encodeDescriptorBig,
  LEVEL_SIZE,
  levelIndex,
  memAttrName,
  p2mEntryHi,
  p2mEntryLo,
  tableEntryHi,
  tableEntryLo,
} from "../../src/p2m/descriptor.js";
import {
  P2M_TYPE_NAME,
  type P2mAccess,
  type P2mType,
  p2m_access_n,
  p2m_access_n2rwx,
  p2m_access_r,
  p2m_access_r_pw,
  p2m_access_rw,
  p2m_access_rwx,
  p2m_access_rx,
  p2m_access_rx2rw,
  p2m_access_w,
  p2m_access_wx,
  p2m_access_x,
  p2m_grant_map_ro,
  p2m_grant_map_rw,
  p2m_invalid,
  p2m_iommu_map_ro,
  p2m_iommu_map_rw,
  p2m_is_any_ram,
  p2m_is_foreign,
  p2m_is_ram,
  p2m_map_foreign_ro,
  p2m_map_foreign_rw,
  p2m_mmio_direct_c,
  p2m_mmio_direct_dev,
  p2m_mmio_direct_nc,
  p2m_ram_ro,
  p2m_ram_rw,
  p2mTypeName,
} from "../../src/p2m/types.js";

const enc = (mfn: number, t: P2mType, a: P2mAccess, level: number): string =>
  descriptorHex(p2mEntryLo(mfn, t, a, level), p2mEntryHi(mfn, t, a));

describe("p2m types (Xen p2m.h)", () => {
  it("numbers and names match Xen", () => {
    expect([
      p2m_invalid,
      p2m_ram_rw,
      p2m_ram_ro,
      p2m_mmio_direct_dev,
      p2m_mmio_direct_nc,
      p2m_mmio_direct_c,
      p2m_map_foreign_rw,
      p2m_map_foreign_ro,
      p2m_grant_map_rw,
      p2m_grant_map_ro,
      p2m_iommu_map_rw,
      p2m_iommu_map_ro,
    ]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(P2M_TYPE_NAME[6]).toBe("p2m_map_foreign_rw");
    expect(p2mTypeName(13)).toBe("p2m_type_13");
  });

  it("predicates group types as Xen's masks do", () => {
    const all = [...Array(12).keys()];
    expect(all.filter(p2m_is_ram)).toEqual([1, 2]);
    expect(all.filter(p2m_is_foreign)).toEqual([6, 7]);
    expect(all.filter(p2m_is_any_ram)).toEqual([1, 2, 6, 7, 8, 9]);
  });

  it("access values match p2m_access_t", () => {
    expect([
      p2m_access_n,
      p2m_access_r,
      p2m_access_w,
      p2m_access_rw,
      p2m_access_x,
      p2m_access_rx,
      p2m_access_wx,
      p2m_access_rwx,
      p2m_access_rx2rw,
      p2m_access_n2rwx,
      p2m_access_r_pw,
    ]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe("Xen encoding vectors (reference §2.1, §3.3)", () => {
  it("X-1 ram_rw L3", () => {
    expect(enc(0x80005, p2m_ram_rw, p2m_access_rwx, 3)).toBe("0x00800000800057FF");
  });
  it("X-2 / X-3 foreign rw / ro", () => {
    expect(enc(0x80005, p2m_map_foreign_rw, p2m_access_rwx, 3)).toBe("0x03400000800057FF");
    expect(enc(0x80005, p2m_map_foreign_ro, p2m_access_rwx, 3)).toBe("0x03C000008000577F");
  });
  it("X-4 mmio dev / nc / c", () => {
    expect(enc(0x80005, p2m_mmio_direct_dev, p2m_access_rwx, 3)).toBe("0x01C00000800056C7");
    expect(enc(0x80005, p2m_mmio_direct_nc, p2m_access_rwx, 3)).toBe("0x02400000800056D7");
    expect(enc(0x80005, p2m_mmio_direct_c, p2m_access_rwx, 3)).toBe("0x02C00000800056FF");
  });
  it("X-5 mem_access restrictions on ram_rw", () => {
    expect(enc(0x80005, p2m_ram_rw, p2m_access_r, 3)).toBe("0x00C000008000577F");
    expect(enc(0x80005, p2m_ram_rw, p2m_access_n, 3)).toBe("0x00C000008000573F");
    expect(enc(0x80005, p2m_ram_rw, p2m_access_w, 3)).toBe("0x00C00000800057BF");
    expect(enc(0x80005, p2m_ram_rw, p2m_access_rx, 3)).toBe("0x008000008000577F");
    expect(enc(0x80005, p2m_ram_rw, p2m_access_x, 3)).toBe("0x008000008000573F");
  });
  it("special access values encode like their base values", () => {
    expect(enc(0x80005, p2m_ram_rw, p2m_access_rx2rw, 3)).toBe(enc(0x80005, p2m_ram_rw, p2m_access_rx, 3));
    expect(enc(0x80005, p2m_ram_rw, p2m_access_n2rwx, 3)).toBe(enc(0x80005, p2m_ram_rw, p2m_access_n, 3));
    expect(enc(0x80005, p2m_ram_rw, p2m_access_r_pw, 3)).toBe(enc(0x80005, p2m_ram_rw, p2m_access_r, 3));
    // wx clears read only; rw sets XN only.
    expect(enc(0x80005, p2m_ram_rw, p2m_access_wx, 3)).toBe("0x00800000800057BF");
    expect(enc(0x80005, p2m_ram_rw, p2m_access_rw, 3)).toBe("0x00C00000800057FF");
  });
  it("every p2m type at L3, MFN 0x80005 (reference §2.1 table)", () => {
    const expected: Record<number, string> = {
      [p2m_ram_rw]: "0x00800000800057FF",
      [p2m_ram_ro]: "0x010000008000577F",
      [p2m_mmio_direct_dev]: "0x01C00000800056C7",
      [p2m_mmio_direct_nc]: "0x02400000800056D7",
      [p2m_mmio_direct_c]: "0x02C00000800056FF",
      [p2m_map_foreign_rw]: "0x03400000800057FF",
      [p2m_map_foreign_ro]: "0x03C000008000577F",
      [p2m_grant_map_rw]: "0x04400000800057FF",
      [p2m_grant_map_ro]: "0x04C000008000577F",
      [p2m_iommu_map_rw]: "0x05400000800057FF",
      [p2m_iommu_map_ro]: "0x05C000008000577F",
    };
    for (const [t, hex] of Object.entries(expected)) {
      expect(enc(0x80005, Number(t) as P2mType, p2m_access_rwx, 3), P2M_TYPE_NAME[Number(t)]).toBe(hex);
    }
    // p2m_invalid: Xen never maps it, but p2m_set_permission gives it XN=1, W=0.
    expect(enc(0x80005, p2m_invalid, p2m_access_rwx, 3)).toBe("0x004000008000577F");
  });
  it("blocks clear bit 1", () => {
    expect(enc(0x80200, p2m_ram_rw, p2m_access_rwx, 2)).toBe("0x00800000802007FD");
    expect(enc(0x100000, p2m_ram_rw, p2m_access_rwx, 1)).toBe("0x00800001000007FD");
  });
  it("table entry has the bits of a ram_rw page", () => {
    expect(descriptorHex(tableEntryLo(0x80010), tableEntryHi(0x80010))).toBe("0x00800000800107FF");
    expect(tableEntryLo(0x80010) & 0xfff).toBe(0x7ff);
  });
  it("MFN 0x50000 static-shm examples (xen-static-shm.md §6)", () => {
    expect(enc(0x50000, p2m_map_foreign_rw, p2m_access_rwx, 3)).toBe("0x03400000500007FF");
    expect(enc(0x50000, p2m_map_foreign_rw, p2m_access_rwx, 2)).toBe("0x03400000500007FD");
    expect(enc(0x50000, p2m_ram_rw, p2m_access_rwx, 3)).toBe("0x00800000500007FF");
    expect(enc(0x50000, p2m_ram_rw, p2m_access_rwx, 1)).toBe("0x00800000500007FD");
  });
  it("MFNs above 2^32 frames' worth keep every OA bit (no 32-bit truncation)", () => {
    const mfn = 0xf_ffff_ffff; // OA bits 47:12 all set
    const lo = p2mEntryLo(mfn, p2m_ram_rw, p2m_access_rwx, 3);
    const hi = p2mEntryHi(mfn, p2m_ram_rw, p2m_access_rwx);
    expect(descriptorHex(lo, hi)).toBe("0x0080FFFFFFFFF7FF");
    expect(descMfn(lo, hi)).toBe(mfn);
    expect(descOutputAddress(lo, hi, 3)).toBe(mfn * 4096);
    expect(lo).toBeGreaterThanOrEqual(0);
  });
});

describe("getters", () => {
  const lo = p2mEntryLo(0x80005, p2m_map_foreign_rw, p2m_access_rwx, 3);
  const hi = p2mEntryHi(0x80005, p2m_map_foreign_rw, p2m_access_rwx);
  it("read every field of a foreign_rw page", () => {
    expect(descValid(lo)).toBe(true);
    expect(descIsTableOrPage(lo)).toBe(true);
    expect(descMfn(lo, hi)).toBe(0x80005);
    expect(descMemAttr(lo)).toBe(0xf);
    expect(descS2ap(lo)).toBe(3);
    expect(descRead(lo)).toBe(true);
    expect(descWrite(lo)).toBe(true);
    expect(descSh(lo)).toBe(3);
    expect(descAf(lo)).toBe(true);
    expect(descContig(hi)).toBe(false);
    expect(descDbm(hi)).toBe(false);
    expect(descXn(hi)).toBe(2);
    expect(descType(hi)).toBe(p2m_map_foreign_rw);
  });
  it("output address is masked per level", () => {
    // A block entry whose RES0 address bits are set: they must not leak into the OA.
    const blo = (0x40000000 | 0x3ffff000 | 0x7fd) >>> 0;
    const bhi = 0x12;
    expect(descOutputAddress(blo, bhi, 1)).toBe(0x12_4000_0000);
    expect(descOutputAddress(blo, bhi, 2)).toBe(0x12_7fe0_0000);
    expect(descOutputAddress(blo | 2, bhi, 2)).toBe(0x12_7fff_f000); // table: 47:12
    expect(descTableAddress(blo, bhi)).toBe(0x12_7fff_f000);
    expect(descOutputAddress(0x1, 0xffff, 0)).toBe(0xff80_0000_0000);
  });
  it("OA range check against the output size", () => {
    expect(descOaExceeds(0x00ff, 40)).toBe(false);
    expect(descOaExceeds(0x0100, 40)).toBe(true);
    expect(descOaExceeds(0x0001, 32)).toBe(true);
    expect(descOaExceeds(0xffff, 48)).toBe(false);
    // Upper hi-word attributes are not address bits.
    expect(descOaExceeds(0xffff0000, 32)).toBe(false);
  });
  it("updaters touch only their field", () => {
    expect(descLoWithValid(lo, false)).toBe((lo & ~1) >>> 0);
    expect(descLoWithValid(descLoWithValid(lo, false), true)).toBe(lo);
    expect(descLoWithAf(lo & ~0x400)).toBe(lo);
    expect(descLoForLevel(lo, 2)).toBe((lo & ~2) >>> 0);
    expect(descLoForLevel(descLoForLevel(lo, 2), 3)).toBe(lo);
    const l2 = descLoWithMfn(lo, 0x123456789);
    const h2 = descHiWithMfn(hi, 0x123456789);
    expect(descMfn(l2, h2)).toBe(0x123456789);
    expect(l2 & 0xfff).toBe(lo & 0xfff);
    expect(descType(h2)).toBe(p2m_map_foreign_rw);
    expect(descXn(h2)).toBe(2);
    expect(descType(descHiWithType(hi, p2m_ram_ro))).toBe(p2m_ram_ro);
    expect(descXn(descHiWithType(hi, p2m_ram_ro))).toBe(2);
  });
  it("levelIndex is exact for 48-bit IPAs", () => {
    const ipa = 0xabcd_1234_5678;
    const big = BigInt(ipa);
    for (let l = 0; l < 4; l++) {
      const shift = BigInt(39 - 9 * l);
      expect(levelIndex(ipa, l)).toBe(Number((big >> shift) & 511n));
    }
    expect(LEVEL_SIZE).toEqual([2 ** 39, 2 ** 30, 2 ** 21, 4096]);
  });
});

describe("decode and display", () => {
  it("describe a foreign page as in the brief", () => {
    const lo = p2mEntryLo(0x80005, p2m_map_foreign_rw, p2m_access_rwx, 3);
    const hi = p2mEntryHi(0x80005, p2m_map_foreign_rw, p2m_access_rwx);
    expect(describeDescriptor(lo, hi, 3)).toBe(
      "L3 page mfn=0x80005 p2m_map_foreign_rw MemAttr=0xF(Normal WB) S2AP=RW SH=IS AF XN",
    );
  });
  it("describe blocks, tables, device, invalid and reserved encodings", () => {
    const dev = [
      p2mEntryLo(0x9000, p2m_mmio_direct_dev, p2m_access_rwx, 2),
      p2mEntryHi(0x9000, p2m_mmio_direct_dev, p2m_access_rwx),
    ] as const;
    expect(describeDescriptor(dev[0], dev[1], 2)).toBe(
      "L2 block mfn=0x9000 p2m_mmio_direct_dev MemAttr=0x1(Device-nGnRE) S2AP=RW SH=OS AF XN",
    );
    expect(describeDescriptor(tableEntryLo(0x80010), tableEntryHi(0x80010), 1)).toBe(
      "L1 table mfn=0x80010 p2m_ram_rw",
    );
    expect(describeDescriptor(0, 0, 2)).toBe("L2 invalid (empty)");
    const inv = descLoWithValid(tableEntryLo(0x80010), false);
    expect(describeDescriptor(inv, tableEntryHi(0x80010), 1)).toBe(
      "L1 invalid(hw) table mfn=0x80010 p2m_ram_rw",
    );
    expect(decodeDescriptor(0x7fd, 0, 3).kind).toBe("reserved");
    expect(decodeDescriptor(0x7fd, 0, 0).kind).toBe("reserved");
    expect(decodeDescriptor(0x7fd, 0, 1).kind).toBe("block");
    expect(decodeDescriptor(0x7ff, 0, 3).kind).toBe("page");
    expect(decodeDescriptor(0x7fe, 0, 3).kind).toBe("invalid");
  });
  it("MemAttr names", () => {
    expect(memAttrName(0x0)).toBe("Device-nGnRnE");
    expect(memAttrName(0x5)).toBe("Normal NC");
    expect(memAttrName(0xf)).toBe("Normal WB");
    expect(memAttrName(0xd)).toBe("Normal oWB/iNC");
    expect(memAttrName(0xc)).toBe("Normal(reserved)");
  });
  it("hex and bigint helpers", () => {
    expect(descriptorHex(0x800057ff, 0x03400000)).toBe("0x03400000800057FF");
    expect(encodeDescriptorBig(0x800057ff, 0x03400000)).toBe(0x03400000800057ffn);
    expect(decodeBig(0x03400000800057ffn)).toEqual({ lo: 0x800057ff, hi: 0x03400000 });
  });
});

describe("properties", () => {
  const arbType = fc.integer({ min: 0, max: 11 }) as fc.Arbitrary<P2mType>;
  const arbAccess = fc.integer({ min: 0, max: 10 }) as fc.Arbitrary<P2mAccess>;
  const arbMfn = fc.integer({ min: 0, max: 2 ** 36 - 1 });

  it("decode(encode(x)) returns the encoded fields", () => {
    fc.assert(
      fc.property(arbMfn, arbType, arbAccess, fc.integer({ min: 1, max: 3 }), (mfn, t, a, level) => {
        const lo = p2mEntryLo(mfn, t, a, level);
        const hi = p2mEntryHi(mfn, t, a);
        const d = decodeDescriptor(lo, hi, level);
        expect(d.mfn).toBe(mfn);
        expect(d.swType).toBe(t);
        expect(d.valid).toBe(true);
        expect(d.af).toBe(true);
        expect(d.kind).toBe(level === 3 ? "page" : "block");
        expect(d.contig).toBe(false);
        // Round trip through the 64-bit value.
        expect(decodeBig(encodeDescriptorBig(lo, hi))).toEqual({ lo, hi });
        expect((encodeDescriptorBig(lo, hi) >> 12n) & ((1n << 36n) - 1n)).toBe(BigInt(mfn));
      }),
    );
  });

  it("random words: getters agree with a BigInt bit-field reference", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
        const { lo, hi } = decodeBig(v);
        const bits = (from: number, n: number): number =>
          Number((v >> BigInt(from)) & ((1n << BigInt(n)) - 1n));
        expect(descValid(lo)).toBe(bits(0, 1) === 1);
        expect(descIsTableOrPage(lo)).toBe(bits(1, 1) === 1);
        expect(descMemAttr(lo)).toBe(bits(2, 4));
        expect(descS2ap(lo)).toBe(bits(6, 2));
        expect(descSh(lo)).toBe(bits(8, 2));
        expect(descAf(lo)).toBe(bits(10, 1) === 1);
        expect(descMfn(lo, hi)).toBe(bits(12, 36));
        expect(descDbm(hi)).toBe(bits(51, 1) === 1);
        expect(descContig(hi)).toBe(bits(52, 1) === 1);
        expect(descXn(hi)).toBe(bits(53, 2));
        expect(descType(hi)).toBe(bits(55, 4));
        expect(descriptorHex(lo, hi)).toBe(`0x${v.toString(16).toUpperCase().padStart(16, "0")}`);
      }),
    );
  });
});
