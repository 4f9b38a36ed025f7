/** describeHost: a strict structured view; malformed properties are SshmErrors naming file, node, key, rule. */
import { describe, expect, it } from "vitest";
import { isSshmError } from "../../src/common/errors.js";
import { describeHost } from "../../src/dom0less/index.js";
import { parseDts } from "../../src/fdt/index.js";
import { domU, host, kernel, node, shm, tree } from "./build.js";

function err(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isSshmError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("no error");
}

describe("describeHost", () => {
  it("collects RAM, reserved regions of every kind, modules and domains", () => {
    const t = parseDts(
      `/dts-v1/;
/memreserve/ 0x20000000 0x1000;
/ {
  #address-cells = <2>; #size-cells = <2>;
  memory@10000000 { device_type = "memory"; reg = <0x0 0x10000000 0x0 0x40000000 0x1 0x0 0x0 0x0>; };
  memory@80000000 { device_type = "memory"; reg = <0x0 0x80000000 0x0 0x40000000>; status = "disabled"; };
  reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;
    fw@30000000 { reg = <0x0 0x30000000 0x0 0x100000>; };
    off@31000000 { reg = <0x0 0x31000000 0x0 0x100000>; status = "disabled"; };
  };
  chosen { #address-cells = <1>; #size-cells = <1>;
    xen,static-heap = <0x0 0x38000000 0x0 0x1000000>;
    k { compatible = "multiboot,kernel", "multiboot,module"; reg = <0x3a000000 0x100000>; };
    r { compatible = "multiboot,ramdisk", "multiboot,module"; reg = <0x3b000000 0x100000>; };
    d1 { compatible = "xen,domain"; #address-cells = <1>; #size-cells = <1>; memory = <0x20000>; cpus = <2>;
      direct-map; xen,static-mem = <0x40000000 0x8000000>;
      k { compatible = "multiboot,kernel", "multiboot,module"; reg = <0x3c000000 0x100000>; };
      dt { compatible = "multiboot,device-tree", "multiboot,module"; reg = <0x3d000000 0x1000>; };
    };
  };
};`,
      "h.dts",
    );
    const h = describeHost(t);
    expect(h.rootAddressCells).toBe(2);
    expect(h.rootSizeCells).toBe(2);
    expect(h.ramBanks.map((b) => [b.start, b.size])).toEqual([[0x1000_0000, 0x4000_0000]]);
    expect(h.reserved.map((r) => [r.kind, r.start, r.size, r.path])).toEqual([
      ["memreserve", 0x2000_0000, 0x1000, "/memreserve/"],
      ["reserved-memory", 0x3000_0000, 0x10_0000, "/reserved-memory/fw@30000000"],
      ["static-heap", 0x3800_0000, 0x100_0000, "/chosen"],
      ["static-mem", 0x4000_0000, 0x800_0000, "/chosen/d1"],
    ]);
    expect(h.modules.map((m) => [m.kind, m.path, m.owner, m.domU])).toEqual([
      ["kernel", "/chosen/k", undefined, false],
      ["ramdisk", "/chosen/r", undefined, false],
      ["kernel", "/chosen/d1/k", "/chosen/d1", true],
      ["device-tree", "/chosen/d1/dt", "/chosen/d1", true],
    ]);
    expect(h.dom0?.kernel?.path).toBe("/chosen/k");
    expect(h.dom0?.ramdisk?.path).toBe("/chosen/r");
    const d1 = h.domUs[0];
    expect(d1?.memoryKiB).toBe(0x20000);
    expect(d1?.directMap).toBe(true);
    expect(d1?.staticMem.map((r) => [r.start, r.size])).toEqual([[0x4000_0000, 0x800_0000]]);
    expect(d1?.dtb?.path).toBe("/chosen/d1/dt");
    expect(d1?.isDom0).toBe(false);
  });

  it("memory of 1 or 2 cells", () => {
    const h = describeHost(host([domU("a", [], { memory: [0x1_0000] }), domU("b", [], { memory: [1, 0] })]));
    expect(h.domUs.map((d) => d.memoryKiB)).toEqual([0x1_0000, 0x1_0000_0000]);
  });

  it("rejects a missing or malformed memory property", () => {
    const d = node("domU1", { compatible: "xen,domain", cpus: [1] });
    expect(err(() => describeHost(host([d])))).toEqual({
      code: "EDOM0LESS_MISSING",
      message:
        'host.dts, node /chosen/domU1, key memory: missing: a "xen,domain" node must give its memory size in KiB',
    });
    expect(err(() => describeHost(host([domU("domU1", [], { memory: [0, 0, 1] })]))).message).toBe(
      "host.dts, node /chosen/domU1, key memory: must be 1 or 2 cells (KiB), but is 12 bytes",
    );
  });

  it("reads direct-map and vpl011 by presence, as dt_property_read_bool does (<1> counts as set)", () => {
    const h = describeHost(host([domU("d", [], { "direct-map": [1], vpl011: [1] })]));
    expect(h.domUs.find((d) => d.name === "d")).toMatchObject({ directMap: true, vpl011: true });
  });

  it("rejects a bad cpus, a bad static-mem", () => {
    expect(err(() => describeHost(host([domU("d", [], { cpus: [0, 1] })]))).message).toBe(
      "host.dts, node /chosen/d, key cpus: must be one 32-bit cell, but is 8 bytes",
    );
    expect(err(() => describeHost(host([domU("d", [], { "xen,static-mem": [0x4000_0000] })]))).message).toBe(
      "host.dts, node /chosen/d, key xen,static-mem: property is 4 bytes, not a non-zero whole number of (address, size) pairs of 1+1 cells (8 bytes each)",
    );
  });

  it("rejects a memory reg that is not whole pairs, and zero cells", () => {
    const bad = tree({ "#address-cells": [2], "#size-cells": [2] }, [
      node("memory@0", { device_type: "memory", reg: [0, 0x1000_0000, 0] }),
    ]);
    expect(err(() => describeHost(bad)).code).toBe("EDOM0LESS_REG");
    const zero = tree({ "#address-cells": [0], "#size-cells": [1] }, [
      node("memory@0", { device_type: "memory", reg: [0x1000] }),
    ]);
    expect(err(() => describeHost(zero))).toEqual({
      code: "EDOM0LESS_CELLS",
      message:
        "host.dts, node /memory@0, key reg: invalid #address-cells (0) or #size-cells (1) for this property: both must be at least 1",
    });
  });

  it("rejects a module without reg or with a short reg", () => {
    expect(err(() => describeHost(host([node("k", { compatible: "multiboot,module" })]))).code).toBe(
      "EDOM0LESS_MISSING",
    );
    expect(
      err(() => describeHost(host([node("k", { compatible: "multiboot,module", reg: [0x1000] })]))).message,
    ).toBe(
      "host.dts, node /chosen/k, key reg: property is 4 bytes, shorter than one (address, size) pair of 1+1 cells (8 bytes)",
    );
  });

  it("gives DTS line and column when the tree came from DTS", () => {
    const t = parseDts(
      `/dts-v1/;\n/ { chosen { d { compatible = "xen,domain";\n memory = <1 2 3>; }; }; };`,
      "x.dts",
    );
    expect(err(() => describeHost(t)).message).toBe(
      "x.dts:3:2, node /chosen/d, key memory: must be 1 or 2 cells (KiB), but is 12 bytes",
    );
  });

  it("lists shm nodes at depth <= 3 without validating them (that is Xen's parse)", () => {
    const h = describeHost(
      host([kernel(0xb000_0000), shm("bad", undefined, undefined), domU("d", [shm("s", "X", [1])])]),
    );
    expect(h.shmNodes.map((s) => [s.path, s.mappedBy])).toEqual([
      ["/chosen/bad", "/chosen"],
      ["/chosen/d/s", "/chosen/d"],
    ]);
  });
});
