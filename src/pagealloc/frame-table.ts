/**
 * The frame table: one record per 4 KiB RAM frame, like Xen's `struct page_info`, kept in typed
 * arrays over SharedArrayBuffers so worker threads see the same counts. Records are indexed by pdx
 * (see ram.ts). A zero-filled record means "free heap page, count 0, no owner", so untouched frames
 * of a large host cost nothing.
 *
 * Reference counting follows xen/arch/arm/mm.c exactly (`page_get_owner_and_nr_reference`,
 * `get_page_nr`, `put_page_nr`): taking references fails on a page whose count is 0 or would
 * overflow; an owner mismatch drops what was taken; a put that reaches 0 frees the page.
 * Counts are updated with Atomics (compare-and-swap for gets, atomic subtract for puts), so they stay
 * exact when several threads get and put the same frames.
 */

import { fmtMfn, fmtPaddr } from "../common/format.js";
import { DOMID_INVALID, type DomId, SshmError } from "../common/index.js";
import type { RamMap } from "./ram.js";

// Internal flag bits (not Xen's bit positions; see countInfo() for Xen's layout).
export const F_ALLOCATED = 1 << 0;
export const F_XEN_HEAP = 1 << 1;
export const F_STATIC = 1 << 2;
export const F_EXTRA = 1 << 3;
const STATE_SHIFT = 4;
const STATE_MASK = 3 << STATE_SHIFT;
/** sshm-internal: the count reached 0 in a thread that does not own the allocator. */
export const F_PENDING_FREE = 1 << 8;

/** Xen's PGC_state values. Stored XOR 3 so that zero-filled memory reads as "free". */
export const PGC_state_inuse = 0;
export const PGC_state_offlining = 1;
export const PGC_state_offlined = 2;
export const PGC_state_free = 3;

/** Xen's count_info bit positions on arm64 (xen/arch/arm/include/asm/mm.h). */
export const PGC_allocated = 1n << 63n;
export const PGC_xen_heap = 1n << 62n;
export const PGC_static = 1n << 61n;
export const PGC_extra = 1n << 54n;
export const PGC_state_shift = 55n;
export const PGC_count_mask = (1n << 54n) - 1n;

/**
 * sshm keeps counts in 32 bits. Xen's count field is 54 bits wide; a count can only exceed 2^31 - 1
 * with two billion mappings of one page, so the overflow rule ("would wrap") is applied at 2^31 - 1.
 */
export const COUNT_MAX = 0x7fffffff;

export interface FrameTableHandle {
  readonly count: SharedArrayBuffer;
  readonly flags: SharedArrayBuffer;
  readonly owner: SharedArrayBuffer;
  readonly pending: SharedArrayBuffer;
}

export class FrameTable {
  readonly ram: RamMap;
  readonly count: Int32Array;
  readonly flags: Int32Array;
  /** Owner domid + 1; 0 = no owner. */
  readonly owner: Int32Array;
  /** [0] = number of frames with F_PENDING_FREE set. */
  readonly pending: Int32Array;
  /**
   * Called when a put drops a frame's count to 0, in the thread that owns the allocator.
   * Unset in other threads: those mark the frame F_PENDING_FREE for the allocator to collect.
   */
  onFree: ((pdx: number) => void) | undefined;

  constructor(ram: RamMap, handle?: FrameTableHandle) {
    this.ram = ram;
    const n = ram.totalFrames;
    const h = handle ?? {
      count: new SharedArrayBuffer(n * 4),
      flags: new SharedArrayBuffer(n * 4),
      owner: new SharedArrayBuffer(n * 4),
      pending: new SharedArrayBuffer(4),
    };
    this.count = new Int32Array(h.count);
    this.flags = new Int32Array(h.flags);
    this.owner = new Int32Array(h.owner);
    this.pending = new Int32Array(h.pending);
    if (this.count.length !== n)
      throw new SshmError("EFRAME_HANDLE", "frame table handle does not match RAM");
  }

  share(): FrameTableHandle {
    return {
      count: this.count.buffer as SharedArrayBuffer,
      flags: this.flags.buffer as SharedArrayBuffer,
      owner: this.owner.buffer as SharedArrayBuffer,
      pending: this.pending.buffer as SharedArrayBuffer,
    };
  }

  /** pdx of a RAM frame; throws a clear error for a frame that is not RAM. */
  pdx(mfn: number): number {
    const p = this.ram.mfnToPdx(mfn);
    if (p < 0) throw new SshmError("EMFN_INVALID", `mfn ${fmtMfn(mfn)} (${fmtPaddr(mfn * 4096)}) is not RAM`);
    return p;
  }

  /** pdx of the first frame of a range lying in one RAM bank (so the range is contiguous in pdx). */
  rangePdx(mfn: number, n: number): number {
    if (!this.ram.isRamRange(mfn, n))
      throw new SshmError(
        "EMFN_INVALID",
        `frames ${fmtMfn(mfn)}..${fmtMfn(mfn + n - 1)} are not all RAM in one bank`,
      );
    return this.ram.mfnToPdx(mfn);
  }

  // ---- per-frame fields ----

  getCount(pdx: number): number {
    return Atomics.load(this.count, pdx);
  }

  getFlags(pdx: number): number {
    return Atomics.load(this.flags, pdx);
  }

  setFlags(pdx: number, f: number): void {
    Atomics.store(this.flags, pdx, f);
  }

  getState(pdx: number): number {
    return ((Atomics.load(this.flags, pdx) & STATE_MASK) >>> STATE_SHIFT) ^ 3;
  }

  /** The PGC_state of a flags word. */
  static stateOf(flags: number): number {
    return ((flags & STATE_MASK) >>> STATE_SHIFT) ^ 3;
  }

  static withState(flags: number, state: number): number {
    return (flags & ~STATE_MASK) | ((state ^ 3) << STATE_SHIFT);
  }

  /** Owner domid, or undefined. */
  getOwner(pdx: number): DomId | undefined {
    const o = Atomics.load(this.owner, pdx);
    return o === 0 ? undefined : o - 1;
  }

  setOwner(pdx: number, d: DomId | undefined): void {
    Atomics.store(this.owner, pdx, d === undefined ? 0 : d + 1);
  }

  /** Xen's 64-bit count_info for this frame (arm64 layout), for display and tests. */
  countInfo(pdx: number): bigint {
    const f = this.getFlags(pdx);
    let ci = BigInt(this.getCount(pdx)) & PGC_count_mask;
    if (f & F_ALLOCATED) ci |= PGC_allocated;
    if (f & F_XEN_HEAP) ci |= PGC_xen_heap;
    if (f & F_STATIC) ci |= PGC_static;
    if (f & F_EXTRA) ci |= PGC_extra;
    ci |= BigInt(this.getState(pdx)) << PGC_state_shift;
    return ci;
  }

  // ---- reference counting (xen/arch/arm/mm.c) ----

  /**
   * page_get_owner_and_nr_reference(): atomically add nr unless the count is 0 (page not
   * allocated) or the addition would overflow. Returns the owner domid + 1, or 0 on failure
   * (0 also when the page has no owner: then the references are kept, as Xen does, and the caller's
   * owner comparison fails).
   */
  page_get_owner_and_nr_reference(pdx: number, nr: number): number {
    const c = this.count;
    let x = c[pdx]!;
    for (;;) {
      // Xen: "Count == 0: Page is not allocated, so we cannot take a reference" and
      // "Count overflow: ((x + nr) & PGC_count_mask) <= nr".
      if (x === 0 || x > COUNT_MAX - nr) return -1;
      const seen = Atomics.compareExchange(c, pdx, x, x + nr);
      if (seen === x) break;
      x = seen;
    }
    return this.owner[pdx]!;
  }

  /** get_page_nr(page, d, nr): take nr references on a page owned by d. */
  get_page_nr(pdx: number, d: DomId, nr: number): boolean {
    if (nr < 0 || nr >= COUNT_MAX) return false; // Xen: ASSERT_UNREACHABLE for nr >= PGC_count_mask
    const o = this.page_get_owner_and_nr_reference(pdx, nr);
    if (o === -1) return false;
    if (o !== d + 1) {
      this.put_page_nr(pdx, nr);
      return false;
    }
    return true;
  }

  get_page(pdx: number, d: DomId): boolean {
    return this.get_page_nr(pdx, d, 1);
  }

  /**
   * put_page_nr(page, nr): drop nr references; at 0 the page is freed. Xen only ASSERTs that the
   * count does not go below zero (debug builds); sshm refuses and throws, leaving the count as it was.
   */
  put_page_nr(pdx: number, nr: number): void {
    if (nr === 0) return;
    const old = Atomics.sub(this.count, pdx, nr);
    if (old < nr) {
      Atomics.add(this.count, pdx, nr);
      throw new SshmError(
        "EPAGE_PUT_UNDERFLOW",
        `put_page_nr(mfn ${fmtMfn(this.ram.pdxToMfn(pdx))}, ${nr}) with count ${old}: reference count would go below zero`,
      );
    }
    if (old === nr) this.freed(pdx);
  }

  put_page(pdx: number): void {
    this.put_page_nr(pdx, 1);
  }

  private freed(pdx: number): void {
    if (this.onFree) this.onFree(pdx);
    else {
      Atomics.or(this.flags, pdx, F_PENDING_FREE);
      Atomics.add(this.pending, 0, 1);
    }
  }

  /**
   * Batched get_page_nr over n consecutive frames starting at pdx: all or nothing. On a failure the
   * references already taken are dropped again (as assign_shared_memory's error path does).
   * Returns -1 on success, else the index of the first frame that failed.
   */
  get_page_nr_range(pdx: number, n: number, d: DomId, nr: number): number {
    for (let i = 0; i < n; i++) {
      if (!this.get_page_nr(pdx + i, d, nr)) {
        for (let j = 0; j < i; j++) this.put_page_nr(pdx + j, nr);
        return i;
      }
    }
    return -1;
  }

  /** Batched put_page_nr over n consecutive frames. */
  put_page_nr_range(pdx: number, n: number, nr: number): void {
    for (let i = 0; i < n; i++) this.put_page_nr(pdx + i, nr);
  }

  /** Human summary of a frame: "mfn 40000 c=0x8000000000000002 owner=d1 state=inuse". */
  describe(pdx: number): string {
    const o = this.getOwner(pdx);
    const st = ["inuse", "offlining", "offlined", "free"][this.getState(pdx)];
    return `mfn ${fmtMfn(this.ram.pdxToMfn(pdx))} c=0x${this.countInfo(pdx).toString(16)} owner=${
      o === undefined ? "none" : o === DOMID_INVALID ? "invalid" : `d${o}`
    } state=${st}`;
  }
}
