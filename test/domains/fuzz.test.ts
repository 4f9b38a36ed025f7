/**
 * The whole dom0less pipeline on random host device trees: Xen's parse, domain construction and
 * teardown. Whatever the input, sshm answers with a report (accepted, rejected or crash) or its own
 * SshmError — never another exception — and an accepted system tears down in any order with no
 * page left referenced except by dom_io and Xen's own leaks.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isSshmError } from "../../src/common/index.js";
import { bootDom0less } from "../../src/domains/index.js";
import { type DomSpec, hostDts, type ShmSpec } from "./dt.js";

const addr = fc.constantFrom(
  0x50000000,
  0x50200000,
  0x60000000,
  0x80000000,
  0x50000800,
  0xc0000000,
  0x40000000,
);
const size = fc.constantFrom(0x200000, 0x1000, 0x400000, 0x1800, 0, 0x40000000);
const anyShm: fc.Arbitrary<ShmSpec> = fc
  .record({
    id: fc.constantFrom("a", "b", "c", "", "0123456789abcdef"),
    role: fc.constantFrom(undefined, "owner", "borrower", "master"),
    heap: fc.boolean(),
    p: addr,
    g: addr,
    s: size,
  })
  .map((r) => {
    const spec: ShmSpec = { id: r.id, sm: r.heap ? [r.g, r.s] : [r.p, r.g, r.s] };
    if (r.role !== undefined) spec.role = r.role;
    return spec;
  });
/** Mostly consistent nodes: each id has one host range (or heap) and size; guest addresses vary. */
const REGION: Record<string, { p: number | null; s: number }> = {
  a: { p: 0x5000_0000, s: 0x20_0000 },
  b: { p: null, s: 0x40_0000 },
  c: { p: 0x8000_0000, s: 0x40_0000 },
};
const goodShm: fc.Arbitrary<ShmSpec> = fc
  .record({
    id: fc.constantFrom("a", "b", "c"),
    role: fc.constantFrom(undefined, "owner", "borrower"),
    g: fc.constantFrom(0x6000_0000, 0x7000_0000, 0x8000_0000, 0xa000_0000, 0x4000_0000),
  })
  .map((r) => {
    const reg = REGION[r.id]!;
    const spec: ShmSpec = { id: r.id, sm: reg.p === null ? [r.g, reg.s] : [reg.p, r.g, reg.s] };
    if (r.role !== undefined) spec.role = r.role;
    return spec;
  });
const shmArb = fc.oneof({ arbitrary: goodShm, weight: 4 }, { arbitrary: anyShm, weight: 1 });
const domArb = (i: number): fc.Arbitrary<DomSpec> =>
  fc.array(shmArb, { maxLength: 3 }).map((shm) => ({ name: `domU${i + 1}`, memKiB: 16384, shm }));
const topoArb = fc.record({
  dom0: fc.option(fc.array(shmArb, { maxLength: 2 }), { nil: undefined }),
  domUs: fc
    .tuple(domArb(0), domArb(1), domArb(2))
    .chain((t) => fc.integer({ min: 1, max: 3 }).map((n) => t.slice(0, n))),
  order: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
});

describe("dom0less pipeline fuzzing", () => {
  it("random host DTs give a report or an SshmError, and accepted systems tear down cleanly", () => {
    const verdicts = { accepted: 0, rejected: 0, crash: 0, error: 0 };
    fc.assert(
      fc.property(topoArb, (t) => {
        const dts = hostDts(t.dom0 === undefined ? { domUs: t.domUs } : { dom0: t.dom0, domUs: t.domUs });
        let result: ReturnType<typeof bootDom0less>;
        try {
          result = bootDom0less(dts, { file: "fuzz.dts" });
        } catch (e) {
          if (!isSshmError(e)) throw e;
          verdicts.error++;
          return;
        }
        const { report, system } = result;
        verdicts[report.verdict]++;
        expect(JSON.parse(JSON.stringify(report)).verdict).toBe(report.verdict);
        if (report.verdict !== "accepted") {
          expect(system).toBeNull();
          expect(report.panic).toBeTruthy();
          return;
        }
        const s = system!;
        // Destroy every domU in a random order (Dom0 stays, as the control domain).
        const names = s.domains.filter((d) => d.domid !== 0).map((d) => d.name);
        const order = [...names].sort(
          (a, b) => (t.order[names.indexOf(a)]! % 7) - (t.order[names.indexOf(b)]! % 7),
        );
        for (const n of order) s.destroy(n);
        // What may stay referenced: regions owned by dom_io or Dom0, regions mapped with 1 GiB
        // blocks (B4), regions with borrower nodes that nothing maps (B6) — all reported.
        const codes = new Set(s.report().warnings.map((w) => w.code));
        for (const r of s.report().regions) {
          const leaked = r.refcounts.some((x) => x.count > 0);
          const explained =
            r.owner === "dom_io" ||
            r.borrowers.length > 0 || // a live borrower (Dom0) still holds its references
            r.owner === "Dom0" ||
            codes.has("B4") ||
            codes.has("B6") ||
            codes.has("B3") ||
            s
              .report()
              .warnings.some(
                (w) =>
                  w.code === "B9" && w.message.includes(`"${r.id}"`) && w.message.includes("never be freed"),
              );
          if (leaked && !explained)
            throw new Error(`region ${r.id} still referenced: ${JSON.stringify(r.refcounts)}`);
        }
        // Only Dom0 keeps running; a destroyed owner whose pages leaked (explained above) stays dying.
        expect(s.report().domains.every((d) => d.domid === 0 || d.state === "dying")).toBe(true);
      }),
      { numRuns: 150 },
    );
    // The generator reaches every outcome.
    expect(verdicts.accepted).toBeGreaterThan(0);
    expect(verdicts.rejected).toBeGreaterThan(0);
  });
});
