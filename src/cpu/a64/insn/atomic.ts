/**
 * Exclusive, acquire/release and atomic memory instructions: LDXR/STXR/LDAXR/STLXR, LDXP/STXP,
 * LDAR/STLR (and LDLAR/STLLR), CAS*, CASP*, and the Armv8.1 LSE LDADD/LDCLR/LDEOR/LDSET/LDSMAX/
 * LDSMIN/LDUMAX/LDUMIN/SWP (C4.1.66 "Load/store exclusive", "Atomic memory operations").
 *
 * Atomicity across vCPUs on other threads: the vCPU resolves the access through the stage-2
 * translator (permission faults as for a store), then operates with `Atomics` on the host buffer:
 * - 8, 16, 32 bits: Atomics on Int8Array/Int16Array/Int32Array views, lock-free;
 * - 64 bits: Atomics on a BigInt64Array view, lock-free and single-copy atomic. This is the one
 *   place sshm's vCPU uses BigInt: an atomic instruction is never on the plain load/store path,
 *   and a CAS loop on two int32 halves would not be atomic;
 * - 128 bits (LDXP/STXP and CASP of X registers): Atomics has no 128-bit operation, so these take
 *   a spin lock word (`LOCK`, Atomics.compareExchange/store) around two 64-bit atomic accesses.
 *   They are atomic against each other, not against a concurrent 64-bit atomic on one half.
 *
 * The exclusive monitor is the usual emulator model (QEMU's too): LDXR records the address, size
 * and the value read; STXR succeeds if the monitor is armed for that address and size and an
 * atomic compare-exchange against the recorded value succeeds. A store by another vCPU that
 * writes the same value back is not seen (ABA), which no correct exclusive loop depends on.
 *
 * Ordering: acquire/release forms and DMB/DSB act as full fences via one Atomics operation
 * (V8 compiles each to a fenced instruction), which is stronger than the architecture needs.
 */

import { RD, RSP } from "../arch.js";
import { OUT } from "../bits.js";
import type { A64Cpu, AtomicViews } from "../cpu.js";

/** A word for full fences and the 128-bit spin lock (see the file comment; per process). */
const LOCK = new Int32Array(new SharedArrayBuffer(8));

export function fence(): void {
  Atomics.add(LOCK, 1, 0);
}

function lock(): void {
  while (Atomics.compareExchange(LOCK, 0, 0, 1) !== 0) {
    // spin: the critical sections are a few loads and stores
  }
}

function unlock(): void {
  Atomics.store(LOCK, 0, 0);
}

const M32 = 0xffffffffn;

function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | (BigInt(lo) & M32);
}

/** OUT[0..1] = halves of a BigInt64 value. */
function fromBig(v: bigint): void {
  OUT[0] = Number(v & M32) | 0;
  OUT[1] = Number((v >> 32n) & M32) | 0;
}

/** Atomic load of 2^size bytes: OUT[0..1] (zero-extended). */
function atomicLoad(v: AtomicViews, size: number): void {
  const o = v.off;
  if (size === 3) fromBig(Atomics.load(v.i64, o >>> 3));
  else {
    OUT[0] =
      size === 2
        ? Atomics.load(v.i32, o >>> 2)
        : size === 1
          ? Atomics.load(v.i16, o >>> 1) & 0xffff
          : Atomics.load(v.i8, o) & 0xff;
    OUT[1] = 0;
  }
}

/** Atomic compare-exchange: true when memory held (el, eh) and now holds (nl, nh). */
function atomicCas(v: AtomicViews, size: number, el: number, eh: number, nl: number, nh: number): boolean {
  const o = v.off;
  if (size === 3) {
    const e = BigInt.asIntN(64, toBig(el, eh));
    return Atomics.compareExchange(v.i64, o >>> 3, e, BigInt.asIntN(64, toBig(nl, nh))) === e;
  }
  if (size === 2) return Atomics.compareExchange(v.i32, o >>> 2, el | 0, nl | 0) === (el | 0);
  if (size === 1) {
    const e = (el << 16) >> 16;
    return Atomics.compareExchange(v.i16, o >>> 1, e, (nl << 16) >> 16) === e;
  }
  const e = (el << 24) >> 24;
  return Atomics.compareExchange(v.i8, o, e, (nl << 24) >> 24) === e;
}

/** Base address X[n] (SP when 31, with its alignment check) in OUT[0..1]; false on exception. */
function baseAddr(c: A64Cpu, w: number): boolean {
  const n = (w >>> 5) & 31;
  if (n === 31 && c.spAlignFault()) return false;
  const s = RSP[n]!;
  OUT[0] = c.r[2 * s]!;
  OUT[1] = c.r[2 * s + 1]!;
  return true;
}

function writeReg(c: A64Cpu, t: number, lo: number, hi: number, size: number): void {
  const d = RD[t]!;
  c.r[2 * d] = size === 2 ? lo : size === 1 ? lo & 0xffff : size === 0 ? lo & 0xff : lo;
  c.r[2 * d + 1] = size === 3 ? hi : 0;
}

// ---- exclusives and acquire/release (bits 29:24 = 001000) ----

/** LDXR/LDAXR (o2 = 0, L = 1, o1 = 0). */
export function LDXR(c: A64Cpu, w: number): void {
  const size = w >>> 30;
  if (!baseAddr(c, w)) return;
  const a = c.dataAddr(OUT[0]!, OUT[1]!, 1 << size, false);
  if (a < 0) return;
  atomicLoad(c.atomic(a, 1 << size, false), size);
  if ((w >>> 15) & 1) fence();
  c.exAddr = a;
  c.exSize = 1 << size;
  c.exVal[0] = OUT[0]!;
  c.exVal[1] = OUT[1]!;
  writeReg(c, w & 31, OUT[0]!, OUT[1]!, size);
}

/** STXR/STLXR (o2 = 0, L = 0, o1 = 0): Ws = 0 on success, 1 on failure. */
export function STXR(c: A64Cpu, w: number): void {
  const size = w >>> 30;
  if (!baseAddr(c, w)) return;
  const a = c.dataAddr(OUT[0]!, OUT[1]!, 1 << size, true);
  if (a < 0) return;
  const t = w & 31;
  const s = RD[(w >>> 16) & 31]!;
  const lo = c.r[2 * t]!;
  const hi = c.r[2 * t + 1]!;
  let ok = false;
  if (c.exAddr === a && c.exSize === 1 << size) {
    if ((w >>> 15) & 1) fence();
    ok = atomicCas(c.atomic(a, 1 << size, true), size, c.exVal[0]!, c.exVal[1]!, lo, hi);
  }
  c.exAddr = -1;
  c.r[2 * s] = ok ? 0 : 1;
  c.r[2 * s + 1] = 0;
}

/** LDXP/LDAXP (o1 = 1, L = 1; size 1x: sz = bit 30 picks W or X pairs). */
export function LDXP(c: A64Cpu, w: number): void {
  const x = ((w >>> 30) & 1) === 1;
  if (!baseAddr(c, w)) return;
  const bytes = x ? 16 : 8;
  const a = c.dataAddr(OUT[0]!, OUT[1]!, bytes, false);
  if (a < 0) return;
  const t = w & 31;
  const t2 = (w >>> 10) & 31;
  const v = c.atomic(a, bytes, false);
  let l1: number;
  let h1: number;
  let l2: number;
  let h2: number;
  if (x) {
    lock();
    try {
      fromBig(Atomics.load(v.i64, v.off >>> 3));
      l1 = OUT[0]!;
      h1 = OUT[1]!;
      fromBig(Atomics.load(v.i64, (v.off >>> 3) + 1));
      l2 = OUT[0]!;
      h2 = OUT[1]!;
    } finally {
      unlock();
    }
  } else {
    fromBig(Atomics.load(v.i64, v.off >>> 3));
    l1 = OUT[0]!;
    l2 = OUT[1]!;
    h1 = 0;
    h2 = 0;
  }
  if ((w >>> 15) & 1) fence();
  c.exAddr = a;
  c.exSize = bytes;
  c.exVal[0] = l1;
  c.exVal[1] = x ? h1 : l2;
  c.exVal[2] = l2;
  c.exVal[3] = h2;
  writeReg(c, t, l1, h1, x ? 3 : 2);
  writeReg(c, t2, l2, h2, x ? 3 : 2);
}

/** STXP/STLXP. */
export function STXP(c: A64Cpu, w: number): void {
  const x = ((w >>> 30) & 1) === 1;
  if (!baseAddr(c, w)) return;
  const bytes = x ? 16 : 8;
  const a = c.dataAddr(OUT[0]!, OUT[1]!, bytes, true);
  if (a < 0) return;
  const r = c.r;
  const t = w & 31;
  const t2 = (w >>> 10) & 31;
  const s = RD[(w >>> 16) & 31]!;
  let ok = false;
  if (c.exAddr === a && c.exSize === bytes) {
    if ((w >>> 15) & 1) fence();
    const v = c.atomic(a, bytes, true);
    if (x)
      ok = casPair128(
        v,
        c.exVal[0]!,
        c.exVal[1]!,
        c.exVal[2]!,
        c.exVal[3]!,
        r[2 * t]!,
        r[2 * t + 1]!,
        r[2 * t2]!,
        r[2 * t2 + 1]!,
      );
    else ok = atomicCas(v, 3, c.exVal[0]!, c.exVal[1]!, r[2 * t]!, r[2 * t2]!);
  }
  c.exAddr = -1;
  r[2 * s] = ok ? 0 : 1;
  r[2 * s + 1] = 0;
}

/** 128-bit compare-exchange under the spin lock. */
function casPair128(
  v: AtomicViews,
  e1l: number,
  e1h: number,
  e2l: number,
  e2h: number,
  n1l: number,
  n1h: number,
  n2l: number,
  n2h: number,
): boolean {
  const i = v.off >>> 3;
  lock();
  try {
    const m1 = Atomics.load(v.i64, i);
    const m2 = Atomics.load(v.i64, i + 1);
    if (m1 !== BigInt.asIntN(64, toBig(e1l, e1h)) || m2 !== BigInt.asIntN(64, toBig(e2l, e2h))) {
      fromBig(m1);
      OUT[3] = OUT[0]!;
      OUT[4] = OUT[1]!;
      fromBig(m2);
      return false;
    }
    Atomics.store(v.i64, i, BigInt.asIntN(64, toBig(n1l, n1h)));
    Atomics.store(v.i64, i + 1, BigInt.asIntN(64, toBig(n2l, n2h)));
    OUT[3] = e1l;
    OUT[4] = e1h;
    OUT[0] = e2l;
    OUT[1] = e2h;
    return true;
  } finally {
    unlock();
  }
}

/** LDAR/LDLAR (o2 = 1, L = 1, o1 = 0). */
export function LDAR(c: A64Cpu, w: number): void {
  const size = w >>> 30;
  if (!baseAddr(c, w)) return;
  const a = c.dataAddr(OUT[0]!, OUT[1]!, 1 << size, false);
  if (a < 0) return;
  atomicLoad(c.atomic(a, 1 << size, false), size);
  fence();
  writeReg(c, w & 31, OUT[0]!, OUT[1]!, size);
}

/** STLR/STLLR (o2 = 1, L = 0, o1 = 0). */
export function STLR(c: A64Cpu, w: number): void {
  const size = w >>> 30;
  if (!baseAddr(c, w)) return;
  const a = c.dataAddr(OUT[0]!, OUT[1]!, 1 << size, true);
  if (a < 0) return;
  const t = w & 31;
  const lo = c.r[2 * t]!;
  const hi = c.r[2 * t + 1]!;
  const v = c.atomic(a, 1 << size, true);
  fence();
  const o = v.off;
  if (size === 3) Atomics.store(v.i64, o >>> 3, BigInt.asIntN(64, toBig(lo, hi)));
  else if (size === 2) Atomics.store(v.i32, o >>> 2, lo);
  else if (size === 1) Atomics.store(v.i16, o >>> 1, lo);
  else Atomics.store(v.i8, o, lo);
}

// ---- compare and swap ----

/** CAS/CASA/CASL/CASAL (B, H, W, X by size): Rs = old value; store Rt if old == Rs. */
export function CAS(c: A64Cpu, w: number): void {
  const size = w >>> 30;
  if (!baseAddr(c, w)) return;
  const a = c.dataAddr(OUT[0]!, OUT[1]!, 1 << size, true);
  if (a < 0) return;
  const r = c.r;
  const s = (w >>> 16) & 31;
  const t = w & 31;
  const mask = size === 0 ? 0xff : size === 1 ? 0xffff : -1;
  const el = r[2 * s]! & mask;
  const eh = size === 3 ? r[2 * s + 1]! : 0;
  const v = c.atomic(a, 1 << size, true);
  fence();
  for (;;) {
    if (atomicCas(v, size, el, eh, r[2 * t]!, r[2 * t + 1]!)) {
      OUT[0] = el;
      OUT[1] = eh;
      break;
    }
    atomicLoad(v, size);
    // Another vCPU may have changed the value between the failed compare and the load.
    if ((OUT[0]! & mask) !== el || (size === 3 && OUT[1] !== eh)) break;
  }
  fence();
  writeReg(c, s, OUT[0]!, OUT[1]!, size);
}

/** CASP/CASPA/CASPL/CASPAL: sz = bit 30 (W or X pairs); Rs and Rt even. */
export function CASP(c: A64Cpu, w: number): void {
  const x = ((w >>> 30) & 1) === 1;
  const s = (w >>> 16) & 31;
  const t = w & 31;
  if ((s & 1) !== 0 || (t & 1) !== 0) {
    c.undefined();
    return;
  }
  if (!baseAddr(c, w)) return;
  const bytes = x ? 16 : 8;
  const a = c.dataAddr(OUT[0]!, OUT[1]!, bytes, true);
  if (a < 0) return;
  const r = c.r;
  const v = c.atomic(a, bytes, true);
  const s2 = s === 31 ? 31 : s + 1;
  const t2 = t === 31 ? 31 : t + 1;
  fence();
  if (x) {
    casPair128(
      v,
      r[2 * s]!,
      r[2 * s + 1]!,
      r[2 * s2]!,
      r[2 * s2 + 1]!,
      r[2 * t]!,
      r[2 * t + 1]!,
      r[2 * t2]!,
      r[2 * t2 + 1]!,
    );
    const l1 = OUT[3]!;
    const h1 = OUT[4]!;
    const l2 = OUT[0]!;
    const h2 = OUT[1]!;
    writeReg(c, s, l1, h1, 3);
    writeReg(c, s2, l2, h2, 3);
  } else {
    const el = r[2 * s]!;
    const eh = r[2 * s2]!;
    for (;;) {
      if (atomicCas(v, 3, el, eh, r[2 * t]!, r[2 * t2]!)) {
        OUT[0] = el;
        OUT[1] = eh;
        break;
      }
      atomicLoad(v, 3);
      if (OUT[0] !== el || OUT[1] !== eh) break;
    }
    const l = OUT[0]!;
    const h = OUT[1]!;
    writeReg(c, s, l, 0, 2);
    writeReg(c, s2, h, 0, 2);
  }
  fence();
}

// ---- LSE atomic memory operations (size 111 V=0 00 A R 1 Rs o3 opc 00 Rn Rt) ----

/** Sign-extend the low 2^size bytes of a 32-bit lo word. */
function sext(lo: number, size: number): number {
  return size === 0 ? (lo << 24) >> 24 : size === 1 ? (lo << 16) >> 16 : lo;
}

/** LDADD, LDCLR, LDEOR, LDSET, LDSMAX, LDSMIN, LDUMAX, LDUMIN (o3 = 0) and SWP (o3 = 1, opc = 000). */
export function LDOP(c: A64Cpu, w: number): void {
  const size = w >>> 30;
  const o3 = (w >>> 15) & 1;
  const opc = (w >>> 12) & 7;
  if (o3 === 1 && opc !== 0) {
    c.unimplemented(w, "LDAPR (RCpc)");
    return;
  }
  if (!baseAddr(c, w)) return;
  const a = c.dataAddr(OUT[0]!, OUT[1]!, 1 << size, true);
  if (a < 0) return;
  const r = c.r;
  const s = (w >>> 16) & 31;
  const t = w & 31;
  const sl = r[2 * s]!;
  const sh = r[2 * s + 1]!;
  const v = c.atomic(a, 1 << size, true);
  fence();
  for (;;) {
    atomicLoad(v, size);
    const ol = OUT[0]!;
    const oh = OUT[1]!;
    let nl: number;
    let nh: number;
    if (o3 === 1) {
      nl = sl;
      nh = sh;
    } else {
      switch (opc) {
        case 0: {
          const x = (ol >>> 0) + (sl >>> 0);
          nl = x | 0;
          nh = (oh + sh + (x > 0xffffffff ? 1 : 0)) | 0;
          break;
        }
        case 1:
          nl = ol & ~sl;
          nh = oh & ~sh;
          break;
        case 2:
          nl = ol ^ sl;
          nh = oh ^ sh;
          break;
        case 3:
          nl = ol | sl;
          nh = oh | sh;
          break;
        default: {
          // MAX/MIN: signed (opc 4, 5) or unsigned (6, 7) compare of the 2^size-byte values.
          const signed = opc < 6;
          let gt: boolean;
          if (size === 3) {
            const ah = signed ? oh : oh >>> 0;
            const bh = signed ? sh : sh >>> 0;
            gt = ah > bh || (ah === bh && ol >>> 0 > sl >>> 0);
          } else if (signed) gt = sext(ol, size) > sext(sl, size);
          else {
            const m = size === 0 ? 0xff : size === 1 ? 0xffff : -1;
            gt = (ol & m) >>> 0 > (sl & m) >>> 0;
          }
          const pickOld = (opc & 1) === 0 ? gt : !gt;
          const eq =
            size === 3
              ? ol === sl && oh === sh
              : ((ol ^ sl) & (size === 0 ? 0xff : size === 1 ? 0xffff : -1)) === 0;
          nl = pickOld || eq ? ol : sl;
          nh = pickOld || eq ? oh : sh;
        }
      }
    }
    if (atomicCas(v, size, ol, oh, nl, nh)) {
      fence();
      writeReg(c, t, ol, oh, size);
      return;
    }
  }
}
