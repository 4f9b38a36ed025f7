import { describe, expect, it } from "vitest";
import { SshmError } from "../../src/common/errors.js";
import {
  decodeVtcr,
  decodeVttbr,
  describeVtcr,
  generateVttbr,
  generateVttbrBig,
  P2M_PA_RANGE_INFO,
  p2mConfigForIpaBits,
  paRangeToBits,
  setupVirtPaging,
  vttbrWords,
} from "../../src/p2m/vtcr.js";

describe("Xen setup_virt_paging rows (reference §2.1)", () => {
  const rows: [number, number, number, number, number, number, number][] = [
    // ipa, vtcr (8-bit VMID), vtcr with VS, t0sz, sl0, root level, root order
    [32, 0x80003560, 0x80083560, 32, 1, 1, 0],
    [36, 0x8001355c, 0x8009355c, 28, 1, 1, 0],
    [40, 0x80023558, 0x800a3558, 24, 1, 1, 1],
    [42, 0x80033556, 0x800b3556, 22, 1, 1, 3],
    [44, 0x80043594, 0x800c3594, 20, 2, 0, 0],
    [48, 0x80053590, 0x800d3590, 16, 2, 0, 0],
  ];
  for (const [ipa, vtcr, vtcrVs, t0sz, sl0, rootLevel, rootOrder] of rows) {
    it(`${ipa}-bit IPA`, () => {
      const c = p2mConfigForIpaBits(ipa);
      expect(c.vtcr).toBe(vtcr);
      expect(c).toMatchObject({ ipaBits: ipa, paBits: ipa, t0sz, sl0, rootLevel, rootOrder, vmidBits: 8 });
      expect(p2mConfigForIpaBits(ipa, { vmid16: true }).vtcr).toBe(vtcrVs);
      // The architectural decode agrees with Xen's table: start level and concatenation.
      const d = decodeVtcr(c.vtcr);
      expect(d.valid).toBe(true);
      expect(d.startLevel).toBe(rootLevel);
      expect(d.ipaBits).toBe(ipa);
      expect(d.oaBits).toBe(ipa);
      expect(d.concat).toBe(2 ** rootOrder);
      expect(d.vmidBits).toBe(8);
      expect(decodeVtcr(p2mConfigForIpaBits(ipa, { vmid16: true }).vtcr).vmidBits).toBe(16);
    });
  }

  it("X-6: PARange 40 with 8-bit VMIDs, and Xen's log lines", () => {
    const c = setupVirtPaging({ paRange: 2 });
    expect(c.vtcr).toBe(0x80023558);
    expect(c.rootLevel).toBe(1);
    expect(c.rootOrder).toBe(1);
    expect(c.log).toEqual([
      "P2M: 40-bit IPA with 40-bit PA and 8-bit VMID",
      "P2M: 3 levels with order-1 root, VTCR 0x0000000080023558",
    ]);
    expect(setupVirtPaging({ paRange: 40 }).vtcr).toBe(0x80023558);
  });

  it("X-7: PARange 48 and an IOMMU limit of 40 bits give PS=40", () => {
    const c = setupVirtPaging({ paRange: 5, iommuIpaBits: 40 });
    expect(c.ipaBits).toBe(40);
    expect(c.paBits).toBe(40);
    expect((c.vtcr >>> 16) & 7).toBe(2);
    expect(decodeVtcr(c.vtcr).oaBits).toBe(40);
  });

  it("X-8: an IOMMU limit of 39 bits is Xen's panic", () => {
    expect(() => setupVirtPaging({ paRange: 5, iommuIpaBits: 39 })).toThrow("39-bit P2M is not supported");
    try {
      p2mConfigForIpaBits(39);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SshmError);
      expect((e as SshmError).code).toBe("EP2M_IPA_BITS");
      expect((e as SshmError).message).toBe("39-bit P2M is not supported");
    }
    // Row 6 exists in Xen's table but p2m_ipa_bits can never exceed PADDR_BITS = 48.
    expect(() => p2mConfigForIpaBits(52)).toThrow("52-bit P2M is not supported");
    expect(P2M_PA_RANGE_INFO[6]).toEqual({ paBits: 52, t0sz: 12, rootOrder: 4, sl0: 2 });
    // A 52-bit CPU still gets 48 bits.
    expect(setupVirtPaging({ paRange: 6 }).ipaBits).toBe(48);
  });

  it("default is a 48-bit CPU and 16-bit VMIDs when asked", () => {
    const c = setupVirtPaging({ vmid16: true });
    expect(c.vtcr).toBe(0x800d3590);
    expect(c.log[0]).toBe("P2M: 48-bit IPA with 48-bit PA and 16-bit VMID");
    expect(c.log[1]).toBe("P2M: 4 levels with order-0 root, VTCR 0x00000000800d3590");
  });
});

describe("decodeVtcr checks (S2InvalidSL / S2InconsistentSL)", () => {
  const base = 0x80023500; // RES1, SH0 IS, WBWA, PS=40, TG0=4K
  const vt = (t0sz: number, sl0: number, ps = 2, tg0 = 0): number =>
    (base & ~0x70000 & ~0xc000) | (ps << 16) | (tg0 << 14) | (sl0 << 6) | t0sz;

  it("fields of Xen's 40-bit value", () => {
    const d = decodeVtcr(0x80023558);
    expect(d).toMatchObject({
      valid: true,
      t0sz: 24,
      sl0: 1,
      tg0: 0,
      ps: 2,
      startLevel: 1,
      ipaBits: 40,
      oaBits: 40,
      rootEntries: 1024,
      concat: 2,
      rootAlign: 8192,
      ha: false,
      hd: false,
      xnx: false,
      irgn0: 1,
      orgn0: 1,
      sh0: 3,
      ipaLimit: 2 ** 40,
      oaLimit: 2 ** 40,
    });
    expect(describeVtcr(d)).toBe(
      "T0SZ=24 (40-bit IPA) SL0=1 (start L1, 2 root pages) PS=2 (OA 40-bit) TG0=4K SH0=ISH ORGN0=WBWA IRGN0=WBWA VMID=8-bit",
    );
  });

  it("accepts every consistent (SL0, IPA) pair and rejects the rest", () => {
    for (let t0sz = 16; t0sz <= 39; t0sz++) {
      const ipa = 64 - t0sz;
      expect(decodeVtcr(vt(t0sz, 0)).valid, `SL0=0 ${ipa}`).toBe(ipa >= 22 && ipa <= 34);
      expect(decodeVtcr(vt(t0sz, 1)).valid, `SL0=1 ${ipa}`).toBe(ipa >= 31 && ipa <= 43);
      expect(decodeVtcr(vt(t0sz, 2), 48).valid, `SL0=2 ${ipa}`).toBe(ipa >= 40 && ipa <= 52);
      expect(decodeVtcr(vt(t0sz, 3)).valid).toBe(false);
    }
  });

  it("concatenation counts", () => {
    expect(decodeVtcr(vt(30, 0)).concat).toBe(16); // 34-bit at L2: 2^(34-21) entries = 16 pages
    expect(decodeVtcr(vt(30, 0)).rootEntries).toBe(2 ** 13);
    expect(decodeVtcr(vt(34, 0)).concat).toBe(1); // 30-bit at L2
    expect(decodeVtcr(vt(33, 0)).concat).toBe(2);
    expect(decodeVtcr(vt(21, 1)).concat).toBe(16); // 43-bit at L1
    expect(decodeVtcr(vt(32, 1)).rootEntries).toBe(4); // Xen's 32-bit row
  });

  it("invalid configurations carry a reason", () => {
    expect(decodeVtcr(vt(15, 2)).reason).toMatch(/T0SZ=15/);
    expect(decodeVtcr(vt(40, 0)).reason).toMatch(/T0SZ=40/);
    expect(decodeVtcr(vt(24, 3)).reason).toMatch(/FEAT_TTST/);
    expect(decodeVtcr(vt(20, 2), 2).reason).toMatch(/PARange >= 44/);
    expect(decodeVtcr(vt(20, 2), 44).valid).toBe(true);
    expect(decodeVtcr(vt(24, 1, 2, 1)).reason).toMatch(/TG0=1/);
    expect(decodeVtcr(vt(24, 0)).reason).toMatch(/inconsistent/);
  });

  it("effective OA size is min(PS, PARange), at most 48 without LPA2", () => {
    expect(decodeVtcr(vt(24, 1, 5), 2).oaBits).toBe(40);
    expect(decodeVtcr(vt(24, 1, 5), 48).oaBits).toBe(48);
    expect(decodeVtcr(vt(24, 1, 6), 6).oaBits).toBe(48);
    expect(decodeVtcr(vt(24, 1, 7), 3).oaBits).toBe(42);
    expect(decodeVtcr(vt(24, 1, 0)).oaBits).toBe(32);
  });

  it("bigint input and ignored upper bits (DS/SL2 are RES0 without LPA2)", () => {
    const big = (3n << 32n) | 0x80023558n;
    expect(decodeVtcr(big)).toEqual(decodeVtcr(0x80023558));
    expect(decodeVtcr(2 ** 32 + 0x80023558)).toEqual(decodeVtcr(0x80023558));
    expect(decodeVtcr(0x80023558 | (1 << 21) | (1 << 22))).toMatchObject({ ha: true, hd: true });
    expect(decodeVtcr(0x80023558, undefined, { xnx: true }).xnx).toBe(true);
  });

  it("PARange accepts encodings and bit counts", () => {
    expect(paRangeToBits(2)).toBe(40);
    expect(paRangeToBits(44)).toBe(44);
    expect(() => paRangeToBits(41)).toThrow(SshmError);
  });
});

describe("VTTBR", () => {
  it("X-9: generate_vttbr(vmid=5, root=0x8000_0000)", () => {
    expect(generateVttbrBig(0x8000_0000, 5)).toBe(0x0005000080000000n);
    expect(generateVttbr(0x8000_0000, 5)).toEqual({ lo: 0x80000000, hi: 0x00050000 });
  });
  it("16-bit VMIDs above 32 stay exact as words", () => {
    const w = generateVttbr(0xab_cdef_2000, 0xfedc);
    expect(generateVttbrBig(0xab_cdef_2000, 0xfedc)).toBe(0xfedc00abcdef2000n);
    expect(decodeVttbr(w)).toEqual({ baddr: 0xab_cdef_2000, vmid: 0xfedc, cnp: false });
    expect(decodeVttbr(w, 8).vmid).toBe(0xdc);
    expect(decodeVttbr(0xfedc00abcdef2001n)).toEqual({ baddr: 0xab_cdef_2000, vmid: 0xfedc, cnp: true });
    expect(decodeVttbr(0x0005000080000000)).toEqual({ baddr: 0x8000_0000, vmid: 5, cnp: false });
    expect(vttbrWords(0x0005000080000000n)).toEqual({ lo: 0x80000000, hi: 0x50000 });
  });
  it("rejects values that do not fit", () => {
    expect(() => generateVttbr(2 ** 48, 1)).toThrow(SshmError);
    expect(() => generateVttbr(0x1000, 0x10000)).toThrow(SshmError);
  });
});
