/**
 * Property tests of the allocator and Xen's page refcounting against a simple reference model:
 * random sequences of alloc/free/get/put/acquire keep every frame's count, owner and state equal to
 * the model, the heap never hands out a frame twice, and everything comes back once freed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isSshmError } from "../../src/common/index.js";
import {
  F_ALLOCATED,
  F_STATIC,
  Machine,
  PGC_state_free,
  PGC_state_inuse,
} from "../../src/pagealloc/index.js";

// Two banks with a hole between them, and 16 boot-reserved frames that become static memory.
const BANKS = [
  { base: 0x4000_0000, size: 128 * 4096 },
  { base: 0x8000_0000, size: 64 * 4096 },
];
const STATIC = { start: 0x4004_0000, size: 16 * 4096 }; // mfn 0x40040..0x4004f
const STATIC_MFN = 0x40040;
const DOMS = [1, 2];

interface ModelPage {
  count: number;
  owner: number | undefined;
  free: boolean;
  isStatic: boolean;
  allocated: boolean;
}

type Op =
  | { k: "alloc"; order: number; dom: number | undefined }
  | { k: "freeBlock"; pick: number }
  | { k: "get"; pick: number; dom: number; nr: number }
  | { k: "put"; pick: number; nr: number }
  | { k: "acquire"; dom: number; first: number; n: number }
  | { k: "relinquish"; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant("alloc" as const),
    order: fc.integer({ min: 0, max: 6 }),
    dom: fc.option(fc.constantFrom(...DOMS), { nil: undefined }),
  }),
  fc.record({ k: fc.constant("freeBlock" as const), pick: fc.nat() }),
  fc.record({
    k: fc.constant("get" as const),
    pick: fc.nat(),
    dom: fc.constantFrom(...DOMS),
    nr: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ k: fc.constant("put" as const), pick: fc.nat(), nr: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    k: fc.constant("acquire" as const),
    dom: fc.constantFrom(...DOMS),
    first: fc.integer({ min: 0, max: 15 }),
    n: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({ k: fc.constant("relinquish" as const), pick: fc.nat() }),
);

function allMfns(): number[] {
  const out: number[] = [];
  for (const b of BANKS) for (let i = 0; i < b.size / 4096; i++) out.push(b.base / 4096 + i);
  return out;
}

function bankEnd(mfn: number): number {
  const b = BANKS.find((x) => mfn >= x.base / 4096 && mfn < (x.base + x.size) / 4096)!;
  return (b.base + b.size) / 4096;
}

describe("page allocator and refcounting against a reference model", () => {
  it("random alloc/free/get/put/acquire sequences keep every frame equal to the model", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 50, size: "max" }), (ops) => {
        const m = new Machine(BANKS, { reserved: [STATIC] });
        m.alloc.unprepare_staticmem_pages(STATIC_MFN, 16);
        for (const d of DOMS) m.alloc.domain(d).maxPages = 1000;
        const model = new Map<number, ModelPage>();
        for (const mfn of allMfns()) {
          const st = mfn >= STATIC_MFN && mfn < STATIC_MFN + 16;
          model.set(mfn, { count: 0, owner: undefined, free: true, isStatic: st, allocated: false });
        }
        const tot = new Map<number, number>(DOMS.map((d) => [d, 0]));
        const blocks: { mfn: number; order: number }[] = []; // unowned heap blocks we hold
        const pg = (mfn: number) => model.get(mfn)!;
        const freeInModel = (mfn: number) => {
          const p = pg(mfn);
          if (p.owner !== undefined) tot.set(p.owner, tot.get(p.owner)! - 1);
          p.free = true;
          p.allocated = false;
          if (!p.isStatic) p.owner = undefined;
        };
        const owned = () => [...model.entries()].filter(([, p]) => !p.free).map(([mfn]) => mfn);

        for (const op of ops) {
          switch (op.k) {
            case "alloc": {
              const n = 2 ** op.order;
              const mfn =
                op.dom === undefined
                  ? m.alloc.alloc_heap_pages(op.order)
                  : m.alloc.alloc_domheap_pages(m.alloc.domain(op.dom), op.order);
              const exists = allMfns().some(
                (s) =>
                  s % n === 0 &&
                  s + n <= bankEnd(s) &&
                  Array.from({ length: n }, (_, i) => pg(s + i)).every((p) => p.free && !p.isStatic),
              );
              expect(mfn >= 0).toBe(exists);
              if (mfn < 0) break;
              expect(mfn % n).toBe(0);
              for (let i = 0; i < n; i++) {
                const p = pg(mfn + i);
                expect(p.free && !p.isStatic).toBe(true); // never handed out twice
                p.free = false;
                if (op.dom !== undefined) {
                  p.owner = op.dom;
                  p.count = 1;
                  p.allocated = true;
                }
              }
              if (op.dom === undefined) blocks.push({ mfn, order: op.order });
              else tot.set(op.dom, tot.get(op.dom)! + n);
              break;
            }
            case "freeBlock": {
              if (blocks.length === 0) break;
              const [b] = blocks.splice(op.pick % blocks.length, 1);
              m.alloc.free_heap_pages(b!.mfn, b!.order);
              for (let i = 0; i < 2 ** b!.order; i++) freeInModel(b!.mfn + i);
              // double free is detected
              expect(() => m.alloc.free_heap_pages(b!.mfn, b!.order)).toThrowError(/double free/);
              break;
            }
            case "get": {
              const cand = owned();
              if (cand.length === 0) break;
              const mfn = cand[op.pick % cand.length]!;
              const p = pg(mfn);
              const ok = m.frames.get_page_nr(m.frames.pdx(mfn), op.dom, op.nr);
              const expectOk = p.count !== 0 && p.owner === op.dom;
              expect(ok).toBe(expectOk);
              if (ok) p.count += op.nr;
              break;
            }
            case "put": {
              const cand = owned().filter((x) => pg(x).owner !== undefined);
              if (cand.length === 0) break;
              const mfn = cand[op.pick % cand.length]!;
              const p = pg(mfn);
              if (p.count < op.nr) {
                let err: unknown;
                try {
                  m.frames.put_page_nr(m.frames.pdx(mfn), op.nr);
                } catch (e) {
                  err = e;
                }
                expect(isSshmError(err) && err.code === "EPAGE_PUT_UNDERFLOW").toBe(true);
                break;
              }
              m.frames.put_page_nr(m.frames.pdx(mfn), op.nr);
              p.count -= op.nr;
              if (p.count === 0) freeInModel(mfn);
              break;
            }
            case "relinquish": {
              const cand = owned().filter((x) => pg(x).allocated);
              if (cand.length === 0) break;
              const mfn = cand[op.pick % cand.length]!;
              const p = pg(mfn);
              expect(m.alloc.put_page_alloc_ref(mfn)).toBe(true);
              p.allocated = false;
              p.count -= 1;
              if (p.count === 0) freeInModel(mfn);
              break;
            }
            case "acquire": {
              const first = STATIC_MFN + op.first;
              const n = Math.min(op.n, STATIC_MFN + 16 - first);
              const before = m.alloc.log.length;
              const rc = m.alloc.acquire_domstatic_pages(m.alloc.domain(op.dom), first, n);
              const allFree = Array.from({ length: n }, (_, i) => pg(first + i)).every((p) => p.free);
              expect(rc === 0).toBe(allFree);
              if (rc !== 0) {
                expect(rc).toBe(-2);
                expect(m.alloc.log[before]).toMatch(
                  /^pg\[\d+\] Static MFN 4004[0-9a-f] c=0x[0-9a-f]+ t=0x0$/,
                );
                break;
              }
              for (let i = 0; i < n; i++)
                Object.assign(pg(first + i), { free: false, owner: op.dom, count: 1, allocated: true });
              tot.set(op.dom, tot.get(op.dom)! + n);
              break;
            }
          }
          // After every step the frame table equals the model.
          for (const [mfn, p] of model) {
            const pdx = m.frames.pdx(mfn);
            expect(m.frames.getCount(pdx)).toBe(p.count);
            expect(m.frames.getState(pdx)).toBe(p.free ? PGC_state_free : PGC_state_inuse);
            expect(!!(m.frames.getFlags(pdx) & F_STATIC)).toBe(p.isStatic);
            expect(!!(m.frames.getFlags(pdx) & F_ALLOCATED)).toBe(p.allocated);
            if (!p.free) expect(m.frames.getOwner(pdx)).toBe(p.owner);
          }
          for (const d of DOMS) expect(m.alloc.domain(d).totPages).toBe(tot.get(d));
        }

        // Release everything: nothing leaks.
        for (const b of blocks) m.alloc.free_heap_pages(b.mfn, b.order);
        for (const mfn of owned()) {
          const p = pg(mfn);
          if (p.allocated) m.alloc.put_page_alloc_ref(mfn);
          const c = m.frames.getCount(m.frames.pdx(mfn));
          if (c > 0) m.frames.put_page_nr(m.frames.pdx(mfn), c);
        }
        expect(m.alloc.freePages).toBe(128 + 64 - 16);
        for (const d of DOMS) expect(m.alloc.domain(d).totPages).toBe(0);
        // Everything merged back into the maximal blocks the heap started with.
        const fresh = new Machine(BANKS, { reserved: [STATIC] });
        expect(m.alloc.freeBlocks()).toEqual(fresh.alloc.freeBlocks());
      }),
      { numRuns: 30 },
    );
  });
});
