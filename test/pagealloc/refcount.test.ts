import { describe, expect, it } from "vitest";
import { Machine } from "../../src/pagealloc/index.js";
import { spawnTsWorker, workerResult } from "../../src/threads/index.js";

describe("refcounting from several threads", () => {
  it("get_page_nr/put_page_nr from 3 threads on the same frames stay exact", async () => {
    const m = new Machine([{ base: 0x4000_0000, size: 1 << 24 }]);
    const d = m.alloc.domain(1);
    d.maxPages = 64;
    const first = m.alloc.alloc_domheap_pages(d, 6);
    expect(first).toBeGreaterThan(0);
    const gate = new SharedArrayBuffer(8);
    const rounds = 2000;
    const workers = [0, 1, 2].map(() =>
      spawnTsWorker(new URL("./refcount-worker.ts", import.meta.url), {
        handle: m.share(),
        first,
        n: 64,
        rounds,
        dom: 1,
        gate,
      }),
    );
    const g = new Int32Array(gate);
    while (Atomics.load(g, 1) < 3) await new Promise((r) => setTimeout(r, 5));
    Atomics.store(g, 0, 1);
    Atomics.notify(g, 0);
    const results = await Promise.all(
      workers.map((w) => workerResult<{ taken: number; refused: number }>(w)),
    );
    for (const r of results) expect(r).toEqual({ taken: 64 * rounds, refused: 0 });
    for (let i = 0; i < 64; i++) expect(m.frames.getCount(m.frames.pdx(first + i))).toBe(1 + 3 * rounds);
  });
});
