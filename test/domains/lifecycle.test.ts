/**
 * Refcount regression: random dom0less topologies, destroyed in random orders, against a model of
 * Xen's reference counting. After every step every page of every region has the count the model
 * predicts; after everything is destroyed nothing leaks except what Xen itself leaks.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bootDom0less } from "../../src/domains/index.js";
import { type DomSpec, hostDts } from "./dt.js";

interface Topo {
  nDom: number;
  /** Region A (host form at 0x50000000, 2 MiB): owner index or -1 for dom_io (all role-less). */
  ownerA: number;
  borrowersA: boolean[];
  /** Region B (heap form, 2 MiB): owner index, borrowers. */
  ownerB: number;
  borrowersB: boolean[];
  order: number[];
}

const topoArb: fc.Arbitrary<Topo> = fc.integer({ min: 2, max: 4 }).chain((nDom) =>
  fc.record({
    nDom: fc.constant(nDom),
    ownerA: fc.integer({ min: -1, max: nDom - 1 }),
    borrowersA: fc.array(fc.boolean(), { minLength: nDom, maxLength: nDom }),
    ownerB: fc.integer({ min: 0, max: nDom - 1 }),
    borrowersB: fc.array(fc.boolean(), { minLength: nDom, maxLength: nDom }),
    order: fc.shuffledSubarray([...Array(nDom).keys()], { minLength: nDom, maxLength: nDom }),
  }),
);

function build(t: Topo): DomSpec[] {
  const doms: DomSpec[] = [];
  for (let i = 0; i < t.nDom; i++) {
    const shm: DomSpec["shm"] = [];
    const g = 0x6000_0000 + i * 0x100_0000;
    if (t.ownerA === i) shm.push({ id: "A", role: "owner", sm: [0x50000000, g, 0x200000] });
    else if (t.ownerA === -1 && t.borrowersA[i]) shm.push({ id: "A", sm: [0x50000000, g, 0x200000] });
    else if (t.borrowersA[i]) shm.push({ id: "A", role: "borrower", sm: [0x50000000, g, 0x200000] });
    if (t.ownerB === i) shm.push({ id: "B", role: "owner", sm: [g + 0x80_0000, 0x200000] });
    else if (t.borrowersB[i]) shm.push({ id: "B", role: "borrower", sm: [g + 0x80_0000, 0x200000] });
    doms.push({ name: `domU${i + 1}`, memKiB: 16384, shm });
  }
  return doms;
}

describe("dom0less lifecycle against a refcount model", () => {
  it("every page count follows the model through random destroy orders", () => {
    fc.assert(
      fc.property(topoArb, (t) => {
        const { report, system } = bootDom0less(hostDts({ domUs: build(t) }));
        expect(report.verdict).toBe("accepted");
        const s = system!;
        const heapFree0 = s.hv.machine.alloc.freePages;
        const bA = t.borrowersA.map((b, i) => b && t.ownerA !== i);
        const bB = t.borrowersB.map((b, i) => b && t.ownerB !== i);
        const nA = bA.filter(Boolean).length;
        const nB = bB.filter(Boolean).length;
        const hasA = t.ownerA !== -1 || nA > 0;
        const alive = new Set([...Array(t.nDom).keys()]);
        const expected = () => {
          // dom_io never gives its allocation reference back; a domain does when destroyed.
          const allocA = t.ownerA === -1 ? (nA > 0 ? 1 : 0) : alive.has(t.ownerA) ? 1 : 0;
          const ownedA = t.ownerA === -1 ? nA > 0 : true;
          const a = ownedA ? allocA + nA - bA.filter((b, i) => b && !alive.has(i)).length : 0;
          const b = (alive.has(t.ownerB) ? 1 : 0) + nB - bB.filter((x, i) => x && !alive.has(i)).length;
          return [a, b];
        };
        const check = () => {
          const [a, b] = expected();
          if (hasA) expect(s.regionCounts("A")).toEqual([a]);
          if (s.regions.get("B")!.chunks.length > 0) expect(s.regionCounts("B")).toEqual([b]);
        };
        check();
        for (const i of t.order) {
          s.destroy(`domU${i + 1}`);
          alive.delete(i);
          check();
        }
        // Everything destroyed: the heap region and all domain RAM are back; region A is free|static
        // again unless dom_io owns it (never freed, by design of Xen).
        expect(s.report().domains).toEqual([]);
        expect(s.hv.machine.alloc.freePages).toBeGreaterThan(heapFree0);
        const a0 = s.hv.pageInfo(0x50000);
        if (t.ownerA === -1 && nA > 0) expect(a0).toMatchObject({ owner: "d[IO]", count: 1 });
        else if (hasA) expect(a0).toMatchObject({ count: 0, state: "free", isStatic: true });
        else expect(a0.isStatic).toBe(false); // no node names it: ordinary heap RAM
      }),
      { numRuns: 40 },
    );
  });
});
