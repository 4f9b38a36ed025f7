/**
 * The host's RAM layout: banks of page-aligned physical memory, and the compression of their frame
 * numbers into a dense index ("pdx", as Xen calls it) so that per-frame arrays need no holes.
 */

import { fmtPaddr } from "../common/format.js";
import { PAGE_SIZE, SshmError } from "../common/index.js";

export interface RamBank {
  /** Host physical base address (page aligned). */
  readonly base: number;
  /** Size in bytes (page multiple, > 0). */
  readonly size: number;
}

/** The largest physical address space sshm models: 48 bits, as Xen's PADDR_BITS on arm64. */
export const MAX_PADDR = 2 ** 48;

export class RamMap {
  readonly banks: readonly RamBank[];
  /** Per bank: first mfn, number of frames, first pdx. */
  private readonly mfnStart: Float64Array;
  private readonly frames: Float64Array;
  private readonly pdxStart: Float64Array;
  readonly totalFrames: number;

  constructor(banks: readonly RamBank[]) {
    if (banks.length === 0) throw new SshmError("ERAM_EMPTY", "host has no RAM banks");
    const sorted = [...banks].sort((a, b) => a.base - b.base);
    for (const [i, b] of sorted.entries()) {
      const what = `RAM bank [${fmtPaddr(b.base)}, +${fmtPaddr(b.size)})`;
      if (!Number.isSafeInteger(b.base) || !Number.isSafeInteger(b.size) || b.base < 0 || b.size <= 0)
        throw new SshmError("ERAM_BANK", `${what}: base and size must be non-negative integers, size > 0`);
      if (b.base % PAGE_SIZE !== 0 || b.size % PAGE_SIZE !== 0)
        throw new SshmError("ERAM_BANK", `${what}: base and size must be multiples of 4 KiB`);
      if (b.base + b.size > MAX_PADDR)
        throw new SshmError("ERAM_BANK", `${what}: ends above the 48-bit physical address space`);
      const prev = sorted[i - 1];
      if (prev && prev.base + prev.size > b.base)
        throw new SshmError(
          "ERAM_BANK",
          `${what} overlaps RAM bank [${fmtPaddr(prev.base)}, +${fmtPaddr(prev.size)})`,
        );
    }
    this.banks = sorted;
    this.mfnStart = new Float64Array(sorted.length);
    this.frames = new Float64Array(sorted.length);
    this.pdxStart = new Float64Array(sorted.length);
    let pdx = 0;
    sorted.forEach((b, i) => {
      this.mfnStart[i] = b.base / PAGE_SIZE;
      this.frames[i] = b.size / PAGE_SIZE;
      this.pdxStart[i] = pdx;
      pdx += b.size / PAGE_SIZE;
    });
    this.totalFrames = pdx;
    if (pdx >= 2 ** 31) throw new SshmError("ERAM_TOO_LARGE", "host RAM above 8 TiB is not supported");
  }

  /** Dense index of a frame, or -1 when the frame is not RAM. */
  mfnToPdx(mfn: number): number {
    const n = this.mfnStart.length;
    for (let i = 0; i < n; i++) {
      const d = mfn - this.mfnStart[i]!;
      if (d >= 0 && d < this.frames[i]!) return this.pdxStart[i]! + d;
    }
    return -1;
  }

  pdxToMfn(pdx: number): number {
    const n = this.pdxStart.length;
    for (let i = n - 1; i >= 0; i--) {
      if (pdx >= this.pdxStart[i]!) return this.mfnStart[i]! + (pdx - this.pdxStart[i]!);
    }
    return -1;
  }

  /** True when every frame of [mfn, mfn+n) is RAM and they lie in one bank (so pdx are contiguous). */
  isRamRange(mfn: number, n: number): boolean {
    const b = this.bankOf(mfn);
    return b >= 0 && mfn + n <= this.mfnStart[b]! + this.frames[b]!;
  }

  /** Bank index containing mfn, or -1. */
  bankOf(mfn: number): number {
    const n = this.mfnStart.length;
    for (let i = 0; i < n; i++) {
      const d = mfn - this.mfnStart[i]!;
      if (d >= 0 && d < this.frames[i]!) return i;
    }
    return -1;
  }

  bankMfnStart(i: number): number {
    return this.mfnStart[i]!;
  }

  bankFrames(i: number): number {
    return this.frames[i]!;
  }

  /** mfn_valid(): is the frame RAM that has a frame-table entry? */
  mfnValid(mfn: number): boolean {
    return this.mfnToPdx(mfn) >= 0;
  }
}
