/**
 * What the host's address sizes do to a configuration. Xen sizes every stage-2 table from the
 * CPU's PA range (setup_virt_paging, xen/arch/arm/mmu/p2m.c) and its own stage-1 tables too
 * (TCR_EL2.PS = ID_AA64MMFR0_EL1.PARange, xen/arch/arm/arm64/head.S), but checks neither range
 * against what the device tree asks for:
 * - a guest range beyond the IPA size is refused only when its root page does not exist
 *   (p2m_get_root_pointer, -EINVAL), otherwise written into root entries no walk reads
 *   (IPA_RANGE);
 * - a host range above the PA range is mapped like any other, and every guest access through it
 *   takes a stage-2 Address size fault (PA_RANGE);
 * - free RAM above the PA range crashes Xen in setup_mm: the boot allocator hands out the top of
 *   the highest free region first (alloc_boot_pages, xen/common/page_alloc.c) for the first Xen
 *   page table (create_xen_table, xen/arch/arm/mmu/pt.c), and clearing it faults.
 */
import { fmtPaddr } from "../common/index.js";
import type { PaRangeChoice } from "../cpu/index.js";
import { type P2mConfig, p2mRootSlot, setupVirtPaging } from "../p2m/index.js";
import type { Domain } from "./domain.js";
import type { Hypervisor } from "./hypervisor.js";
import type { PaRangeReport, ReportWarning } from "./report.js";

/** The stage-2 configuration setup_virt_paging derives from the host's PA range, and its log. */
export function virtPaging(pa: PaRangeChoice): {
  cfg: P2mConfig;
  log: readonly string[];
  report: PaRangeReport;
} {
  const v = setupVirtPaging({ paRange: pa.paRange, vmid16: pa.vmid16 });
  return {
    cfg: v,
    log: v.log,
    report: {
      paBits: pa.paBits,
      source: pa.source,
      why: pa.why,
      ipaBits: v.ipaBits,
      vtcr: `0x${v.vtcr.toString(16)}`,
      levels: 4 - v.rootLevel,
      rootLevel: v.rootLevel,
      rootPages: 2 ** v.rootOrder,
      vmidBits: v.vmidBits,
    },
  };
}

/** "PA range 44 bits (…): 44-bit IPA, 4 levels, 1 root page, VTCR 0x80043594" for the text reports. */
export function paRangeLine(r: PaRangeReport): string {
  const pages = `${r.rootPages} root page${r.rootPages > 1 ? "s" : ""}`;
  return `PA range ${r.paBits} bits, ${r.why}: ${r.ipaBits}-bit IPA for every domain, ${r.levels} levels from L${r.rootLevel}, ${pages}, VTCR ${r.vtcr}`;
}

function range(start: number, size: number): string {
  return `[${fmtPaddr(start)}, ${fmtPaddr(start + size)})`;
}

/** Where a range of one domain's mappings came from, for the warning's node column. */
interface Span {
  readonly what: string;
  readonly gstart: number;
  readonly hstart: number;
  readonly size: number;
  readonly node: string;
}

function spans(d: Domain): Span[] {
  return [
    ...d.ram.map((r) => ({ what: "RAM", gstart: r.gstart, hstart: r.hstart, size: r.size, node: d.source })),
    ...d.shm.map((s) => ({
      what: `shm "${s.id}" (${s.role})`,
      gstart: s.gstart,
      hstart: s.hstart,
      size: s.size,
      node: s.source,
    })),
  ];
}

/**
 * IPA_RANGE: mappings Xen accepted although (part of) their guest range lies at or beyond
 * 2^p2m_ipa_bits. The entries are in the p2m (the root lookup accepted them), the guest DT lists
 * the range, and every access takes the level-0 Translation fault of an IPA outside T0SZ; Xen's
 * do_trap_stage2_abort_guest finds no MMIO handler there and injects a data abort.
 */
export function ipaRangeWarnings(hv: Hypervisor): ReportWarning[] {
  const cfg = hv.p2mConfig;
  const limit = 2 ** cfg.ipaBits;
  const out: ReportWarning[] = [];
  for (const d of hv.domains) {
    if (d.state !== "running") continue;
    for (const s of spans(d)) {
      if (s.gstart + s.size <= limit) continue;
      const from = Math.max(s.gstart, limit);
      const first = p2mRootSlot(cfg, from / 4096);
      const last = p2mRootSlot(cfg, (s.gstart + s.size) / 4096 - 1);
      const entries =
        first.rootTable === last.rootTable && first.index === last.index
          ? `entry ${first.index}`
          : `entries ${first.index}..${last.index}`;
      const page = 2 ** cfg.rootOrder > 1 ? ` of root page ${first.rootTable}` : "";
      out.push({
        code: "IPA_RANGE",
        node: s.node,
        message: `${s.what} guest range ${range(from, s.gstart + s.size - from)} of ${d.name} lies outside its ${cfg.ipaBits}-bit IPA space and can never be reached: Xen maps it anyway (p2m_get_root_pointer only checks gfn >> ${cfg.rootLevel === 0 ? 36 : 27} < P2M_ROOT_PAGES = ${2 ** cfg.rootOrder}, so the mapping fills L${cfg.rootLevel} ${entries}${page}, which no walk with VTCR.T0SZ = ${cfg.t0sz} reads) and the guest DT lists it, but every access takes a stage-2 Translation fault at level 0 and Xen injects a data abort`,
      });
    }
  }
  return out;
}

/**
 * PA_RANGE: mappings whose host range lies at or above the output size of the stage-2 tables
 * (VTCR_EL2.PS = the IPA size Xen chose): the descriptors hold the address, and every access
 * through them takes a stage-2 Address size fault, which Xen's do_trap_stage2_abort_guest reports
 * as "Unsupported FSC" before injecting a data abort.
 */
export function paRangeWarnings(hv: Hypervisor): ReportWarning[] {
  const cfg = hv.p2mConfig;
  const limit = 2 ** cfg.paBits;
  const out: ReportWarning[] = [];
  for (const d of hv.domains) {
    if (d.state !== "running") continue;
    for (const s of spans(d)) {
      if (s.hstart + s.size <= limit) continue;
      const from = Math.max(s.hstart, limit);
      out.push({
        code: "PA_RANGE",
        node: s.node,
        message: `${s.what} of ${d.name} is backed by host range ${range(from, s.hstart + s.size - from)}, above the ${cfg.paBits}-bit output size of its stage-2 tables (VTCR_EL2.PS = ${cfg.paRange}): the CPU cannot address it, so every access takes a stage-2 Address size fault (Xen prints "Unsupported FSC" and injects a data abort)`,
      });
    }
  }
  return out;
}

/**
 * The note beside "Could not set up domain … (rc = -22)" when the -EINVAL came from
 * p2m_get_root_pointer: the guest range reaches a root page the p2m does not have.
 */
export function ipaRejectNote(d: Domain, node: string, pa: PaRangeReport): string | undefined {
  const gfn = d.p2m.lastRootReject;
  if (gfn < 0) return undefined;
  const cfg = d.p2m.cfg;
  const slot = p2mRootSlot(cfg, gfn);
  return `${node}: guest address ${fmtPaddr(gfn * 4096)} is beyond ${d.name}'s ${cfg.ipaBits}-bit IPA space (PA range ${pa.paBits} bits, ${pa.why}): p2m_get_root_pointer finds root table ${slot.rootTable} >= P2M_ROOT_PAGES = ${2 ** cfg.rootOrder}, so __p2m_set_entry returns -EINVAL (-22) and the domain cannot be built`;
}

/** The top of the highest free (boot allocator) region, or 0. */
function bootmemTop(free: readonly { start: number; size: number }[]): number {
  let top = 0;
  for (const r of free) if (r.size > 0 && r.start + r.size > top) top = r.start + r.size;
  return top;
}

/**
 * Free RAM above the PA range: Xen's first page-table page comes from the top of the highest
 * boot-allocator region (alloc_boot_pages takes from r->e downwards) in setup_mm, and clearing it
 * through a mapping whose output address exceeds TCR_EL2.PS takes an Address size fault at EL2:
 * do_trap_hyp_sync -> do_unexpected_trap("Data Abort"). Returns the crash note, or undefined.
 */
export function setupMmCrash(
  free: readonly { start: number; size: number }[],
  pa: PaRangeReport,
  node: string,
): string | undefined {
  const top = bootmemTop(free);
  if (top <= 2 ** pa.paBits) return undefined;
  const page = top - 4096;
  return `${node}: free RAM ends at ${fmtPaddr(top)}, above the ${pa.paBits}-bit PA range (${pa.why}): in setup_mm Xen's boot allocator hands out the top page ${fmtPaddr(page)} for its first page table (create_xen_table), and clearing it takes an Address size fault at EL2 (TCR_EL2.PS = PARange), a data abort in Xen before any domain is built. Xen also prints "Data Abort Trap. Syndrome=...", a walk of its page tables and the register dump, which sshm does not reproduce`;
}

/** do_unexpected_trap's panic line for that Data Abort (the boot CPU is CPU0). */
export const SETUP_MM_PANIC = "CPU0: Unexpected Trap: Data Abort";
