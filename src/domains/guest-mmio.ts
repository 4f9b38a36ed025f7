/**
 * MMIO: a static-shm guest range over one of the guest addresses Xen itself gives a meaning to in a
 * dom0less domU's virtual platform (xen/include/public/arch-arm.h). Xen accepts it silently; which
 * side wins depends on how Xen provides the device:
 * - emulated devices (vGIC distributor and redistributors, vpl011) are MMIO handlers
 *   (`register_mmio_handler`), and Xen looks for a handler only when an access takes a stage-2
 *   translation fault (do_trap_stage2_abort_guest -> try_handle_mmio, xen/arch/arm/traps.c,
 *   io.c). The shared pages are mapped, so they never fault: the guest's accesses reach the
 *   shared memory and the device never sees them;
 * - the GICv2 CPU interface is mapped into the p2m lazily, on the first access that faults
 *   (check_p2m -> try_map_mmio: map_mmio_regions of csize bytes from the faulting page): pages the
 *   region covers never fault, so the guest never gets its CPU interface there; a fault on a page
 *   of the window the region does not cover maps 8 KiB from that page, over any shared page there;
 * - the xenstore page is mapped by Xen after process_shm (construct_domU -> alloc_xenstore_params
 *   -> alloc_xenstore_page -> guest_physmap_add_page), replacing that shared page;
 * - the grant-table region is where the guest maps its grant-table frames (the /hypervisor node's
 *   first reg range; XENMEM_add_to_physmap with XENMAPSPACE_grant_table), replacing shared pages.
 *
 * The vGIC version is the host's (arch_parse_dom0less_node: XEN_DOMCTL_CONFIG_GIC_NATIVE; the host
 * GIC is the one intc_dt_preinit picks, as hostPlatform reads it). Domains using the host layout
 * are not checked here: direct-mapped domains and the hardware domain get the host's GIC (and
 * direct-mapped ones the host UART) addresses, which are device memory, not RAM, and a direct-mapped
 * domain's guest address is its host address, which NOT_RAM already checks. Not registered for a
 * dom0less domU, so not checked: vPCI (no XEN_DOMCTL_CDF_vpci), vITS (hardware domain only),
 * virtio-mmio and ACPI ranges (libxl's, no device of Xen's).
 */
import { fmtPaddr } from "../common/index.js";
import type { DomainSpec, HostDescription, ShmParseResult } from "../dom0less/index.js";
import {
  DOM0LESS_ENHANCED_NO_XS,
  DOM0LESS_XENSTORE,
  GUEST_GICC_BASE,
  GUEST_GICC_SIZE,
  GUEST_GICD_BASE,
  GUEST_GICV3_GICD_BASE,
  GUEST_GICV3_GICD_SIZE,
  GUEST_GICV3_GICR0_BASE,
  GUEST_GICV3_GICR0_SIZE,
  GUEST_GNTTAB_BASE,
  GUEST_GNTTAB_SIZE,
  GUEST_PL011_BASE,
  GUEST_PL011_SIZE,
  type HostGic,
} from "../guestdt/index.js";
import { dom0lessFeatures } from "./domu-boot.js";
import type { ReportWarning } from "./report.js";

/** GUEST_MAGIC_BASE (public/arch-arm.h) and XENSTORE_PFN_OFFSET (dom0less-build.c). */
const GUEST_MAGIC_BASE = 0x3900_0000n;
const XENSTORE_PFN_OFFSET = 1n;
const PAGE_SIZE = 0x1000n;
/** GICV3_GICR_SIZE: one redistributor (RD_base + SGI_base frames, asm/gic_v3_defs.h). */
const GICV3_GICR_SIZE = 0x2_0000n;

type How = "handler" | "gicc" | "xenstore" | "gnttab";

interface GuestDevice {
  name: string;
  start: bigint;
  end: bigint;
  how: How;
  /** Appended to the range, e.g. which part the domain's vCPUs use. */
  detail: string;
}

const span = (start: number | bigint, size: number | bigint) => ({
  start: BigInt(start),
  end: BigInt(start) + BigInt(size),
});
const rangeText = (s: bigint, e: bigint): string => `[${fmtPaddr(s)}, ${fmtPaddr(e)})`;

/** Xen's guest MMIO ranges for one domain of the virtual platform layout. */
function guestDevices(d: DomainSpec, gic: HostGic): GuestDevice[] {
  const out: GuestDevice[] = [];
  const assumed = "assumed" in gic ? " (sshm assumes a GICv3: the host tree has no GIC Xen drives)" : "";
  if (!d.isHwdom) {
    if (gic.version === 2) {
      // vgic_v2_domain_init: a PAGE_SIZE distributor handler; the CPU interface is mapped lazily.
      out.push({
        name: "vGICv2 distributor (GICD)",
        ...span(GUEST_GICD_BASE, PAGE_SIZE),
        how: "handler",
        detail: "",
      });
      out.push({
        name: "vGICv2 CPU interface (GICC)",
        ...span(GUEST_GICC_BASE, GUEST_GICC_SIZE),
        how: "gicc",
        detail: "",
      });
    } else {
      // vgic_v3_domain_init: SZ_64K distributor, one handler over the whole GUEST_GICV3_GICR0 region.
      out.push({
        name: "vGICv3 distributor (GICD)",
        ...span(GUEST_GICV3_GICD_BASE, GUEST_GICV3_GICD_SIZE),
        how: "handler",
        detail: assumed,
      });
      const r = span(GUEST_GICV3_GICR0_BASE, GUEST_GICV3_GICR0_SIZE);
      const used = r.start + BigInt(d.cpus) * GICV3_GICR_SIZE;
      out.push({
        name: "vGICv3 redistributor region (GICR)",
        ...r,
        how: "handler",
        detail: `, whose first ${d.cpus} redistributor${d.cpus > 1 ? "s" : ""} ${rangeText(r.start, used)} serve${d.cpus > 1 ? "" : "s"} ${d.name}'s vCPU${d.cpus > 1 ? "s" : ""}${assumed}`,
      });
    }
  }
  // domain_vpl011_init: GUEST_PL011_BASE unless direct-mapped.
  if (d.vpl011)
    out.push({
      name: "vpl011 UART",
      ...span(GUEST_PL011_BASE, GUEST_PL011_SIZE),
      how: "handler",
      detail: "",
    });
  const features = dom0lessFeatures(d);
  if (!d.isHwdom && features & DOM0LESS_ENHANCED_NO_XS)
    out.push({
      name: "grant-table region",
      ...span(GUEST_GNTTAB_BASE, GUEST_GNTTAB_SIZE),
      how: "gnttab",
      detail: " (reg[0] of its /hypervisor node, xen,enhanced)",
    });
  if (features & DOM0LESS_XENSTORE)
    out.push({
      name: "xenstore page",
      ...span(GUEST_MAGIC_BASE + XENSTORE_PFN_OFFSET * PAGE_SIZE, PAGE_SIZE),
      how: "xenstore",
      detail: " (GUEST_MAGIC_BASE + XENSTORE_PFN_OFFSET pages, xen,enhanced)",
    });
  return out;
}

function whoWins(dev: GuestDevice, shm: { start: bigint; end: bigint }): string {
  switch (dev.how) {
    case "handler":
      return `the shared mapping wins: Xen looks for an MMIO handler only when an access takes a stage-2 translation fault (do_trap_stage2_abort_guest -> try_handle_mmio), and the shared pages never fault, so the guest's accesses there reach the shared memory and the ${dev.name} never sees them`;
    case "gicc": {
      const whole = shm.start <= dev.start && shm.end >= dev.end;
      return `the shared mapping wins where it lies: Xen maps the virtual CPU interface only when an access to the window takes a stage-2 translation fault (check_p2m -> try_map_mmio), and the shared pages never fault, so the guest's GICC accesses there reach the shared memory${whole ? "" : "; an access to a page of the window the region does not cover faults, and try_map_mmio maps 8 KiB of the interface starting at that page (map_mmio_regions(d, gfn, csize / PAGE_SIZE, vbase)), replacing any shared page in those 8 KiB"}`;
    }
    case "xenstore":
      return "Xen's page wins: construct_domU maps it after process_shm (alloc_xenstore_page -> guest_physmap_add_page), replacing that shared page";
    case "gnttab":
      return "the guest's grant table wins where it maps one: the guest maps its grant-table frames into this region (XENMEM_add_to_physmap, XENMAPSPACE_grant_table), replacing the shared pages there";
  }
}

/** MMIO warnings for every mapped static-shm node of a virtual-layout domain. */
export function lintGuestMmio(host: HostDescription, parse: ShmParseResult, gic: HostGic): ReportWarning[] {
  const out: ReportWarning[] = [];
  for (const d of [...(host.dom0 ? [host.dom0] : []), ...host.domUs]) {
    if (d.directMap) continue;
    const devices = guestDevices(d, gic);
    for (const n of parse.nodes) {
      if (n.mappedBy !== d.path || n.buildGuestAddrBig === null) continue;
      const bank = parse.banks[n.bankIndex];
      if (!bank) continue;
      const shm = span(n.buildGuestAddrBig, bank.sizeBig);
      for (const dev of devices) {
        if (!(shm.start < dev.end && dev.start < shm.end)) continue;
        out.push({
          code: "MMIO",
          node: n.path,
          message: `guest range ${rangeText(shm.start, shm.end)} of ${n.path} (id ${JSON.stringify(n.id)}) overlaps ${d.name}'s ${dev.name} ${rangeText(dev.start, dev.end)}${dev.detail}: ${whoWins(dev, shm)}`,
        });
      }
    }
  }
  return out;
}
