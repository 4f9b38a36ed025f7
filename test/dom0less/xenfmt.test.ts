import { describe, expect, it } from "vitest";
import { fmtPaddrAlt, fmtPaddrBare } from "../../src/dom0less/index.js";

describe("printk formats", () => {
  it('"%#"PRIpaddr counts 0x in the width and drops it for 0 (Xen vsprintf number())', () => {
    expect(fmtPaddrAlt(0x6000_0000)).toBe("0x00000060000000");
    expect(fmtPaddrAlt(0n)).toBe("0000000000000000");
    expect(fmtPaddrAlt(0xffff_ffff_ffff_f000n)).toBe("0xfffffffffffff000");
  });
  it('"%"PRIpaddr is 16 bare digits', () => {
    expect(fmtPaddrBare(0x5000_0000)).toBe("0000000050000000");
  });
});
