/**
 * VMID allocation (p2m_alloc_vmid): 8-bit VMIDs unless every CPU supports 16; VMID 0 is
 * INVALID_VMID and never handed out. Freed when the domain's p2m is torn down.
 */
import { SshmError } from "../common/index.js";

export class VmidAllocator {
  private readonly used: Uint8Array;

  constructor(readonly bits: 8 | 16 = 8) {
    this.used = new Uint8Array(2 ** bits);
    this.used[0] = 1;
  }

  alloc(): number {
    const i = this.used.indexOf(0);
    if (i < 0) throw new SshmError("EVMID", `p2m: VMID pool exhausted (${2 ** this.bits - 1} VMIDs in use)`);
    this.used[i] = 1;
    return i;
  }

  free(v: number): void {
    if (v > 0) this.used[v] = 0;
  }
}
