/** Payload words, checksums and run planning, without threads. */
import { describe, expect, it } from "vitest";
import { RawMem } from "../../src/sim/guest-mem.js";
import { buildTestbed, PAGE } from "../../src/sim/index.js";
import { checksum, fillPayload, payloadShape, putSmall, sumSmall } from "../../src/sim/payload.js";
import { planRun } from "../../src/sim/plan.js";

describe("payloads", () => {
  it("the one-pass small path writes the same words and checksum as fillPayload + checksum", () => {
    const mem = new RawMem(new SharedArrayBuffer(4096));
    for (const size of [8, 9, 10, 11, 12, 63, 64, 100, 255, 256]) {
      const shape = payloadShape(size);
      const buf = new Uint32Array(shape.words);
      for (const seq of [1, 2, 77, 0x7fffffff, 0xfffffffe]) {
        fillPayload(shape, buf, seq, true);
        const want = checksum(buf, shape.words, 0x1234);
        expect(putSmall(mem, 64, shape, seq, 0x1234)).toBe(want);
        for (let i = 0; i < shape.words; i++) expect(mem.read32(64 + 4 * i)).toBe(buf[i]);
        expect(sumSmall(mem, 64, shape.words, 0x1234)).toBe(want);
      }
    }
  });

  it("the checksum changes with any flipped bit, a swapped pair of words, the sequence or the run nonce", () => {
    const shape = payloadShape(4096);
    const buf = new Uint32Array(shape.words);
    fillPayload(shape, buf, 5, true);
    const base = checksum(buf, shape.words, 1);
    expect(checksum(buf, shape.words, 2)).not.toBe(base);
    for (const i of [0, 1, 517, 1023]) {
      const c = buf.slice();
      c[i] = c[i]! ^ (1 << (i % 32));
      expect(checksum(c, shape.words, 1)).not.toBe(base);
    }
    const s = buf.slice();
    [s[10], s[11]] = [s[11]!, s[10]!];
    expect(checksum(s, shape.words, 1)).not.toBe(base);
    const next = buf.slice();
    fillPayload(shape, next, 6, false);
    expect(checksum(next, shape.words, 1)).not.toBe(base);
    // Large payloads vary every 64th word with the sequence number, small ones in every word.
    expect(next[64]).not.toBe(buf[64]);
    expect(next[65]).toBe(buf[65]);
  });
});

describe("planning a run", () => {
  const tb = buildTestbed({
    ramBytes: 64 * 2 ** 20,
    regionBytes: 64 * 1024,
    ownerGaddr: 0x5000_0000,
    borrowers: [{ domid: 2, gaddr: 0x6000_0000, offset: 0x4000, size: 0x8000 }],
  });

  it("places the shared area where every window overlaps and gives each guest its own addresses", () => {
    const p = planRun(tb, { kind: "stream", size: 64, slots: 16 }, 9);
    expect(p.areaOffset).toBe(0x4000);
    const [prod, cons] = p.guests;
    expect(prod!.dirBase).toBe(0x5000_4000);
    expect(cons!.dirBase).toBe(0x6000_0000);
    expect(p.rings[0]!.producer.base).toBe(0x5000_4000 + PAGE);
    expect(p.rings[0]!.readers[0]!.base).toBe(0x6000_0000 + PAGE);
  });

  it("refuses sizes out of range, unknown domains and regions too small for two slots", () => {
    expect(() => planRun(tb, { kind: "stream", size: 4 }, 1)).toThrow(/outside 8 … 65536/);
    expect(() => planRun(tb, { kind: "stream", size: 65537 }, 1)).toThrow(/outside/);
    expect(() => planRun(tb, { kind: "stream", size: 64, consumer: 9 }, 1)).toThrow(/d9 does not share/);
    expect(() => planRun(tb, { kind: "stream", size: 65536 }, 1)).toThrow(/holds 0 slots/);
    expect(() => planRun(tb, { kind: "stream", size: 64, slots: 1000 }, 1)).toThrow(/need 1000/);
  });
});
