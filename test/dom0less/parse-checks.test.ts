/** One fixture per process_shm_node check (reference §2.3, vectors DT-5..DT-21, DT-28, DT-35, DT-36). */
import { describe, expect, it } from "vitest";
import { parseStaticShm } from "../../src/dom0less/index.js";
import { domU, host, node, SHM, shm } from "./build.js";

const PRE = ["Checking for initrd in /chosen", 'Checking for "xen,static-mem" in domain node'];

/** Parse a single-domU host and return the result. */
function one(...shmNodes: ReturnType<typeof shm>[]) {
  return parseStaticShm(host([domU("domU1", shmNodes)]));
}

function expectFail(
  r: ReturnType<typeof parseStaticShm>,
  rc: number,
  nodePath: string,
  message: string,
  nodeName: string,
  overlap?: NonNullable<ReturnType<typeof parseStaticShm>["error"]>["overlap"],
) {
  expect(r.ok).toBe(false);
  const { prop: _prop, note: _note, ...err } = r.error ?? {};
  expect(err).toEqual({
    rc,
    node: nodePath,
    message,
    panic: `Early FDT parsing failed (${rc})`,
    ...(overlap === undefined ? {} : { overlap }),
  });
  const tail = [
    ...(message === "" ? [] : [message]),
    `fdt: node \`${nodeName}': parsing failed`,
    `Early FDT parsing failed (${rc})`,
  ];
  expect(r.log.slice(-tail.length)).toEqual(tail);
  expect(r.bootLog).toEqual([]);
}

describe("process_shm_node checks, in Xen's order", () => {
  it("accepts the basic host form and logs nothing but the scan lines", () => {
    const r = one(shm("shm@50000000", "X", [0x5000_0000, 0x6000_0000, 0x2000_0000]));
    expect(r.ok).toBe(true);
    expect(r.log).toEqual(PRE);
    expect(r.bootLog).toEqual([" SHMEM[0]: 0000000050000000 - 000000006fffffff"]);
    expect(r.banks).toEqual([
      {
        index: 0,
        id: "X",
        start: 0x5000_0000,
        startBig: 0x5000_0000n,
        size: 0x2000_0000,
        sizeBig: 0x2000_0000n,
        nrBorrowers: 1,
        path: "/chosen/domU1/shm@50000000",
      },
    ]);
  });

  it("check 1 (DT-36): #address-cells = <0> on the parent", () => {
    const d = domU("domU1", [shm("shm", "X", [0x6000_0000, 0x1000])], { "#address-cells": [0] });
    const r = parseStaticShm(host([d]));
    expectFail(
      r,
      -22,
      "/chosen/domU1/shm",
      "fdt: invalid #address-cells or #size-cells for static shared memory node.",
      "shm",
    );
  });

  it("check 2 (DT-7): missing xen,shm-id -> -ENOENT with only the generic line", () => {
    const r = one(shm("shm@0", undefined, [0x5000_0000, 0x6000_0000, 0x1000]));
    expectFail(r, -2, "/chosen/domU1/shm@0", "", "shm@0");
    expect(r.log).toEqual([...PRE, "fdt: node `shm@0': parsing failed", "Early FDT parsing failed (-2)"]);
  });

  it("check 3 (DT-5): a 16-character id is rejected, 15 is accepted", () => {
    const r = one(shm("s", "0123456789abcdef", [0x5000_0000, 0x6000_0000, 0x1000]));
    expectFail(
      r,
      -22,
      "/chosen/domU1/s",
      "fdt: invalid xen,shm-id 0123456789abcdef, it must be limited to 16 characters",
      "s",
    );
    expect(one(shm("s", "0123456789abcde", [0x5000_0000, 0x6000_0000, 0x1000])).ok).toBe(true);
  });

  it("check 3 counts bytes (strnlen), not characters", () => {
    // 8 two-byte characters = 16 bytes.
    const r = one(shm("s", "éééééééé", [0x5000_0000, 0x6000_0000, 0x1000]));
    expect(r.error?.message).toBe("fdt: invalid xen,shm-id éééééééé, it must be limited to 16 characters");
  });

  it("check 4 (DT-6): role must be owner or borrower", () => {
    const r = one(shm("s", "X", [0x5000_0000, 0x6000_0000, 0x1000], "master"));
    expectFail(r, -22, "/chosen/domU1/s", "fdt: invalid `role` property for static shared memory node.", "s");
    // sshm points at the property and quotes the value (Xen prints neither).
    expect(r.error).toMatchObject({
      prop: "role",
      note: 'role = "master": Xen accepts only "owner" or "borrower" (leave role out for a region owned by dom_io)',
    });
  });

  it("check 4 comes before the xen,shared-mem checks", () => {
    const r = one(shm("s", "X", undefined, "Owner"));
    expect(r.error?.message).toBe("fdt: invalid `role` property for static shared memory node.");
  });

  it("check 5 (DT-8): missing xen,shared-mem -> -ENOENT", () => {
    const r = one(shm("s", "X", undefined));
    expectFail(r, -2, "/chosen/domU1/s", "", "s");
  });

  it("check 6 (DT-9): 4 cells with ac = sc = 1", () => {
    const r = one(shm("s", "X", [0x5000_0000, 0x6000_0000, 0x1000, 0]));
    expectFail(r, -22, "/chosen/domU1/s", "fdt: invalid `xen,shared-mem` property.", "s");
  });

  it("check 7 (DT-10): unaligned host address", () => {
    const r = one(shm("s", "X", [0x5000_0800, 0x6000_0000, 0x1000]));
    expectFail(
      r,
      -22,
      "/chosen/domU1/s",
      "fdt: physical address 0x0000000050000800 is not suitably aligned.",
      "s",
    );
  });

  it("check 8 (DT-12): host form with size 0 reports overflow, not zero size", () => {
    const r = one(shm("s", "my-id", [0x5000_0000, 0x6000_0000, 0]));
    expectFail(r, -22, "/chosen/domU1/s", "fdt: static shared memory region my-id overflow", "s");
  });

  it("check 8 (DT-15): P + S wraps past 2^64 with ac = sc = 2", () => {
    const d = domU("domU1", [shm("s", "X", [0xffff_ffff, 0xffff_f000, 0, 0x6000_0000, 0, 0x2000])], {
      "#address-cells": [2],
      "#size-cells": [2],
    });
    const r = parseStaticShm(host([d]));
    expectFail(r, -22, "/chosen/domU1/s", "fdt: static shared memory region X overflow", "s");
  });

  it("check 7 runs before check 9: both addresses unaligned reports the host one", () => {
    const r = one(shm("s", "X", [0x5000_0800, 0x6000_0800, 0x1000]));
    expect(r.error?.message).toBe("fdt: physical address 0x0000000050000800 is not suitably aligned.");
  });

  it("check 9 (DT-11): unaligned guest address", () => {
    const r = one(shm("s", "X", [0x5000_0000, 0x6000_0800, 0x1000]));
    expectFail(
      r,
      -22,
      "/chosen/domU1/s",
      "fdt: guest address 0x0000000060000800 is not suitably aligned.",
      "s",
    );
  });

  it("check 9 also applies to the heap form", () => {
    const r = one(shm("s", "X", [0x6000_0800, 0x1000]));
    expect(r.error?.message).toBe("fdt: guest address 0x0000000060000800 is not suitably aligned.");
  });

  it("check 10 (DT-13): heap form with size 0", () => {
    const r = one(shm("s", "X", [0x6000_0000, 0]));
    expectFail(
      r,
      -22,
      "/chosen/domU1/s",
      "fdt: the size for static shared memory region can not be zero",
      "s",
    );
  });

  it("check 11 (DT-14): unaligned size", () => {
    const r = one(shm("s", "X", [0x5000_0000, 0x6000_0000, 0x1800]));
    expectFail(r, -22, "/chosen/domU1/s", "fdt: size 0x0000000000001800 is not suitably aligned", "s");
  });

  it("check 12 (DT-16): same id, different size", () => {
    const r = parseStaticShm(
      host([
        domU("domU1", [shm("a", "X", [0x5000_0000, 0x6000_0000, 0x2000_0000])]),
        domU("domU2", [shm("b", "X", [0x5000_0000, 0x7000_0000, 0x1000_0000])]),
      ]),
    );
    expectFail(
      r,
      -22,
      "/chosen/domU2/b",
      "fdt: different shared memory region could not share the same shm ID X",
      "b",
    );
  });

  it("check 12 (DT-28): heap-form node first, host-form node for the same id second", () => {
    const r = parseStaticShm(
      host([
        domU("domU1", [shm("a", "X", [0x8000_0000, 0x2000_0000])]),
        domU("domU2", [shm("b", "X", [0x5000_0000, 0x9000_0000, 0x2000_0000])]),
      ]),
    );
    expect(r.error?.message).toBe("fdt: different shared memory region could not share the same shm ID X");
    expect(r.error?.node).toBe("/chosen/domU2/b");
  });

  it("check 12 heap form matches on size only (DT-29 is accepted)", () => {
    const r = parseStaticShm(
      host([
        domU("domU1", [shm("a", "X", [0x5000_0000, 0x6000_0000, 0x2000_0000])]),
        domU("domU2", [shm("b", "X", [0x9000_0000, 0x2000_0000])]),
      ]),
    );
    expect(r.ok).toBe(true);
    expect(r.banks).toHaveLength(1);
    expect(r.banks[0]?.nrBorrowers).toBe(2);
    expect(r.nodes[1]?.form).toBe("heap");
    expect(r.nodes[1]?.guestAddrBig).toBe(0x9000_0000n);
    expect(r.nodes[1]?.buildGuestAddrBig).toBe(0x2000_0000n);
  });

  it("check 13 (DT-17): different id, same range", () => {
    const r = parseStaticShm(
      host([
        domU("domU1", [shm("a", "X", [0x5000_0000, 0x6000_0000, 0x2000_0000])]),
        domU("domU2", [shm("b", "Y", [0x5000_0000, 0x6000_0000, 0x2000_0000])]),
      ]),
    );
    expectFail(
      r,
      -22,
      "/chosen/domU2/b",
      "fdt: xen,shm-id Y does not match for all the nodes using the same region",
      "b",
      {
        refused: { start: 0x5000_0000, size: 0x2000_0000, kind: "shm", path: "/chosen/domU2/b", id: "Y" },
        other: { start: 0x5000_0000, size: 0x2000_0000, kind: "shm", path: "/chosen/domU1/a", index: 0 },
      },
    );
  });

  it("check 13 does not apply to heap-form nodes of different ids", () => {
    const r = one(shm("a", "X", [0x6000_0000, 0x1000]), shm("b", "Y", [0x7000_0000, 0x1000]));
    expect(r.ok).toBe(true);
    expect(r.banks.map((b) => b.startBig)).toEqual([null, null]);
  });

  it("checks 12/13 run per bank in order: a different-id clash on an earlier bank wins", () => {
    const r = parseStaticShm(
      host([
        domU("domU1", [
          shm("a", "Y", [0x5000_0000, 0x6000_0000, 0x1000]),
          shm("b", "X", [0x7000_0000, 0x6000_0000, 0x1000]),
        ]),
        domU("domU2", [shm("c", "X", [0x5000_0000, 0x6000_0000, 0x1000])]),
      ]),
    );
    expect(r.error?.message).toBe("fdt: xen,shm-id X does not match for all the nodes using the same region");
  });

  it("check 14 (DT-18): overlap with an existing bank", () => {
    const r = one(
      shm("a", "X", [0x5000_0000, 0x6000_0000, 0x2000_0000]),
      shm("b", "Y", [0x6000_0000, 0x9000_0000, 0x2000_0000]),
    );
    expectFail(
      r,
      -22,
      "/chosen/domU1/b",
      "Region: [0x00000060000000, 0x00000080000000) overlapping with bank[0]: [0x00000050000000, 0x00000070000000)",
      "b",
      {
        refused: { start: 0x6000_0000, size: 0x2000_0000, kind: "shm", path: "/chosen/domU1/b", id: "Y" },
        other: { start: 0x5000_0000, size: 0x2000_0000, kind: "shm", path: "/chosen/domU1/a", index: 0 },
      },
    );
  });

  it("check 14 (DT-19): same start, smaller size, other id -> overlap (check 13 skipped)", () => {
    const r = one(
      shm("a", "X", [0x5000_0000, 0x6000_0000, 0x2000_0000]),
      shm("b", "Y", [0x5000_0000, 0x9000_0000, 0x1000_0000]),
    );
    expect(r.error?.message).toBe(
      "Region: [0x00000050000000, 0x00000060000000) overlapping with bank[0]: [0x00000050000000, 0x00000070000000)",
    );
  });

  it("check 15 (DT-21): the 33rd distinct region -> -ENOSPC", () => {
    const nodes = Array.from({ length: 33 }, (_, i) =>
      shm(`s${i}`, `id${i}`, [0x1000_0000 + i * 0x10_0000, 0x6000_0000 + i * 0x10_0000, 0x1000]),
    );
    const r = one(...nodes);
    expectFail(
      r,
      -28,
      "/chosen/domU1/s32",
      "Warning: Max number of supported memory regions reached.",
      "s32",
    );
    expect(r.banks).toHaveLength(32);
  });

  it("32 heap-form ids plus a 33rd also hit the bank limit (heap banks count too)", () => {
    const nodes = Array.from({ length: 33 }, (_, i) => shm(`s${i}`, `id${i}`, [0x6000_0000, 0x1000]));
    expect(one(...nodes).error?.rc).toBe(-28);
  });

  it("a repeated id does not use a new bank", () => {
    const nodes = Array.from({ length: 40 }, (_, i) =>
      shm(`s${i}`, "same", [0x6000_0000 + i * 0x1000, 0x1000]),
    );
    const r = one(...nodes);
    expect(r.ok).toBe(true);
    expect(r.banks).toHaveLength(1);
    expect(r.banks[0]?.nrBorrowers).toBe(40);
  });

  it("DT-35: CONFIG_STATIC_SHM=n fails at the first node", () => {
    const r = parseStaticShm(host([domU("domU1", [shm("s", "X", [0x5000_0000, 0x6000_0000, 0x1000])])]), {
      staticShm: false,
    });
    expectFail(
      r,
      -22,
      "/chosen/domU1/s",
      "CONFIG_STATIC_SHM must be enabled for parsing static shared memory nodes",
      "s",
    );
  });

  it("values above 2^53 are kept exact (2-cell addresses)", () => {
    const d = domU("domU1", [shm("s", "X", [0xffff_ffff, 0xffff_e000, 0, 0x6000_0000, 0, 0x1000])], {
      "#address-cells": [2],
      "#size-cells": [2],
    });
    const r = parseStaticShm(host([d]));
    expect(r.ok).toBe(true);
    expect(r.banks[0]?.startBig).toBe(0xffff_ffff_ffff_e000n);
    expect(r.bootLog).toEqual([" SHMEM[0]: ffffffffffffe000 - ffffffffffffefff"]);
  });

  it("compatible is matched case-insensitively (dt_compat_cmp = strcasecmp)", () => {
    const d = domU("domU1", [node("s", { compatible: SHM.toUpperCase(), "xen,shm-id": "X" })]);
    expect(parseStaticShm(host([d])).error?.rc).toBe(-2);
  });
});
