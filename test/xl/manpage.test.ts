/**
 * The man page's own examples (test/xl/fixtures/manpage-*.cfg) and sshm's consistent
 * version of its three-VM example (examples/xl/vm*.cfg).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isSshmError } from "../../src/common/errors.js";
import type { XlDomainConfig } from "../../src/xl/index.js";
import { loadXlDomain, parseSshmSpecString, XL_CODES } from "../../src/xl/index.js";

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`fixtures/${name}`, import.meta.url)), "utf8");
const example = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../../examples/xl/${name}`, import.meta.url)), "utf8");

function loadError(text: string, file: string): { code: string; message: string } {
  try {
    loadXlDomain(text, file);
  } catch (e) {
    if (!isSshmError(e)) throw e;
    return { code: e.code, message: e.message };
  }
  throw new Error(`expected ${file} to be rejected`);
}

const UNTERMINATED =
  "lexical error: unterminated double-quoted string (a string must end on the line it starts)";

describe("man page examples, as printed", () => {
  const cases: [string, string, string][] = [
    [
      "manpage-vm1.cfg",
      XL_CODES.syntax,
      `manpage-vm1.cfg:4:16: config parsing error near \`"id=ID1,': ${UNTERMINATED}`,
    ],
    [
      "manpage-vm2.cfg",
      XL_CODES.syntax,
      `manpage-vm2.cfg:4:16: config parsing error near \`"id=ID1,': ${UNTERMINATED}`,
    ],
    [
      "manpage-vm3.cfg",
      XL_CODES.syntax,
      `manpage-vm3.cfg:4:16: config parsing error near \`"id=ID2,': ${UNTERMINATED}`,
    ],
    [
      "manpage-inline.cfg",
      XL_CODES.syntax,
      `manpage-inline.cfg:4:15: config parsing error near \`"id=ID2,': ${UNTERMINATED}`,
    ],
    [
      "manpage-vm1-joined.cfg",
      XL_CODES.sshmCachePolicy,
      "manpage-vm1-joined.cfg:3:68: static_shm[0] id=ID1: cache policy not supported on this platform",
    ],
    [
      "manpage-valid-examples.cfg",
      XL_CODES.sshmCachePolicy,
      "manpage-valid-examples.cfg:4:55: static_shm[0] id=ID1: cache policy not supported on this platform",
    ],
    [
      "manpage-examples-4-5.cfg",
      XL_CODES.sshmDuplicateId,
      "manpage-examples-4-5.cfg:5:4: static_shm[1] id=ID2: id ID2 is already used by static_shm[0] (line 4, column 4); each id may appear only once per config file",
    ],
  ];
  for (const [file, code, message] of cases) {
    it(`rejects ${file}`, () => {
      expect(loadError(fixture(file), file)).toEqual({ code, message });
    });
  }

  it("rejects all five 'valid examples' in one list even with the cache policy fixed", () => {
    const text = fixture("manpage-valid-examples.cfg").replace("x86_normal", "ARM_normal");
    expect(loadError(text, "e.cfg")).toEqual({
      code: XL_CODES.sshmDuplicateId,
      message:
        "e.cfg:5:4: static_shm[1] id=ID1: id ID1 is already used by static_shm[0] (line 4, column 4); each id may appear only once per config file",
    });
  });

  it("accepts the joined vm2 and vm3 alone (their flaws are cross-domain)", () => {
    const vm2 = loadXlDomain(fixture("manpage-vm2-joined.cfg"), "vm2");
    expect(vm2.staticShm[0]).toMatchObject({ id: "ID1", begin: 0x500000, size: 0x100000, offset: 0 });
    const vm3 = loadXlDomain(fixture("manpage-vm3-joined.cfg"), "vm3");
    // 0x10000 + 0x110000 > 0x100000 (the owner's size): libxl's "exceeds owner's address space.",
    // which the hypervisor model reports when vm3 is created after vm1.
    expect(vm3.staticShm[0]).toMatchObject({ id: "ID2", offset: 0x10000, size: 0x110000 });
  });

  it("judges each 'valid example' line on its own", () => {
    expect(() =>
      parseSshmSpecString("id=ID1, begin=0x100000, size=0x100000, role=owner, cache_policy=x86_normal"),
    ).toThrow("<sshm-spec>:1:52: static_shm[0] id=ID1: cache policy not supported on this platform");
    for (const line of [
      "id=ID1, offset = 0, begin=0x500000, size=0x100000, role=borrower, prot=rw",
      "id=ID2, begin=0x300000, size=0x100000, role=owner",
      "id=ID2, offset = 0x10000, begin=0x690000, size=0x110000, role=borrower",
    ]) {
      expect(() => parseSshmSpecString(line)).not.toThrow();
    }
  });
});

describe("examples/xl: the three-VM example made consistent", () => {
  const vm1 = loadXlDomain(example("vm1.cfg"), "vm1.cfg");
  const vm2 = loadXlDomain(example("vm2.cfg"), "vm2.cfg");
  const vm3 = loadXlDomain(example("vm3.cfg"), "vm3.cfg");

  it("loads all three", () => {
    expect(vm1.staticShm.map((s) => [s.id, s.role, s.begin, s.size, s.cachePolicy])).toEqual([
      ["ID1", "owner", 0x4fe00000, 0x100000, "ARM_normal"],
      ["ID2", "owner", 0x4ff00000, 0x100000, "ARM_normal"],
    ]);
    expect(vm2.staticShm.map((s) => [s.id, s.role, s.begin, s.size, s.offset])).toEqual([
      ["ID1", "borrower", 0x500000, 0x100000, 0],
    ]);
    expect(vm3.staticShm.map((s) => [s.id, s.role, s.begin, s.size, s.offset])).toEqual([
      ["ID2", "borrower", 0x690000, 0xf0000, 0x10000],
    ]);
  });

  // These are the cross-domain rules the hypervisor model enforces. Here they only verify that
  // the examples satisfy them.
  const inRam = (d: XlDomainConfig, begin: number, end: number): boolean =>
    d.ramBanks.some((b) => begin >= b.base && end <= b.base + b.size);
  const overlapsRam = (d: XlDomainConfig, begin: number, end: number): boolean =>
    d.ramBanks.some((b) => begin < b.base + b.size && b.base < end);

  it("puts owner regions inside the owner's RAM", () => {
    for (const s of vm1.staticShm) expect(inRam(vm1, s.begin, s.end)).toBe(true);
  });

  it("puts borrower regions outside the borrower's RAM and fits them in the owner's region", () => {
    for (const b of [vm2, vm3]) {
      for (const s of b.staticShm) {
        expect(overlapsRam(b, s.begin, s.end)).toBe(false);
        const owner = vm1.staticShm.find((o) => o.id === s.id);
        expect(owner?.role).toBe("owner");
        expect(s.offset + s.size).toBeLessThanOrEqual(owner?.size ?? 0);
      }
    }
  });

  it("keeps the man page's summary for ID2 on the vm3 side (0x690000~0x780000 = 0xF0000 bytes)", () => {
    expect(vm3.staticShm[0]?.end).toBe(0x780000);
    expect(vm1.staticShm[1]!.begin + vm3.staticShm[0]!.offset).toBe(0x4ff10000);
  });
});
