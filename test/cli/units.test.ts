import { describe, expect, it } from "vitest";
import { parseCount, parseDuration, parseSize } from "../../src/cli/units.js";

describe("CLI units", () => {
  it("durations", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("2s")).toBe(2000);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("1m")).toBe(60_000);
    expect(parseDuration("250ms")).toBe(250);
    // A bare number has no unit: refused rather than guessed (issue 12 §9).
    for (const bare of ["2", "250", "1.5"]) expect(() => parseDuration(bare)).toThrow(/has no unit/);
    for (const bad of ["", "2 fortnights", "-1s", "0s", "s", "1.s"])
      expect(() => parseDuration(bad)).toThrow(RangeError);
  });

  it("sizes are binary", () => {
    expect(parseSize("64")).toBe(64);
    expect(parseSize("4k")).toBe(4096);
    expect(parseSize("4K")).toBe(4096);
    expect(parseSize("64KiB")).toBe(65536);
    expect(parseSize("64kb")).toBe(65536);
    expect(parseSize("1M")).toBe(2 ** 20);
    expect(parseSize("0x1000")).toBe(4096);
    expect(parseSize("512B")).toBe(512);
    for (const bad of ["", "4x", "0", "0.5", "1.5", "k", "-4k"])
      expect(() => parseSize(bad)).toThrow(RangeError);
  });

  it("counts", () => {
    expect(parseCount("10000")).toBe(10000);
    for (const bad of ["0", "-3", "1e3", "2.5", "ten"]) expect(() => parseCount(bad)).toThrow(RangeError);
  });
});
