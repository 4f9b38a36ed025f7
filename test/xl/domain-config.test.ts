import { describe, expect, it } from "vitest";
import { isSshmError } from "../../src/common/errors.js";
import {
  GUEST_RAM0_BASE,
  GUEST_RAM1_BASE,
  guestRamBanks,
  loadXlDomain,
  strtolBase0,
  XL_CODES,
} from "../../src/xl/index.js";

const MIB = 1024 * 1024;

function loadError(text: string): { code: string; message: string } {
  try {
    loadXlDomain(text, "d.cfg");
  } catch (e) {
    if (!isSshmError(e)) throw e;
    return { code: e.code, message: e.message };
  }
  throw new Error(`expected an error for ${JSON.stringify(text)}`);
}

describe("xl domain settings", () => {
  it("applies xl/libxl defaults: memory 32 MiB, maxmem = memory, 1 vcpu, PVH", () => {
    const d = loadXlDomain('name = "vm"\n', "d.cfg");
    expect(d).toMatchObject({
      file: "d.cfg",
      name: "vm",
      memoryMiB: 32,
      maxmemMiB: 32,
      vcpus: 1,
      type: "pvh",
      requestedType: undefined,
      staticShm: [],
      warnings: [],
    });
    expect(d.ramBanks).toEqual([{ base: GUEST_RAM0_BASE, size: 32 * MIB }]);
    expect(d.locs).toEqual({ name: { file: "d.cfg", line: 1, column: 8 } });
  });

  it("reads name, memory, maxmem, vcpus and type with their locations", () => {
    const d = loadXlDomain('name = "vm1"\nmemory = 256\nmaxmem = 512\nvcpus = 2\ntype = "pvh"\n', "d.cfg");
    expect(d).toMatchObject({ name: "vm1", memoryMiB: 256, maxmemMiB: 512, vcpus: 2, requestedType: "pvh" });
    expect(d.ramBanks).toEqual([{ base: 0x40000000, size: 0x10000000 }]);
    expect(d.locs.memory).toEqual({ file: "d.cfg", line: 2, column: 10 });
    expect(d.locs.vcpus?.line).toBe(4);
  });

  it("keeps settings sshm does not interpret", () => {
    const d = loadXlDomain('name = "vm"\nkernel = "/boot/Image"\nextra = "console=hvc0"\n', "d.cfg");
    expect(d.config.settings.get("kernel")?.value).toMatchObject({ kind: "atom", text: "/boot/Image" });
  });

  it("splits RAM over the two Arm guest RAM banks", () => {
    expect(loadXlDomain('name = "vm"\nmemory = 4096\n', "d.cfg").ramBanks).toEqual([
      { base: 0x40000000, size: 0xc0000000 },
      { base: GUEST_RAM1_BASE, size: 0x40000000 },
    ]);
    expect(guestRamBanks(0)).toEqual([]);
    expect(guestRamBanks(0xc0000000)).toEqual([{ base: 0x40000000, size: 0xc0000000 }]);
  });

  it("reads numbers with strtol base 0 like xl: quoted, hex, octal", () => {
    const mem = (v: string): number => loadXlDomain(`name = "vm"\nmemory = ${v}\n`, "d.cfg").memoryMiB;
    expect(mem('"256"')).toBe(256);
    expect(mem("0x100")).toBe(256);
    expect(mem("0400")).toBe(256);
    expect(mem('" 256"')).toBe(256);
  });

  it("implements strtol base 0 with libxlu's whole-string check", () => {
    expect(strtolBase0("42")).toEqual({ kind: "ok", value: 42n });
    expect(strtolBase0("-0x10")).toEqual({ kind: "ok", value: -16n });
    expect(strtolBase0("010")).toEqual({ kind: "ok", value: 8n });
    expect(strtolBase0("0")).toEqual({ kind: "ok", value: 0n });
    expect(strtolBase0("0x")).toEqual({ kind: "invalid" });
    expect(strtolBase0("08")).toEqual({ kind: "invalid" });
    expect(strtolBase0("")).toEqual({ kind: "invalid" });
    expect(strtolBase0("12abc")).toEqual({ kind: "invalid" });
    expect(strtolBase0("9223372036854775807")).toEqual({ kind: "ok", value: 9223372036854775807n });
    expect(strtolBase0("9223372036854775808")).toEqual({ kind: "range" });
    expect(strtolBase0("99999999999999999999x")).toEqual({ kind: "range" });
  });

  it("converts a PV guest to PVH with libxl's three warnings", () => {
    const d = loadXlDomain('name = "vm"\ntype = "pv"\n', "d.cfg");
    expect(d.type).toBe("pvh");
    expect(d.requestedType).toBe("pv");
    expect(d.warnings.map((w) => w.message)).toEqual([
      "Converting PV guest to PVH.",
      "Arm guest are now PVH.",
      "Please fix your configuration file/toolstack.",
    ]);
    expect(d.warnings[0]?.loc).toEqual({ file: "d.cfg", line: 2, column: 8 });
  });

  it("matches type as a prefix the way xl's strncmp does", () => {
    expect(loadXlDomain('name = "vm"\ntype = "p"\n', "d.cfg").requestedType).toBe("pv");
    expect(loadXlDomain('name = "vm"\ntype = "pvh"\n', "d.cfg").requestedType).toBe("pvh");
  });
});

describe("xl domain settings: errors", () => {
  const cases: [string, string, string, string][] = [
    ["name missing", "memory = 128\n", XL_CODES.missing, "d.cfg:1:1: Domain name must be specified."],
    [
      "name as a list",
      'name = [ "vm" ]\n',
      XL_CODES.value,
      "d.cfg:1:8: parameter `name' is a list but should be a single value",
    ],
    ["name empty", 'name = ""\n', XL_CODES.value, "d.cfg:1:8: parameter `name' must not be empty"],
    [
      "memory not a number",
      'name = "vm"\nmemory = "lots"\n',
      XL_CODES.value,
      "d.cfg:2:10: parameter `memory' is not a valid number",
    ],
    [
      "memory with a bad octal digit",
      'name = "vm"\nmemory = 09\n',
      XL_CODES.value,
      "d.cfg:2:10: parameter `memory' is not a valid number",
    ],
    [
      "memory beyond a C long",
      'name = "vm"\nmemory = 99999999999999999999\n',
      XL_CODES.value,
      "d.cfg:2:10: parameter `memory' could not be parsed as a number: Numerical result out of range",
    ],
    [
      "memory as a list",
      'name = "vm"\nmemory = [ 128 ]\n',
      XL_CODES.value,
      "d.cfg:2:10: parameter `memory' is a list but should be a single value",
    ],
    [
      "memory built with +=",
      'name = "vm"\nmemory = 1\nmemory += "28"\n',
      XL_CODES.value,
      "d.cfg:3:1: can't use += with numbers for parameter `memory'",
    ],
    ["memory zero", 'name = "vm"\nmemory = 0\n', XL_CODES.memory, "d.cfg:2:10: ram size is 0 (memory = 0)"],
    [
      "memory negative",
      'name = "vm"\nmemory = "-1"\n',
      XL_CODES.memory,
      "d.cfg:2:10: memory must be a positive number of MiB, not -1",
    ],
    [
      "memory beyond the guest RAM banks",
      'name = "vm"\nmemory = 2000000\n',
      XL_CODES.memory,
      "d.cfg:2:10: ram size is too large for guest address space: 1e848000000 > fec0000000 (memory = 2000000 MiB)",
    ],
    [
      "maxmem below memory",
      'name = "vm"\nmemory = 256\nmaxmem = 128\n',
      XL_CODES.memory,
      "d.cfg:3:10: maxmem (128 MiB) is less than memory (256 MiB)",
    ],
    ["vcpus zero", 'name = "vm"\nvcpus = 0\n', XL_CODES.value, "d.cfg:2:9: vcpus must be at least 1, not 0"],
    ["type hvm", 'name = "vm"\ntype = "hvm"\n', XL_CODES.type, "d.cfg:2:8: Unsupported Arm guest type hvm"],
    [
      "type empty (xl's prefix match takes it as hvm)",
      'name = "vm"\ntype = ""\n',
      XL_CODES.type,
      "d.cfg:2:8: Unsupported Arm guest type hvm",
    ],
    ["type unknown", 'name = "vm"\ntype = "xen"\n', XL_CODES.type, "d.cfg:2:8: Invalid domain type xen."],
    ["type too long", 'name = "vm"\ntype = "pvhx"\n', XL_CODES.type, "d.cfg:2:8: Invalid domain type pvhx."],
  ];
  for (const [what, text, code, message] of cases) {
    it(what, () => {
      expect(loadError(text)).toEqual({ code, message });
    });
  }

  it("checks the file's syntax before any setting", () => {
    expect(loadError("memory = = 1\n").code).toBe(XL_CODES.syntax);
  });
});
