/** The heuristics behind IGNORED and UNSHARED, case by case (the fixtures show the full text). */
import { describe, expect, it } from "vitest";
import { describeHost, lintStaticShm, parseStaticShm } from "../../src/dom0less/index.js";
import {
  editDistance,
  isNearPropName,
  isNearShmCompatible,
  nearShmProp,
} from "../../src/dom0less/near-miss.js";
import type { FdtTree } from "../../src/fdt/tree.js";
import { domU, host, kernel, node, SHM, shm } from "../dom0less/build.js";

function lint(t: FdtTree) {
  const r = parseStaticShm(t);
  expect(r.ok).toBe(true);
  return lintStaticShm(describeHost(t), r);
}

const codes = (t: FdtTree) => lint(t).map((w) => [w.code, w.node]);

describe("near misses", () => {
  it("edit distance counts insertions, deletions, substitutions and adjacent swaps", () => {
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("role", "role")).toBe(0);
    expect(editDistance("roel", "role")).toBe(1);
    expect(editDistance("xen,domain-shared-mem-v1", SHM)).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  it("compatibles close to the binding, and ones that are not", () => {
    for (const s of [
      "xen,domain-shared-mem-v1",
      "xen,domain-shared-memory",
      "xen,domain-shared-memory-v2",
      "xen,shared-memory-v1",
      "xen,domain-shm-v1",
      "xen,shmem",
    ])
      expect([s, isNearShmCompatible(s)]).toEqual([s, true]);
    for (const s of [
      SHM,
      "XEN,Domain-Shared-Memory-V1",
      "xen,domain",
      "multiboot,module",
      "xen,evtchn-v1",
      "xen,vcpu",
    ])
      expect([s, isNearShmCompatible(s)]).toEqual([s, false]);
  });

  it("property names: normalised, prefix-less or within distance 2 (1 under 8 characters)", () => {
    expect(nearShmProp("xen,shm_id")).toBe("xen,shm-id");
    expect(nearShmProp("shm-id")).toBe("xen,shm-id");
    expect(nearShmProp("xen,shared_mem")).toBe("xen,shared-mem");
    expect(nearShmProp("xen,shared-memory")).toBeUndefined();
    expect(nearShmProp("xen,sharedmem")).toBe("xen,shared-mem");
    expect(nearShmProp("Role")).toBe("role");
    expect(nearShmProp("xen,role")).toBe("role");
    expect(nearShmProp("roel")).toBe("role");
    expect(nearShmProp("reg")).toBeUndefined();
    expect(nearShmProp("rle")).toBe("role");
    expect(nearShmProp("core")).toBeUndefined();
    expect(isNearPropName("xen,shm-id", "xen,shm-id")).toBe(false);
  });
});

describe("IGNORED", () => {
  it("a /chosen child without the binding's compatible, and no Dom0: no domain to move it to", () => {
    const t = host([
      node("ring", {
        compatible: "xen,domain-shared-mem-v1",
        "xen,shm-id": "r",
        "xen,shared-mem": [0x5000_0000, 0x1000],
      }),
    ]);
    const w = lint(t);
    expect(w.map((x) => [x.code, x.node])).toEqual([["IGNORED", "/chosen/ring"]]);
    expect(w[0]?.message).toContain("there is no classic Dom0 (no Dom0 kernel module)");
    expect(w[0]?.message).toContain(
      'no domain maps anything from it and no region "r" exists; nearest valid form: a direct child of a "xen,domain" node under /chosen with compatible = "xen,domain-shared-memory-v1"',
    );
  });

  it("under a /chosen child that looks like a domain node but is not compatible xen,domain", () => {
    const t = host([
      node("domU9", { compatible: "xen,domian", memory: [0, 65536] }, node("s", { "xen,shm-id": "r" })),
    ]);
    const w = lint(t);
    expect(w.map((x) => x.code)).toEqual(["IGNORED"]);
    expect(w[0]?.message).toContain(
      '/chosen/domU9 looks like a domain node but is not compatible "xen,domain"',
    );
  });

  it("a slip in a property name is a sign, and the fix names it", () => {
    const t = host([
      domU("domU1", [
        node("s", {
          compatible: "xen,shared-memory-v1",
          "xen,shm_id": "r",
          "xen,shared-mem": [0x5000_0000, 0x1000],
        }),
      ]),
    ]);
    const w = lint(t);
    expect(w[0]?.message).toContain('(compatible "xen,shared-memory-v1", xen,shm_id, xen,shared-mem)');
    expect(w[0]?.message).toContain(
      'nearest valid form: /chosen/domU1/s with compatible = "xen,domain-shared-memory-v1" and xen,shm-id instead of xen,shm_id',
    );
  });

  it("Dom0: a node one level down inside a non-domain /chosen child moves up to /chosen", () => {
    const t = host([
      kernel(0xb000_0000),
      node("group", {}, node("s", { compatible: "xen,shm", "xen,shm-id": "r" })),
    ]);
    const w = lint(t);
    expect(w.map((x) => x.code)).toEqual(["IGNORED"]);
    expect(w[0]?.message).toContain(
      "its parent /chosen/group is not a domain node, and Dom0 maps only direct children of /chosen",
    );
    expect(w[0]?.message).toContain(
      "nearest valid form: /chosen/s, a direct child of /chosen (Dom0) with compatible",
    );
  });

  it("leaves alone: processed nodes, boot modules, plain nodes, and anything outside /chosen", () => {
    const t = host(
      [
        domU("domU1", [
          shm("a", "X", [0x5000_0000, 0x6000_0000, 0x1000]),
          node("vcpu0", { compatible: "xen,vcpu", id: [0] }),
        ]),
        domU("domU2", [shm("b", "X", [0x5000_0000, 0x7000_0000, 0x1000])]),
      ],
      { rootChildren: [node("other", { compatible: "xen,domain-shared-mem-v1", "xen,shm-id": "X" })] },
    );
    expect(codes(t)).toEqual([]);
  });
});

describe("UNSHARED", () => {
  it("one warning per region, naming every domain that meant to share it", () => {
    const bad = (name: string) => node(name, { compatible: "xen,domain-shared-mem-v1", "xen,shm-id": "X" });
    const t = host([
      domU("domU1", [shm("a", "X", [0x5000_0000, 0x6000_0000, 0x1000], "owner")]),
      domU("domU2", [bad("b")]),
      domU("domU3", [bad("c")]),
    ]);
    const w = lint(t).filter((x) => x.code === "UNSHARED");
    expect(w.map((x) => x.node)).toEqual(["/chosen/domU1/a"]);
    expect(w[0]?.message).toContain(
      "mapped by domU1 only, but domU2 and domU3 look like they meant to share it",
    );
  });

  it("a domain that already maps the region is not missing it", () => {
    const t = host([
      domU("domU1", [shm("a", "X", [0x5000_0000, 0x6000_0000, 0x1000]), node("old", { "xen,shm-id": "X" })]),
      domU("domU2", [shm("b", "X", [0x5000_0000, 0x7000_0000, 0x1000])]),
    ]);
    expect(codes(t)).toEqual([["IGNORED", "/chosen/domU1/old"]]);
  });

  it("ids that differ only in '_' for '-' are two regions", () => {
    const t = host([
      domU("domU1", [shm("a", "my_ring", [0x6000_0000, 0x1000])]),
      domU("domU2", [shm("b", "my-ring", [0x7000_0000, 0x1000])]),
    ]);
    expect(codes(t)).toEqual([["UNSHARED", "/chosen/domU2/b"]]);
  });
});
