/**
 * The per-domU parts of construct_domU (xen/common/device-tree/dom0less-build.c) that do not
 * concern static shm: what the domain node and its modules say for the guest device tree
 * (bootargs, initrd, vCPUs, vpl011, xen,enhanced), and prepare_dtb_domU's result.
 */

import type { BootModule, DomainSpec, HostDescription } from "../dom0less/index.js";
import type { FdtTree } from "../fdt/index.js";
import { findNode, getProp } from "../fdt/index.js";
import {
  DOM0LESS_ENHANCED_NO_XS,
  DOM0LESS_XENSTORE,
  DOM0LESS_XS_LEGACY,
  type DomUDtInput,
  type GuestPlatform,
} from "../guestdt/index.js";
import type { DomUKernel } from "./domu-load.js";

/** DOMAIN_CAPS_XENSTORE (xen/include/public/bootfdt.h): the domain runs xenstored. */
export const DOMAIN_CAPS_XENSTORE = 0x4;

/** What Xen built for a domU: its device tree (and, once kernels are loaded, where it all went). */
export interface DomUBoot {
  readonly dtb: Uint8Array;
  readonly tree: FdtTree;
  readonly input: DomUDtInput;
  /** The probed kernel, its placement and the vCPUs' first state; undefined when not loaded. */
  readonly kernel: DomUKernel | undefined;
}

const latin = new TextDecoder("latin1");

/** The C string at the start of a property value (Xen copies bootargs with safe_strcpy). */
function cString(v: Uint8Array): string {
  const nul = v.indexOf(0);
  return latin.decode(nul < 0 ? v : v.subarray(0, nul));
}

/**
 * boot_cmdline_find_by_name(<domain node name>): process_multiboot_node records the `bootargs`
 * of every module under /chosen against its *parent's* name, in FDT order; the first match wins.
 */
export function domUCmdline(tree: FdtTree, host: HostDescription, spec: DomainSpec): string | undefined {
  for (const m of host.modules) {
    const parent = m.path.slice(0, m.path.lastIndexOf("/"));
    if (parent.slice(parent.lastIndexOf("/") + 1) !== spec.name) continue;
    const p = findNode(tree, m.path) && getProp(findNode(tree, m.path)!, "bootargs");
    if (p) return cString(p.value);
  }
  return undefined;
}

/**
 * construct_domU's reading of xen,enhanced (dt_property_read_string): absent → no feature;
 * empty (-ENODATA), not NUL-terminated (-EILSEQ) or "enabled" → DOM0LESS_ENHANCED; "legacy" →
 * DOM0LESS_ENHANCED_LEGACY; "no-xenstore" → DOM0LESS_ENHANCED_NO_XS; any other string → none.
 */
export function dom0lessFeatures(spec: DomainSpec): number {
  const p = getProp(spec.node, "xen,enhanced");
  if (!p) return 0;
  const v = p.value;
  const nul = v.indexOf(0);
  if (v.length === 0 || nul < 0) return DOM0LESS_ENHANCED_NO_XS | DOM0LESS_XENSTORE;
  const s = latin.decode(v.subarray(0, nul));
  if (s === "enabled") return DOM0LESS_ENHANCED_NO_XS | DOM0LESS_XENSTORE;
  if (s === "legacy") return DOM0LESS_ENHANCED_NO_XS | DOM0LESS_XS_LEGACY;
  if (s === "no-xenstore") return DOM0LESS_ENHANCED_NO_XS;
  return 0;
}

const compatible = (n: { props: { name: string; value: Uint8Array }[] }, c: string): boolean => {
  const p = n.props.find((x) => x.name === "compatible");
  return p !== undefined && latin.decode(p.value).toLowerCase().split("\0").includes(c);
};

/**
 * The boot module kernel_probe finds for a domU: the *last* child of the domain node compatible
 * with "multiboot,kernel" (or "multiboot,ramdisk"), looked up in Xen's module table by kind and
 * start address (boot_module_find_by_addr_and_kind: the first such module, not necessarily this
 * node's). A module that only says "multiboot,module" is never found here, whatever kind the early
 * scan guessed for it; a module add_boot_module refused is not in the table.
 */
export function domUModule(
  host: HostDescription,
  spec: DomainSpec,
  kind: "kernel" | "ramdisk",
  dropped: (path: string) => boolean,
): BootModule | undefined {
  let found: BootModule | undefined;
  for (const c of spec.node.children) {
    if (!compatible(c, `multiboot,${kind}`)) continue;
    const path = `${spec.path}/${c.name}`;
    const self = host.modules.find((m) => m.path === path);
    if (!self) continue;
    found = host.modules.find((m) => m.kind === kind && m.startBig === self.startBig && !dropped(m.path));
  }
  return found;
}

/** Everything prepare_dtb_domU reads, for one domU (is64: what the kernel probe decided). */
export function domUDtInput(
  tree: FdtTree,
  host: HostDescription,
  spec: DomainSpec,
  ram: { start: number; size: number }[],
  shm: DomUDtInput["shm"],
  platform: GuestPlatform,
  opts: { ipaBits: number; is64: boolean; initrd: BootModule | undefined },
): DomUDtInput {
  return {
    ramBanks: ram,
    shm,
    cmdline: domUCmdline(tree, host, spec),
    initrd: opts.initrd !== undefined && opts.initrd.size > 0,
    maxVcpus: spec.cpus,
    is64: opts.is64,
    directMap: spec.directMap,
    vpl011: spec.vpl011,
    features: dom0lessFeatures(spec),
    ipaBits: opts.ipaBits,
    platform,
    partialDtbSize: spec.dtb?.size ?? 0,
  };
}
