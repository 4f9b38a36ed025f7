/**
 * The complete device tree Xen builds for a dom0less domU: xen/common/device-tree/dom0less-build.c
 * `prepare_dtb_domU` (HEAD), node by node and property by property in Xen's call order, written
 * through libfdt's sequential-write layout (src/fdt/sw.ts) into a buffer of DOMU_DTB_SIZE bytes.
 *
 * Order (HEAD, 4.22+): / (#address-cells, #size-cells) → [partial-DT nodes] → chosen → cpus →
 * memory → [reserved-memory] → intc → timer → [hypervisor] → psci → [sbsa-uart].
 *
 * The same calls drive an FdtTreeSink, so the DTS the report prints is the blob's tree in its order.
 */

import { fmtHex } from "../common/format.js";
import type { FdtSink, FdtTree } from "../fdt/index.js";
import { FdtSw, FdtSwError, FdtTreeSink, numberCells, u32Cells } from "../fdt/index.js";
import {
  GUEST_ROOT_ADDRESS_CELLS,
  GUEST_ROOT_SIZE_CELLS,
  type GuestRamBank,
  type GuestShmRegion,
} from "./guestdt.js";
import type { GuestPlatform } from "./platform.js";

/** MAX_VIRT_CPUS on arm64 (xen/arch/arm/include/asm/config.h). */
export const MAX_VIRT_CPUS = 128;
/** DOMU_DTB_SIZE = 2048 + MAX_VIRT_CPUS * 128 (dom0less-build.c). */
export const DOMU_DTB_SIZE = 2048 + MAX_VIRT_CPUS * 128;
const SZ_2M = 2 * 1024 * 1024;

/** GUEST_PHANDLE_GIC (public/arch-arm.h). */
export const GUEST_PHANDLE_GIC = 65000;
/** Guest memory map (public/arch-arm.h). */
export const GUEST_GICD_BASE = 0x0300_1000;
export const GUEST_GICD_SIZE = 0x1000;
export const GUEST_GICC_BASE = 0x0300_2000;
export const GUEST_GICC_SIZE = 0x2000;
export const GUEST_GICV3_GICD_BASE = 0x0300_1000;
export const GUEST_GICV3_GICD_SIZE = 0x1_0000;
export const GUEST_GICV3_GICR0_BASE = 0x0302_0000;
export const GUEST_GICV3_GICR0_SIZE = 0x0100_0000;
export const GUEST_PL011_BASE = 0x2200_0000;
export const GUEST_PL011_SIZE = 0x1000;
export const GUEST_GNTTAB_BASE = 0x3800_0000;
export const GUEST_GNTTAB_SIZE = 0x0100_0000;
const GUEST_RAM_BANK_BASES = [0x4000_0000, 0x2_0000_0000];
const GUEST_RAM_BANK_SIZES = [0xc000_0000, 0xfe_0000_0000];
/** Guest interrupts (public/arch-arm.h). */
export const GUEST_TIMER_VIRT_PPI = 27;
export const GUEST_TIMER_PHYS_S_PPI = 29;
export const GUEST_TIMER_PHYS_NS_PPI = 30;
export const GUEST_EVTCHN_PPI = 31;
export const GUEST_VPL011_SPI = 32;
/** GICV3_GICR_SIZE: one redistributor (RD + SGI frames), 2 x 64 KiB. */
const GICV3_GICR_SIZE = 0x2_0000;
/** DT_IRQ_TYPE_* (xen/include/xen/device_tree.h). */
const DT_IRQ_TYPE_LEVEL_HIGH = 4;
const DT_IRQ_TYPE_LEVEL_LOW = 8;
/** PSCI 0.1 function numbers Xen advertises (public/arch-arm.h). */
const PSCI_cpu_off = 1;
const PSCI_cpu_on = 2;
/** XEN_VERSION_STRING at HEAD (xen/Makefile: XEN_VERSION 4, XEN_SUBVERSION 23). */
export const XEN_VERSION_STRING = "4.23";
/** -ENOENT, -EINVAL. */
const ENOENT = 2;
const EINVAL = 22;

/** kinfo->dom0less_feature bits (xen/include/xen/dom0less-build.h). */
export const DOM0LESS_ENHANCED_NO_XS = 1;
export const DOM0LESS_XENSTORE = 2;
export const DOM0LESS_XS_LEGACY = 4;

export interface DomUDtInput {
  /** kernel_info_get_mem(kinfo): the guest RAM banks, bank 0 first. */
  readonly ramBanks: readonly GuestRamBank[];
  /** kernel_info_get_shm_mem(kinfo): one per shm node, in node order. */
  readonly shm: readonly GuestShmRegion[];
  /** bd.cmdline: the `bootargs` of the domain's modules (boot_cmdline_find_by_name). */
  readonly cmdline: string | undefined;
  /** A multiboot,ramdisk module with a non-zero size: /chosen gets the initrd placeholders. */
  readonly initrd: boolean;
  readonly maxVcpus: number;
  /** DOMAIN_64BIT (the kernel probe decides; an unprobed kernel counts as 64-bit). */
  readonly is64: boolean;
  readonly directMap: boolean;
  readonly vpl011: boolean;
  /** dom0less_feature (DOM0LESS_* bits from xen,enhanced). */
  readonly features: number;
  /** p2m_ipa_bits, for the extended regions of /hypervisor. */
  readonly ipaBits: number;
  readonly platform: GuestPlatform;
  /** Size of the domain's multiboot,device-tree module (added to the buffer), 0 without one. */
  readonly partialDtbSize?: number;
}

export type DomUDtResult =
  | { readonly ok: true; readonly dtb: Uint8Array; readonly tree: FdtTree; readonly log: readonly string[] }
  /** prepare_dtb_domU failed: "Device tree generation failed (%d)." and rc -EINVAL to the caller. */
  | { readonly ok: false; readonly rc: number; readonly log: readonly string[] };

/** A failure a make_* function returns (its negative errno or libfdt code) to prepare_dtb_domU. */
class MakeError extends Error {
  constructor(readonly ret: number) {
    super(`make_* returned ${ret}`);
  }
}

/** Both sinks receive every call: the blob, and a tree for the DTS. */
class Tee implements FdtSink {
  constructor(
    readonly sw: FdtSw,
    readonly tree: FdtTreeSink,
  ) {}
  beginNode(name: string): void {
    this.sw.beginNode(name);
    this.tree.beginNode(name);
  }
  property(name: string, value: Uint8Array): void {
    this.sw.property(name, value);
    this.tree.property(name, value);
  }
  endNode(): void {
    this.sw.endNode();
    this.tree.endNode();
  }
  cell(name: string, v: number): void {
    this.property(name, u32Cells(v));
  }
  u64(name: string, v: number): void {
    this.property(name, u32Cells(...numberCells(v, 2)));
  }
  string(name: string, v: string): void {
    const s = new TextEncoder().encode(v);
    const b = new Uint8Array(s.length + 1);
    b.set(s);
    this.property(name, b);
  }
}

/** dt_child_set_range with 2 + 2 cells per range (every guest range Xen writes). */
function ranges(...rs: readonly (readonly [number, number])[]): Uint8Array {
  const cells: number[] = [];
  for (const [start, size] of rs)
    cells.push(...numberCells(start, GUEST_ROOT_ADDRESS_CELLS), ...numberCells(size, GUEST_ROOT_SIZE_CELLS));
  return u32Cells(...cells);
}

/** set_interrupt: <is_ppi, irq - 16 | irq - 32, (cpumask << 8) | level>. */
function interrupt(irq: number, cpumask: number, level: number): number[] {
  const ppi = irq < 32;
  return [ppi ? 1 : 0, irq - (ppi ? 16 : 32), (cpumask << 8) | level];
}

/** domain_fdt_begin_node: "%s@%"PRIx64 (lower-case hex, no leading zeros). */
function unitNode(fdt: Tee, name: string, unit: number): void {
  fdt.beginNode(`${name}@${fmtHex(unit)}`);
}

/** vcpuid_to_vaffinity: AFF0 = vcpuid[3:0], AFF1 = vcpuid[11:4]. */
export function vcpuidToVaffinity(vcpuid: number): number {
  return ((vcpuid & 0x0f) | (((vcpuid >> 4) & 0xff) << 8)) >>> 0;
}

function makeChosenNode(fdt: Tee, input: DomUDtInput): void {
  fdt.beginNode("chosen");
  if (input.cmdline) fdt.string("bootargs", input.cmdline);
  if (input.initrd) {
    // Placeholders (u64 0) that initrd_load patches in place with the initrd's guest range.
    fdt.u64("linux,initrd-start", 0);
    fdt.u64("linux,initrd-end", 0);
  }
  fdt.endNode();
}

function makeCpusNode(fdt: Tee, input: DomUDtInput, log: string[]): void {
  const compatible = input.platform.cpuCompatible;
  if (!compatible) {
    // dprintk (debug builds print it with the file and line).
    log.push("arch/arm/domain_build.c:1218: Can't find cpu in the device tree?");
    throw new MakeError(-ENOENT);
  }
  fdt.beginNode("cpus");
  fdt.cell("#address-cells", 1);
  fdt.cell("#size-cells", 0);
  for (let cpu = 0; cpu < input.maxVcpus; cpu++) {
    const aff = vcpuidToVaffinity(cpu);
    fdt.beginNode(`cpu@${fmtHex(aff)}`);
    fdt.property("compatible", compatible);
    fdt.string("device_type", "cpu");
    fdt.cell("reg", aff);
    if (input.platform.cpuClockFrequency !== undefined)
      fdt.cell("clock-frequency", input.platform.cpuClockFrequency);
    if (input.is64) fdt.string("enable-method", "psci");
    fdt.endNode();
  }
  fdt.endNode();
}

/** make_memory_node on the domain's RAM, then shm_mem_node_fill_reg_range. */
function makeMemoryNode(fdt: Tee, input: DomUDtInput): void {
  const first = input.ramBanks[0];
  if (!first) throw new MakeError(-ENOENT);
  unitNode(fdt, "memory", first.start);
  fdt.string("device_type", "memory");
  const rs: [number, number][] = input.ramBanks.map((b) => [b.start, b.size]);
  for (const s of input.shm) rs.push([s.gaddr, s.size]);
  fdt.property("reg", ranges(...rs));
  fdt.endNode();
}

/** make_resv_memory_node + make_shm_resv_memory_node (static-shmem.c). */
function makeResvMemoryNode(fdt: Tee, input: DomUDtInput): void {
  if (input.shm.length === 0) return;
  fdt.beginNode("reserved-memory");
  fdt.property("ranges", new Uint8Array(0));
  fdt.cell("#address-cells", GUEST_ROOT_ADDRESS_CELLS);
  fdt.cell("#size-cells", GUEST_ROOT_SIZE_CELLS);
  for (const s of input.shm) {
    unitNode(fdt, "xen-shmem", s.gaddr);
    fdt.string("compatible", "xen,shared-memory-v1");
    fdt.property("reg", ranges([s.gaddr, s.size]));
    fdt.string("xen,id", s.id);
    // TODO in Xen: the borrower's offset is never written, always 0.
    fdt.u64("xen,offset", 0);
    fdt.endNode();
  }
  fdt.endNode();
}

/** The vGIC bases: the guest layout, or the host's for a direct-mapped domain (vgic_v*_domain_init). */
function vgicLayout(input: DomUDtInput): {
  v3: boolean;
  dbase: number;
  cbase: number;
  rdist: { base: number; size: number }[];
} {
  const g = input.platform.gic;
  if (input.directMap && !("assumed" in g)) {
    if (g.version === 2) return { v3: false, dbase: g.dbase, cbase: g.cbase, rdist: [] };
    // Only the regions needed for max_vcpus are exposed: nr_regions = min(i + 1, nr).
    let first = 0;
    let i = 0;
    for (; i < g.rdist.length; i++) {
      first += Math.floor(g.rdist[i]!.size / GICV3_GICR_SIZE);
      if (first >= input.maxVcpus) break;
    }
    return { v3: true, dbase: g.dbase, cbase: 0, rdist: g.rdist.slice(0, Math.min(i + 1, g.rdist.length)) };
  }
  return g.version === 3
    ? {
        v3: true,
        dbase: GUEST_GICV3_GICD_BASE,
        cbase: 0,
        rdist: [{ base: GUEST_GICV3_GICR0_BASE, size: GUEST_GICV3_GICR0_SIZE }],
      }
    : { v3: false, dbase: GUEST_GICD_BASE, cbase: GUEST_GICC_BASE, rdist: [] };
}

/** make_intc_domU_node: make_gicv3_domU_node or make_gicv2_domU_node (arch/arm/dom0less-build.c). */
function makeIntcNode(fdt: Tee, input: DomUDtInput): void {
  const l = vgicLayout(input);
  unitNode(fdt, "interrupt-controller", l.dbase);
  fdt.cell("#address-cells", 0);
  fdt.cell("#interrupt-cells", 3);
  fdt.property("interrupt-controller", new Uint8Array(0));
  if (l.v3) {
    fdt.string("compatible", "arm,gic-v3");
    fdt.cell("#redistributor-regions", l.rdist.length);
    fdt.property(
      "reg",
      ranges([l.dbase, GUEST_GICV3_GICD_SIZE], ...l.rdist.map((r) => [r.base, r.size] as const)),
    );
  } else {
    fdt.string("compatible", "arm,gic-400");
    fdt.property("reg", ranges([l.dbase, GUEST_GICD_SIZE], [l.cbase, GUEST_GICC_SIZE]));
  }
  fdt.cell("linux,phandle", GUEST_PHANDLE_GIC);
  fdt.cell("phandle", GUEST_PHANDLE_GIC);
  fdt.endNode();
}

/** make_timer_node for a domU: the guest PPIs, active-low level (0xf08), three entries. */
function makeTimerNode(fdt: Tee, input: DomUDtInput): void {
  fdt.beginNode("timer");
  fdt.string("compatible", input.is64 ? "arm,armv8-timer" : "arm,armv7-timer");
  fdt.property(
    "interrupts",
    u32Cells(
      ...interrupt(GUEST_TIMER_PHYS_S_PPI, 0xf, DT_IRQ_TYPE_LEVEL_LOW),
      ...interrupt(GUEST_TIMER_PHYS_NS_PPI, 0xf, DT_IRQ_TYPE_LEVEL_LOW),
      ...interrupt(GUEST_TIMER_VIRT_PPI, 0xf, DT_IRQ_TYPE_LEVEL_LOW),
    ),
  );
  fdt.cell("interrupt-parent", GUEST_PHANDLE_GIC);
  if (input.platform.timerClockFrequency !== undefined)
    fdt.cell("clock-frequency", input.platform.timerClockFrequency);
  fdt.endNode();
}

/**
 * find_domU_holes: for each guest RAM bank, the space from the end of the domain's RAM (rounded up
 * to 2 MiB) to the end of the bank or of the IPA space, if at least 64 MiB; minus the shm regions;
 * then add_ext_regions keeps 2 MiB-aligned pieces of at least 64 MiB.
 */
export function findDomUHoles(input: DomUDtInput): { start: number; size: number }[] {
  const ipaEnd = 2 ** input.ipaBits - 1;
  let holes: [number, number][] = []; // inclusive [s, e]
  for (let i = 0; i < GUEST_RAM_BANK_BASES.length; i++) {
    const base = GUEST_RAM_BANK_BASES[i]!;
    const start = Math.ceil((base + (input.ramBanks[i]?.size ?? 0)) / SZ_2M) * SZ_2M;
    const bankend = Math.min(ipaEnd, base + GUEST_RAM_BANK_SIZES[i]! - 1);
    const size = bankend > start ? bankend - start + 1 : 0;
    if (size < 64 * 2 ** 20) continue;
    holes.push([start, bankend]);
  }
  // rangeset_remove_range works on frames: [PFN_DOWN(start), PFN_DOWN(end - 1)].
  for (const s of input.shm) {
    const rs = Math.floor(s.gaddr / 4096) * 4096;
    const re = Math.floor((s.gaddr + s.size - 1) / 4096) * 4096 + 4095;
    holes = holes.flatMap(([a, b]): [number, number][] => {
      if (re < a || rs > b) return [[a, b]];
      const out: [number, number][] = [];
      if (rs > a) out.push([a, rs - 1]);
      if (re < b) out.push([re + 1, b]);
      return out;
    });
  }
  const out: { start: number; size: number }[] = [];
  for (const [s, e] of holes.sort((x, y) => x[0] - y[0])) {
    if (e > ipaEnd) continue;
    const start = Math.ceil(s / SZ_2M) * SZ_2M;
    if (start > e) continue;
    const size = Math.floor((e + 1 - start) / SZ_2M) * SZ_2M;
    if (size < 64 * 2 ** 20) continue;
    out.push({ start, size });
  }
  return out;
}

/** make_hypervisor_node for a domU (find_domU_holes for the extended regions). */
function makeHypervisorNode(fdt: Tee, input: DomUDtInput, domName: string, log: string[]): void {
  fdt.beginNode("hypervisor");
  // "xen,xen-" XEN_VERSION_STRING "\0" "xen,xen", sizeof() with its final NUL.
  fdt.property("compatible", new TextEncoder().encode(`xen,xen-${XEN_VERSION_STRING}\0xen,xen\0`));
  const ext = findDomUHoles(input);
  if (ext.length === 0) log.push(`${domName}: failed to allocate extended regions`);
  ext.forEach((r, i) => {
    log.push(`${domName}: extended region ${i}: 0x${fmtHex(r.start)}->0x${fmtHex(r.start + r.size)}`);
  });
  fdt.property(
    "reg",
    ranges([GUEST_GNTTAB_BASE, GUEST_GNTTAB_SIZE], ...ext.map((r) => [r.start, r.size] as const)),
  );
  fdt.property("interrupts", u32Cells(...interrupt(GUEST_EVTCHN_PPI, 0xf, DT_IRQ_TYPE_LEVEL_LOW)));
  fdt.cell("interrupt-parent", GUEST_PHANDLE_GIC);
  fdt.endNode();
}

function makePsciNode(fdt: Tee): void {
  fdt.beginNode("psci");
  fdt.property("compatible", new TextEncoder().encode("arm,psci-1.0\0arm,psci-0.2\0arm,psci\0"));
  fdt.string("method", "hvc");
  fdt.cell("cpu_off", PSCI_cpu_off);
  fdt.cell("cpu_on", PSCI_cpu_on);
  fdt.endNode();
}

function makeVpl011Node(fdt: Tee): void {
  unitNode(fdt, "sbsa-uart", GUEST_PL011_BASE);
  fdt.string("compatible", "arm,sbsa-uart");
  fdt.property("reg", ranges([GUEST_PL011_BASE, GUEST_PL011_SIZE]));
  fdt.property("interrupts", u32Cells(...interrupt(GUEST_VPL011_SPI, 0xf, DT_IRQ_TYPE_LEVEL_HIGH)));
  fdt.cell("interrupt-parent", GUEST_PHANDLE_GIC);
  // fdt_property_u32(fdt, "current-speed", 115200): Xen ignores its return value.
  try {
    fdt.cell("current-speed", 115200);
  } catch (e) {
    if (!(e instanceof FdtSwError)) throw e;
  }
  fdt.endNode();
}

/**
 * prepare_dtb_domU: the blob and its tree, or Xen's failure. `domName` is %pd ("d1").
 * The caller (construct_domU) turns a failure into "Could not set up domain <name> (rc = -22)".
 */
export function prepareDtbDomU(input: DomUDtInput, domName: string): DomUDtResult {
  const log: string[] = [];
  // fdt_size = DOMU_DTB_SIZE + the partial device tree, capped at 2 MiB.
  const size = Math.min(DOMU_DTB_SIZE + (input.partialDtbSize ?? 0), SZ_2M);
  const sw = new FdtSw(size);
  const fdt = new Tee(sw, new FdtTreeSink());
  try {
    sw.finishReservemap();
    fdt.beginNode("");
    fdt.cell("#address-cells", GUEST_ROOT_ADDRESS_CELLS);
    fdt.cell("#size-cells", GUEST_ROOT_SIZE_CELLS);
    makeChosenNode(fdt, input);
    makeCpusNode(fdt, input, log);
    makeMemoryNode(fdt, input);
    makeResvMemoryNode(fdt, input);
    makeIntcNode(fdt, input);
    makeTimerNode(fdt, input);
    if (input.features & DOM0LESS_ENHANCED_NO_XS) makeHypervisorNode(fdt, input, domName, log);
    // make_arch_nodes turns any failure of its own into -EINVAL.
    try {
      makePsciNode(fdt);
      if (input.vpl011) makeVpl011Node(fdt);
    } catch (e) {
      if (e instanceof FdtSwError) throw new MakeError(-EINVAL);
      throw e;
    }
    fdt.endNode();
    const dtb = sw.finish();
    return { ok: true, dtb, tree: fdt.tree.tree, log };
  } catch (e) {
    const ret = e instanceof MakeError ? e.ret : e instanceof FdtSwError ? e.err : undefined;
    if (ret === undefined) throw e;
    log.push(`Device tree generation failed (${ret}).`);
    return { ok: false, rc: -EINVAL, log };
  }
}
