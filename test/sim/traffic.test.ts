/**
 * Traffic over a hand-built static-shm system (Machine + P2m, no hypervisor): every scenario keeps
 * its integrity, offset windows land where they must in the owner's region, wrong mappings are
 * caught, and destroying a borrower mid-run makes it fault while the others carry on.
 */
import { describe, expect, it } from "vitest";
import {
  buildTestbed,
  formatSimResult,
  MSG_SEQ,
  RING_HEAD,
  RING_MAGIC,
  ringHeaderBytes,
  type SimResult,
  simulate,
  type TestbedBorrower,
} from "../../src/sim/index.js";

const OWNER_GADDR = 0x5000_0000;
// Generous peer timeout where nobody dies (a loaded machine may starve a thread for a while);
// destroy tests use a short one so the survivors give up on the dead guest quickly.
const FAST = { peerTimeoutMs: 1000, timeoutMs: 15_000, progress: false } as const;
const DESTROY = { peerTimeoutMs: 400, timeoutMs: 15_000, progress: false } as const;

function bed(borrowers: TestbedBorrower[], regionBytes = 1 << 20) {
  return buildTestbed({ ramBytes: 256 * 2 ** 20, regionBytes, ownerGaddr: OWNER_GADDR, borrowers });
}

function guest(r: SimResult, domid: number) {
  const g = r.guests.find((x) => x.domid === domid);
  if (!g) throw new Error(`no d${domid} in result`);
  return g;
}

function expectOk(r: SimResult): void {
  if (!r.ok) throw new Error(formatSimResult(r));
  for (const g of r.guests) expect(g.status, `d${g.domid}: ${g.detail}`).toBe("ok");
}

describe("scenarios keep every message intact", () => {
  it("stream: 64 B and 100 B (not a word multiple), producer owner, consumer borrower", async () => {
    const tb = bed([{ domid: 2, gaddr: 0x6000_0000 }]);
    for (const size of [64, 100]) {
      const r = await simulate(tb, { kind: "stream", size, count: 20_000 }, FAST);
      expectOk(r);
      expect(guest(r, 1).role).toBe("producer");
      expect(guest(r, 2).messages).toBe(20_000);
      expect(guest(r, 2).bytes).toBe(20_000 * size);
      expect(guest(r, 2).latency?.samples).toBe(Math.floor(20_000 / 64));
      expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    }
  });

  it("stream: 64 KiB messages span pages; polling instead of doorbells", async () => {
    const tb = bed([{ domid: 2, gaddr: 0x6000_0000 }], 4 << 20);
    const r = await simulate(tb, { kind: "stream", size: 65536, count: 400, doorbell: false }, FAST);
    expectOk(r);
    expect(r.rings[0]!.slotSize).toBe(65536 + 64);
    expect(guest(r, 2).messages).toBe(400);
  });

  it("pingpong: every round trip timed", async () => {
    const tb = bed([{ domid: 2, gaddr: 0x6000_0000 }]);
    const r = await simulate(tb, { kind: "pingpong", size: 256, count: 2000 }, FAST);
    expectOk(r);
    expect(guest(r, 1).role).toBe("initiator");
    expect(guest(r, 1).latency?.samples).toBe(2000);
    expect(guest(r, 2).messages).toBe(2000);
  });

  it("fanout: three borrowers (one at an offset) read every message of one ring", async () => {
    const tb = bed([
      { domid: 2, gaddr: 0x6000_0000 },
      { domid: 3, gaddr: 0x6800_0000, offset: 0x4000 },
      { domid: 4, gaddr: 0x7000_0000 },
    ]);
    const r = await simulate(tb, { kind: "fanout", size: 4096, count: 3000 }, FAST);
    expectOk(r);
    expect(r.rings).toHaveLength(1);
    expect(r.rings[0]!.readers).toEqual([2, 3, 4]);
    for (const d of [2, 3, 4]) expect(guest(r, d).messages).toBe(3000);
  });

  it("many-to-one: three producers, one ring each, into the owner; timed run", async () => {
    const tb = bed([
      { domid: 2, gaddr: 0x6000_0000 },
      { domid: 3, gaddr: 0x6800_0000 },
      { domid: 4, gaddr: 0x7000_0000 },
    ]);
    const r = await simulate(tb, { kind: "many", size: 8, durationMs: 300 }, FAST);
    expectOk(r);
    expect(r.rings.map((x) => x.producer)).toEqual([2, 3, 4]);
    const sent = [2, 3, 4].map((d) => guest(r, d).messages);
    for (const s of sent) expect(s).toBeGreaterThan(0);
    expect(guest(r, 1).messages).toBe(sent[0]! + sent[1]! + sent[2]!);
  });
});

describe("addresses and mappings", () => {
  it("traffic through a borrower's offset window lands at that offset of the owner's region", async () => {
    const off = 0x20000;
    const tb = bed([{ domid: 2, gaddr: 0x6000_0000, offset: off, size: 0x40000 }]);
    const count = 1000;
    // The borrower produces, the owner consumes: the owner reads what the borrower wrote at its
    // own window, so the data must sit at region offset `off` + ring offset.
    const r = await simulate(tb, { kind: "stream", size: 64, count, producer: 2, consumer: 1 }, FAST);
    expectOk(r);
    const ring = r.rings[0]!;
    expect(ring.offset).toBe(off + 0x1000);
    const host = tb.host.mem;
    const ringPa = tb.regionMfn * 4096 + ring.offset;
    expect(host.read32(ringPa) >>> 0).toBe(RING_MAGIC);
    expect(host.read32(ringPa + RING_HEAD)).toBe(count);
    // Message n sits in slot (n - 1) % slots.
    const lastSlot = (count - 1) % ring.slots;
    const slotPa = ringPa + ringHeaderBytes(1) + lastSlot * ring.slotSize;
    expect(host.read32(slotPa + MSG_SEQ)).toBe(count);
    // Nothing of the ring below the window: the first 0x20000 bytes of the region stay zero.
    expect(host.readBytes(tb.regionMfn * 4096, off).every((b) => b === 0)).toBe(true);
  });

  it("a borrower mapped one page off is caught at attach, not silently accepted", async () => {
    const tb = bed([{ domid: 2, gaddr: 0x6000_0000, size: 0x80000, shiftPages: 1 }]);
    const r = await simulate(tb, { kind: "stream", size: 64, count: 1000 }, FAST);
    expect(r.ok).toBe(false);
    const text = r.errors.join("\n");
    expect(text).toMatch(/does not alias/);
    expect(text).toMatch(/IPA 0x60000000/);
  });

  it("one wrong page inside the ring is reported as loss/corruption naming the message and both IPAs", async () => {
    // Ring at offset 0x1000, header 0xc0, slots of 128 B: page 2 of the window holds messages 31..62.
    const tb = bed([{ domid: 2, gaddr: 0x6000_0000, wrongPage: 2 }]);
    const r = await simulate(tb, { kind: "stream", size: 64, count: 5000 }, FAST);
    expect(r.ok).toBe(false);
    const err = guest(r, 2);
    expect(err.status).toBe("error");
    expect(err.detail).toMatch(/message #\d+ on ring 'stream'/);
    expect(err.detail).toMatch(/loss|corruption/);
    expect(err.detail).toMatch(
      /producer d1 writes that slot at IPA 0x0*50001fc0, reader d2 read it at IPA 0x0*60001fc0/,
    );
    const n = Number(/message #(\d+)/.exec(err.detail)![1]);
    // Message 31's slot (30) is the first to reach into page 2: its header is intact, its payload not.
    expect(n).toBe(31);
    expect(err.detail).toMatch(/corruption/);
    // The consumer aborted the run: the producer stopped instead of hanging.
    expect(guest(r, 1).status).not.toBe("ok");
  });
});

describe("destroying a borrower mid-run", () => {
  it("fanout: the destroyed reader faults and stops, the producer gives up on it, the others finish", async () => {
    const tb = bed([
      { domid: 2, gaddr: 0x6000_0000 },
      { domid: 3, gaddr: 0x6800_0000 },
      { domid: 4, gaddr: 0x7000_0000 },
    ]);
    const pages = 256;
    const before = tb.pageCount!(tb.regionMfn);
    expect(before).toBe(4); // allocation + one reference per borrower
    const r = await simulate(
      tb,
      { kind: "fanout", size: 256, count: 30_000, destroy: { domid: 3, afterMessages: 2000 } },
      DESTROY,
    );
    if (!r.ok) throw new Error(formatSimResult(r));
    expect(r.destroyed?.domid).toBe(3);
    const dead = guest(r, 3);
    expect(dead.status).toBe("fault");
    expect(dead.fault?.kind).toBe("translation");
    expect(dead.fault?.level).toBe(3);
    expect(dead.fault!.ipa).toBeGreaterThanOrEqual(0x6800_0000);
    expect(dead.fault!.ipa).toBeLessThan(0x6800_0000 + pages * 4096);
    expect(dead.messages).toBeGreaterThanOrEqual(1900);
    expect(dead.messages).toBeLessThan(30_000);
    expect(guest(r, 1).status).toBe("ok");
    expect(guest(r, 1).gaveUpOn).toEqual([3]);
    expect(guest(r, 1).messages).toBe(30_000);
    for (const d of [2, 4]) expect(guest(r, d).messages).toBe(30_000);
    // The destroyed borrower's foreign mappings put their references back.
    expect(r.pageCounts).toEqual([{ offset: 0, pages, mfn: tb.regionMfn, count: 3 }]);
    expect(formatSimResult(r)).toMatch(/count 3/);
  });

  it("stream: a producer whose only consumer died stops with a clear status instead of hanging", async () => {
    const tb = bed([{ domid: 2, gaddr: 0x6000_0000 }]);
    const t0 = performance.now();
    const r = await simulate(
      tb,
      { kind: "stream", size: 64, count: 10_000_000, destroy: { domid: 2, afterMs: 100 } },
      DESTROY,
    );
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.ok).toBe(true);
    expect(guest(r, 2).status).toBe("fault");
    const p = guest(r, 1);
    expect(p.status).toBe("stalled");
    expect(p.detail).toMatch(/reader d2 made no progress for 400 ms/);
    expect(p.messages).toBeLessThan(10_000_000);
  });
});
