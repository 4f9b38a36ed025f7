/** Which nodes Xen parses (depth <= 3) and which it maps (§2.1), and where ac/sc come from. */
import { describe, expect, it } from "vitest";
import { describeHost, lintStaticShm, parseStaticShm } from "../../src/dom0less/index.js";
import { domU, host, kernel, node, shm, tree } from "./build.js";

const SM = [0x5000_0000, 0x6000_0000, 0x1000];

describe("depth rules", () => {
  it("DT-33: a depth-1 node is parsed (N counts it) but never mapped", () => {
    const t = host(
      [
        domU("domU1", [shm("s1", "X", [0x5000_0000, 0x6000_0000, 0x1000])]),
        domU("domU2", [shm("s2", "X", [0x5000_0000, 0x7000_0000, 0x1000])]),
      ],
      // Root cells are 2/2 here, so the depth-1 node uses 2+2+2 cells.
      { rootChildren: [shm("top", "X", [0, 0x5000_0000, 0, 0x5000_0000, 0, 0x1000])] },
    );
    const r = parseStaticShm(t);
    expect(r.ok).toBe(true);
    expect(r.banks[0]?.nrBorrowers).toBe(3);
    expect(r.nodes.map((n) => [n.path, n.depth, n.ac, n.sc, n.mappedBy])).toEqual([
      ["/top", 1, 2, 2, undefined],
      ["/chosen/domU1/s1", 3, 1, 1, "/chosen/domU1"],
      ["/chosen/domU2/s2", 3, 1, 1, "/chosen/domU2"],
    ]);
    const w = lintStaticShm(describeHost(t), r);
    expect(w.map((x) => [x.code, x.node])).toEqual([["B6", "/top"]]);
    expect(w[0]?.message).toContain("it is a child of the root (depth 1)");
    expect(w[0]?.message).toContain("nr_shm_borrowers (now 3)");
  });

  it("DT-34: a depth-4 node is ignored completely, even when malformed", () => {
    const t = host([domU("domU1", [node("sub", {}, shm("deep", undefined, undefined))])]);
    const r = parseStaticShm(t);
    expect(r.ok).toBe(true);
    expect(r.nodes).toEqual([]);
    expect(describeHost(t).shmNodes).toEqual([]);
  });

  it("/chosen children are mapped by the classic Dom0 only when a Dom0 kernel exists", () => {
    const without = host([shm("s", "X", SM)]);
    const r1 = parseStaticShm(without);
    expect(r1.nodes[0]?.mappedBy).toBeUndefined();
    const h1 = describeHost(without);
    expect(h1.dom0).toBeUndefined();
    expect(h1.shmNodes[0]?.unmappedReason).toBe(
      "it is a /chosen child but there is no classic Dom0 (no Dom0 kernel module)",
    );
    expect(lintStaticShm(h1, r1).map((w) => w.code)).toEqual(["B6"]);

    const withDom0 = host([kernel(0xb000_0000), shm("s", "X", [0x5000_0000, 0x5000_0000, 0x1000])]);
    const r2 = parseStaticShm(withDom0);
    expect(r2.nodes[0]?.mappedBy).toBe("/chosen");
    const h2 = describeHost(withDom0);
    expect(h2.dom0?.shmNodes.map((s) => s.path)).toEqual(["/chosen/s"]);
    expect(lintStaticShm(h2, r2)).toEqual([]);
  });

  it("a kernel module under a domain node does not make a Dom0", () => {
    const t = host([domU("domU1", [kernel(0xb000_0000)]), shm("s", "X", SM)]);
    expect(describeHost(t).dom0).toBeUndefined();
    expect(describeHost(t).domUs[0]?.kernel?.start).toBe(0xb000_0000);
    expect(parseStaticShm(t).nodes[0]?.mappedBy).toBeUndefined();
  });

  it("the first unknown /chosen module is guessed to be the kernel", () => {
    const t = host([
      node("m", { compatible: "multiboot,module", reg: [0xb000_0000, 0x1000] }),
      shm("s", "X", SM),
    ]);
    expect(describeHost(t).modules[0]?.kind).toBe("kernel");
    expect(parseStaticShm(t).nodes[0]?.mappedBy).toBe("/chosen");
  });

  it("a dom0less hardware domain (capabilities) maps its own children", () => {
    const t = host([domU("hw", [shm("s", "X", SM)], { capabilities: [0x2] })]);
    const h = describeHost(t);
    expect(h.domUs[0]?.isHwdom).toBe(true);
    expect(h.domUs[0]?.shmNodes).toHaveLength(1);
    expect(parseStaticShm(t).nodes[0]?.mappedBy).toBe("/chosen/hw");
  });

  it("nodes under a non-domain /chosen child or outside /chosen are parsed but not mapped", () => {
    const t = host([node("notdomain", {}, shm("s1", "X", SM))], {
      after: [
        node("foo", { "#address-cells": [1], "#size-cells": [1] }, node("bar", {}, shm("s2", "X", SM))),
      ],
    });
    const r = parseStaticShm(t);
    expect(r.nodes.map((n) => [n.path, n.mappedBy])).toEqual([
      ["/chosen/notdomain/s1", undefined],
      ["/foo/bar/s2", undefined],
    ]);
    expect(r.banks[0]?.nrBorrowers).toBe(2);
    const reasons = describeHost(t).shmNodes.map((s) => s.unmappedReason);
    expect(reasons).toEqual([
      'its parent /chosen/notdomain is not a "xen,domain" node',
      "it is outside /chosen",
    ]);
  });

  it("ac/sc: inherited from the nearest ancestor; root default 2/1", () => {
    // No #address-cells anywhere: 2/1 from the root defaults.
    const t = tree({}, [
      node(
        "chosen",
        {},
        node(
          "domU1",
          { compatible: "xen,domain", memory: [0, 1024] },
          shm("s", "X", [0, 0x5000_0000, 0, 0x6000_0000, 0x1000]),
        ),
      ),
    ]);
    const r = parseStaticShm(t);
    expect(r.ok).toBe(true);
    expect(r.nodes[0]?.ac).toBe(2);
    expect(r.nodes[0]?.sc).toBe(1);
    expect(r.nodes[0]?.hostAddrBig).toBe(0x5000_0000n);
    // /chosen gives 1/1 and the domain node none: the domain node's children inherit 1/1.
    const t2 = tree({}, [
      node(
        "chosen",
        { "#address-cells": [1], "#size-cells": [1] },
        node("domU1", { compatible: "xen,domain", memory: [0, 1024] }, shm("s", "X", SM)),
      ),
    ]);
    expect(parseStaticShm(t2).nodes[0]?.ac).toBe(1);
  });

  it("a short #address-cells property is ignored (device_tree_get_u32 needs 4 bytes)", () => {
    const d = domU("domU1", [shm("s", "X", SM)], { "#address-cells": new Uint8Array([0, 0]) });
    expect(parseStaticShm(host([d])).nodes[0]?.ac).toBe(1);
  });
});
