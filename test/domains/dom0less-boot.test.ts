/** bootDom0less end to end: the booting.txt example (DT-4) and the build-phase vectors of reference §10.1. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bootDom0less } from "../../src/domains/index.js";
import { isStage2Fault } from "../../src/p2m/index.js";
import { hostDts } from "./dt.js";

const BOOTING = readFileSync(new URL("../../examples/dom0less/booting.dts", import.meta.url), "utf8");

function boot(dts: string) {
  return bootDom0less(dts, { file: "host.dts" });
}

describe("the booting.txt example (DT-4)", () => {
  it("boots with Xen's mappings, owners and reference counts", () => {
    const { report, system } = boot(BOOTING);
    expect(report.verdict).toBe("accepted");
    expect(report.log).toContain(" SHMEM[0]: 0000000010000000 - 000000001fffffff");
    const byName = Object.fromEntries(report.domains.map((d) => [d.name, d]));
    expect(Object.keys(byName)).toEqual(["Dom0", "domU1", "domU2"]);
    const shm = (n: string) =>
      byName[n]!.mappings.filter((m) => m.kind === "shm").map((m) => [
        m.id,
        m.gstart,
        m.hstart,
        m.role,
        m.p2mType,
      ]);
    expect(shm("Dom0")).toEqual([["my-shared-mem-0", 0x1000_0000, 0x1000_0000, "owner", "p2m_ram_rw"]]);
    const heap = report.regions.find((r) => r.id === "my-shared-mem-2")!;
    expect(shm("domU1")).toEqual([
      ["my-shared-mem-0", 0x5000_0000, 0x1000_0000, "borrower", "p2m_map_foreign_rw"],
      ["my-shared-mem-1", 0x6000_0000, 0x5000_0000, "dom_io-borrower", "p2m_map_foreign_rw"],
      ["my-shared-mem-2", 0x8000_0000, heap.chunks[0]!.start, "owner", "p2m_ram_rw"],
    ]);
    expect(shm("domU2")).toEqual([
      ["my-shared-mem-1", 0x7000_0000, 0x5000_0000, "dom_io-borrower", "p2m_map_foreign_rw"],
      ["my-shared-mem-2", 0x9000_0000, heap.chunks[0]!.start, "borrower", "p2m_map_foreign_rw"],
    ]);
    // 2 MiB blocks: the masks are 2 MiB but not 1 GiB aligned (DT-1).
    expect(byName.domU2!.mappings.find((m) => m.id === "my-shared-mem-1")!.blocks).toBe("256x2M");
    const regions = Object.fromEntries(report.regions.map((r) => [r.id, r]));
    expect(regions["my-shared-mem-0"]).toMatchObject({ owner: "Dom0", nrBorrowers: 1 });
    expect(regions["my-shared-mem-1"]).toMatchObject({ owner: "dom_io", nrBorrowers: 2, form: "host" });
    expect(regions["my-shared-mem-2"]).toMatchObject({ owner: "domU1", nrBorrowers: 1, form: "heap" });
    expect(heap.chunks).toHaveLength(1); // one order-17 chunk on an empty heap
    expect(system!.regionCounts("my-shared-mem-0")).toEqual([2]);
    expect(system!.regionCounts("my-shared-mem-1")).toEqual([3]);
    expect(system!.regionCounts("my-shared-mem-2")).toEqual([2]);
    // Dom0's max_pages grew by the region: shm pages come in addition to its memory (512 MiB
    // when xen,xen-bootargs has no dom0_mem=).
    expect(byName.Dom0!.maxPages).toBe(131072 + 0x10000);
    expect(byName.domU1!.maxPages).toBe(32768 + 0x20000);
  });
});

describe("DT-4 teardown", () => {
  it("destroying domU2 then domU1 leaves Xen's counts, frees the heap region, never frees dom_io's", () => {
    const { system } = boot(BOOTING);
    const s = system!;
    const freeBefore = s.hv.machine.alloc.freePages;
    s.destroy("domU2");
    expect([
      s.regionCounts("my-shared-mem-0"),
      s.regionCounts("my-shared-mem-1"),
      s.regionCounts("my-shared-mem-2"),
    ]).toEqual([[2], [2], [1]]);
    s.destroy("domU1");
    expect([
      s.regionCounts("my-shared-mem-0"),
      s.regionCounts("my-shared-mem-1"),
      s.regionCounts("my-shared-mem-2"),
    ]).toEqual([[1], [1], [0]]);
    const r = s.report();
    expect(r.domains.map((d) => d.name)).toEqual(["Dom0"]);
    // domU1's and domU2's RAM, the 512 MiB heap region and their p2m tables are back in the heap.
    expect(s.hv.machine.alloc.freePages - freeBefore).toBeGreaterThanOrEqual(32768 + 16384 + 131072);
    const p = s.hv.pageInfo(0x50000);
    expect(p).toMatchObject({ owner: "d[IO]", count: 1, allocated: true, isStatic: true });
    expect(s.hv.pageInfo(0x10000).owner).toBe("Dom0 (d0)");
  });

  it("destroying the owner first keeps its pages (and the dying domain) alive until the borrower goes", () => {
    const { system } = boot(BOOTING);
    const s = system!;
    s.destroy("domU1"); // owner of my-shared-mem-2, borrower of 0 and 1
    const dying = s.report().domains.find((d) => d.name === "domU1")!;
    expect(dying.state).toBe("dying");
    expect(dying.totPages).toBe(0x20000); // only the shm pages domU2 still references
    expect(s.regionCounts("my-shared-mem-2")).toEqual([1]);
    s.destroy("domU2");
    expect(s.regionCounts("my-shared-mem-2")).toEqual([0]);
    expect(s.report().domains.map((d) => d.name)).toEqual(["Dom0"]);
  });
});

describe("data really is shared", () => {
  it("a write by the owner is read by every borrower at its own guest address; one byte past faults", () => {
    const { system } = boot(BOOTING);
    const s = system!;
    const dom0 = s.domain("Dom0").vcpu();
    const u1 = s.domain("domU1").vcpu();
    const u2 = s.domain("domU2").vcpu();
    dom0.write32(0x1000_0000 + 0x1234, 0xfeedf00d);
    expect(u1.read32(0x5000_0000 + 0x1234)).toBe(0xfeedf00d);
    u1.write32(0x6000_0000 + 0x1ff_fffc, 0x12345678); // last word of my-shared-mem-1
    expect(u2.read32(0x7000_0000 + 0x1ff_fffc)).toBe(0x12345678);
    u1.write32(0x8000_0100, 7); // owner of my-shared-mem-2
    expect(u2.read32(0x9000_0100)).toBe(7);
    let fault: unknown;
    try {
      u2.read8(0x9000_0000 + 0x2000_0000);
    } catch (e) {
      fault = e;
    }
    expect(isStage2Fault(fault) && fault.kind === "translation").toBe(true);
    // Borrowers cannot execute from shm (foreign mappings are XN); the owner can.
    expect(() => u2.fetch32(0x9000_0000)).toThrowError(/permission fault/);
    expect(u1.fetch32(0x8000_0100)).toBe(7);
  });
});

describe("build-phase vectors (reference §10.1)", () => {
  const A = "0x0000000050000000";
  it("DT-22: an explicit owner then a role-less node: dom_io cannot acquire, panic in the second domain", () => {
    const { report, system } = boot(
      hostDts({
        domUs: [
          { name: "domU1", shm: [{ id: "X", role: "owner", sm: [0x50000000, 0x60000000, 0x200000] }] },
          { name: "domU2", shm: [{ id: "X", sm: [0x50000000, 0x70000000, 0x200000] }] },
        ],
      }),
    );
    expect(system).toBeNull();
    expect(report).toMatchObject({
      verdict: "rejected",
      phase: "build",
      panic: "Could not set up domain domU2 (rc = -22)",
    });
    expect(report.failedNode).toMatch(/^\/chosen\/domU2\/shm0 \(host\.dts:\d+:\d+\)$/);
    expect(report.log.slice(-4)).toEqual([
      "shm memory node has already been allocated to a specific owner d1, Please check your configuration",
      "pg[0] Static MFN 50000 c=0xa000000000000002 t=0x0",
      "d[IO]: failed to acquire static memory: -2.",
      "Could not set up domain domU2 (rc = -22)",
    ]);
    void A;
  });

  it("DT-23: two owners of one host region: the second acquire fails", () => {
    const { report } = boot(
      hostDts({
        domUs: [
          { name: "domU1", shm: [{ id: "X", role: "owner", sm: [0x50000000, 0x60000000, 0x200000] }] },
          { name: "domU2", shm: [{ id: "X", role: "owner", sm: [0x50000000, 0x70000000, 0x200000] }] },
        ],
      }),
    );
    expect(report.panic).toBe("Could not set up domain domU2 (rc = -22)");
    expect(report.log).toContain("d2: failed to acquire static memory: -2.");
  });

  it("DT-24: a borrower built before its owner works (references are pre-taken by the owner)", () => {
    const { report, system } = boot(
      hostDts({
        domUs: [
          { name: "domU1", shm: [{ id: "X", role: "borrower", sm: [0x50000000, 0x60000000, 0x200000] }] },
          { name: "domU2", shm: [{ id: "X", role: "owner", sm: [0x50000000, 0x70000000, 0x200000] }] },
        ],
      }),
    );
    expect(report.verdict).toBe("accepted");
    expect(system!.regionCounts("X")).toEqual([2]);
  });

  it("DT-25: borrower then role-less: the role-less node makes dom_io the owner with N = 2", () => {
    const { system } = boot(
      hostDts({
        domUs: [
          { name: "domU1", shm: [{ id: "X", role: "borrower", sm: [0x50000000, 0x60000000, 0x200000] }] },
          { name: "domU2", shm: [{ id: "X", sm: [0x50000000, 0x70000000, 0x200000] }] },
        ],
      }),
    );
    expect(system!.report().regions[0]).toMatchObject({ owner: "dom_io", nrBorrowers: 2 });
    expect(system!.regionCounts("X")).toEqual([3]);
  });

  it("DT-26: an owner with no borrowers: extra RAM, count 1, executable", () => {
    const { system } = boot(
      hostDts({
        domUs: [{ name: "domU1", shm: [{ id: "X", role: "owner", sm: [0x50000000, 0x60000000, 0x200000] }] }],
      }),
    );
    expect(system!.regionCounts("X")).toEqual([1]);
    expect(system!.domain("domU1").vcpu().fetch32(0x6000_0000)).toBe(0);
  });

  it("DT-27: only borrowers: no owner, counts 0, a B5 warning; teardown records the underflow", () => {
    const { report, system } = boot(
      hostDts({
        domUs: [
          { name: "domU1", shm: [{ id: "X", role: "borrower", sm: [0x50000000, 0x60000000, 0x200000] }] },
        ],
      }),
    );
    expect(report.verdict).toBe("accepted");
    expect(report.regions[0]!.owner).toBeNull();
    expect(system!.regionCounts("X")).toEqual([0]);
    expect(report.warnings.some((w) => w.code === "B5")).toBe(true);
    system!.destroy("domU1");
    expect(system!.warnings.filter((w) => w.code === "B5").length).toBeGreaterThan(1);
    expect(system!.regionCounts("X")).toEqual([0]);
  });

  it("DT-30/31: Dom0 needs host == guest address and the host form", () => {
    expect(
      boot(
        hostDts({ dom0: [{ id: "X", role: "owner", sm: [0x10000000, 0x20000000, 0x1000000] }], domUs: [] }),
      ).report.log,
    ).toContain(
      "d0: physical address 0x0000000010000000 and guest address 0x0000000020000000 are not direct-mapped.",
    );
    const r = boot(
      hostDts({ dom0: [{ id: "X", role: "owner", sm: [0x20000000, 0x1000000] }], domUs: [] }),
    ).report;
    expect(r.log).toContain("d0: host and guest physical address must be supplied for direct-mapped domains");
    expect(r.panic).toBe("Could not set up d0 guest OS (rc = -22)");
  });

  it("DT-32: a host range outside RAM passes the parse and crashes Xen in setup_mm (frame table read)", () => {
    const r = boot(
      hostDts({ domUs: [{ name: "domU1", shm: [{ id: "X", sm: [0xc0000000, 0x60000000, 0x200000] }] }] }),
    ).report;
    expect(r).toMatchObject({
      verdict: "crash",
      phase: "memory",
      panic: "CPU0: Unexpected Trap: Data Abort",
    });
    expect(r.log.slice(-3)).toEqual([
      " SHMEM[0]: 00000000c0000000 - 00000000c01fffff",
      "CPU0: Unexpected Trap: Data Abort",
      "CPU0: Unexpected Trap: Data Abort",
    ]);
    expect(r.domains).toEqual([]);
    expect(r.notes[0]).toContain("frame_table[0xc0000].count_info (VA 0x00000a0802a00010) for mfn 0xc0000");
  });

  it("DT-32: Dom0's host range outside RAM crashes the same way (init_sharedmem_pages takes every host-form bank)", () => {
    const r = boot(
      hostDts({ dom0: [{ id: "X", role: "owner", sm: [0xc0000000, 0xc0000000, 0x200000] }], domUs: [] }),
    ).report;
    expect(r).toMatchObject({
      verdict: "crash",
      phase: "memory",
      panic: "CPU0: Unexpected Trap: Data Abort",
    });
  });

  it("DT-32: a xen,static-mem bank outside RAM crashes Xen first, in init_staticmem_pages", () => {
    const dts = hostDts({
      domUs: [{ name: "domU1", shm: [{ id: "X", sm: [0xc0000000, 0x60000000, 0x200000] }] }],
    }).replace("memory = <0 131072>;", "memory = <0 131072>; xen,static-mem = <0xc0400000 0x8000000>;");
    const r = boot(dts).report;
    expect(r).toMatchObject({ verdict: "crash", phase: "memory" });
    expect(r.notes[0]).toMatch(
      /^setup_mm\(\) -> init_staticmem_pages\(\) .* xen,static-mem bank \[0x00000000c0400000/,
    );
  });

  it("DT-37: an empty xen,shm-id passes the parse and crashes Xen at build (BUG_ON)", () => {
    const r = boot(
      hostDts({ domUs: [{ name: "domU1", shm: [{ id: "", sm: [0x50000000, 0x60000000, 0x200000] }] }] }),
    ).report;
    expect(r.verdict).toBe("crash");
    expect(r.panic).toMatch(/BUG_ON\(strlen\(shm_id\) <= 0\)/);
  });

  it("DT-38: a 1 GiB-aligned borrower region is one L1 block whose references leak on destroy (B4)", () => {
    const { system } = boot(
      hostDts({ domUs: [{ name: "domU1", shm: [{ id: "X", sm: [0x80000000, 0x80000000, 0x40000000] }] }] }),
    );
    const s = system!;
    expect(s.report().domains[0]!.mappings.find((m) => m.kind === "shm")!.blocks).toBe("1x1G");
    expect(s.regionCounts("X")).toEqual([2]);
    s.destroy("domU1");
    expect(s.regionCounts("X")).toEqual([2]); // nothing dropped
  });

  it("DT-39: two heap regions of 0x1FFFF000 bytes need 17 chunks each: the second exhausts the 32 heap banks", () => {
    const r = boot(
      hostDts({
        domUs: [
          {
            name: "domU1",
            shm: [
              { id: "A", role: "owner", sm: [0x80000000, 0x1ffff000] },
              { id: "B", role: "owner", sm: [0xa0000000, 0x1ffff000] },
            ],
          },
        ],
      }),
    ).report;
    expect(r.log.slice(-3)).toEqual([
      "Failed to allocate static shared memory from Xen heap: (-28)",
      "Failed to allocate (000000000007fffcKB) pages as static shared memory from heap",
      "Could not set up domain domU1 (rc = -22)",
    ]);
  });

  it("DT-29: host form first, heap form later (B1): the borrower is mapped at its size value", () => {
    const { report } = boot(
      hostDts({
        domUs: [
          { name: "domU1", shm: [{ id: "X", sm: [0x50000000, 0x60000000, 0x20000000] }] },
          { name: "domU2", shm: [{ id: "X", sm: [0x90000000, 0x20000000] }] },
        ],
      }),
    );
    expect(report.verdict).toBe("accepted");
    expect(report.domains[1]!.mappings.find((m) => m.kind === "shm")!.gstart).toBe(0x2000_0000);
    expect(report.warnings.some((w) => w.code === "B1")).toBe(true);
  });

  it("DT-41: a guest address over the domain's RAM silently replaces the RAM mapping", () => {
    const { report, system } = boot(
      hostDts({ domUs: [{ name: "domU1", shm: [{ id: "X", sm: [0x50000000, 0x40000000, 0x200000] }] }] }),
    );
    expect(report.verdict).toBe("accepted");
    expect(system!.domain("domU1").p2m.lookup(0x40000)).toMatchObject({ mfn: 0x50000, type: 6 });
    expect(report.warnings.some((w) => w.code === "B9")).toBe(true);
  });

  it("DT-42: the same id twice in one domain: two foreign mappings, N = 2", () => {
    const { system } = boot(
      hostDts({
        domUs: [
          {
            name: "domU1",
            shm: [
              { id: "X", sm: [0x50000000, 0x60000000, 0x200000] },
              { id: "X", sm: [0x50000000, 0x70000000, 0x200000] },
            ],
          },
        ],
      }),
    );
    expect(system!.regionCounts("X")).toEqual([3]);
    expect(system!.domain("domU1").shm.map((m) => m.gstart)).toEqual([0x6000_0000, 0x7000_0000]);
  });

  it("DT-40: 33 shm nodes in one domain: append_shm_bank_to_domain returns -ENOMEM", () => {
    const shm = Array.from({ length: 33 }, (_, i) => ({
      id: "X",
      sm: [0x50000000, 0x60000000 + i * 0x200000, 0x200000],
    }));
    expect(boot(hostDts({ domUs: [{ name: "domU1", shm }] })).report.panic).toBe(
      "Could not set up domain domU1 (rc = -12)",
    );
  });

  it("parse failures report the failing node with its file position", () => {
    const r = boot(
      hostDts({
        domUs: [
          { name: "domU1", shm: [{ id: "X", role: "master", sm: [0x50000000, 0x60000000, 0x200000] }] },
        ],
      }),
    ).report;
    expect(r).toMatchObject({ verdict: "rejected", phase: "parse", panic: "Early FDT parsing failed (-22)" });
    expect(r.failedNode).toMatch(/^\/chosen\/domU1\/shm0 property role \(host\.dts:\d+:\d+\)$/);
    expect(r.notes).toEqual([
      'role = "master": Xen accepts only "owner" or "borrower" (leave role out for a region owned by dom_io)',
    ]);
  });
});

describe("guest device trees", () => {
  it("DT-4: each domU's /memory lists RAM then every shm region, /reserved-memory has one xen-shmem node per shm node", () => {
    const { report } = boot(BOOTING);
    const u2 = report.guestDts.find((g) => g.domain === "domU2")!.dts;
    expect(u2).toContain(
      "reg = <0x00 0x40000000 0x00 0x4000000 0x00 0x70000000 0x00 0x20000000 0x00 0x90000000 0x00 0x20000000>;",
    );
    expect(u2).toMatch(
      /xen-shmem@70000000 \{\n\t+compatible = "xen,shared-memory-v1";\n\t+reg = <0x00 0x70000000 0x00 0x20000000>;\n\t+xen,id = "my-shared-mem-1";\n\t+xen,offset = <0x00 0x00>;/,
    );
    const dom0 = report.guestDts.find((g) => g.domain === "Dom0")!.dts;
    expect(dom0).toContain("xen-shmem@10000000");
    expect(dom0).not.toContain("xen,domain-shared-memory-v1"); // config nodes are not passed to Dom0
  });
});

describe("what the pipeline fuzzing found", () => {
  it("a borrower mapping replaced by another node of the same id at the same guest address leaks, and says so", () => {
    const { report, system } = boot(
      hostDts({
        domUs: [
          { name: "domU1", shm: [{ id: "X", role: "owner", sm: [0x50000000, 0x60000000, 0x200000] }] },
          {
            name: "domU2",
            shm: [
              { id: "X", role: "borrower", sm: [0x50000000, 0x80000000, 0x200000] },
              { id: "X", role: "borrower", sm: [0x50000000, 0x80000000, 0x200000] },
            ],
          },
        ],
      }),
    );
    expect(report.warnings.some((w) => w.code === "B9" && /never be freed/.test(w.message))).toBe(true);
    system!.destroy("domU2");
    system!.destroy("domU1");
    expect(system!.regionCounts("X")).toEqual([1]); // N = 2 counted, one mapping dropped
  });

  it("a put on pages that hold no reference yet while building is Xen's put_page ASSERT (crash)", () => {
    const { report } = boot(
      hostDts({
        domUs: [
          {
            name: "domU1",
            shm: [
              { id: "c", role: "borrower", sm: [0x80000000, 0x80000000, 0x400000] },
              { id: "a", sm: [0x50000000, 0x80000000, 0x200000] },
            ],
          },
          { name: "domU2", shm: [{ id: "c", role: "owner", sm: [0x80000000, 0x60000000, 0x400000] }] },
        ],
      }),
    );
    expect(report.verdict).toBe("crash");
    expect(report.panic).toMatch(
      /^put_page\(\) on mfn 80000 with count 0 while building d1: \/chosen\/domU1\/shm1 replaced/,
    );
    expect(report.failedNode).toMatch(/^\/chosen\/domU1\/shm1 /);
  });
});

describe("setup_mm on static banks outside RAM (init_frametable's mapping decides)", () => {
  const twoGiB = (shm: string) => `/dts-v1/;
/ {
  #address-cells = <2>;
  #size-cells = <2>;
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x40100000>; };
  chosen {
    #address-cells = <1>;
    #size-cells = <1>;
    domU1 {
      compatible = "xen,domain";
      #address-cells = <1>;
      #size-cells = <1>;
      memory = <0 131072>;
      cpus = <1>;
      module@44000000 { compatible = "multiboot,kernel", "multiboot,module"; reg = <0x44000000 0x1000>; };
      shm0 { compatible = "xen,domain-shared-memory-v1"; xen,shm-id = "X"; xen,shared-mem = <${shm}>; };
    };
  };
};`;

  it("a frame in the 0xff tail of the last frame-table chunk: mark_page_free sees a free page and BUG()s", () => {
    // RAM ends at 0x80100000: the chunk's last page holds 0xff entries for mfn 0x80100..0x80124.
    const r = bootDom0less(twoGiB("0x80100000 0x70000000 0x1000")).report;
    expect(r).toMatchObject({ verdict: "crash", phase: "memory" });
    expect(r.log.slice(-2)).toEqual([
      "pg MFN 80100 c=0xffffffffffffffff o=4294967295 v=0xffffffffffffffff t=0xffffffff",
      "Xen BUG in mark_page_free(): BUG() on a page that is already free",
    ]);
  });

  it("a frame in a hole of a mapped PDX group: Xen's mfn_valid passes it; sshm says it cannot follow", () => {
    const dts = hostDts({
      domUs: [{ name: "domU1", shm: [{ id: "X", sm: [0x08000000, 0x60000000, 0x1000] }] }],
    });
    expect(() => bootDom0less(dts)).toThrow(
      /host frame 0x08000 of "X" is not RAM, but it lies in a 1 GiB PDX group that holds RAM/,
    );
  });
});
