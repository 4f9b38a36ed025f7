/** The rest of early_scan_node that shares the parse with static shm: memory nodes, initrd. */
import { describe, expect, it } from "vitest";
import { parseStaticShm } from "../../src/dom0less/index.js";
import { host, node, tree } from "./build.js";

describe("early scan around static shm", () => {
  it("a memory node without reg makes the parse fail with -ENOENT", () => {
    const r = parseStaticShm(tree({}, [node("memory@0", { device_type: "memory" })]));
    expect(r.error).toEqual({
      rc: -2,
      node: "/memory@0",
      message: "",
      panic: "Early FDT parsing failed (-2)",
    });
    expect(r.log).toEqual(["fdt: node `memory@0': parsing failed", "Early FDT parsing failed (-2)"]);
  });

  it("the /chosen initrd becomes a ramdisk module that shm regions must not overlap", () => {
    const t = host([], {
      chosenProps: { "linux,initrd-start": [0x5000_0000], "linux,initrd-end": [0x5010_0000] },
      after: [
        node("shm", {
          compatible: "xen,domain-shared-memory-v1",
          "xen,shm-id": "X",
          "xen,shared-mem": [0, 0x5000_0000, 0, 0x5000_0000, 0, 0x1000],
        }),
      ],
    });
    const r = parseStaticShm(t);
    expect(r.log).toEqual([
      "Checking for initrd in /chosen",
      "Initrd 0000000050000000-00000000500fffff",
      "Region: [0x00000050000000, 0x00000050001000) overlapping with mod[2]: [0x00000050000000, 0x00000050100000)",
      "fdt: node `shm': parsing failed",
      "Early FDT parsing failed (-22)",
    ]);
  });

  it("initrd errors", () => {
    const r = parseStaticShm(host([], { chosenProps: { "linux,initrd-start": [0x5000_0000] } }));
    expect(r.error?.message).toBe("linux,initrd-end not present but -start was");
    const r2 = parseStaticShm(
      host([], { chosenProps: { "linux,initrd-start": [0x5000_0000], "linux,initrd-end": [0x4000_0000] } }),
    );
    expect(r2.error?.message).toBe("linux,initrd limits invalid: 0000000050000000 >= 0000000040000000");
  });
});
