/**
 * Where Xen's buddy heap takes a block from (xen/common/page_alloc.c): the highest zone first
 * (page_to_zone = flsl(mfn)), the smallest order that serves inside it, the head of that list;
 * with bootscrub=idle every boot block is dirty, so the clean-only first pass of get_free_buddy
 * rotates each list's head to its tail before the second pass takes the new head.
 */
import { describe, expect, it } from "vitest";
import { Machine, zoneOfMfn } from "../../src/pagealloc/index.js";

const GiB = 2 ** 30;
const RAM = [{ base: 0x4000_0000, size: 2 * GiB }];

describe("Xen's heap: zones, orders and list order", () => {
  it("page_to_zone is flsl(mfn)", () => {
    expect(zoneOfMfn(0x40000)).toBe(19);
    expect(zoneOfMfn(0x7ffff)).toBe(19);
    expect(zoneOfMfn(0x80000)).toBe(20);
    expect(zoneOfMfn(0x1_0000_0000)).toBe(33);
  });

  it("the highest zone first, even when a lower zone has a block of exactly the size asked", () => {
    // Zone 19 keeps only [0x40000000, 0x48000000) (one 128 MiB block); zone 20 is one 1 GiB block.
    const m = new Machine(RAM, { reserved: [{ start: 0x4800_0000, size: 0x3800_0000 }] });
    // 128 MiB: the 1 GiB block of zone 20 is halved down and its top eighth returned.
    expect(m.alloc.alloc_heap_pages(15)).toBe(0xb8000);
    // Then zone 20's 128 MiB lower half (the smallest order that serves), not zone 19's block.
    expect(m.alloc.alloc_heap_pages(15)).toBe(0xb0000);
  });

  it("bootscrub=idle: dirty blocks queue at the tail, and the first pass rotates each head away", () => {
    // Zone 20 ends up with three 128 MiB blocks A 0x80000, B 0x98000, C 0xb8000, freed in
    // end_boot_allocator's order: the first region (A), then the others from the top (C, B).
    const reserved = [
      { start: 0x8800_0000, size: 0x1000_0000 },
      { start: 0xa000_0000, size: 0x1800_0000 },
    ];
    const dirty = new Machine(RAM, { reserved });
    // List [A, C, B]: the clean pass moves A to the tail, the second pass takes C.
    expect(dirty.alloc.alloc_heap_pages(15)).toBe(0xb8000);
    // List [B, A]: B goes to the tail, A is taken.
    expect(dirty.alloc.alloc_heap_pages(15)).toBe(0x80000);
    // Clean blocks (bootscrub=0/1, or a running host) go to the head: last freed, first taken.
    const clean = new Machine(RAM, { reserved, bootscrubIdle: false });
    expect(clean.alloc.alloc_heap_pages(15)).toBe(0x98000);
    expect(clean.alloc.alloc_heap_pages(15)).toBe(0xb8000);
  });

  it("an order-0 request takes a dirty head at once (no rotation)", () => {
    const reserved = [
      { start: 0x8800_0000, size: 0x1000_0000 },
      { start: 0xa000_0000, size: 0x1800_0000 },
    ];
    const m = new Machine(RAM, { reserved });
    // No order-0..14 blocks in zone 20: the smallest is order 15, whose head is A.
    expect(m.alloc.alloc_heap_pages(0)).toBe(0x80000 + 0x8000 - 1);
  });
});
