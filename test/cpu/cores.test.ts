/**
 * The core table: plain data, one row per core, every value cited. Checked here against facts
 * from outside the table: Arm's MIDR layout, the part numbers Linux lists for each core
 * (arch/arm64/include/asm/cputype.h), and the PARange encoding.
 */
import { describe, expect, it } from "vitest";
import { CORES, coreByCompatible, coreByName } from "../../src/cpu/index.js";

// Linux's ARM_CPU_PART_* values.
const PART: Record<string, number> = {
  "cortex-a35": 0xd04,
  "cortex-a53": 0xd03,
  "cortex-a55": 0xd05,
  "cortex-a57": 0xd07,
  "cortex-a65": 0xd06,
  "cortex-a72": 0xd08,
  "cortex-a73": 0xd09,
  "cortex-a75": 0xd0a,
  "cortex-a76": 0xd0b,
  "cortex-a77": 0xd0d,
  "cortex-a78": 0xd41,
  "cortex-x1": 0xd44,
  "cortex-a510": 0xd46,
  "cortex-a710": 0xd47,
  "neoverse-n1": 0xd0c,
  "neoverse-n2": 0xd49,
  "neoverse-v1": 0xd40,
};

describe("core table", () => {
  it("has every core the issue asks for, plus QEMU's max and host", () => {
    for (const name of [...Object.keys(PART), "max", "host"]) expect(coreByName(name)?.name).toBe(name);
  });

  it("Arm cores: implementer 0x41, architecture 0xf and Linux's part number in MIDR", () => {
    for (const [name, part] of Object.entries(PART)) {
      const c = coreByName(name)!;
      expect(c.midr >>> 24, name).toBe(0x41);
      expect((c.midr >>> 16) & 0xf, name).toBe(0xf);
      expect((c.midr >>> 4) & 0xfff, name).toBe(part);
      expect(c.compatible, name).toEqual([`arm,${name}`]);
    }
  });

  it("QEMU max: implementer 0, part 'Q', PARange 6 (52 bits)", () => {
    const max = coreByName("max")!;
    expect(max.midr >>> 24).toBe(0);
    expect((max.midr >>> 4) & 0xfff).toBe("Q".charCodeAt(0));
    expect(max.paRange).toBe(6);
  });

  it("PARange values are encodings 0..6 (host: unknown); every row is cited", () => {
    for (const c of CORES) {
      if (c.name === "host") expect(c.paRange).toBeNull();
      else expect(c.paRange).toBeGreaterThanOrEqual(0);
      if (c.paRange !== null) expect(c.paRange).toBeLessThanOrEqual(6);
      expect(c.cite.length, c.name).toBeGreaterThan(20);
    }
  });

  it("the values issue 11 relies on: A57 and A72 44 bits, A53 40 bits, Neoverse 48 bits", () => {
    expect(coreByName("cortex-a57")?.paRange).toBe(4);
    expect(coreByName("cortex-a72")?.paRange).toBe(4);
    expect(coreByName("cortex-a53")?.paRange).toBe(2);
    for (const n of ["neoverse-n1", "neoverse-n2", "neoverse-v1"]) expect(coreByName(n)?.paRange).toBe(5);
  });

  it("a compatible names one core; lookups accept sshm's name or the compatible", () => {
    const all = CORES.flatMap((c) => c.compatible);
    expect(new Set(all).size).toBe(all.length);
    expect(coreByCompatible(["vendor,custom", "arm,cortex-a72"])?.name).toBe("cortex-a72");
    expect(coreByCompatible(["acme,mystery-core"])).toBeUndefined();
    expect(coreByName("arm,cortex-a53")?.name).toBe("cortex-a53");
    expect(coreByName("Cortex-A53")?.name).toBe("cortex-a53");
    expect(coreByName("cortex-a99")).toBeUndefined();
  });
});
