/**
 * Host physical memory: the machine's RAM, backed by SharedArrayBuffers so that every worker thread
 * (each emulated vCPU) sees the same bytes. RAM is cut into 1 GiB-aligned windows; a window's buffer
 * is created on first touch, so a 64 GiB host costs nothing until its pages are used. Inside a
 * window the buffer spans only the RAM present there. Memory is little-endian, as Arm guests run it
 * (sshm refuses to start on a big-endian host, where typed arrays would byte-swap).
 */
import { endianness } from "node:os";
import { fmtPaddr } from "../common/format.js";
import { SshmError } from "../common/index.js";
import { MAX_PADDR, type RamBank, RamMap } from "./ram.js";

if (endianness() !== "LE") throw new Error("sshm needs a little-endian host");

export const WINDOW_SHIFT = 30;
export const WINDOW_SIZE = 2 ** WINDOW_SHIFT;
const NR_WINDOWS = MAX_PADDR / WINDOW_SIZE;

/** One window's backing: RAM in [origin, origin + size). */
interface Chunk {
  readonly origin: number;
  readonly size: number;
  /** RAM ranges inside the window, relative to origin, as [start, end) pairs; usually one. */
  readonly ram: Float64Array;
  sab: SharedArrayBuffer | undefined;
  u8: Uint8Array;
  u32: Uint32Array;
  dv: DataView;
}

const EMPTY_U8 = new Uint8Array(0);
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_DV = new DataView(new ArrayBuffer(0));

/** What a worker thread needs to see the same memory. Structured-cloneable. */
export interface HostMemoryHandle {
  readonly banks: readonly RamBank[];
  readonly buffers: readonly (SharedArrayBuffer | null)[];
}

export class HostMemory {
  readonly ram: RamMap;
  /** Window number -> chunk id, -1 when the window has no RAM. */
  private readonly winChunk: Int32Array;
  readonly chunks: readonly Chunk[];
  /** False in a thread that attached to shared memory: it cannot create new buffers others would see. */
  private readonly canGrow: boolean;

  constructor(banks: readonly RamBank[] | RamMap, shared?: readonly (SharedArrayBuffer | null)[]) {
    this.ram = banks instanceof RamMap ? banks : new RamMap(banks);
    this.winChunk = new Int32Array(NR_WINDOWS).fill(-1);
    const byWindow = new Map<number, [number, number][]>();
    for (const b of this.ram.banks) {
      let a = b.base;
      const end = b.base + b.size;
      while (a < end) {
        const w = Math.floor(a / WINDOW_SIZE);
        const wEnd = Math.min(end, (w + 1) * WINDOW_SIZE);
        const list = byWindow.get(w) ?? [];
        list.push([a, wEnd]);
        byWindow.set(w, list);
        a = wEnd;
      }
    }
    const chunks: Chunk[] = [];
    for (const [w, ranges] of [...byWindow.entries()].sort((x, y) => x[0] - y[0])) {
      const origin = ranges[0]![0];
      const last = ranges[ranges.length - 1]![1];
      const rel = new Float64Array(ranges.length * 2);
      ranges.forEach(([s, e], i) => {
        rel[2 * i] = s - origin;
        rel[2 * i + 1] = e - origin;
      });
      this.winChunk[w] = chunks.length;
      chunks.push({
        origin,
        size: last - origin,
        ram: rel,
        sab: undefined,
        u8: EMPTY_U8,
        u32: EMPTY_U32,
        dv: EMPTY_DV,
      });
    }
    this.chunks = chunks;
    this.canGrow = shared === undefined;
    if (shared) {
      if (shared.length !== chunks.length)
        throw new SshmError("EMEM_HANDLE", "shared memory handle does not match the RAM layout");
      shared.forEach((sab, i) => {
        if (sab) this.install(chunks[i]!, sab);
      });
    }
  }

  /** Re-create a view of the same memory in another thread. */
  static attach(h: HostMemoryHandle): HostMemory {
    return new HostMemory(h.banks, h.buffers);
  }

  /** The buffers to hand to a worker. Only windows touched so far are included. */
  share(): HostMemoryHandle {
    return { banks: this.ram.banks, buffers: this.chunks.map((c) => c.sab ?? null) };
  }

  private install(c: Chunk, sab: SharedArrayBuffer): void {
    c.sab = sab;
    c.u8 = new Uint8Array(sab);
    c.u32 = new Uint32Array(sab, 0, sab.byteLength >>> 2);
    c.dv = new DataView(sab);
  }

  private materialize(c: Chunk): void {
    if (!this.canGrow)
      throw new SshmError(
        "EMEM_NOT_SHARED",
        `host memory at ${fmtPaddr(c.origin)} was first touched after it was shared with this thread`,
      );
    this.install(c, new SharedArrayBuffer(c.size));
  }

  /** Make sure the windows covering [pa, pa+len) have buffers (e.g. before sharing with workers). */
  touch(pa: number, len: number): void {
    let a = pa;
    const end = pa + len;
    while (a < end) {
      const id = this.chunkIdOf(a);
      if (id < 0) throw this.notRam(a, len);
      const c = this.chunks[id]!;
      if (!c.sab) this.materialize(c);
      a = c.origin + c.size;
    }
  }

  /** Chunk id of the window holding pa, or -1 when the window has no RAM at all. */
  chunkIdOf(pa: number): number {
    const w = Math.floor(pa / WINDOW_SIZE);
    return w >= 0 && w < NR_WINDOWS ? this.winChunk[w]! : -1;
  }

  /** Byte offset of pa in its chunk's buffer (materializing the chunk); throws when pa is not RAM. */
  locate(pa: number, len: number): { chunk: number; offset: number } {
    const id = this.locateChunk(pa, len);
    return { chunk: id, offset: pa - this.chunks[id]!.origin };
  }

  /**
   * locate() without its result object, for per-access callers (a vCPU's atomics): the chunk id,
   * with the byte offset pa - chunkOrigin(id); the same checks and materializing.
   */
  locateChunk(pa: number, len: number): number {
    const id = this.chunkIdOf(pa);
    if (id < 0) throw this.notRam(pa, len);
    const c = this.chunks[id]!;
    if (!this.inRam(c, pa - c.origin, len)) throw this.notRam(pa, len);
    if (!c.sab) this.materialize(c);
    return id;
  }

  /** The host physical address at byte 0 of a chunk's buffer. */
  chunkOrigin(id: number): number {
    return this.chunks[id]!.origin;
  }

  /** The 32-bit view of a chunk (for translators that cache host offsets). */
  chunkU32(id: number): Uint32Array {
    const c = this.chunks[id]!;
    if (!c.sab) this.materialize(c);
    return c.u32;
  }

  chunkU8(id: number): Uint8Array {
    const c = this.chunks[id]!;
    if (!c.sab) this.materialize(c);
    return c.u8;
  }

  /** True when the chunk's buffer is RAM throughout (no holes between banks inside its window). */
  chunkIsSolid(id: number): boolean {
    const c = this.chunks[id]!;
    return c.ram.length === 2 && c.ram[0] === 0 && c.ram[1] === c.size;
  }

  private inRam(c: Chunk, off: number, len: number): boolean {
    const r = c.ram;
    for (let i = 0; i < r.length; i += 2) if (off >= r[i]! && off + len <= r[i + 1]!) return true;
    return false;
  }

  private notRam(pa: number, len: number): SshmError {
    return new SshmError(
      "EPHYS_NOT_RAM",
      `host physical access at ${fmtPaddr(pa)} (${len} byte${len === 1 ? "" : "s"}) is outside RAM`,
    );
  }

  /** Resolve pa for an access of len bytes that stays inside one chunk. */
  private chunkFor(pa: number, len: number): Chunk {
    const id = this.chunkIdOf(pa);
    if (id < 0) throw this.notRam(pa, len);
    const c = this.chunks[id]!;
    if (!this.inRam(c, pa - c.origin, len)) throw this.notRam(pa, len);
    if (!c.sab) this.materialize(c);
    return c;
  }

  read8(pa: number): number {
    const c = this.chunkFor(pa, 1);
    return c.u8[pa - c.origin]!;
  }

  write8(pa: number, v: number): void {
    const c = this.chunkFor(pa, 1);
    c.u8[pa - c.origin] = v;
  }

  read16(pa: number): number {
    const c = this.chunkFor(pa, 2);
    return c.dv.getUint16(pa - c.origin, true);
  }

  write16(pa: number, v: number): void {
    const c = this.chunkFor(pa, 2);
    c.dv.setUint16(pa - c.origin, v, true);
  }

  read32(pa: number): number {
    const c = this.chunkFor(pa, 4);
    const off = pa - c.origin;
    return (off & 3) === 0 ? c.u32[off >>> 2]! : c.dv.getUint32(off, true);
  }

  write32(pa: number, v: number): void {
    const c = this.chunkFor(pa, 4);
    const off = pa - c.origin;
    if ((off & 3) === 0) c.u32[off >>> 2] = v;
    else c.dv.setUint32(off, v, true);
  }

  /** 64-bit read as two halves: out[0] = bits 31:0, out[1] = bits 63:32. */
  read64(pa: number, out: Uint32Array | number[]): void {
    const c = this.chunkFor(pa, 8);
    const off = pa - c.origin;
    out[0] = c.dv.getUint32(off, true);
    out[1] = c.dv.getUint32(off + 4, true);
  }

  write64(pa: number, lo: number, hi: number): void {
    const c = this.chunkFor(pa, 8);
    const off = pa - c.origin;
    c.dv.setUint32(off, lo, true);
    c.dv.setUint32(off + 4, hi, true);
  }

  /** Copy [pa, pa+dst.length) into dst; may span windows. */
  readInto(pa: number, dst: Uint8Array): void {
    let done = 0;
    while (done < dst.length) {
      const a = pa + done;
      const c = this.chunkFor(a, 1);
      const off = a - c.origin;
      const n = Math.min(dst.length - done, this.ramRunFrom(c, off));
      if (!this.inRam(c, off, n)) throw this.notRam(a, n);
      dst.set(c.u8.subarray(off, off + n), done);
      done += n;
    }
  }

  readBytes(pa: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.readInto(pa, out);
    return out;
  }

  writeBytes(pa: number, src: Uint8Array): void {
    let done = 0;
    while (done < src.length) {
      const a = pa + done;
      const c = this.chunkFor(a, 1);
      const off = a - c.origin;
      const n = Math.min(src.length - done, this.ramRunFrom(c, off));
      c.u8.set(src.subarray(done, done + n), off);
      done += n;
    }
  }

  /** Fill [pa, pa+len) with a byte value (used to scrub pages). */
  fill(pa: number, len: number, value: number): void {
    let done = 0;
    while (done < len) {
      const a = pa + done;
      const c = this.chunkFor(a, 1);
      const off = a - c.origin;
      const n = Math.min(len - done, this.ramRunFrom(c, off));
      c.u8.fill(value, off, off + n);
      done += n;
    }
  }

  /** Bytes of contiguous RAM from off to the end of its range in the chunk. */
  private ramRunFrom(c: Chunk, off: number): number {
    const r = c.ram;
    for (let i = 0; i < r.length; i += 2) if (off >= r[i]! && off < r[i + 1]!) return r[i + 1]! - off;
    return 0;
  }
}
