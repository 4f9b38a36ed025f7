/** Warnings for what Xen's parse accepts but later breaks (reference §8.3). */
import { describe, expect, it } from "vitest";
import { describeHost, lintStaticShm, parseStaticShm } from "../../src/dom0less/index.js";
import type { FdtTree } from "../../src/fdt/tree.js";
import { domU, host, kernel, shm } from "./build.js";

function lint(t: FdtTree) {
  const r = parseStaticShm(t);
  expect(r.ok).toBe(true);
  return lintStaticShm(describeHost(t), r);
}

describe("lintStaticShm", () => {
  it("B1 (DT-29): heap-form node reusing a host-form bank names the guest address Xen will use", () => {
    const w = lint(
      host([
        domU("domU1", [shm("a", "X", [0x5000_0000, 0x6000_0000, 0x2000_0000])]),
        domU("domU2", [shm("b", "X", [0x9000_0000, 0x2000_0000])]),
      ]),
    );
    expect(w.map((x) => [x.code, x.node])).toEqual([["B1", "/chosen/domU2/b"]]);
    expect(w[0]?.message).toBe(
      'node /chosen/domU2/b omits the host address of id "X", whose region /chosen/domU1/a defined with host address 0x0000000050000000; Xen reuses that bank (sizes match) and, because the bank has a host address, reads this node\'s guest address as 0x0000000020000000 (cells [1..2) of its own property, i.e. its size) instead of 0x0000000090000000: domU2 gets the region mapped at the wrong guest address',
    );
  });

  it("B7 (DT-37): empty id", () => {
    const w = lint(host([domU("domU1", [shm("a", "", [0x5000_0000, 0x6000_0000, 0x1000])])]));
    expect(w.map((x) => x.code)).toEqual(["B7"]);
    expect(w[0]?.message).toContain("BUG_ON(strlen(shm_id) <= 0)");
  });

  it("B5 (DT-27): only role=borrower nodes, no owner", () => {
    const w = lint(
      host([
        domU("domU1", [shm("a", "X", [0x5000_0000, 0x6000_0000, 0x1000], "borrower")]),
        domU("domU2", [shm("b", "X", [0x5000_0000, 0x7000_0000, 0x1000], "borrower")]),
      ]),
    );
    expect(w.map((x) => [x.code, x.node])).toEqual([["B5", "/chosen/domU1/a"]]);
  });

  it("B2 (DT-23): two owners; (DT-22): owner plus role-less node", () => {
    const two = lint(
      host([
        domU("domU1", [shm("a", "X", [0x5000_0000, 0x6000_0000, 0x1000], "owner")]),
        domU("domU2", [shm("b", "X", [0x5000_0000, 0x7000_0000, 0x1000], "owner")]),
      ]),
    );
    expect(two.map((x) => [x.code, x.node])).toEqual([["B2", "/chosen/domU2/b"]]);
    expect(two[0]?.message).toContain("acquiring its pages fails and Xen panics");
    const mixed = lint(
      host([
        domU("domU1", [shm("a", "X", [0x5000_0000, 0x6000_0000, 0x1000], "owner")]),
        domU("domU2", [shm("b", "X", [0x5000_0000, 0x7000_0000, 0x1000])]),
      ]),
    );
    expect(mixed.map((x) => [x.code, x.node])).toEqual([["B2", "/chosen/domU1/a"]]);
  });

  it("DT-24/DT-25 (borrower plus owner, or borrower plus role-less) are fine", () => {
    expect(
      lint(
        host([
          domU("domU1", [shm("a", "X", [0x5000_0000, 0x6000_0000, 0x1000], "borrower")]),
          domU("domU2", [shm("b", "X", [0x5000_0000, 0x7000_0000, 0x1000])]),
        ]),
      ),
    ).toEqual([]);
  });

  it("DT-32: host range outside RAM", () => {
    const w = lint(host([domU("domU1", [shm("a", "X", [0xc000_0000, 0x6000_0000, 0x1000])])]));
    expect(w.map((x) => x.code)).toEqual(["NOT_RAM"]);
    expect(w[0]?.message).toContain("setup_mm() reads the struct page_info of each of its pages");
  });

  it("DT-32: a range straddling the end of RAM names the first page outside", () => {
    const w = lint(host([domU("domU1", [shm("a", "X", [0xbfff_f000, 0x6000_0000, 0x2000])])]));
    expect(w[0]?.message).toContain("first address outside: 0x00000000c0000000");
  });

  it("B9 (DT-41): guest range over the domain's RAM, and two shm ranges in one domain", () => {
    const w = lint(
      host([
        domU("domU1", [
          shm("a", "X", [0x5000_0000, 0x4000_0000, 0x1000]),
          shm("b", "Y", [0x6000_0000, 0x6000_0000, 0x2000]),
          shm("c", "Z", [0x7000_0000, 0x6000_1000, 0x1000]),
        ]),
      ]),
    );
    expect(w.map((x) => [x.code, x.node])).toEqual([
      ["B9", "/chosen/domU1/a"],
      ["B9", "/chosen/domU1/c"],
    ]);
    expect(w[0]?.message).toContain("overlaps domU1's RAM [0x0000000040000000, 0x0000000048000000)");
    expect(w[1]?.message).toContain("overlaps that of /chosen/domU1/b in domU1");
  });

  it("DT-42: the same id twice in one domain at distinct guest addresses is fine", () => {
    expect(
      lint(
        host([
          domU("domU1", [
            shm("a", "X", [0x5000_0000, 0x6000_0000, 0x1000]),
            shm("b", "X", [0x5000_0000, 0x7000_0000, 0x1000]),
          ]),
        ]),
      ),
    ).toEqual([]);
  });

  it("B4 (DT-38): 1 GiB-aligned borrower mapping leaks", () => {
    const w = lint(host([domU("domU1", [shm("a", "X", [0x8000_0000, 0x8000_0000, 0x4000_0000])])]));
    expect(w.map((x) => x.code)).toEqual(["B4"]);
    // A 2 MiB-aligned one does not (DT-1).
    expect(lint(host([domU("domU1", [shm("a", "X", [0x5000_0000, 0x6000_0000, 0x2000_0000])])]))).toEqual([]);
  });

  it("B4 does not apply to the owner's own (RAM) mapping", () => {
    expect(
      lint(host([domU("domU1", [shm("a", "X", [0x8000_0000, 0x8000_0000, 0x4000_0000], "owner")])])),
    ).toEqual([]);
  });

  it("DT-30/DT-31: direct-mapped domains need the host form with P == G", () => {
    const heap = lint(host([kernel(0xb000_0000), shm("a", "X", [0x2000_0000, 0x1000])]));
    expect(heap.map((x) => x.code)).toEqual(["DIRECT_MAP"]);
    expect(heap[0]?.message).toContain(
      "host and guest physical address must be supplied for direct-mapped domains",
    );
    const pg = lint(host([kernel(0xb000_0000), shm("a", "X", [0x1000_0000, 0x2000_0000, 0x100_0000])]));
    expect(pg[0]?.message).toContain(
      '"d0: physical address 0x0000000010000000 and guest address 0x0000000020000000 are not direct-mapped." (-EINVAL)',
    );
    const dm = lint(
      host([domU("domU1", [shm("a", "X", [0x5000_0000, 0x6000_0000, 0x1000])], { "direct-map": true })]),
    );
    expect(dm.map((x) => x.code)).toEqual(["DIRECT_MAP"]);
  });

  it("DT-40: more than 32 shm nodes in one domain", () => {
    const nodes = Array.from({ length: 33 }, (_, i) =>
      shm(`s${i}`, "X", [0x5000_0000, 0x6000_0000 + i * 0x1000, 0x1000]),
    );
    const w = lint(host([domU("domU1", nodes)]));
    expect(w.map((x) => [x.code, x.node])).toEqual([["TOO_MANY", "/chosen/domU1/s32"]]);
  });
});
