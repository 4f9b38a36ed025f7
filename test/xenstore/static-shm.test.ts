import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SshmError } from "../../src/common/errors.js";
import {
  forkOwnerDomidReadback,
  permToString,
  sshmBorrowerAdd,
  sshmDel,
  sshmDelAll,
  sshmList,
  sshmOwnerAdd,
  sshmRole,
  XenStore,
} from "../../src/xenstore/index.js";
import { throwsExactly } from "../helpers/errors.js";

/** XL-3: owner d1 (RAM 0x40000000-0x50000000) id=A begin=0x4F000000 size=0x100000; borrower d2. */
function xl3(): XenStore {
  const xs = new XenStore();
  sshmOwnerAdd(xs, { id: "A", ownerDomid: 1, begin: 0x4f00_0000, size: 0x10_0000 });
  const r = sshmBorrowerAdd(xs, { id: "A", domid: 2, begin: 0x6000_0000, size: 0xf_0000, offset: 0x1_0000 });
  expect(r).toEqual({
    ownerDomid: 1,
    ownerRaw: "1",
    ownerBegin: 0x4f00_0000,
    ownerSize: 0x10_0000,
    ownerProt: "rw",
    usercnt: 2,
  });
  return xs;
}

describe("static_shm records: XL-3", () => {
  it("xenstore-ls -f shows the S000 layout with libxl's value formats", () => {
    expect(xl3().xenstoreLs()).toBe(
      [
        '/libxl = ""',
        '/libxl/static_shm = ""',
        '/libxl/static_shm/A = ""',
        '/libxl/static_shm/A/owner = "1"',
        '/libxl/static_shm/A/begin = "0x4f000000"',
        '/libxl/static_shm/A/size = "0x100000"',
        '/libxl/static_shm/A/prot = "rw"',
        '/libxl/static_shm/A/cache_policy = "arm_normal"',
        '/libxl/static_shm/A/usercnt = "2"',
        '/libxl/static_shm/A/borrowers = ""',
        '/libxl/static_shm/A/borrowers/2 = ""',
        '/libxl/static_shm/A/borrowers/2/begin = "0x60000000"',
        '/libxl/static_shm/A/borrowers/2/size = "0xf0000"',
        '/libxl/static_shm/A/borrowers/2/prot = "rw"',
        '/libxl/static_shm/A/borrowers/2/offset = "0x10000"',
        '/local = ""',
        '/local/domain = ""',
        '/local/domain/1 = ""',
        '/local/domain/1/static_shm = ""',
        '/local/domain/1/static_shm/A = ""',
        '/local/domain/1/static_shm/A/role = "owner"',
        '/local/domain/2 = ""',
        '/local/domain/2/static_shm = ""',
        '/local/domain/2/static_shm/A = ""',
        '/local/domain/2/static_shm/A/role = "borrower"',
        "",
      ].join("\n"),
    );
  });

  it("the id node and everything below it is {dom0, NONE}", () => {
    const xs = xl3();
    for (const p of [
      "/libxl/static_shm/A",
      "/libxl/static_shm/A/usercnt",
      "/libxl/static_shm/A/borrowers/2/offset",
    ]) {
      expect(xs.getPerms(p).map(permToString)).toEqual(["n0"]);
    }
  });

  it("sshmList gives the typed view", () => {
    expect(sshmList(xl3())).toEqual([
      {
        id: "A",
        owner: 1,
        begin: 0x4f00_0000,
        size: 0x10_0000,
        prot: "rw",
        cachePolicy: "arm_normal",
        usercnt: 2,
        borrowers: [{ domid: 2, begin: 0x6000_0000, size: 0xf_0000, prot: "rw", offset: 0x1_0000 }],
        roles: [
          { domid: 1, role: "owner" },
          { domid: 2, role: "borrower" },
        ],
      },
    ]);
    expect(sshmList(new XenStore())).toEqual([]);
  });

  it("offset defaults to 0x0 and addresses above 4 GiB print without padding", () => {
    const xs = new XenStore();
    sshmOwnerAdd(xs, { id: "big", ownerDomid: 3, begin: 0x8_8000_0000, size: 0x1000 });
    sshmBorrowerAdd(xs, { id: "big", domid: 4, begin: 0x1_0000_0000, size: 0x1000 });
    expect(xs.read("/libxl/static_shm/big/begin")).toBe("0x880000000");
    expect(xs.read("/libxl/static_shm/big/borrowers/4/offset")).toBe("0x0");
    expect(xs.read("/libxl/static_shm/big/borrowers/4/begin")).toBe("0x100000000");
  });
});

describe("static_shm records: XL-15 lifecycle", () => {
  it("usercnt 1 -> 2 -> 3 -> 2 -> 1 -> 0 and the id node goes at 0", () => {
    const xs = new XenStore();
    const cnt = () => xs.read("/libxl/static_shm/S/usercnt");
    sshmOwnerAdd(xs, { id: "S", ownerDomid: 1, begin: 0x4f00_0000, size: 0x10_0000 });
    expect(cnt()).toBe("1");
    sshmBorrowerAdd(xs, { id: "S", domid: 2, begin: 0x6000_0000, size: 0x10_0000 });
    expect(cnt()).toBe("2");
    sshmBorrowerAdd(xs, { id: "S", domid: 3, begin: 0x7000_0000, size: 0x8_0000, offset: 0x8_0000 });
    expect(cnt()).toBe("3");

    expect(sshmDel(xs, { id: "S", domid: 2 })).toEqual({
      role: "borrower",
      usercnt: 2,
      recordRemoved: false,
    });
    expect(cnt()).toBe("2");
    expect(xs.exists("/libxl/static_shm/S/borrowers/2")).toBe(false);
    expect(xs.exists("/local/domain/2/static_shm/S")).toBe(false);

    // Owner destroyed first: only the count drops; B2's entry and the owner entries stay.
    expect(sshmDel(xs, { id: "S", domid: 1 })).toEqual({ role: "owner", usercnt: 1, recordRemoved: false });
    expect(xs.xenstoreLs("/libxl")).toBe(
      [
        '/libxl/static_shm = ""',
        '/libxl/static_shm/S = ""',
        '/libxl/static_shm/S/owner = "1"',
        '/libxl/static_shm/S/begin = "0x4f000000"',
        '/libxl/static_shm/S/size = "0x100000"',
        '/libxl/static_shm/S/prot = "rw"',
        '/libxl/static_shm/S/cache_policy = "arm_normal"',
        '/libxl/static_shm/S/usercnt = "1"',
        '/libxl/static_shm/S/borrowers = ""',
        '/libxl/static_shm/S/borrowers/3 = ""',
        '/libxl/static_shm/S/borrowers/3/begin = "0x70000000"',
        '/libxl/static_shm/S/borrowers/3/size = "0x80000"',
        '/libxl/static_shm/S/borrowers/3/prot = "rw"',
        '/libxl/static_shm/S/borrowers/3/offset = "0x80000"',
        "",
      ].join("\n"),
    );
    // While B2 lives, the id is still taken: a new owner is refused.
    throwsExactly(
      () => sshmOwnerAdd(xs, { id: "S", ownerDomid: 9, begin: 0x4000_0000, size: 0x1000 }),
      "ESSHM_SECOND_OWNER",
      "Domain 9:static_shm id = S: can only have one owner.",
    );

    expect(sshmDel(xs, { id: "S", domid: 3 })).toEqual({ role: "borrower", usercnt: 0, recordRemoved: true });
    expect(xs.exists("/libxl/static_shm/S")).toBe(false);
    expect(xs.xenstoreLs("/libxl")).toBe('/libxl/static_shm = ""\n');
    // The per-domain static_shm directories stay (the domain's own teardown removes its home).
    expect(xs.directory("/local/domain/1/static_shm")).toEqual([]);
    // With the id gone, a new owner can take it again.
    sshmOwnerAdd(xs, { id: "S", ownerDomid: 9, begin: 0x4000_0000, size: 0x1000 });
    expect(xs.read("/libxl/static_shm/S/owner")).toBe("9");
  });

  it("sshmDelAll tears down every id of a domain in role-creation order", () => {
    const xs = new XenStore();
    sshmOwnerAdd(xs, { id: "X", ownerDomid: 1, begin: 0x4000_0000, size: 0x1000 });
    sshmOwnerAdd(xs, { id: "Y", ownerDomid: 2, begin: 0x4000_0000, size: 0x1000 });
    sshmBorrowerAdd(xs, { id: "Y", domid: 1, begin: 0x6000_0000, size: 0x1000 });
    expect(sshmDelAll(xs, 1)).toEqual([
      { id: "X", result: { role: "owner", usercnt: 0, recordRemoved: true } },
      { id: "Y", result: { role: "borrower", usercnt: 1, recordRemoved: false } },
    ]);
    expect(sshmDelAll(xs, 1)).toEqual([]);
    expect(sshmDelAll(xs, 42)).toEqual([]);
    expect(sshmList(xs).map((r) => [r.id, r.usercnt, r.borrowers.length])).toEqual([["Y", 1, 0]]);
  });
});

describe("static_shm records: errors", () => {
  it("XL-13: a borrower without owner gets 'no owner found.' and writes nothing", () => {
    const xs = new XenStore();
    throwsExactly(
      () => sshmBorrowerAdd(xs, { id: "A", domid: 2, begin: 0x6000_0000, size: 0x1000 }),
      "ESSHM_NO_OWNER",
      "Domain 2:static_shm id = A: no owner found.",
    );
    expect(xs.xenstoreLs()).toBe("");
  });

  it("XL-16: the same domain mapping an id twice is refused and the count is unchanged", () => {
    const xs = xl3();
    const before = xs.xenstoreLs();
    throwsExactly(
      () => sshmBorrowerAdd(xs, { id: "A", domid: 2, begin: 0x7000_0000, size: 0x1000 }),
      "ESSHM_TWICE",
      "Domain 2:static_shm id = A: domain tried to map the same ID twice.",
    );
    // The owner cannot also borrow its own region.
    throwsExactly(
      () => sshmBorrowerAdd(xs, { id: "A", domid: 1, begin: 0x7000_0000, size: 0x1000 }),
      "ESSHM_TWICE",
      "Domain 1:static_shm id = A: domain tried to map the same ID twice.",
    );
    expect(xs.xenstoreLs()).toBe(before);
  });

  it("a second owner gets 'can only have one owner.' and the first owner's record is intact", () => {
    const xs = xl3();
    const before = xs.xenstoreLs();
    throwsExactly(
      () => sshmOwnerAdd(xs, { id: "A", ownerDomid: 5, begin: 0x4000_0000, size: 0x2000 }),
      "ESSHM_SECOND_OWNER",
      "Domain 5:static_shm id = A: can only have one owner.",
    );
    expect(xs.xenstoreLs()).toBe(before);
  });

  it("deleting a role that does not exist is an error naming id and domid", () => {
    const xs = xl3();
    throwsExactly(
      () => sshmDel(xs, { id: "A", domid: 7 }),
      "ESSHM_NO_ROLE",
      "Domain 7:static_shm id = A: domain has no role for this ID.",
    );
    expect(sshmRole(xs, "A", 1)).toBe("owner");
    expect(sshmRole(xs, "A", 2)).toBe("borrower");
    expect(sshmRole(xs, "A", 7)).toBeUndefined();
  });

  it("argument checks: id charset and length, domid range, addresses", () => {
    const xs = new XenStore();
    throwsExactly(
      () => sshmOwnerAdd(xs, { id: "my-shm", ownerDomid: 1, begin: 0, size: 0x1000 }),
      "ESSHM_ARG",
      "Domain 1:static_shm id = my-shm: invalid id (must be 1..128 characters of [_a-zA-Z0-9])",
    );
    expect(() =>
      sshmOwnerAdd(xs, { id: "a".repeat(128), ownerDomid: 1, begin: 0, size: 0x1000 }),
    ).not.toThrow();
    throwsExactly(
      () => sshmOwnerAdd(xs, { id: "b".repeat(129), ownerDomid: 1, begin: 0, size: 0x1000 }),
      "ESSHM_ARG",
      `Domain 1:static_shm id = ${"b".repeat(129)}: invalid id (must be 1..128 characters of [_a-zA-Z0-9])`,
    );
    throwsExactly(
      () => sshmOwnerAdd(xs, { id: "c", ownerDomid: 0x7ff1, begin: 0, size: 0x1000 }),
      "ESSHM_ARG",
      "Domain 32753:static_shm id = c: domid 32753 is not a real domain id (0..0x7fef)",
    );
    throwsExactly(
      () => sshmOwnerAdd(xs, { id: "c", ownerDomid: 1, begin: -4096, size: 0x1000 }),
      "ESSHM_ARG",
      "Domain 1:static_shm id = c: begin -4096 is not a non-negative integer below 2^53",
    );
  });

  it("a corrupt record is reported with its path and value", () => {
    const xs = xl3();
    xs.write("/libxl/static_shm/A/usercnt", "two");
    throwsExactly(
      () => sshmBorrowerAdd(xs, { id: "A", domid: 3, begin: 0x7000_0000, size: 0x1000 }),
      "ESSHM_RECORD",
      'xenstore /libxl/static_shm/A/usercnt = "two": expected a decimal integer',
    );
    expect(xs.exists("/libxl/static_shm/A/borrowers/3")).toBe(false);
  });
});

describe("the fork's owner-domid readback (reference §9.5, XL-14)", () => {
  it("parses the decimal owner entry as hex, like strtoull(.., 16)", () => {
    expect(forkOwnerDomidReadback("12")).toBe(18);
    expect(forkOwnerDomidReadback("9")).toBe(9);
    expect(forkOwnerDomidReadback("10")).toBe(16);
    expect(forkOwnerDomidReadback("0x1f")).toBe(31);
    expect(forkOwnerDomidReadback("  1a9z")).toBe(0x1a9);
    expect(forkOwnerDomidReadback("zz")).toBe(0);
    expect(forkOwnerDomidReadback("0x")).toBe(0);
  });

  it("the emulator reads the same entry as decimal", () => {
    const xs = new XenStore();
    sshmOwnerAdd(xs, { id: "A", ownerDomid: 12, begin: 0x4000_0000, size: 0x1000 });
    const r = sshmBorrowerAdd(xs, { id: "A", domid: 13, begin: 0x6000_0000, size: 0x1000 });
    expect(r.ownerDomid).toBe(12);
    expect(forkOwnerDomidReadback(r.ownerRaw)).toBe(18);
  });
});

describe("static_shm records: model property", () => {
  type Op = { kind: "owner" | "borrower" | "del"; id: string; domid: number };
  const opArb: fc.Arbitrary<Op> = fc.record({
    kind: fc.constantFrom<Op["kind"]>("owner", "borrower", "borrower", "del", "del"),
    id: fc.constantFrom("A", "B", "C"),
    domid: fc.integer({ min: 1, max: 5 }),
  });

  it("random add/del sequences keep usercnt = live users and drop the subtree exactly at 0", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60, size: "max" }), (ops) => {
        const xs = new XenStore();
        // Model: per id, the live users with their roles (absent id = no record).
        const model = new Map<string, Map<number, "owner" | "borrower">>();
        for (const op of ops) {
          const users = model.get(op.id);
          let expectedCode: string | undefined;
          if (op.kind === "owner") expectedCode = users ? "ESSHM_SECOND_OWNER" : undefined;
          else if (op.kind === "borrower")
            expectedCode = !users ? "ESSHM_NO_OWNER" : users.has(op.domid) ? "ESSHM_TWICE" : undefined;
          else expectedCode = users?.has(op.domid) ? undefined : "ESSHM_NO_ROLE";

          const before = xs.xenstoreLs();
          let code: string | undefined;
          try {
            if (op.kind === "owner")
              sshmOwnerAdd(xs, { id: op.id, ownerDomid: op.domid, begin: 0x4000_0000, size: 0x2000 });
            else if (op.kind === "borrower")
              sshmBorrowerAdd(xs, {
                id: op.id,
                domid: op.domid,
                begin: 0x6000_0000,
                size: 0x1000,
                offset: 0x1000,
              });
            else sshmDel(xs, { id: op.id, domid: op.domid });
          } catch (e) {
            if (!(e instanceof SshmError)) throw e;
            code = e.code;
          }
          expect(code).toBe(expectedCode);
          if (code !== undefined) {
            expect(xs.xenstoreLs()).toBe(before); // a refused operation writes nothing
            continue;
          }
          if (op.kind === "owner") model.set(op.id, new Map([[op.domid, "owner"]]));
          else if (op.kind === "borrower") users?.set(op.domid, "borrower");
          else {
            users?.delete(op.domid);
            if (users?.size === 0) model.delete(op.id);
          }

          // Invariants after every successful step.
          const list = sshmList(xs);
          expect(list.map((r) => r.id).sort()).toEqual([...model.keys()].sort());
          for (const r of list) {
            const u = model.get(r.id);
            expect(u).toBeDefined();
            if (!u) continue;
            expect(r.usercnt).toBe(u.size);
            expect(r.roles.map((x) => x.domid).sort()).toEqual([...u.keys()].sort());
            const borrowers = [...u].filter(([, role]) => role === "borrower").map(([d]) => d);
            expect(r.borrowers.map((b) => b.domid).sort()).toEqual(borrowers.sort());
            for (const { domid, role } of r.roles) expect(role).toBe(u.get(domid));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
