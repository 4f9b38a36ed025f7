/**
 * The static-memory part of Xen's setup_mm() (xen/arch/arm/mm.c), which runs after the early FDT
 * parse and before any domain exists: init_frametable(), then init_staticmem_pages() (every
 * xen,static-mem bank) and init_sharedmem_pages() (every static-shm bank with a host address, in
 * bank order). Both call init_staticmem_bank() -> unprepare_staticmem_pages(), which runs
 * mark_page_free() on each page's `struct page_info`: the first thing it reads is
 * `pg->count_info` (switch on PGC_state). For a frame outside RAM that entry is usually not
 * mapped (init_frametable() maps entries for the PDX groups that hold RAM only), so Xen takes a
 * data abort right there: "CPU0: Unexpected Trap: Data Abort", then panic. Nothing has been
 * acquired yet and no domain is built; process_shm's own "invalid physical address" check at
 * construction is never reached for such a bank.
 *
 * Heap-form banks (no host address) are skipped by init_sharedmem_pages (start ==
 * INVALID_PADDR) and their pages come from the heap, i.e. RAM: this cannot happen to them.
 */
import { fmtMfn, fmtPaddr } from "../common/format.js";
import type { PageAllocator, RamMap, XenFrameTable } from "../pagealloc/index.js";

/** One bank init_staticmem_bank() walks. */
export interface StaticBank {
  readonly start: number;
  readonly size: number;
  /** What it is, for the note: `host range of id "x"` / `xen,static-mem bank`. */
  readonly what: string;
  /** The node that declared it (failedNode when Xen dies on it). */
  readonly path: string;
  /** Which of the two loops: init_staticmem_pages or init_sharedmem_pages. */
  readonly loop: "init_staticmem_pages" | "init_sharedmem_pages";
}

export interface SetupMmCrash {
  readonly panic: string;
  /** Console lines Xen prints from the fault to its panic line (inclusive). */
  readonly log: string[];
  readonly path: string;
  /** sshm's explanation, printed beside Xen's lines. */
  readonly note: string;
}

const hex = (v: bigint, w = 16) => `0x${v.toString(16).padStart(w, "0")}`;

/**
 * Walk the static banks as setup_mm() does. RAM pages become free|static pages (what
 * unprepare_staticmem_pages leaves); the first page whose page_info cannot be read ends the boot.
 * Returns the crash, or null with the non-RAM frames Xen got through (zeroed entries in a mapped
 * PDX group, which Xen treats like RAM).
 */
export function setupMmStaticBanks(
  banks: readonly StaticBank[],
  ft: XenFrameTable,
  ram: RamMap,
  alloc: PageAllocator,
): SetupMmCrash | null {
  for (const b of banks) {
    const m0 = b.start / 4096;
    const n = Math.floor(b.size / 4096);
    for (let i = 0; i < n; i++) {
      const mfn = m0 + i;
      const pi = ft.pageInfo(mfn);
      const path = `setup_mm() -> ${b.loop}() -> init_staticmem_bank() -> unprepare_staticmem_pages() -> mark_page_free()`;
      const range = `${b.what} [${fmtPaddr(b.start)}, ${fmtPaddr(b.start + b.size)}) (${b.path})`;
      const ramNote = ram.mfnValid(mfn) ? "" : ", which is not RAM";
      if (pi.state === "unmapped") {
        const panic = "CPU0: Unexpected Trap: Data Abort";
        return {
          panic,
          log: [panic, panic],
          path: b.path,
          note: `${path} reads frame_table[${pi.index < 0n ? "-" : ""}0x${(pi.index < 0n ? -pi.index : pi.index).toString(16)}].count_info (VA ${hex(pi.countInfoVa)}) for mfn 0x${fmtMfn(mfn)} of ${range}${ramNote}: init_frametable() mapped no entry there, so the read takes a data abort in Xen before any domain is built or any page acquired. Xen also prints "Data Abort Trap. Syndrome=...", a walk of its page tables for that VA and the register dump, which sshm does not reproduce (they depend on Xen's compiled code and where its tables lie)`,
        };
      }
      if (pi.state === "poisoned") {
        if (!pi.printkFieldsMapped) {
          const panic = "CPU0: Unexpected Trap: Data Abort";
          return {
            panic,
            log: [panic, panic],
            path: b.path,
            note: `${path} reads frame_table[0x${pi.index.toString(16)}] for mfn 0x${fmtMfn(mfn)} of ${range}${ramNote}: the entry lies in the 0xff-filled tail init_frametable_chunk() left after the last RAM frame and ends past the mapping, so reading its fields for the "pg MFN" message takes a data abort. Xen also prints "Data Abort Trap. Syndrome=...", a walk of its page tables and the register dump, which sshm does not reproduce`,
          };
        }
        // All fields read back as 0xff: PGC_state is 3 (free), the default case of the switch.
        const line = `pg MFN ${fmtMfn(mfn)} c=0xffffffffffffffff o=4294967295 v=0xffffffffffffffff t=0xffffffff`;
        const panic = "Xen BUG in mark_page_free(): BUG() on a page that is already free";
        return {
          panic,
          log: [line, panic],
          path: b.path,
          note: `${path} reads frame_table[0x${pi.index.toString(16)}] for mfn 0x${fmtMfn(mfn)} of ${range}${ramNote}: the entry lies in the 0xff-filled tail init_frametable_chunk() left after the last RAM frame, so its state reads as free and mark_page_free() hits BUG() (Xen prints "Xen BUG at page_alloc.c:<line>" and a register dump, described here instead)`,
        };
      }
      if (ram.mfnValid(mfn)) alloc.unprepare_staticmem_pages(mfn, 1);
    }
  }
  return null;
}
