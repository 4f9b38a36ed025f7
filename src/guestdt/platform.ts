/**
 * What a domU's device tree takes from the host's: the CPU compatible and clock (make_cpus_node),
 * the interrupt controller Xen drives and so the vGIC version (intc_dt_preinit, make_intc_domU_node)
 * with its host addresses for direct-mapped domains (vgic_v2/v3_domain_init), and the timer's
 * clock (make_timer_node).
 *
 * sshm's host trees are often partial (memory, /chosen and the Xen configuration only). Where a
 * host tree leaves out a whole part, sshm assumes the machine its verdicts were compared with on
 * real Xen (QEMU `virt`, Cortex-A57, GICv3, timer without clock-frequency) and says so in `notes`.
 * Where the host tree does describe the part, Xen's own rules apply, failures included.
 */

import type { FdtNode, FdtTree } from "../fdt/index.js";
import { findNode, getProp } from "../fdt/index.js";

/** The core assumed for a host tree without /cpus (the compared machine: QEMU virt, Cortex-A57). */
export const DEFAULT_CPU_COMPATIBLE = "arm,cortex-a57";

export interface HostGicV2 {
  readonly version: 2;
  /** Distributor and CPU-interface base from the host GIC's reg (direct-mapped domains use them). */
  readonly dbase: number;
  readonly cbase: number;
}

export interface HostGicV3 {
  readonly version: 3;
  readonly dbase: number;
  /** The #redistributor-regions regions following the distributor in reg. */
  readonly rdist: readonly { base: number; size: number }[];
}

export type HostGic = HostGicV2 | HostGicV3 | { readonly version: 2 | 3; readonly assumed: true };

export interface GuestPlatform {
  /**
   * Raw `compatible` bytes of the first /cpus child with device_type "cpu" (make_cpus_node copies
   * them as they are), or null when /cpus has no such child or it has no compatible: Xen's
   * make_cpus_node then fails with -ENOENT.
   */
  readonly cpuCompatible: Uint8Array | null;
  readonly cpuClockFrequency: number | undefined;
  readonly gic: HostGic;
  /** clock-frequency of the host timer node, copied into the guest's /timer when present. */
  readonly timerClockFrequency: number | undefined;
  /** What sshm assumed because the host tree does not describe it. */
  readonly notes: readonly string[];
}

const latin = new TextDecoder("latin1");

function strings(node: FdtNode, name: string): string[] {
  const p = getProp(node, name);
  if (!p) return [];
  const s = latin.decode(p.value);
  return (s.endsWith("\0") ? s.slice(0, -1) : s).split("\0");
}

/** dt_property_read_u32: the first cell when the property holds at least 4 bytes. */
function readU32(node: FdtNode, name: string): number | undefined {
  const p = getProp(node, name);
  if (!p || p.value.length < 4) return undefined;
  return new DataView(p.value.buffer, p.value.byteOffset, 4).getUint32(0);
}

/** dt_device_is_compatible: any entry equal ignoring case (dt_compat_cmp is strcasecmp). */
function isCompatible(node: FdtNode, compat: readonly string[]): boolean {
  const have = strings(node, "compatible").map((s) => s.toLowerCase());
  return compat.some((c) => have.includes(c));
}

/** dt_device_is_available: no status, or "okay"/"ok". */
function isAvailable(node: FdtNode): boolean {
  const st = strings(node, "status")[0];
  return st === undefined || st === "okay" || st === "ok";
}

interface Visit {
  node: FdtNode;
  path: string;
  parent: FdtNode | undefined;
  /** The parent's #address-cells / #size-cells (dt_n_addr_cells defaults: 2 / 1). */
  ac: number;
  sc: number;
}

/** Every node in dt_for_each_device_node order (depth-first, document order). */
function allNodes(tree: FdtTree): Visit[] {
  const out: Visit[] = [];
  const walk = (node: FdtNode, path: string, parent: FdtNode | undefined, ac: number, sc: number) => {
    out.push({ node, path, parent, ac, sc });
    const own = { ac: readU32(node, "#address-cells") ?? ac, sc: readU32(node, "#size-cells") ?? sc };
    for (const c of node.children)
      walk(c, path === "/" ? `/${c.name}` : `${path}/${c.name}`, node, own.ac, own.sc);
  };
  walk(tree.root, "/", undefined, 2, 1);
  return out;
}

function regRanges(v: Visit): { base: number; size: number }[] {
  const p = getProp(v.node, "reg");
  if (!p) return [];
  const dv = new DataView(p.value.buffer, p.value.byteOffset, p.value.length);
  const cells = Math.floor(p.value.length / 4);
  const read = (at: number, n: number) => {
    let x = 0;
    for (let k = 0; k < n; k++) x = x * 2 ** 32 + dv.getUint32((at + k) * 4);
    return x;
  };
  const out: { base: number; size: number }[] = [];
  const step = v.ac + v.sc;
  for (let i = 0; step > 0 && i + step <= cells; i += step)
    out.push({ base: read(i, v.ac), size: read(i + v.ac, v.sc) });
  return out;
}

/** DT_MATCH_GIC_V2 and DT_MATCH_GIC_V3 (xen/arch/arm/include/asm/gic.h). */
const GIC_V2 = ["arm,cortex-a15-gic", "arm,cortex-a7-gic", "arm,gic-400"];
const GIC_V3 = ["arm,gic-v3"];
/** DT_MATCH_TIMER (xen/arch/arm/include/asm/time.h). */
const TIMER = ["arm,armv7-timer", "arm,armv8-timer"];

/** Read the host facts a domU's device tree depends on. */
export function hostPlatform(tree: FdtTree): GuestPlatform {
  const notes: string[] = [];
  const nodes = allNodes(tree);

  // make_cpus_node: the first /cpus child whose device_type is "cpu" (dt_device_type_is_equal is
  // case-insensitive); its compatible and clock-frequency serve every vCPU.
  let cpuCompatible: Uint8Array | null;
  let cpuClockFrequency: number | undefined;
  const cpus = findNode(tree, "/cpus");
  if (!cpus) {
    cpuCompatible = new TextEncoder().encode(`${DEFAULT_CPU_COMPATIBLE}\0`);
    notes.push(
      `the host device tree has no /cpus: the guest's cpu nodes get compatible "${DEFAULT_CPU_COMPATIBLE}" (sshm assumes QEMU virt's Cortex-A57)`,
    );
  } else {
    const cpu = cpus.children.find((c) => strings(c, "device_type")[0]?.toLowerCase() === "cpu");
    cpuCompatible = cpu ? (getProp(cpu, "compatible")?.value.slice() ?? null) : null;
    cpuClockFrequency = cpu ? readU32(cpu, "clock-frequency") : undefined;
  }

  // intc_dt_preinit: the first available non-root node with "interrupt-controller" that a GIC
  // driver accepts; its version is the vGIC version of every domU (GIC_NATIVE).
  let gic: HostGic | undefined;
  const intcs = nodes.filter((v) => v.parent && getProp(v.node, "interrupt-controller"));
  for (const v of intcs) {
    if (!isAvailable(v.node)) continue;
    const regs = regRanges(v);
    if (isCompatible(v.node, GIC_V3)) {
      const n = readU32(v.node, "#redistributor-regions") ?? 1;
      gic = { version: 3, dbase: regs[0]?.base ?? 0, rdist: regs.slice(1, 1 + n) };
      break;
    }
    if (isCompatible(v.node, GIC_V2)) {
      gic = { version: 2, dbase: regs[0]?.base ?? 0, cbase: regs[1]?.base ?? 0 };
      break;
    }
  }
  if (!gic) {
    gic = { version: 3, assumed: true };
    notes.push(
      intcs.length === 0
        ? "the host device tree has no interrupt controller: the guest gets a GICv3 (sshm assumes QEMU virt's)"
        : `no interrupt controller of the host device tree is one Xen drives (${intcs.map((v) => v.path).join(", ")}): Xen would panic "Unable to find compatible interrupt controller in the device tree"; sshm assumes a GICv3`,
    );
  }

  // make_timer_node: dt_find_matching_node(NULL, timer_ids), the first match in the whole tree.
  const timer = nodes.find((v) => isCompatible(v.node, TIMER));
  if (!timer)
    notes.push(
      "the host device tree has no arm,armv8-timer node: the guest's /timer gets no clock-frequency",
    );
  return {
    cpuCompatible,
    cpuClockFrequency,
    gic,
    timerClockFrequency: timer ? readU32(timer.node, "clock-frequency") : undefined,
    notes,
  };
}
