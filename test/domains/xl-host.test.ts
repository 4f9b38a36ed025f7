/** xl create/destroy on a running host: vectors XL-2, XL-3, XL-13, XL-15 and the man page's rules. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isSshmError } from "../../src/common/index.js";
import { XlHost } from "../../src/domains/index.js";

const cfg = (name: string, mem: number, ...specs: string[]) =>
  `name = "${name}"\nmemory = ${mem}\nstatic_shm = [\n${specs.map((s) => `  "${s}",`).join("\n")}\n]\n`;
const OWNER = cfg("own", 256, "id=A, begin=0x4F000000, size=0x100000, role=owner");
const B1 = cfg("b1", 64, "id=A, offset=0x10000, begin=0x60000000, size=0xF0000");
const B2 = cfg("b2", 64, "id=A, begin=0x60000000, size=0x100000, role=borrower");

function err(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isSshmError(e)) return e.message;
    throw e;
  }
  throw new Error("expected an SshmError");
}

describe("xl static_shm (seed 000, FORK19 semantics)", () => {
  it("XL-3: owner gfns 0x4F010-0x4F0FF map to borrower gfns 0x60000-0x600EF as foreign_rw, usercnt 2", () => {
    const h = new XlHost();
    const own = h.createDomain(OWNER, "own.cfg");
    const b1 = h.createDomain(B1, "b1.cfg");
    expect(b1.p2m.lookup(0x60000)).toMatchObject({ mfn: own.p2m.lookup(0x4f010).mfn, type: 6, level: 3 });
    expect(b1.p2m.lookup(0x600ef).mfn).toBe(own.p2m.lookup(0x4f0ff).mfn);
    expect(b1.p2m.lookup(0x600f0).mfn).toBe(-1);
    expect(h.xs.read("/libxl/static_shm/A/usercnt")).toBe("2");
    expect(h.xs.read(`/libxl/static_shm/A/borrowers/${b1.domid}/offset`)).toBe("0x10000");
    expect(h.xs.read(`/libxl/static_shm/A/borrowers/${b1.domid}/prot`)).toBe("rw");
    // Data written by the owner at offset 0x10000 is what the borrower sees at its begin.
    own.vcpu().write32(0x4f01_0000 + 8, 0xcafe);
    expect(b1.vcpu().read32(0x6000_0000 + 8)).toBe(0xcafe);
    // Each borrower page took one reference on the owner's page.
    expect(h.hv.pageCount(own.p2m.lookup(0x4f010).mfn)).toBe(2);
    expect(h.hv.pageCount(own.p2m.lookup(0x4f000).mfn)).toBe(1);
  });

  it("XL-15: create owner, B1, B2; destroy B1, owner, B2: usercnt 1,2,3,2,1,0 and pages survive the owner", () => {
    const h = new XlHost();
    const freeAtStart = h.hv.machine.alloc.freePages;
    const u = () => h.xs.read("/libxl/static_shm/A/usercnt");
    const own = h.createDomain(OWNER, "own.cfg");
    expect(u()).toBe("1");
    h.createDomain(B1, "b1.cfg");
    expect(u()).toBe("2");
    const b2 = h.createDomain(B2, "b2.cfg");
    expect(u()).toBe("3");
    const m = own.p2m.lookup(0x4f020).mfn;
    expect(h.hv.pageCount(m)).toBe(3);
    h.destroyDomain("b1");
    expect(u()).toBe("2");
    expect(h.hv.pageCount(m)).toBe(2);
    h.destroyDomain("own");
    expect(u()).toBe("1");
    expect(h.hv.pageCount(m)).toBe(1); // the owner's RAM page lives on for b2
    expect(h.report().domains.find((d) => d.name === "own")!.state).toBe("dying");
    b2.vcpu().write32(0x6000_0000 + 0x20_000, 5); // still shared memory
    h.destroyDomain("b2");
    expect(h.xs.exists("/libxl/static_shm/A")).toBe(false);
    expect(h.report().domains.map((d) => d.name)).toEqual(["Domain-0"]);
    expect(h.hv.machine.alloc.freePages).toBe(freeAtStart); // nothing leaked
  });

  it("rejects what the man page forbids, naming file, position and rule, and leaves the host unchanged", () => {
    const h = new XlHost();
    const free0 = h.hv.machine.alloc.freePages;
    expect(err(() => h.createDomain(B1, "b1.cfg"))).toBe(
      'b1.cfg:4:3: static_shm[0] id=A: no owner found. (create the owner of "A" before its borrowers)',
    );
    expect(h.hv.machine.alloc.freePages).toBe(free0);
    expect(
      err(() => h.createDomain(cfg("o", 256, "id=A, begin=0x100000, size=0x100000, role=owner"), "o.cfg")),
    ).toMatch(
      /^o\.cfg:4:3: static_shm\[0\] id=A: the owner's region \[0x0000000000100000, 0x0000000000200000\) is not inside o's RAM/,
    );
    h.createDomain(OWNER, "own.cfg");
    const free1 = h.hv.machine.alloc.freePages;
    // XL-2: 16 + 272 pages do not fit in 256.
    expect(
      err(() => h.createDomain(cfg("b", 64, "id=A, offset=0x10000, begin=0x690000, size=0x110000"), "b.cfg")),
    ).toBe(
      "b.cfg:4:3: static_shm[0] id=A: exceeds owner's address space. (offset 0x0000000000010000 + size 0x0000000000110000 > owner's size 0x0000000000100000)",
    );
    expect(err(() => h.createDomain(cfg("b", 64, "id=A, begin=0x40000000, size=0x100000"), "b.cfg"))).toMatch(
      /the borrower's region \[0x0000000040000000, 0x0000000040100000\) overlaps b's RAM/,
    );
    expect(
      err(() =>
        h.createDomain(cfg("o2", 256, "id=A, begin=0x4F000000, size=0x100000, role=owner"), "o2.cfg"),
      ),
    ).toMatch(/static_shm\[0\] id=A: can only have one owner\. \(d1 owns "A"\)$/);
    expect(err(() => h.createDomain(OWNER, "own.cfg"))).toMatch(/domain "own" already exists/);
    expect(h.hv.machine.alloc.freePages).toBe(free1);
    expect(h.xs.read("/libxl/static_shm/A/usercnt")).toBe("1");
  });

  it("random create/destroy sequences keep every page count and usercnt equal to a model; nothing leaks", () => {
    const configs = [
      { name: "own", text: OWNER, owner: true, first: 0, pages: 256 },
      { name: "b1", text: B1, owner: false, first: 16, pages: 240 },
      { name: "b2", text: B2, owner: false, first: 0, pages: 256 },
      {
        name: "b3",
        text: cfg("b3", 32, "id=A, offset=0x80000, begin=0x70000000, size=0x2000"),
        owner: false,
        first: 128,
        pages: 2,
      },
    ];
    fc.assert(
      fc.property(
        fc.array(fc.record({ i: fc.integer({ min: 0, max: 3 }), create: fc.boolean() }), {
          maxLength: 14,
          size: "max",
        }),
        (ops) => {
          const h = new XlHost({ ram: [{ base: 0x4000_0000, size: 2 ** 30 }], dom0Mem: 16 * 2 ** 20 });
          const free0 = h.hv.machine.alloc.freePages;
          const live = new Set<number>();
          let ownerMfns: number[] = [];
          let ownerAlive = false;
          for (const op of ops) {
            const c = configs[op.i]!;
            if (op.create && !live.has(op.i)) {
              // An owner needs no record yet; a borrower needs the record and a running owner.
              const ok = c.owner ? !h.xs.exists("/libxl/static_shm/A") : ownerAlive;
              let created = true;
              try {
                const d = h.createDomain(c.text, `${c.name}.cfg`);
                if (c.owner) {
                  ownerMfns = Array.from({ length: 256 }, (_, k) => d.p2m.lookup(0x4f000 + k).mfn);
                  ownerAlive = true;
                }
              } catch (e) {
                if (!isSshmError(e)) throw e;
                created = false;
              }
              expect(created).toBe(ok);
              if (created) live.add(op.i);
            } else if (!op.create && live.has(op.i)) {
              h.destroyDomain(c.name);
              live.delete(op.i);
              if (c.owner) ownerAlive = false;
            }
            // Every live domain holds a role for A; the record lives exactly while one does.
            const rec = h.xs.exists("/libxl/static_shm/A");
            expect(rec).toBe(live.size > 0);
            if (rec) expect(h.xs.read("/libxl/static_shm/A/usercnt")).toBe(String(live.size));
            if (ownerMfns.length > 0 && rec) {
              for (let k = 0; k < 256; k += 15) {
                const want =
                  (ownerAlive ? 1 : 0) +
                  [...live].filter(
                    (j) =>
                      !configs[j]!.owner &&
                      k >= configs[j]!.first &&
                      k < configs[j]!.first + configs[j]!.pages,
                  ).length;
                expect(h.hv.pageCount(ownerMfns[k]!)).toBe(want);
              }
            }
          }
          for (const j of [...live]) h.destroyDomain(configs[j]!.name);
          expect(h.xs.exists("/libxl/static_shm/A")).toBe(false);
          expect(h.hv.machine.alloc.freePages).toBe(free0);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("xl guest device trees", () => {
  it("a borrower's xen,offset carries its real offset", () => {
    const h = new XlHost();
    h.createDomain(OWNER, "own.cfg");
    h.createDomain(B1, "b1.cfg");
    const dts = h.report().guestDts.find((g) => g.domain === "b1")!.dts;
    expect(dts).toMatch(
      /xen-shmem@60000000 \{[^}]*reg = <0x00 0x60000000 0x00 0xf0000>;[^}]*xen,id = "A";[^}]*xen,offset = <0x00 0x10000>;/,
    );
  });
});
