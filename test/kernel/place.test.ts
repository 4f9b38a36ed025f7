import { describe, expect, it } from "vitest";
import type { KernelImage } from "../../src/kernel/index.js";
import { placeKernel } from "../../src/kernel/index.js";

const MiB = 1024 * 1024;
const bank = (mib: number) => ({ start: 0x4000_0000n, size: BigInt(mib * MiB) });

/** An arm64 Image of `len` bytes with text_offset `to` (kernel_zimage64_probe's result). */
const image = (len: number, to = 0n): KernelImage => ({
  format: "Image",
  is64: true,
  kernelAddr: 0xb100_0000n,
  len: BigInt(len),
  textOffset: to,
  start: 0n,
  entry: 0n,
});
const DTB = 0x602; // the observed blob: any size up to 2 MiB rounds to one 2 MiB slot

const hex = (r: ReturnType<typeof placeKernel>) =>
  r.ok
    ? {
        load: r.loadAddr.toString(16),
        entry: r.entry.toString(16),
        dtb: r.dtbAddr.toString(16),
        initrd: r.initrdAddr.toString(16),
      }
    : r.panic;

describe("place_dtb_initrd (reference §2.2 worked examples: text_offset 0, kernel at 0x40000000)", () => {
  it("16 MiB, ~14 KB kernel: rule 1 fails (0x41000000 < 0x48200000), rule 2 puts the DTB at 0x40e00000", () => {
    expect(hex(placeKernel(image(0x3800), bank(16), DTB, 0))).toEqual({
      load: "40000000",
      entry: "40000000",
      dtb: "40e00000",
      initrd: "41000000",
    });
  });
  it("128 MiB: rule 1 fails (0x48000000 < 0x48200000), rule 2 gives 0x47e00000", () => {
    expect(hex(placeKernel(image(0x3800), bank(128), DTB, 0))).toMatchObject({ dtb: "47e00000" });
  });
  it("256 MiB: rule 1, the DTB at bank start + 128 MiB", () => {
    expect(hex(placeKernel(image(0x3800), bank(256), DTB, 0))).toMatchObject({ dtb: "48000000" });
  });
  it("4 MiB: rule 2 needs 0x40200000 > 0x40200000 and rule 3 needs 0 > 2 MiB: no place", () => {
    expect(placeKernel(image(0x3800), bank(4), DTB, 0)).toEqual({
      ok: false,
      panic: "Unable to find suitable location for dtb+initrd",
    });
  });
  it("16 MiB + a 5 MiB initrd: S = 8 MiB, DTB at 0x40800000, initrd right after its 2 MiB slot", () => {
    expect(hex(placeKernel(image(0x3800), bank(16), DTB, 5 * MiB))).toMatchObject({
      dtb: "40800000",
      initrd: "40a00000",
    });
  });
});

describe("the other branches", () => {
  it("rule 3: a kernel at the top of the bank (text_offset 12 MiB) gets the DTB just below it", () => {
    const r = placeKernel(image(2 * MiB, 0xc0_0000n), bank(16), DTB, 0);
    // rule 2 needs 0x40e00000 > ROUNDUP(0x40e00000): strict, so no.
    expect(hex(r)).toMatchObject({ load: "40c00000", entry: "40c00000", dtb: "40a00000" });
  });
  it("rule 1 needs the kernel to end below bank + 128 MiB; otherwise rule 2, the top of the bank", () => {
    expect(hex(placeKernel(image(0x1000, 0x800_0000n), bank(512), DTB, 0))).toMatchObject({
      load: "48000000",
      dtb: "5fe00000",
    });
    // Ending exactly at bank + 128 MiB is not below it (kernend < ram128mb is strict).
    expect(hex(placeKernel(image(0x1000, 0x7ff_f000n), bank(512), DTB, 0))).toMatchObject({
      dtb: "5fe00000",
    });
    expect(hex(placeKernel(image(0x1000, 0x7ff_e000n), bank(512), DTB, 0))).toMatchObject({
      dtb: "48000000",
    });
  });
  it("rule 2 is the top of the bank minus DTB+initrd, aligned only if the bank end is", () => {
    const odd = { start: 0x4000_0000n, size: BigInt(16 * MiB + 0x1000) };
    expect(hex(placeKernel(image(0x3800), odd, DTB, 0))).toMatchObject({ dtb: "40e01000" });
  });
  it("kernel + DTB/initrd bigger than the first bank: Xen's first check", () => {
    expect(placeKernel(image(15 * MiB), bank(16), DTB, 0)).toEqual({
      ok: false,
      panic: "Not enough memory in the first bank for the kernel+dtb+initrd",
    });
    // 14 MiB + 2 MiB fits exactly (<=), and then rule 3 finds no room either.
    expect(placeKernel(image(14 * MiB), bank(16), DTB, 0)).toEqual({
      ok: false,
      panic: "Unable to find suitable location for dtb+initrd",
    });
  });
  it("the image size in the header plays no part: the copy is the whole module (len)", () => {
    expect(hex(placeKernel(image(3 * MiB), bank(16), DTB, 0))).toMatchObject({ dtb: "40e00000" });
  });
  it("a uImage with a fixed load address and entry point: loaded there, entered at ep", () => {
    const u: KernelImage = { ...image(0x1000), format: "uImage", start: 0x4010_0000n, entry: 0x4010_0800n };
    expect(hex(placeKernel(u, bank(16), DTB, 0))).toMatchObject({
      load: "40100000",
      entry: "40100800",
      dtb: "40e00000",
    });
  });
  it("a position-independent 32-bit zImage: as high as possible below bank + 128 MiB, 2 MiB aligned", () => {
    const z: KernelImage = { ...image(5 * MiB), format: "zImage", is64: false };
    expect(hex(placeKernel(z, bank(16), DTB, 0))).toMatchObject({ load: "40a00000", dtb: "40800000" });
    expect(placeKernel({ ...z, len: BigInt(17 * MiB) }, bank(16), DTB, 0)).toEqual({
      ok: false,
      panic: "Unable to find suitable location for the kernel",
    });
  });
  it("a text_offset that wraps the 64-bit address space wraps as Xen's paddr_t does", () => {
    const r = placeKernel(image(0x1000, 0xffff_ffff_c000_0000n), bank(16), DTB, 0);
    // load = 0x40000000 + 0xffffffffc0000000 = 0 (mod 2^64)
    expect(r.ok && r.loadAddr).toBe(0n);
  });
});
