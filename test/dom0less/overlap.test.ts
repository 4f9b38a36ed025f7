/**
 * Overlap of a new host-form region with reserved memory, shm banks and boot modules, in both
 * orders: Xen checks whichever is parsed second, in early_scan_node (document) order (DT-18..20).
 */
import { describe, expect, it } from "vitest";
import { describeHost, lintStaticShm, parseStaticShm } from "../../src/dom0less/index.js";
import { parseDts } from "../../src/fdt/index.js";

const RAM = `memory@10000000 { device_type = "memory"; reg = <0x0 0x10000000 0x0 0xb0000000>; };`;
const SHM_A = `shm-a { compatible = "xen,domain-shared-memory-v1"; xen,shm-id = "A"; xen,shared-mem = <0x50000000 0x60000000 0x20000000>; };`;

function dts(body: string, pre = ""): ReturnType<typeof parseDts> {
  return parseDts(
    `/dts-v1/;\n${pre}\n/ {\n#address-cells = <2>; #size-cells = <2>;\n${RAM}\n${body}\n};\n`,
    "ov.dts",
  );
}

const chosen = (inner: string, props = "") =>
  `chosen { #address-cells = <1>; #size-cells = <1>; ${props}
     domU1 { compatible = "xen,domain"; #address-cells = <1>; #size-cells = <1>; memory = <0 131072>; cpus = <1>; ${inner} };
   };`;

const RESV = `reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;
   fw@58000000 { reg = <0x0 0x58000000 0x0 0x1000>; }; };`;

describe("shm vs /memreserve/", () => {
  it("exact containment in a /memreserve/ entry is still an overlap for shm (allow = false)", () => {
    const r = parseStaticShm(dts(chosen(SHM_A), "/memreserve/ 0x50000000 0x20000000;"));
    expect(r.error).toEqual({
      rc: -22,
      node: "/chosen/domU1/shm-a",
      message:
        "Region: [0x00000050000000, 0x00000070000000) overlapping with bank[0]: [0x00000050000000, 0x00000070000000)",
      panic: "Early FDT parsing failed (-22)",
      overlap: {
        refused: { start: 0x5000_0000, size: 0x2000_0000, kind: "shm", path: "/chosen/domU1/shm-a", id: "A" },
        other: { start: 0x5000_0000, size: 0x2000_0000, kind: "reserved", path: "/memreserve/", index: 0 },
      },
      prop: "xen,shared-mem",
      note: "bank[0] is a /memreserve/ entry of the host DT",
    });
  });

  it("reserved-memory may sit exactly inside /memreserve/ (u-boot duplicates), shm may not", () => {
    const t = dts(
      `reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges; fw@50000000 { reg = <0x0 0x50000000 0x0 0x1000>; }; };`,
      "/memreserve/ 0x50000000 0x1000;",
    );
    expect(parseStaticShm(t).ok).toBe(true);
  });
});

describe("shm vs /reserved-memory", () => {
  it("reserved-memory first: the shm node fails, printing the reserved bank index", () => {
    const r = parseStaticShm(dts(`${RESV}\n${chosen(SHM_A)}`, "/memreserve/ 0x20000000 0x1000;"));
    expect(r.error?.message).toBe(
      "Region: [0x00000050000000, 0x00000070000000) overlapping with bank[1]: [0x00000058000000, 0x00000058001000)",
    );
    expect(r.error?.node).toBe("/chosen/domU1/shm-a");
    expect(r.log.slice(-2)).toEqual(["fdt: node `shm-a': parsing failed", "Early FDT parsing failed (-22)"]);
  });

  it("shm first: the reserved-memory child fails, Xen names /reserved-memory, we name the child", () => {
    const r = parseStaticShm(dts(`${chosen(SHM_A)}\n${RESV}`));
    expect(r.error).toEqual({
      rc: -22,
      node: "/reserved-memory/fw@58000000",
      message:
        "Region: [0x00000058000000, 0x00000058001000) overlapping with bank[0]: [0x00000050000000, 0x00000070000000)",
      panic: "Early FDT parsing failed (-22)",
      // bank[0] here is the shm list's, not the reserved list's: the record says which.
      overlap: {
        refused: { start: 0x5800_0000, size: 0x1000, kind: "reserved", path: "/reserved-memory/fw@58000000" },
        other: { start: 0x5000_0000, size: 0x2000_0000, kind: "shm", path: "/chosen/domU1/shm-a", index: 0 },
      },
      note: 'bank[0] is the static shared memory bank of id "A" (/chosen/domU1/shm-a)',
    });
    expect(r.log.slice(-3)).toEqual([
      "Region: [0x00000058000000, 0x00000058001000) overlapping with bank[0]: [0x00000050000000, 0x00000070000000)",
      "fdt: node `reserved-memory': parsing failed",
      "Early FDT parsing failed (-22)",
    ]);
    // The shm bank was stored before the failure.
    expect(r.banks).toHaveLength(1);
  });

  it("a reserved-memory node with #address-cells = <0>: Xen's message has no newline", () => {
    const r = parseStaticShm(
      dts(`reserved-memory { #address-cells = <0>; #size-cells = <1>; fw { reg = <0x1000>; }; };`),
    );
    expect(r.log.slice(-2)).toEqual([
      "fdt: property `reg': invalid #address-cells or #size-cells" +
        "fdt: node `reserved-memory': parsing failed",
      "Early FDT parsing failed (-22)",
    ]);
    expect(r.error?.message).toBe("fdt: property `reg': invalid #address-cells or #size-cells");
    expect(r.error?.node).toBe("/reserved-memory/fw");
  });

  it("reserved-memory children without reg (dynamic reservations) are ignored", () => {
    const r = parseStaticShm(
      dts(
        `reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges; pool { size = <0 0x1000>; }; };`,
      ),
    );
    expect(r.ok).toBe(true);
  });
});

describe("shm vs xen,static-mem and xen,static-heap", () => {
  const domU2sm = `domU2 { compatible = "xen,domain"; #address-cells = <1>; #size-cells = <1>; memory = <0 65536>; cpus = <1>;
      xen,static-mem = <0x60000000 0x4000000>; };`;

  it("static-mem of an earlier domain: the shm node fails", () => {
    const t = dts(`chosen { #address-cells = <1>; #size-cells = <1>; ${domU2sm}
       domU1 { compatible = "xen,domain"; #address-cells = <1>; #size-cells = <1>; memory = <0 131072>; ${SHM_A} }; };`);
    const r = parseStaticShm(t);
    expect(r.error?.message).toBe(
      "Region: [0x00000050000000, 0x00000070000000) overlapping with bank[0]: [0x00000060000000, 0x00000064000000)",
    );
    expect(r.error?.node).toBe("/chosen/domU1/shm-a");
  });

  it("static-mem of a later domain: that domain node fails", () => {
    const t = dts(`chosen { #address-cells = <1>; #size-cells = <1>;
       domU1 { compatible = "xen,domain"; #address-cells = <1>; #size-cells = <1>; memory = <0 131072>; ${SHM_A} };
       ${domU2sm} };`);
    const r = parseStaticShm(t);
    expect(r.error?.node).toBe("/chosen/domU2");
    expect(r.log.slice(-4)).toEqual([
      'Checking for "xen,static-mem" in domain node',
      "Region: [0x00000060000000, 0x00000064000000) overlapping with bank[0]: [0x00000050000000, 0x00000070000000)",
      "fdt: node `domU2': parsing failed",
      "Early FDT parsing failed (-22)",
    ]);
    expect(describeHost(t).reserved.map((x) => [x.kind, x.path])).toEqual([["static-mem", "/chosen/domU2"]]);
  });

  it("xen,static-heap in /chosen is parsed before /chosen's children", () => {
    const t = dts(chosen(SHM_A, "xen,static-heap = <0x0 0x68000000 0x0 0x1000000>;"));
    const r = parseStaticShm(t);
    expect(r.log[0]).toBe("Checking for static heap in /chosen");
    expect(r.error?.message).toBe(
      "Region: [0x00000050000000, 0x00000070000000) overlapping with bank[0]: [0x00000068000000, 0x00000069000000)",
    );
  });
});

describe("shm vs boot modules", () => {
  const k = `kernel@50100000 { compatible = "multiboot,kernel", "multiboot,module"; reg = <0x50100000 0x800000>; };`;

  it("module first: the shm node fails with mod[i] (mod[0] is Xen's image, mod[1] the DTB)", () => {
    const t = dts(`chosen { #address-cells = <1>; #size-cells = <1>; ${k}
       domU1 { compatible = "xen,domain"; #address-cells = <1>; #size-cells = <1>; memory = <0 131072>; ${SHM_A} }; };`);
    const r = parseStaticShm(t);
    expect(r.error?.message).toBe(
      "Region: [0x00000050000000, 0x00000070000000) overlapping with mod[2]: [0x00000050100000, 0x00000050900000)",
    );
  });

  it("the DTB's own location (module 1) takes part when given", () => {
    const r = parseStaticShm(dts(chosen(SHM_A)), { dtb: { start: 0x5fff_0000, size: 0x1_0000 } });
    expect(r.error?.message).toBe(
      "Region: [0x00000050000000, 0x00000070000000) overlapping with mod[1]: [0x0000005fff0000, 0x00000060000000)",
    );
    expect(r.error?.note).toBe(
      "mod[1] is the host device tree blob (Xen's own image is mod[0], the host DTB mod[1], then the /chosen modules in DT order)",
    );
  });

  it("Xen's own image (module 0) takes part when given: the shm node fails with mod[0]", () => {
    const r = parseStaticShm(dts(chosen(SHM_A)), { xen: { start: 0x5000_0000, size: 0x20_0000 } });
    expect(r.error?.message).toBe(
      "Region: [0x00000050000000, 0x00000070000000) overlapping with mod[0]: [0x00000050000000, 0x00000050200000)",
    );
    expect(r.error).toMatchObject({ prop: "xen,shared-mem", panic: "Early FDT parsing failed (-22)" });
  });

  it("module after the shm node: Xen prints the overlap, drops the module and does not panic", () => {
    const t = dts(`chosen { #address-cells = <1>; #size-cells = <1>;
       domU1 { compatible = "xen,domain"; #address-cells = <1>; #size-cells = <1>; memory = <0 131072>; ${SHM_A} };
       ${k} };`);
    const r = parseStaticShm(t);
    const line =
      "Region: [0x00000050100000, 0x00000050900000) overlapping with bank[0]: [0x00000050000000, 0x00000070000000)";
    expect(r.ok).toBe(true);
    expect(r.log).toEqual([
      "Checking for initrd in /chosen",
      'Checking for "xen,static-mem" in domain node',
      line,
    ]);
    expect(r.droppedModules).toEqual([{ path: "/chosen/kernel@50100000", message: line }]);
    const w = lintStaticShm(describeHost(t), r).filter((x) => x.code === "MODULE");
    expect(w).toHaveLength(1);
    expect(w[0]?.node).toBe("/chosen/kernel@50100000");
    expect(w[0]?.message).toContain("Xen silently ignores it");
  });

  it("a dropped Dom0 kernel means no classic Dom0: /chosen shm nodes are then not mapped", () => {
    const t = dts(`chosen { #address-cells = <1>; #size-cells = <1>; ${SHM_A} ${k} };`);
    const r = parseStaticShm(t);
    expect(r.ok).toBe(true);
    expect(r.nodes[0]?.mappedBy).toBeUndefined();
    // Without the overlap, the same kernel makes a Dom0 that maps the node.
    const t2 = dts(
      `chosen { #address-cells = <1>; #size-cells = <1>; ${SHM_A} kernel@b0000000 { compatible = "multiboot,kernel", "multiboot,module"; reg = <0xb0000000 0x800000>; }; };`,
    );
    expect(parseStaticShm(t2).nodes[0]?.mappedBy).toBe("/chosen");
  });

  it("a module missing reg is a direct panic", () => {
    const r = parseStaticShm(
      dts(`chosen { #address-cells = <1>; #size-cells = <1>; k { compatible = "multiboot,module"; }; };`),
    );
    expect(r.error).toEqual({
      rc: null,
      node: "/chosen/k",
      message: "node k missing `reg' property",
      panic: "node k missing `reg' property",
    });
  });
});
