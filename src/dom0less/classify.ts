/**
 * Node classification shared by the host description and the boot-time parse, following the
 * `early_scan_node` if/else chain of xen/common/device-tree/bootinfo-fdt.c, and the rules that
 * decide which domain maps which static-shm node at build (`process_shm`, `create_domUs`).
 */
import { getProp } from "../fdt/tree.js";
import { compatibleCaseless, compatibleExact, cString, nameMatches } from "./raw.js";
import type { BootModuleKind } from "./types.js";
import type { WalkEntry } from "./walk.js";

export const SHM_COMPATIBLE = "xen,domain-shared-memory-v1";

/** `device_tree_is_memory_node`: depth 1, named memory[@..], device_type exactly "memory". */
export function isMemoryNode(e: WalkEntry): boolean {
  if (e.depth !== 1 || !nameMatches(e.node, "memory")) return false;
  const t = getProp(e.node, "device_type");
  if (!t) return false;
  // Xen: (len <= strlen("memory")) || strcmp(type, "memory") -> not a memory node.
  return t.value.length > 6 && cString(t.value) === "memory";
}

/** depth 1 && !dt_node_cmp(name, "reserved-memory") (strcasecmp, unit address not allowed). */
export function isReservedMemoryNode(e: WalkEntry): boolean {
  return e.depth === 1 && e.node.name.toLowerCase() === "reserved-memory";
}

export function hasMultibootCompat(e: WalkEntry): boolean {
  return compatibleCaseless(e.node, "xen,multiboot-module") || compatibleCaseless(e.node, "multiboot,module");
}

export function isChosenNode(e: WalkEntry): boolean {
  return e.depth === 1 && nameMatches(e.node, "chosen");
}

export function isShmCompatible(e: WalkEntry): boolean {
  return compatibleCaseless(e.node, SHM_COMPATIBLE);
}

export type ScanKind = "memory" | "reserved-memory" | "module" | "chosen" | "domain" | "shm" | "none";

/** Which branch of `early_scan_node` a node takes (depth is relative to the root). */
export function scanKind(e: WalkEntry): ScanKind {
  if (e.depth === 0) return "none";
  if (isMemoryNode(e)) return "memory";
  if (isReservedMemoryNode(e)) return "reserved-memory";
  if (e.depth <= 3 && hasMultibootCompat(e)) return "module";
  if (isChosenNode(e)) return "chosen";
  if (e.depth === 2 && compatibleCaseless(e.node, "xen,domain")) return "domain";
  if (e.depth <= 3 && isShmCompatible(e)) return "shm";
  return "none";
}

/**
 * `process_multiboot_node` only looks at modules whose path starts with "/chosen" (a 7-character
 * strncmp, so "/chosenfoo/..." passes too) and whose path fits its 92-byte buffer.
 */
export function moduleUnderChosen(e: WalkEntry): boolean {
  return e.path.length + 1 <= 92 && e.path.startsWith("/chosen");
}

/** Static kind from the compatible list (exact match, as `fdt_node_check_compatible`). */
export function moduleKindFromCompat(e: WalkEntry): BootModuleKind {
  const n = e.node;
  if (compatibleExact(n, "xen,linux-zimage") || compatibleExact(n, "multiboot,kernel")) return "kernel";
  if (compatibleExact(n, "xen,linux-initrd") || compatibleExact(n, "multiboot,ramdisk")) return "ramdisk";
  if (compatibleExact(n, "xen,xsm-policy")) return "xsm";
  if (compatibleExact(n, "multiboot,device-tree")) return "device-tree";
  return "unknown";
}

/**
 * Xen guesses the kind of "unknown" modules with a static counter: the first becomes the kernel,
 * the second the ramdisk (unless it carries the XSM magic, which we cannot see), later ones stay
 * unknown. The counter spans all /chosen modules in FDT order.
 */
export class KindGuesser {
  private guess = 0;
  kind(e: WalkEntry): BootModuleKind {
    const k = moduleKindFromCompat(e);
    if (k !== "unknown") return k;
    const g = this.guess++;
    if (g === 0) return "kernel";
    if (g === 1) return "ramdisk";
    return "unknown";
  }
}

/** Xen's domU flag for a module: its parent is compatible "xen,domain" (exact). */
export function moduleIsDomU(e: WalkEntry): boolean {
  return e.parent !== undefined && compatibleExact(e.parent.node, "xen,domain");
}

/** True if the tree has a Dom0 kernel: a /chosen kernel module whose parent is not a domain. */
export function hasDom0Kernel(entries: readonly WalkEntry[]): boolean {
  const g = new KindGuesser();
  let found = false;
  for (const e of entries) {
    if (scanKind(e) !== "module" || !moduleUnderChosen(e)) continue;
    if (!getProp(e.node, "reg")) continue;
    const kind = g.kind(e);
    if (kind === "kernel" && !moduleIsDomU(e)) found = true;
  }
  return found;
}

/** `/chosen` children that Xen builds as dom0less domains (`create_domUs`: dt_device_is_compatible). */
export function isDomainNodeUnderChosen(e: WalkEntry): boolean {
  return (
    e.depth === 2 &&
    e.parent !== undefined &&
    e.parent.path === "/chosen" &&
    compatibleCaseless(e.node, "xen,domain")
  );
}

export interface ShmPlacement {
  mappedBy: string | undefined;
  unmappedReason: string | undefined;
}

/**
 * Which domain maps a parsed shm node (§2.1): a domU (or dom0less hwdom) maps the direct children
 * of its own `xen,domain` node under /chosen; the classic Dom0 maps direct children of /chosen
 * (`process_shm(d, kinfo, NULL)`), and only exists when there is a Dom0 kernel (otherwise Xen is
 * in dom0less mode).
 */
export function shmPlacement(e: WalkEntry, dom0: boolean): ShmPlacement {
  const parent = e.parent;
  if (e.depth === 1) return { mappedBy: undefined, unmappedReason: "it is a child of the root (depth 1)" };
  if (!parent) return { mappedBy: undefined, unmappedReason: "it has no parent" };
  if (parent.path === "/chosen") {
    if (dom0) return { mappedBy: "/chosen", unmappedReason: undefined };
    return {
      mappedBy: undefined,
      unmappedReason: "it is a /chosen child but there is no classic Dom0 (no Dom0 kernel module)",
    };
  }
  if (isDomainNodeUnderChosen(parent)) return { mappedBy: parent.path, unmappedReason: undefined };
  if (e.path.startsWith("/chosen/"))
    return {
      mappedBy: undefined,
      unmappedReason: `its parent ${parent.path} is not a "xen,domain" node`,
    };
  return { mappedBy: undefined, unmappedReason: "it is outside /chosen" };
}
