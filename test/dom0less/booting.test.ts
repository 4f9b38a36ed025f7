/** The booting.txt static-shm example (DT-4): host description, bank table, placement, boot log. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { describeHost, lintStaticShm, parseStaticShm } from "../../src/dom0less/index.js";
import { parseDts } from "../../src/fdt/index.js";

const file = new URL("./fixtures/booting.dts", import.meta.url);
const tree = parseDts(readFileSync(file, "utf8"), "booting.dts");

describe("booting.txt example (DT-4)", () => {
  const host = describeHost(tree);
  const r = parseStaticShm(tree);

  it("describes the host", () => {
    expect(host.source).toBe("booting.dts");
    expect(host.ramBanks.map((b) => [b.start, b.size])).toEqual([[0x1000_0000, 0xb000_0000]]);
    expect(host.reserved).toEqual([]);
    expect(host.modules.map((m) => [m.kind, m.start, m.owner])).toEqual([
      ["kernel", 0xb000_0000, undefined],
      ["kernel", 0xb100_0000, "/chosen/domU1"],
      ["kernel", 0xb200_0000, "/chosen/domU2"],
    ]);
    expect(host.dom0?.isDom0).toBe(true);
    expect(host.dom0?.directMap).toBe(true);
    expect(host.dom0?.shmNodes.map((s) => s.path)).toEqual(["/chosen/dom0-shared-mem@10000000"]);
    expect(host.domUs.map((d) => [d.name, d.memoryKiB, d.cpus, d.vpl011, d.directMap])).toEqual([
      ["domU1", 131072, 2, true, false],
      ["domU2", 65536, 1, false, false],
    ]);
    expect(host.domUs[0]?.kernel?.start).toBe(0xb100_0000);
    expect(host.domUs[0]?.shmNodes.map((s) => s.node.name)).toEqual([
      "domU1-shared-mem@10000000",
      "domU1-shared-mem@50000000",
      "domU1-shared-mem-2",
    ]);
    expect(host.domUs[1]?.shmNodes.map((s) => s.node.name)).toEqual([
      "domU2-shared-mem@50000000",
      "domU2-shared-mem-2",
    ]);
    expect(host.shmNodes).toHaveLength(6);
    expect(host.shmNodes.every((s) => s.ac === 1 && s.sc === 1)).toBe(true);
  });

  it("parses to one bank per id with N = borrower nodes", () => {
    expect(r.ok).toBe(true);
    expect(r.banks.map((b) => ({ id: b.id, start: b.startBig, size: b.size, n: b.nrBorrowers }))).toEqual([
      { id: "my-shared-mem-0", start: 0x1000_0000n, size: 0x1000_0000, n: 1 },
      { id: "my-shared-mem-1", start: 0x5000_0000n, size: 0x2000_0000, n: 2 },
      { id: "my-shared-mem-2", start: null, size: 0x2000_0000, n: 1 },
    ]);
  });

  it("records each node with its form, role, guest address and mapping domain", () => {
    expect(r.nodes.map((n) => [n.name, n.id, n.role, n.form, n.guestAddr, n.bankIndex, n.mappedBy])).toEqual([
      ["dom0-shared-mem@10000000", "my-shared-mem-0", "owner", "host", 0x1000_0000, 0, "/chosen"],
      ["domU1-shared-mem@10000000", "my-shared-mem-0", "borrower", "host", 0x5000_0000, 0, "/chosen/domU1"],
      ["domU1-shared-mem@50000000", "my-shared-mem-1", undefined, "host", 0x6000_0000, 1, "/chosen/domU1"],
      ["domU1-shared-mem-2", "my-shared-mem-2", "owner", "heap", 0x8000_0000, 2, "/chosen/domU1"],
      ["domU2-shared-mem@50000000", "my-shared-mem-1", undefined, "host", 0x7000_0000, 1, "/chosen/domU2"],
      ["domU2-shared-mem-2", "my-shared-mem-2", "borrower", "heap", 0x9000_0000, 2, "/chosen/domU2"],
    ]);
    expect(r.nodes[0]?.loc?.file).toBe("booting.dts");
  });

  it("prints Xen's scan lines and the SHMEM boot lines (heap bank leaves no line)", () => {
    expect(r.log).toEqual([
      "Checking for initrd in /chosen",
      'Checking for "xen,static-mem" in domain node',
      'Checking for "xen,static-mem" in domain node',
    ]);
    expect(r.bootLog).toEqual([
      " SHMEM[0]: 0000000010000000 - 000000001fffffff",
      " SHMEM[1]: 0000000050000000 - 000000006fffffff",
    ]);
  });

  it("has nothing to warn about", () => {
    expect(lintStaticShm(host, r)).toEqual([]);
  });
});
