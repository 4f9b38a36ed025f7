import { describe, expect, it } from "vitest";
import { HostMemory, Machine, RamMap } from "../../src/pagealloc/index.js";

describe("host physical memory", () => {
  it("is little-endian, with u8/u16/u32 and u64 as two halves", () => {
    const mem = new HostMemory([{ base: 0x4000_0000, size: 0x10000 }]);
    mem.write32(0x4000_0000, 0x11223344);
    expect(mem.read8(0x4000_0000)).toBe(0x44);
    expect(mem.read16(0x4000_0002)).toBe(0x1122);
    mem.write64(0x4000_0008, 0xdeadbeef, 0x01020304);
    const out = [0, 0];
    mem.read64(0x4000_0008, out);
    expect(out).toEqual([0xdeadbeef, 0x01020304]);
    expect(mem.read32(0x4000_000c)).toBe(0x01020304);
    // unaligned
    expect(mem.read32(0x4000_0001)).toBe(0x00112233);
  });

  it("names the address when an access falls outside RAM", () => {
    const mem = new HostMemory([{ base: 0x4000_0000, size: 0x10000 }]);
    expect(() => mem.read32(0x4001_0000)).toThrowError(
      "host physical access at 0x0000000040010000 (4 bytes) is outside RAM",
    );
    expect(() => mem.read32(0x4000_fffe)).toThrowError(/0x000000004000fffe \(4 bytes\) is outside RAM/);
    expect(() => mem.write8(0x1000, 1)).toThrowError(/0x0000000000001000 \(1 byte\)/);
  });

  it("copies byte ranges across 1 GiB windows and across banks' holes it refuses", () => {
    const mem = new HostMemory([{ base: 0x3fff_f000, size: 0x2000 }]); // straddles a window edge
    const src = new Uint8Array(0x1800).map((_, i) => i & 0xff);
    mem.writeBytes(0x3fff_f400, src);
    expect(mem.readBytes(0x3fff_f400, 0x1800)).toEqual(src);
    expect(mem.read8(0x4000_0000)).toBe(0xc00 & 0xff);
    const holes = new HostMemory([
      { base: 0x4000_0000, size: 0x1000 },
      { base: 0x4000_2000, size: 0x1000 },
    ]);
    expect(() => holes.readBytes(0x4000_0800, 0x1000)).toThrowError(/0x0000000040001000 .* outside RAM/);
  });

  it("costs nothing until touched: a 64 GiB host allocates buffers only for windows used", () => {
    const mem = new HostMemory([{ base: 0x8_0000_0000, size: 64 * 2 ** 30 }]);
    expect(mem.share().buffers.filter((b) => b !== null)).toHaveLength(0);
    mem.write32(0x8_0000_0000 + 5 * 2 ** 30, 7);
    expect(mem.share().buffers.filter((b) => b !== null)).toHaveLength(1);
    expect(mem.read32(0x8_0000_0000 + 5 * 2 ** 30)).toBe(7);
  });

  it("shares the same bytes with an attached view (what a worker gets)", () => {
    const mem = new HostMemory([{ base: 0x4000_0000, size: 0x10000 }]);
    mem.touch(0x4000_0000, 0x10000);
    const other = HostMemory.attach(mem.share());
    other.write32(0x4000_0100, 42);
    expect(mem.read32(0x4000_0100)).toBe(42);
  });

  it("rejects malformed RAM layouts with the bank named", () => {
    expect(() => new RamMap([{ base: 0x4000_0800, size: 0x1000 }])).toThrowError(/multiples of 4 KiB/);
    expect(
      () =>
        new RamMap([
          { base: 0x4000_0000, size: 0x2000 },
          { base: 0x4000_1000, size: 0x1000 },
        ]),
    ).toThrowError(/overlaps RAM bank \[0x0000000040000000/);
    expect(() => new RamMap([{ base: 2 ** 48 - 0x1000, size: 0x2000 }])).toThrowError(/48-bit/);
    expect(() => new RamMap([])).toThrowError(/no RAM banks/);
  });

  it("a 48-bit host with several banks maps frames to a dense index", () => {
    const m = new Machine([
      { base: 0x4000_0000, size: 0x10_0000 },
      { base: 0x8000_0000_0000, size: 0x10_0000 },
    ]);
    expect(m.ram.totalFrames).toBe(512);
    expect(m.ram.mfnToPdx(0x8000_0000_0000 / 4096)).toBe(256);
    expect(m.ram.mfnValid(0x50000)).toBe(false);
    m.mem.write32(0x8000_0000_0ffc, 0xabcdef01);
    expect(m.mem.read32(0x8000_0000_0ffc)).toBe(0xabcdef01);
  });
});
