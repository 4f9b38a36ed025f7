/**
 * How a simulated guest reaches memory. In a run every guest is a Vcpu: each access is translated
 * through its own stage-2 tables. The raw baseline uses RawMem over a plain SharedArrayBuffer with
 * the same ring code, so the two differ only in translation.
 *
 * Words used with Atomics (ring indices, doorbells) need an Int32Array over the real buffer. They
 * are translated through the guest's own stage-2 (Vcpu.translate, write access) and kept, which is
 * exactly a TLB entry: Link re-translates them whenever the vCPU flushes its TLB, so after a
 * borrower's mappings are torn down its next use of them faults like any other access.
 */
import type { Vcpu } from "../p2m/index.js";
import type { HostMemory } from "../pagealloc/index.js";

export interface GuestMem {
  read32(addr: number): number;
  write32(addr: number, v: number): void;
  readBytes(addr: number, dst: Uint8Array): void;
  writeBytes(addr: number, src: Uint8Array): void;
  /** Batch boundary: pick up TLB flushes. */
  sync(): boolean;
  readonly stats: { readonly flushes: number };
}

export interface WordRef {
  readonly arr: Int32Array;
  readonly index: number;
}

export type WordResolver = (addr: number) => WordRef;

/** Resolve guest words through the vCPU's stage-2 (throws Stage2Fault when unmapped). */
export function vcpuWords(vcpu: Vcpu, mem: HostMemory): WordResolver {
  const views = new Map<number, Int32Array>();
  return (ipa) => {
    const pa = vcpu.translate(ipa, "write");
    const loc = mem.locate(pa, 4);
    let arr = views.get(loc.chunk);
    if (!arr) {
      arr = new Int32Array(mem.chunkU32(loc.chunk).buffer as SharedArrayBuffer);
      views.set(loc.chunk, arr);
    }
    return { arr, index: loc.offset >>> 2 };
  };
}

/** Untranslated memory: addresses are byte offsets in one SharedArrayBuffer. */
export class RawMem implements GuestMem {
  readonly stats = { flushes: 0 };
  private readonly u32: Uint32Array;
  private readonly u8: Uint8Array;
  readonly i32: Int32Array;

  constructor(sab: SharedArrayBuffer) {
    this.u32 = new Uint32Array(sab);
    this.u8 = new Uint8Array(sab);
    this.i32 = new Int32Array(sab);
  }

  read32(addr: number): number {
    return this.u32[addr >>> 2]!;
  }

  write32(addr: number, v: number): void {
    this.u32[addr >>> 2] = v;
  }

  readBytes(addr: number, dst: Uint8Array): void {
    dst.set(this.u8.subarray(addr, addr + dst.length));
  }

  writeBytes(addr: number, src: Uint8Array): void {
    this.u8.set(src, addr);
  }

  sync(): boolean {
    return false;
  }

  words(): WordResolver {
    return (addr) => ({ arr: this.i32, index: addr >>> 2 });
  }
}
