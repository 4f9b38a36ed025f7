/** The public API (src/index.ts) as a user scripts against it. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bootDom0less, DOMID_IO, isStage2Fault, p2m_map_foreign_rw, XlHost } from "../src/index.js";

describe("public API", () => {
  it("boots, reads and writes through a vCPU, reports page info and lookups, destroys", () => {
    const text = readFileSync(new URL("../examples/dom0less/booting.dts", import.meta.url), "utf8");
    const { report, system } = bootDom0less(text, { file: "booting.dts" });
    expect(report.verdict).toBe("accepted");
    const s = system!;
    const u1 = s.domain("domU1").vcpu();
    u1.write32(0x6000_0000, 0xabcd);
    expect(s.domain("domU2").vcpu().read32(0x7000_0000)).toBe(0xabcd);
    expect(s.hv.pageInfo(0x50000)).toMatchObject({
      owner: "d[IO]",
      count: 3,
      isStatic: true,
      state: "inuse",
    });
    expect(s.domain("domU1").p2m.lookup(0x60000)).toMatchObject({ mfn: 0x50000, type: p2m_map_foreign_rw });
    expect(report.guestDts.map((g) => g.domain)).toEqual(["Dom0", "domU1", "domU2"]);
    s.destroy("domU2");
    let fault: unknown;
    try {
      s.domain("domU2");
    } catch (e) {
      fault = e;
    }
    expect(String(fault)).toMatch(/no domain "domU2"/);
    expect(s.regions.get("my-shared-mem-1")!.owner).toBe(DOMID_IO);
    expect(isStage2Fault(fault)).toBe(false);
  });

  it("runs the xl path with its xenstore", () => {
    const h = new XlHost();
    for (const n of ["vm1", "vm2", "vm3"])
      h.createDomain(readFileSync(new URL(`../examples/xl/${n}.cfg`, import.meta.url), "utf8"), `${n}.cfg`);
    expect(h.xs.read("/libxl/static_shm/ID2/borrowers/3/offset")).toBe("0x10000");
    h.destroyDomain("vm3");
    expect(h.xs.read("/libxl/static_shm/ID2/usercnt")).toBe("1");
  });
});
