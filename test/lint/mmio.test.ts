/** MMIO: which guest ranges count for which domain (the fixtures show the full text). */
import { describe, expect, it } from "vitest";
import { describeHost, parseStaticShm } from "../../src/dom0less/index.js";
import { lintGuestMmio } from "../../src/domains/guest-mmio.js";
import type { FdtTree } from "../../src/fdt/tree.js";
import { hostPlatform } from "../../src/guestdt/index.js";
import { domU, host, kernel, node, shm } from "../dom0less/build.js";

function mmio(t: FdtTree) {
  const r = parseStaticShm(t);
  expect(r.ok).toBe(true);
  return lintGuestMmio(describeHost(t), r, hostPlatform(t).gic).map((w) => w.message);
}

const at = (g: number, size = 0x1000, extra = {}) =>
  host([domU("domU1", [shm("s", "X", [0x5000_0000, g, size])], extra)]);

const gicV2 = node("intc@8000000", {
  compatible: "arm,gic-400",
  "interrupt-controller": true,
  reg: [0, 0x800_0000, 0, 0x1000, 0, 0x801_0000, 0, 0x2000],
});

describe("MMIO", () => {
  it("the vpl011 range counts only for a domain with vpl011", () => {
    expect(mmio(at(0x2200_0000))).toEqual([]);
    expect(mmio(at(0x2200_0000, 0x1000, { vpl011: true }))).toHaveLength(1);
  });

  it("the vGIC version is the host's: GICv2 ranges on a gic-400 host, GICv3 (assumed) without a GIC", () => {
    // 0x03011000 is past the GICv2 distributor page and the GICC window but inside the GICv3 GICD.
    expect(mmio(at(0x0300_8000))).toHaveLength(1);
    const v2 = host([domU("domU1", [shm("s", "X", [0x5000_0000, 0x0300_8000, 0x1000])])], {
      rootChildren: [gicV2],
    });
    expect(mmio(v2)).toEqual([]);
    expect(mmio(at(0x0300_8000))[0]).toContain("(sshm assumes a GICv3: the host tree has no GIC Xen drives)");
  });

  it("the redistributor region is the whole 16 MiB handler, whatever the vCPU count", () => {
    const w = mmio(at(0x0400_0000, 0x1000, { cpus: [4] }));
    expect(w).toHaveLength(1);
    expect(w[0]).toContain(
      "whose first 4 redistributors [0x0000000003020000, 0x00000000030a0000) serve domU1's vCPUs",
    );
  });

  it("a GICC window covered whole has no remapping clause", () => {
    const t = host([domU("domU1", [shm("s", "X", [0x5000_0000, 0x0300_2000, 0x2000])])], {
      rootChildren: [gicV2],
    });
    const w = mmio(t);
    expect(w).toHaveLength(1);
    expect(w[0]).not.toContain("try_map_mmio maps 8 KiB");
  });

  it('xen,enhanced = "no-xenstore" has the grant-table region but no xenstore page', () => {
    const w = mmio(at(0x3900_0000, 0x2000, { "xen,enhanced": "no-xenstore" }));
    expect(w).toEqual([]);
    expect(mmio(at(0x38ff_f000, 0x3000, { "xen,enhanced": "no-xenstore" }))).toHaveLength(1);
  });

  it("direct-mapped domains use the host layout and are not checked", () => {
    expect(mmio(host([kernel(0xb000_0000), shm("s", "X", [0x2200_0000, 0x2200_0000, 0x1000])]))).toEqual([]);
  });
});
