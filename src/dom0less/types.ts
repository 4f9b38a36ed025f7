/**
 * Public types of the dom0less binding: the host description read from the host device tree, and
 * the result of Xen's boot-time static-shm parse (phase 1). Addresses and sizes are u64 in Xen; they
 * are carried exactly as bigint (`*Big`) and, for convenience, as numbers (exact below 2^53).
 */
import type { FdtNode, SourceLoc } from "../fdt/tree.js";

export interface Range {
  start: number;
  size: number;
  startBig: bigint;
  sizeBig: bigint;
}

export type ReservedKind = "memreserve" | "reserved-memory" | "static-mem" | "static-heap";

export interface ReservedRegion extends Range {
  kind: ReservedKind;
  /** Node path; "/memreserve/" for FDT memory-reservation entries. */
  path: string;
}

export type BootModuleKind = "kernel" | "ramdisk" | "device-tree" | "xsm" | "unknown";

export interface BootModule extends Range {
  kind: BootModuleKind;
  path: string;
  /** Path of the `xen,domain` node the module belongs to; undefined for Dom0 / Xen modules. */
  owner: string | undefined;
  /** Xen's `domU` flag: the parent node is compatible "xen,domain". */
  domU: boolean;
}

export interface ShmNodeInfo {
  path: string;
  node: FdtNode;
  /** FDT depth (child of "/" = 1). Only depth <= 3 nodes are parsed by Xen. */
  depth: number;
  /** #address-cells / #size-cells Xen uses at parse (the parent's, inherited). */
  ac: number;
  sc: number;
  /** Path of the domain node that maps it at build ("/chosen" for classic Dom0), if any. */
  mappedBy: string | undefined;
  /** Why no domain maps it (Xen still parses it: bug B6), when mappedBy is undefined. */
  unmappedReason: string | undefined;
  loc: SourceLoc | undefined;
}

/**
 * A node that looks like a static-shm node but that Xen never processes: neither the early scan
 * (`early_scan_node`: the binding's compatible, depth <= 3) nor `process_shm` (direct children
 * of the domain node) looks at it, so it reserves nothing and maps nothing, without a message.
 */
export interface IgnoredShmNode {
  path: string;
  node: FdtNode;
  depth: number;
  loc: SourceLoc | undefined;
  /** What makes it look like a static-shm node, e.g. `compatible "xen,domain-shared-mem-v1"`. */
  signs: string[];
  /** Why Xen skips it, each naming the Xen rule. */
  reasons: string[];
  /** The binding's compatible is missing (it has none, or only other strings). */
  badCompatible: boolean;
  /** Properties whose names are slips of the binding's: [as written, as the binding spells it]. */
  nearProps: [string, string][];
  /** The id it names (xen,shm-id, or a slip of that property name), if any. */
  id: string | undefined;
  /**
   * The domain it sits in: the `xen,domain` node it is under, or "/chosen" (the classic Dom0) for a
   * /chosen child outside any domain node; undefined when it is under some other /chosen child.
   */
  domain: string | undefined;
  /** Where the nearest valid form of the node goes: a direct child of `domain`. */
  fixPath: string | undefined;
}

export interface DomainSpec {
  /** Node name ("domU1"); "Dom0" for the classic Dom0. */
  name: string;
  /** Node path; "/chosen" for the classic Dom0 (its shm nodes are /chosen children). */
  path: string;
  node: FdtNode;
  /** `memory` in KiB; undefined for the classic Dom0 (sized by dom0_mem). */
  memoryKiB: number | undefined;
  cpus: number;
  /** Direct-mapped (1:1): always for the classic Dom0, `direct-map` for dom0less domains. */
  directMap: boolean;
  staticMem: Range[];
  vpl011: boolean;
  isDom0: boolean;
  /** `capabilities` bit field (0 if absent); bit 1 (0x2) = hardware domain. */
  capabilities: number;
  /** Hardware domain: the classic Dom0, or a dom0less domain with DOMAIN_CAPS_HARDWARE. */
  isHwdom: boolean;
  kernel: BootModule | undefined;
  ramdisk: BootModule | undefined;
  dtb: BootModule | undefined;
  /** The shm nodes Xen maps into this domain, in child order. */
  shmNodes: ShmNodeInfo[];
}

export interface HostDescription {
  source: string | undefined;
  /** Root #address-cells / #size-cells (defaults 2/1). */
  rootAddressCells: number;
  rootSizeCells: number;
  ramBanks: Range[];
  reserved: ReservedRegion[];
  modules: BootModule[];
  dom0: DomainSpec | undefined;
  /** Every `/chosen` child compatible "xen,domain", in DT order (a dom0less hwdom included). */
  domUs: DomainSpec[];
  /** Every "xen,domain-shared-memory-v1" node at depth <= 3, in FDT order. */
  shmNodes: ShmNodeInfo[];
  /** Nodes under /chosen that look like static-shm nodes but that Xen ignores, in FDT order. */
  ignoredShmNodes: IgnoredShmNode[];
}

// ---- parse (Xen's early_scan_node / process_shm_node) ----

export type ShmRole = "owner" | "borrower";
export type ShmForm = "host" | "heap";

export interface ShmBank {
  index: number;
  id: string;
  /** Host address; null = INVALID_PADDR (allocate from the heap at build). Exact below 2^53. */
  start: number | null;
  startBig: bigint | null;
  size: number;
  sizeBig: bigint;
  /** Xen's nr_shm_borrowers: nodes for this id whose role is not "owner". */
  nrBorrowers: number;
  /** Path of the node that created the bank. */
  path: string;
}

export interface ParsedShmNode {
  path: string;
  /** Node name as Xen prints it (with unit address). */
  name: string;
  id: string;
  /** Role property; undefined when absent (the node then acts as a borrower, owner dom_io). */
  role: ShmRole | undefined;
  form: ShmForm;
  hostAddr: number | null;
  hostAddrBig: bigint | null;
  /** Guest address as this node's own property gives it. */
  guestAddr: number;
  guestAddrBig: bigint;
  /**
   * Guest address Xen will use at build: taken from cells [ac..2ac) when the *bank* has a host
   * address, even if this node used the heap form (bug B1). null if that reads past the property.
   */
  buildGuestAddrBig: bigint | null;
  size: number;
  sizeBig: bigint;
  rawCells: number[];
  ac: number;
  sc: number;
  depth: number;
  bankIndex: number;
  /** Domain node path that maps it ("/chosen" = classic Dom0), or undefined (never mapped). */
  mappedBy: string | undefined;
  loc: SourceLoc | undefined;
}

export interface ShmParseError {
  /** Negative errno returned up to boot_fdt_info (-22 = -EINVAL, ...); null for a direct panic. */
  rc: number | null;
  /** Path of the offending node. */
  node: string;
  /** The specific log line of the failed check ("" when Xen prints none, e.g. -ENOENT). */
  message: string;
  /** The panic line, e.g. "Early FDT parsing failed (-22)". */
  panic: string;
  /** When the failed check was an overlap test: the range refused and the one it overlapped. */
  overlap?: ShmParseOverlap;
  /** The property of `node` the failed check is about (its position is the error's location). */
  prop?: string;
  /** sshm's note beside Xen's lines: the bad value, or what bank[i] / mod[i] is. */
  note?: string;
}

/**
 * The two ranges of a failed overlap check (`meminfo_overlap_check` / `boot_module_overlap_check`):
 * Xen prints them as "Region: [s, e) overlapping with bank[i]: [s, e)", where bank[i] may index the
 * reserved list or the shm list; here each side carries its list and node.
 */
export interface ShmParseOverlap {
  /** The range being added when the check failed, and what it was going to be. */
  refused: { start: number; size: number; kind: "shm" | "reserved"; path: string; id?: string };
  /** The range already registered that it overlaps. */
  other: { start: number; size: number; kind: "shm" | "reserved" | "module"; path: string; index: number };
}

export interface DroppedModule {
  path: string;
  /** The overlap line Xen printed when add_boot_module refused the module. */
  message: string;
}

export interface ShmParseResult {
  ok: boolean;
  banks: ShmBank[];
  nodes: ParsedShmNode[];
  /** Every line Xen prints during the early FDT scan, up to and including the panic line. */
  log: string[];
  error?: ShmParseError;
  /** " SHMEM[i]: start - end" lines printed by early_print_info (host-form banks only). */
  bootLog: string[];
  /** Boot modules add_boot_module silently refused (overlap): no panic, the module is just gone. */
  droppedModules: DroppedModule[];
}

export interface ShmParseOptions {
  /** CONFIG_STATIC_SHM (default true). */
  staticShm?: boolean;
  /**
   * Where the bootloader put Xen's own image: start_xen registers it as boot module 0. The host DT
   * does not say, so the default is size 0 at 0 (overlaps nothing, still index 0).
   */
  xen?: { start: bigint | number; size: bigint | number };
  /**
   * Where the bootloader put the host DTB: boot_fdt_info registers it as boot module 1 before the
   * scan, so it takes part in overlap checks. Default: size 0 (never overlaps, still index 1).
   */
  dtb?: { start: bigint | number; size: bigint | number };
}

export type LintCode =
  | "B1"
  | "B2"
  | "B4"
  | "B5"
  | "B6"
  | "B7"
  | "B9"
  | "NOT_RAM"
  | "DIRECT_MAP"
  | "MODULE"
  | "TOO_MANY"
  | "IGNORED"
  | "UNSHARED"
  | "PROP_NAME";

export interface Warning {
  code: LintCode;
  /** Path of the node the warning is about. */
  node: string;
  message: string;
}
