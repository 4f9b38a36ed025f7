/**
 * Suite `translate` (one op = one guest 32-bit access): reads and writes through a vCPU's TLB over a
 * 64 MiB mapped region, against plain Uint32Array reads of the same host bytes.
 *
 * The two `floor` cases bound what any translator can reach here: a flat per-page table of host
 * word indices with no check at all (no tag, no permission, no fault). They are not a design — an
 * unmapped page would read garbage — but they show how much of a hit's cost is the translation
 * itself, measured next to the same raw baseline in the same run.
 */

import { P2m, p2m_ram_rw, Vcpu } from "../src/p2m/index.js";
import { Machine } from "../src/pagealloc/index.js";
import type { BenchSuite } from "./lib.js";

const REGION = 64 * 2 ** 20;
const WORDS = REGION / 4;
const GBASE = 0x8000_0000; // guest address of the region
const RANDOM = 1 << 20;

export const translateSuite: BenchSuite = {
  name: "translate",
  unit: "access",
  cases() {
    const m = new Machine([{ base: 0x4000_0000, size: 2 ** 30 }]);
    const d = m.alloc.domain(1);
    d.maxPages = REGION / 4096;
    const hmfn = m.alloc.alloc_domheap_pages(d, 14); // 64 MiB, naturally aligned
    const p2m = new P2m(m, 1, 1);
    p2m.insertMapping(GBASE / 4096, REGION / 4096, hmfn, p2m_ram_rw);
    const v = new Vcpu(m.mem, p2m.handle(), { tlbBits: 14 });
    const loc = m.mem.locate(hmfn * 4096, REGION);
    const raw = m.mem.chunkU32(loc.chunk);
    const rawBase = loc.offset / 4;
    for (let i = 0; i < WORDS; i += 1024) raw[rawBase + i] = i;
    // Random word indices within the region (xorshift, fixed seed).
    const idx = new Int32Array(RANDOM);
    let x = 2463534242;
    for (let i = 0; i < RANDOM; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      idx[i] = (x >>> 0) % WORDS;
    }
    // The floor: host word index of each guest page, read without any check.
    const flat = new Int32Array(REGION / 4096);
    for (let p = 0; p < flat.length; p++) flat[p] = rawBase + p * 1024;
    // A vCPU whose TLB has one entry, walked page by page: every access misses and refills.
    const cold = new Vcpu(m.mem, p2m.handle(), { tlbBits: 0 });
    const MISSES = 16384;
    return [
      {
        name: "raw Uint32Array read32 seq",
        ops: WORDS,
        fn: () => {
          let s = 0;
          for (let i = 0; i < WORDS; i++) s = (s + raw[rawBase + i]!) | 0;
          return s; // returned so the loop is not dead code
        },
      },
      {
        name: "translated read32 seq",
        baseline: "raw Uint32Array read32 seq",
        ops: WORDS,
        target: { maxRatio: 2.0 },
        fn: () => {
          let s = 0;
          for (let a = GBASE; a < GBASE + REGION; a += 4) s = (s + v.read32(a)) | 0;
          return s; // returned so the loop is not dead code
        },
      },
      {
        name: "floor: unchecked flat table read32 seq",
        baseline: "raw Uint32Array read32 seq",
        ops: WORDS,
        fn: () => {
          let s = 0;
          for (let a = GBASE; a < GBASE + REGION; a += 4) {
            const g = a - GBASE;
            s = (s + raw[flat[g >>> 12]! + ((g & 0xffc) >>> 2)]!) | 0;
          }
          return s; // returned so the loop is not dead code
        },
      },
      {
        name: "raw Uint32Array read32 random",
        ops: RANDOM,
        fn: () => {
          let s = 0;
          for (let i = 0; i < RANDOM; i++) s = (s + raw[rawBase + idx[i]!]!) | 0;
          return s; // returned so the loop is not dead code
        },
      },
      {
        name: "translated read32 random",
        baseline: "raw Uint32Array read32 random",
        ops: RANDOM,
        target: { maxRatio: 2.0 },
        fn: () => {
          let s = 0;
          for (let i = 0; i < RANDOM; i++) s = (s + v.read32(GBASE + idx[i]! * 4)) | 0;
          return s; // returned so the loop is not dead code
        },
      },
      {
        name: "floor: unchecked flat table read32 random",
        baseline: "raw Uint32Array read32 random",
        ops: RANDOM,
        fn: () => {
          let s = 0;
          for (let i = 0; i < RANDOM; i++) {
            const g = idx[i]! * 4;
            s = (s + raw[flat[g >>> 12]! + ((g & 0xffc) >>> 2)]!) | 0;
          }
          return s; // returned so the loop is not dead code
        },
      },
      {
        name: "raw Uint32Array write32 seq",
        ops: WORDS,
        fn: () => {
          for (let i = 0; i < WORDS; i++) raw[rawBase + i] = i;
        },
      },
      {
        name: "translated write32 seq",
        baseline: "raw Uint32Array write32 seq",
        ops: WORDS,
        target: { maxRatio: 2.0 },
        fn: () => {
          let i = 0;
          for (let a = GBASE; a < GBASE + REGION; a += 4) v.write32(a, i++);
        },
      },
      {
        name: "translate miss",
        baseline: "translated read32 seq",
        ops: MISSES,
        target: { maxRatio: 15 },
        fn: () => {
          let s = 0;
          for (let i = 0; i < MISSES; i++) s = (s + cold.read32(GBASE + i * 4096)) | 0;
          return s; // returned so the loop is not dead code
        },
      },
    ];
  },
};
