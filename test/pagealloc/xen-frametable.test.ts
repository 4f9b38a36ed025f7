import { describe, expect, it } from "vitest";
import { XenFrameTable } from "../../src/pagealloc/index.js";

const GiB = 2 ** 30;

describe("Xen's frame table layout (init_pdx, init_frametable)", () => {
  it("QEMU virt, 2 GiB at 0x40000000: entries for RAM only, no compression", () => {
    const ft = new XenFrameTable([{ base: 0x4000_0000, size: 2 * GiB }]);
    expect(ft.frametableBasePdx).toBe(0x40000n);
    expect(ft.maxPage).toBe(0xc0000n);
    expect(ft.pageInfo(0x40000)).toMatchObject({ index: 0n, state: "zeroed" });
    expect(ft.pageInfo(0xbffff)).toMatchObject({ state: "zeroed" });
    // 0x80000 entries x 56 bytes is exactly 28 MiB: nothing past the last RAM frame is mapped.
    expect(ft.pageInfo(0xc0000)).toMatchObject({
      index: 0x80000n,
      countInfoVa: 0xa0801c00010n,
      state: "unmapped",
    });
    expect(ft.pageInfo(0x3ffff)).toMatchObject({ index: -1n, state: "unmapped" });
    expect(ft.mfnValid(0x40000)).toBe(true);
    expect(ft.mfnValid(0xc0000)).toBe(false);
    expect(ft.mfnValid(0x3ffff)).toBe(false);
  });

  it("RAM not starting on a 1 GiB group: the frames below it in its group have zeroed entries and pass mfn_valid", () => {
    const ft = new XenFrameTable([{ base: 0x1000_0000, size: 0xb000_0000 }]);
    expect(ft.frametableBasePdx).toBe(0n);
    expect(ft.pageInfo(0x8000)).toMatchObject({ index: 0x8000n, state: "zeroed" });
    expect(ft.mfnValid(0x8000)).toBe(true);
  });

  it("RAM ending off a 2 MiB boundary: the page-rounding tail is 0xff, then unmapped", () => {
    // 0x40000 + 0x100 frames: 0x40100 entries * 56 = 0xe03800 bytes, mapped up to 0xe04000.
    const ft = new XenFrameTable([{ base: 0x4000_0000, size: GiB + 0x10_0000 }]);
    expect(ft.pageInfo(0x80100)).toMatchObject({ state: "poisoned", printkFieldsMapped: true });
    // Entry 0x40123 starts at 0xe03fa8: all its printed fields (+16..+44) are mapped.
    expect(ft.pageInfo(0x80123)).toMatchObject({ state: "poisoned", printkFieldsMapped: true });
    // Entry 0x40124 starts at 0xe03fe0: count_info mapped, tlbflush_timestamp (+40..44) is not.
    expect(ft.pageInfo(0x80124)).toMatchObject({ state: "poisoned", printkFieldsMapped: false });
    // Entry 0x40125 starts at 0xe04018, past the mapping.
    expect(ft.pageInfo(0x80125)).toMatchObject({ state: "unmapped" });
  });

  it("two banks far apart: PDX mask compression squeezes the hole bits; a gap group has no entries", () => {
    const ft = new XenFrameTable([
      { base: 0x4000_0000, size: GiB },
      { base: 0x8_0000_0000, size: GiB },
    ]);
    // mask 0x87ffff: pfn bits 19..22 never move, so 0x800000 compresses to 0x80000.
    expect(ft.pfnToPdx(0x800000n)).toBe(0x80000n);
    expect(ft.pageInfo(0x800000)).toMatchObject({ state: "zeroed" });
    // pfn 0xc0000 has a hole bit set: it aliases pdx 0x40000 (RAM's first entry), mfn_valid says no.
    expect(ft.pfnToPdx(0xc0000n)).toBe(0x40000n);
    expect(ft.pageInfo(0xc0000)).toMatchObject({ state: "zeroed" });
    expect(ft.mfnValid(0xc0000)).toBe(false);
  });

  it("a gap of whole groups between banks is skipped by init_frametable", () => {
    const ft = new XenFrameTable([
      { base: 0x4000_0000, size: GiB },
      { base: 0x1_4000_0000, size: GiB },
    ]);
    // mask 0x17ffff: pfn bit 19 is the hole; 0x140000 compresses to 0xc0000 (group 3).
    expect(ft.pfnToPdx(0x140000n)).toBe(0xc0000n);
    expect(ft.pageInfo(0x140000)).toMatchObject({ index: 0x80000n, state: "zeroed" });
    // pfn 0x100000 is pdx 0x80000: group 2, between the banks, never mapped.
    expect(ft.pageInfo(0x100000)).toMatchObject({ state: "unmapped" });
    expect(ft.mfnValid(0x100000)).toBe(false);
  });
});
