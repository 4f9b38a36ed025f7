/**
 * A virtual CPU's view of guest memory: every access is translated through the domain's stage-2
 * tables by a software TLB, QEMU-softmmu style. The hit path (compare a tag, add an offset) is
 * the only code that runs per access; a miss walks the real table bytes with the architectural
 * walker and refills; a fault is thrown as a typed Stage2Fault, never returned as a wrong value.
 *
 * The TLB is direct-mapped and VMID-private, with one tag array per access type: a page enters
 * only the tags its permissions allow (a foreign page gets no exec tag, a read-only page no write
 * tag), so a permission fault always goes through the walker. Tags are exact doubles holding the
 * IPA page number and the host chunk, for any IPA size up to 48 bits.
 *
 * Coherence with the p2m follows Xen's flush model: every TLB flush of the VMID bumps a shared
 * epoch word, and a vCPU compares it in sync() — at its own batch boundaries (what a real CPU sees
 * at the DSB after a TLBI) — and peeks at it on every refill. Nothing atomic runs on the hit path.
 */
import type { HostMemory } from "../pagealloc/index.js";
import * as descriptor from "./descriptor.js";
import * as fault from "./fault.js";
import type { P2mHandle } from "./p2m.js";
import { decodeVtcr } from "./vtcr.js";
import type { TableMemory, WalkConfig } from "./walker.js";
import * as walker from "./walker.js";

// Hot-path bindings: module-local consts instead of imports, which V8 reads through their module
// cells with a TDZ check on every use (see the same note in walker.ts).
const { descRead, descWrite, descXn } = descriptor;
const { Stage2Fault } = fault;
const {
  ACCESS_EXEC,
  ACCESS_READ,
  ACCESS_WRITE,
  WALK_IO_SIZE,
  WALK_IPA,
  WALK_PA_HI,
  WALK_PA_LO,
  walkConfig,
  walkStage2Raw,
} = walker;

const ACCESS_NAME = ["read", "write", "exec"] as const;
const TWO_32 = 4294967296;

/** 2^-12 (exact): page number = page base * INV_PAGE. */
const INV_PAGE = 1 / 4096;
/**
 * A tag is `pn + chunk * CHUNK_TAG`, pn the IPA page number (< 2^36 for a 48-bit IPA) and chunk
 * the host window holding the page, so one float compare checks page, alignment and chunk at once
 * and stays exact for 2^17 chunks (128 TiB of RAM windows).
 */
const CHUNK_TAG = 2 ** 36;
const MAX_TAGGED_CHUNKS = 2 ** 17;
const NO_CHUNK_BIAS = -(2 ** 52);

/**
 * A cached view of one host buffer (a RAM window's SharedArrayBuffer), described by small integers:
 * PA[47:32] of its origin, the origin's page within those 4 GiB and the pages it holds, so that a
 * lookup is integer-only. A buffer never spans 4 GiB (it lies inside one 1 GiB window), and only a
 * buffer that is RAM throughout is cached, so holes between banks keep failing. A vCPU has two:
 * one for descriptor reads (TableMemory, used by the walker) and one for the frames it maps.
 */
class HostWindow implements TableMemory {
  /** Chunk id of the last buffer located (cached or not). */
  chunk = -1;
  private hi = -1;
  private basePg = 0;
  private pages = 0;
  private u32: Uint32Array = new Uint32Array(new SharedArrayBuffer(0));
  /** Bits 63:32 of the last descriptor read (TableMemory.upper). */
  upper = 0;

  constructor(private readonly mem: HostMemory) {}

  /** Word index of the address (hi = PA[47:32], lo = PA[31:0] as int32) in the cached buffer, or -1. */
  word(hi: number, lo: number): number {
    const pg = (lo >>> 12) - this.basePg;
    return hi === this.hi && pg >= 0 && pg < this.pages ? (pg << 10) | ((lo & 0xffc) >>> 2) : -1;
  }

  readDesc(hi: number, lo: number): number {
    const w = this.word(hi, lo);
    if (w >= 0) {
      this.upper = this.u32[w + 1]! | 0;
      return this.u32[w]!;
    }
    const pa = hi * TWO_32 + (lo >>> 0);
    this.words(pa, 8); // remembers the buffer when it can; throws when pa is not RAM
    this.upper = this.mem.read32(pa + 4) | 0;
    return this.mem.read32(pa);
  }

  writeDescLo(hi: number, lo: number, value: number): void {
    this.mem.write32(hi * TWO_32 + (lo >>> 0), value);
  }

  /**
   * Word index of pa in its chunk's buffer, remembering that buffer (and its chunk) when it is
   * RAM throughout. Throws when [pa, pa + len) is not RAM.
   */
  words(pa: number, len: number): number {
    const loc = this.mem.locate(pa, len);
    const origin = pa - loc.offset;
    this.chunk = loc.chunk;
    if (this.mem.chunkIsSolid(loc.chunk) && (origin & 0xfff) === 0) {
      this.u32 = this.mem.chunkU32(loc.chunk);
      this.hi = Math.floor(origin / TWO_32);
      this.basePg = (origin >>> 0) >>> 12;
      this.pages = this.u32.length >>> 10;
    } else {
      this.pages = 0;
    }
    return loc.offset / 4;
  }
}

export interface VcpuOptions {
  /** log2 of the TLB entries (default 12: 4096 entries, 16 MiB of 4 KiB pages). */
  readonly tlbBits?: number;
  /**
   * The hypervisor's stage-2 translation-fault handler (Xen's p2m_resolve_translation_fault),
   * called in this thread with the faulting gfn; true = resolved, retry the access.
   */
  readonly resolveTranslationFault?: (gfn: number) => boolean;
}

export interface VcpuStats {
  /** TLB refills (walks that succeeded). */
  misses: number;
  /** Walks that faulted. */
  faults: number;
  /** Local TLB flushes (epoch changes seen). */
  flushes: number;
  /** Translation faults the hypervisor resolved (the access was then retried). */
  resolved: number;
}

export class Vcpu {
  readonly vmid: number;
  readonly stats: VcpuStats = { misses: 0, faults: 0, flushes: 0, resolved: 0 };
  private readonly mem: HostMemory;
  private readonly cfg: WalkConfig;
  private readonly mask: number;
  /**
   * One tag array per access type: `pn + chunk * CHUNK_TAG` when the page allows that access
   * without a slow path, -1 otherwise (QEMU's flags-in-comparator idea).
   */
  private readonly tagR: Float64Array;
  private readonly tagW: Float64Array;
  private readonly tagX: Float64Array;
  /** Word index of the host page in its chunk. */
  private readonly hostWord: Int32Array;
  /** Chunk id of the host page (slow paths only: the hit path checks it through the tag). */
  private readonly chunk: Int32Array;
  /** Chunk id -> 32-bit and byte views (filled on first use). */
  private readonly views: Uint32Array[];
  private readonly bytes: Uint8Array[];
  /**
   * The current chunk (the host window of the last slow-path access): its views and its tag bias
   * `curId * CHUNK_TAG`. A hit reads through these fields only; a page in another chunk misses its
   * tag compare and switches them on the slow path.
   */
  private cur: Uint32Array;
  private curBytes: Uint8Array;
  private curId = -1;
  /** Before the first slow path: a bias no tag (nor the empty tag -1) can match. */
  private curBias = NO_CHUNK_BIAS;
  private readonly epoch: Int32Array;
  private seenEpoch: number;
  /** walkStage2Raw's io: the IPA goes in io[WALK_IPA]. */
  private readonly out = new Float64Array(WALK_IO_SIZE);
  /** Host buffers of the last table read and of the last frame mapped. */
  private readonly tables: HostWindow;
  private readonly frames: HostWindow;
  private readonly resolver: ((gfn: number) => boolean) | undefined;

  constructor(mem: HostMemory, p2m: P2mHandle, opts: VcpuOptions = {}) {
    const bits = opts.tlbBits ?? 12;
    if (!Number.isInteger(bits) || bits < 0 || bits > 20)
      throw new RangeError(`Vcpu: tlbBits must be an integer in 0..20, got ${bits}`);
    const n = 2 ** bits;
    this.mem = mem;
    this.vmid = p2m.vmid;
    this.cfg = walkConfig(decodeVtcr(p2m.vtcr, p2m.ipaBits), p2m.rootPaddr);
    this.mask = n - 1;
    this.tagR = new Float64Array(n).fill(-1);
    this.tagW = new Float64Array(n).fill(-1);
    this.tagX = new Float64Array(n).fill(-1);
    this.hostWord = new Int32Array(n);
    this.chunk = new Int32Array(n);
    // Placeholders over a SharedArrayBuffer too: V8 specialises on shared vs unshared backing
    // stores, and one kind of view keeps the hit path monomorphic.
    const none = new SharedArrayBuffer(0);
    this.views = mem.chunks.map(() => new Uint32Array(none));
    this.bytes = mem.chunks.map(() => new Uint8Array(none));
    this.cur = new Uint32Array(none);
    this.curBytes = new Uint8Array(none);
    this.epoch = new Int32Array(p2m.epoch);
    this.seenEpoch = Atomics.load(this.epoch, 0);
    this.tables = new HostWindow(mem);
    this.frames = new HostWindow(mem);
    this.resolver = opts.resolveTranslationFault;
  }

  /**
   * Synchronisation point: if the p2m was flushed since the last look, drop every cached
   * translation (TLBI VMALLS12E1 for this VMID). Returns true when a flush happened.
   */
  sync(): boolean {
    const e = Atomics.load(this.epoch, 0);
    if (e === this.seenEpoch) return false;
    this.seenEpoch = e;
    this.flush();
    return true;
  }

  /** Drop every cached translation. */
  flush(): void {
    this.tagR.fill(-1);
    this.tagW.fill(-1);
    this.tagX.fill(-1);
    this.stats.flushes++;
  }

  // ---- the hot path ----
  //
  // A hit is: index = IPA[12+bits-1:12], one float compare of the tag with
  // (IPA - in-page offset) / 4096 + current chunk's bias, one load. Keeping bits 1:0 out of the
  // subtracted offset folds the alignment check into the same compare (QEMU folds alignment into
  // its comparator the same way): a misaligned IPA leaves a fraction and never equals a tag.

  read32(ipa: number): number {
    const o = ipa & 0xffc;
    const i = (ipa >>> 12) & this.mask;
    if (this.tagR[i] === (ipa - o) * INV_PAGE + this.curBias) return this.cur[this.hostWord[i]! + (o >>> 2)]!;
    return this.read32Slow(ipa);
  }

  write32(ipa: number, v: number): void {
    const o = ipa & 0xffc;
    const i = (ipa >>> 12) & this.mask;
    if (this.tagW[i] === (ipa - o) * INV_PAGE + this.curBias) {
      this.cur[this.hostWord[i]! + (o >>> 2)] = v;
      return;
    }
    this.write32Slow(ipa, v);
  }

  read8(ipa: number): number {
    const o = ipa & 0xfff;
    const i = (ipa >>> 12) & this.mask;
    if (this.tagR[i] === (ipa - o) * INV_PAGE + this.curBias)
      return this.curBytes[this.hostWord[i]! * 4 + o]!;
    return this.readByteSlow(ipa, ACCESS_READ);
  }

  write8(ipa: number, v: number): void {
    const o = ipa & 0xfff;
    const i = (ipa >>> 12) & this.mask;
    if (this.tagW[i] === (ipa - o) * INV_PAGE + this.curBias) {
      this.curBytes[this.hostWord[i]! * 4 + o] = v;
      return;
    }
    const j = this.slot(ipa, ACCESS_WRITE);
    this.bytes[this.chunk[j]!]![this.hostWord[j]! * 4 + o] = v;
  }

  /** Instruction fetch (needs an executable mapping). */
  fetch32(ipa: number): number {
    const o = ipa & 0xffc;
    const i = (ipa >>> 12) & this.mask;
    if (this.tagX[i] === (ipa - o) * INV_PAGE + this.curBias) return this.cur[this.hostWord[i]! + (o >>> 2)]!;
    if ((ipa & 3) !== 0) return this.assemble(ipa, 4, ACCESS_EXEC);
    const j = this.slot(ipa, ACCESS_EXEC);
    return this.views[this.chunk[j]!]![this.hostWord[j]! + (o >>> 2)]!;
  }

  // ---- wider and narrower accesses (built on the above) ----

  read16(ipa: number): number {
    if ((ipa & 1) === 0) {
      const w = this.read32(ipa - (ipa & 2));
      return (ipa & 2) === 0 ? w & 0xffff : w >>> 16;
    }
    return this.assemble(ipa, 2, ACCESS_READ);
  }

  write16(ipa: number, v: number): void {
    this.write8(ipa, v & 0xff);
    this.write8(ipa + 1, (v >>> 8) & 0xff);
  }

  /** 64-bit read as two halves: out[0] = bits 31:0, out[1] = bits 63:32. */
  read64(ipa: number, out: Uint32Array | number[]): void {
    out[0] = this.read32(ipa) >>> 0;
    out[1] = this.read32(ipa + 4) >>> 0;
  }

  write64(ipa: number, lo: number, hi: number): void {
    this.write32(ipa, lo);
    this.write32(ipa + 4, hi);
  }

  /** Copy guest memory [ipa, ipa + dst.length) into dst, page by page. */
  readBytes(ipa: number, dst: Uint8Array): void {
    let done = 0;
    while (done < dst.length) {
      const a = ipa + done;
      const i = this.slot(a, ACCESS_READ);
      const off = a & 0xfff;
      const n = Math.min(4096 - off, dst.length - done);
      const base = this.hostWord[i]! * 4 + off;
      dst.set(this.bytes[this.chunk[i]!]!.subarray(base, base + n), done);
      done += n;
    }
  }

  /** Copy src into guest memory at ipa, page by page. */
  writeBytes(ipa: number, src: Uint8Array): void {
    let done = 0;
    while (done < src.length) {
      const a = ipa + done;
      const i = this.slot(a, ACCESS_WRITE);
      const off = a & 0xfff;
      const n = Math.min(4096 - off, src.length - done);
      this.bytes[this.chunk[i]!]!.set(src.subarray(done, done + n), this.hostWord[i]! * 4 + off);
      done += n;
    }
  }

  /** Host physical address of ipa for `access`, walking (and filling) as needed. */
  translate(ipa: number, access: "read" | "write" | "exec" = "read"): number {
    const code = access === "read" ? ACCESS_READ : access === "write" ? ACCESS_WRITE : ACCESS_EXEC;
    const i = this.slot(ipa, code);
    return this.mem.chunks[this.chunk[i]!]!.origin + this.hostWord[i]! * 4 + (ipa & 0xfff);
  }

  // ---- slow paths ----

  /**
   * The TLB slot holding a translation of ipa's page for `access`: the cached one when its tag
   * matches the page in whatever chunk, otherwise a fresh walk and refill. Throws Stage2Fault.
   */
  private slot(ipa: number, access: number): number {
    const o = ipa & 0xfff;
    const i = (ipa >>> 12) & this.mask;
    const tags = access === ACCESS_READ ? this.tagR : access === ACCESS_WRITE ? this.tagW : this.tagX;
    const t = tags[i]!;
    if (t >= 0 && t === (ipa - o) * INV_PAGE + this.chunk[i]! * CHUNK_TAG) return i;
    // The IPA travels in the walker's io array: as an argument V8 would box it (outside int32) per miss.
    this.out[WALK_IPA] = ipa;
    return this.fill(access);
  }

  private read32Slow(ipa: number): number {
    if ((ipa & 3) !== 0) return this.assemble(ipa, 4, ACCESS_READ);
    const i = this.slot(ipa, ACCESS_READ);
    this.switchTo(this.chunk[i]!);
    return this.cur[this.hostWord[i]! + ((ipa & 0xffc) >>> 2)]!;
  }

  private write32Slow(ipa: number, v: number): void {
    if ((ipa & 3) !== 0) {
      for (let b = 0; b < 4; b++) this.write8(ipa + b, (v >>> (8 * b)) & 0xff);
      return;
    }
    const i = this.slot(ipa, ACCESS_WRITE);
    this.switchTo(this.chunk[i]!);
    this.cur[this.hostWord[i]! + ((ipa & 0xffc) >>> 2)] = v;
  }

  private readByteSlow(ipa: number, access: number): number {
    const i = this.slot(ipa, access);
    return this.bytes[this.chunk[i]!]![this.hostWord[i]! * 4 + (ipa & 0xfff)]!;
  }

  private switchTo(id: number): void {
    if (id !== this.curId) {
      this.curId = id;
      this.curBias = id * CHUNK_TAG;
      this.cur = this.views[id]!;
      this.curBytes = this.bytes[id]!;
    }
  }

  /** Unaligned little-endian read of `len` bytes, each byte translated (may cross pages). */
  private assemble(ipa: number, len: number, access: number): number {
    let v = 0;
    for (let b = 0; b < len; b++) v |= this.readByteSlow(ipa + b, access) << (8 * b);
    return v >>> 0;
  }

  /**
   * A walk of out[WALK_IPA] faulted with packed result r. A translation fault goes to the
   * hypervisor first; each resolution fixes one level, so a walk needs at most one per level, and
   * the resolver's flushes are seen by sync() before retrying. Returns when a retried walk
   * succeeds (out[] then holds its result); otherwise throws the Stage2Fault.
   */
  private walkFailed(first: number, access: number): void {
    const out = this.out;
    const ipa = out[WALK_IPA]!;
    let r = first;
    for (let tries = 0; r >> 8 === 1 && this.resolver !== undefined && tries < 5; tries++) {
      if (!this.resolver(Math.floor(ipa / 4096))) break;
      this.stats.resolved++;
      this.sync();
      out[WALK_IPA] = ipa;
      r = walkStage2Raw(this.tables, this.cfg, access, out);
    }
    if (r !== 0) {
      this.stats.faults++;
      throw Stage2Fault.fromPacked(r, ipa, ACCESS_NAME[access]!);
    }
  }

  private ensureViews(chunk: number): void {
    if (this.views[chunk]!.length === 0) {
      this.views[chunk] = this.mem.chunkU32(chunk);
      this.bytes[chunk] = this.mem.chunkU8(chunk);
    }
  }

  /**
   * Walk out[WALK_IPA] for `access` and enter the page in the TLB. Returns the slot. Throws Stage2Fault on
   * a fault. The epoch is peeked with a plain read (a relaxed load, as the descriptors themselves
   * are read): the ordered check is sync() at the vCPU's synchronisation points.
   */
  private fill(access: number): number {
    if (this.epoch[0] !== this.seenEpoch) this.sync();
    const out = this.out;
    const ipa = out[WALK_IPA]!;
    const r = walkStage2Raw(this.tables, this.cfg, access, out);
    if (r !== 0) this.walkFailed(r, access);
    this.stats.misses++;
    const lo = out[2]!;
    const hi = out[3]!;
    // The frame, from the output address's halves: integer work only while it is in the last buffer.
    const paHi = out[WALK_PA_HI]! | 0;
    const pageLo = out[WALK_PA_LO]! & ~0xfff;
    let word = this.frames.word(paHi, pageLo);
    if (word < 0) {
      word = this.frames.words(paHi * TWO_32 + (pageLo >>> 0), 4096);
      this.ensureViews(this.frames.chunk);
    }
    const chunk = this.frames.chunk;
    const i = (ipa >>> 12) & this.mask;
    // Beyond 2^17 chunks a tag would lose exactness: such pages are translated but not cached.
    const tag = chunk < MAX_TAGGED_CHUNKS ? (ipa - (ipa & 0xfff)) * INV_PAGE + chunk * CHUNK_TAG : -1;
    this.tagR[i] = descRead(lo) ? tag : -1;
    this.tagW[i] = descWrite(lo) ? tag : -1;
    this.tagX[i] = (descXn(hi) & 2) === 0 ? tag : -1;
    this.hostWord[i] = word;
    this.chunk[i] = chunk;
    return i;
  }
}
