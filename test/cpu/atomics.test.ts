/**
 * Exclusives and LSE atomics are atomic across vCPUs on different threads: two workers run the
 * same guest code, each incrementing shared counters with LDAXR/STLXR, LDADD (64 and 32 bits) and
 * a CAS loop, with no lock; every increment must survive.
 */
import { describe, expect, it } from "vitest";
import { P2m, p2m_ram_rw, Vcpu } from "../../src/p2m/index.js";
import { Machine } from "../../src/pagealloc/index.js";
import { spawnTsWorker, workerResult } from "../../src/threads/index.js";
import { assemble } from "./asm.js";
import { toolchainMissing } from "./diff/harness.js";

const missing = toolchainMissing();
if (missing !== undefined && process.env.CI === "true")
  throw new Error(`A64 atomics tests need the cross toolchain: ${missing}`);

const BASE = 0x4000_0000;
const DATA = BASE + 0x8000;

const GUEST = `
  movz x1, #0x4000, lsl #16
  add x1, x1, #0x8, lsl #12   // x1 = DATA: LDAXR/STLXR counter
  add x5, x1, #8              // LDADD (X) counter
  add x8, x1, #16             // LDADD (W) counter
  add x10, x1, #24            // CAS counter
  mov x6, #1
loop:
  ldaxr x3, [x1]
  add x3, x3, #1
  stlxr w4, x3, [x1]
  cbnz w4, loop
  ldadd x6, x7, [x5]
  ldaddal w6, w7, [x8]
  ldr x9, [x10]
1:
  add x11, x9, #1
  mov x12, x9
  casal x9, x11, [x10]
  cmp x9, x12
  b.ne 1b
  subs x2, x2, #1
  b.ne loop
done:
  b done
`;

describe.skipIf(missing !== undefined)("A64 atomics across threads", () => {
  it("two vCPUs on two threads lose no increment (LDAXR/STLXR, LDADD X and W, CAS)", async () => {
    const m = new Machine([{ base: 0x8000_0000, size: 0x100_0000 }]);
    const d = m.alloc.domain(1);
    d.maxPages = 16;
    const mfn = m.alloc.alloc_domheap_pages(d, 4);
    const p2m = new P2m(m, 1, 1);
    p2m.insertMapping(BASE / 4096, 16, mfn, p2m_ram_rw);
    const v = new Vcpu(m.mem, p2m.handle());
    const code = assemble(GUEST);
    v.writeBytes(BASE, code);
    const done = BASE + code.length - 4;
    const gate = new SharedArrayBuffer(8);
    const iterations = 3000;
    const workers = [0, 1].map(() =>
      spawnTsWorker(new URL("./atomic-worker.ts", import.meta.url), {
        handle: m.share(),
        p2m: p2m.handle(),
        entry: BASE,
        done,
        iterations,
        gate,
      }),
    );
    const g = new Int32Array(gate);
    while (Atomics.load(g, 1) < 2) await new Promise((r) => setTimeout(r, 5));
    Atomics.store(g, 0, 1);
    Atomics.notify(g, 0);
    const results = await Promise.all(workers.map((w) => workerResult<{ stopped: string | null }>(w)));
    expect(results.map((r) => r.stopped)).toEqual([null, null]);
    const counters = [0, 8, 16, 24].map((o) => v.read32(DATA + o) + v.read32(DATA + o + 4) * 2 ** 32);
    expect(counters).toEqual([2 * iterations, 2 * iterations, 2 * iterations, 2 * iterations]);
  });
});
