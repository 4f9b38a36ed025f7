/**
 * The memory and static-shm nodes a guest's device tree carries (reference §7), for the trees sshm
 * does not build whole:
 *
 * - an xl guest (libxl builds its tree; sshm writes the nodes its static_shm adds): root cells 2/2;
 *   `memory@<first bank>` whose `reg` lists the RAM banks and then every shm region;
 *   `/reserved-memory` only when the domain has shm nodes, one `xen-shmem@<G>` child per node;
 * - the hardware domain (`handle_node` on the host tree): the host tree minus the Xen configuration
 *   nodes, with Xen's own memory node and the xen-shmem children.
 *
 * A dom0less domU's complete tree (prepare_dtb_domU) is built by domu.ts.
 *
 * Numbers are JS numbers (exact below 2^53) like the rest of sshm; cells are split hi/lo.
 */

import { SshmError } from "../common/errors.js";
import { fmtHex } from "../common/format.js";
import type { FdtNode, FdtTree } from "../fdt/index.js";
import {
  encodeDtb,
  getProp,
  newNode,
  newTree,
  numberCells,
  printDts,
  propCells,
  propStrings,
  stringValue,
  u32Cells,
} from "../fdt/index.js";

/** GUEST_ROOT_ADDRESS_CELLS / GUEST_ROOT_SIZE_CELLS (public/arch-arm.h). */
export const GUEST_ROOT_ADDRESS_CELLS = 2;
export const GUEST_ROOT_SIZE_CELLS = 2;
/** The compatible of a guest-visible region (Linux reserved-memory/xen,shared-memory.txt). */
export const XEN_SHMEM_COMPATIBLE = "xen,shared-memory-v1";

/** One RAM bank of the guest, guest-physical. */
export interface GuestRamBank {
  start: number;
  size: number;
}

/** One shm node of the domain, in node order: guest address G, size S, the id and the offset. */
export interface GuestShmRegion {
  gaddr: number;
  size: number;
  id: string;
  /** Borrower offset into the owner's region. Xen always writes 0 for DT domains; xl gives real ones. */
  offset: number;
}

export interface GuestDtInput {
  ramBanks: readonly GuestRamBank[];
  shm: readonly GuestShmRegion[];
}

function dtError(msg: string): SshmError {
  return new SshmError("EGUESTDT", msg);
}

function checkNumber(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0)
    throw dtError(`${what} ${v} is not a non-negative integer below 2^53`);
}

function checkInput(input: GuestDtInput): void {
  input.ramBanks.forEach((b, i) => {
    checkNumber(b.start, `ramBanks[${i}].start`);
    checkNumber(b.size, `ramBanks[${i}].size`);
  });
  input.shm.forEach((s, i) => {
    checkNumber(s.gaddr, `shm[${i}].gaddr`);
    checkNumber(s.size, `shm[${i}].size`);
    checkNumber(s.offset, `shm[${i}].offset`);
    // fdt_property_string writes strlen+1 bytes: a NUL inside the id would cut it short.
    if (s.id.includes("\0")) throw dtError(`shm[${i}].id contains a NUL character`);
  });
}

/**
 * `value` as `n` cells the way Xen's dt_set_cell writes it: the low 32*n bits, big-endian. With
 * one cell a value at or above 4 GiB is silently truncated, exactly as in Xen.
 */
function cells(value: number, n: number): number[] {
  const full = numberCells(value, Math.max(n, 2));
  return full.slice(full.length - n);
}

/** (start, size) pairs as one reg value (dt_child_set_range per entry). */
function regValue(ranges: readonly { start: number; size: number }[], ac: number, sc: number): Uint8Array {
  const out: number[] = [];
  for (const r of ranges) out.push(...cells(r.start, ac), ...cells(r.size, sc));
  return u32Cells(...out);
}

function prop(node: FdtNode, name: string, value: Uint8Array): void {
  node.props.push({ name, value, labels: [] });
}

/** "%s@%"PRIx64: lowercase hex, no 0x, no leading zeros ("xen-shmem@0" for 0). */
export function unitName(name: string, unit: number): string {
  return `${name}@${fmtHex(unit)}`;
}

/** make_memory_node: `memory@<first bank>` with device_type and reg (RAM banks, then every shm). */
function makeMemoryNode(input: GuestDtInput, ac: number, sc: number): FdtNode {
  const first = input.ramBanks[0];
  // make_memory_node returns -ENOENT for a domain without RAM banks; the build fails there.
  if (first === undefined) throw dtError("a memory node needs at least one RAM bank (Xen: -ENOENT)");
  const node = newNode(unitName("memory", first.start));
  prop(node, "device_type", stringValue("memory"));
  const ranges = [...input.ramBanks, ...input.shm.map((s) => ({ start: s.gaddr, size: s.size }))];
  prop(node, "reg", regValue(ranges, ac, sc));
  return node;
}

/** make_shm_resv_memory_node: one xen-shmem@<G> child per shm node, properties in Xen's order. */
function makeShmNodes(shm: readonly GuestShmRegion[], ac: number, sc: number): FdtNode[] {
  // Xen fills a reg buffer of GUEST_ROOT_ADDRESS_CELLS + GUEST_ROOT_SIZE_CELLS (4) cells; more
  // would overflow its stack buffer, so such a tree is refused rather than emulated.
  if (ac + sc > GUEST_ROOT_ADDRESS_CELLS + GUEST_ROOT_SIZE_CELLS) {
    throw dtError(
      `#address-cells + #size-cells = ${ac + sc} exceeds the 4 cells Xen's xen-shmem reg buffer holds`,
    );
  }
  return shm.map((s) => {
    const n = newNode(unitName("xen-shmem", s.gaddr));
    prop(n, "compatible", stringValue(XEN_SHMEM_COMPATIBLE));
    prop(n, "reg", regValue([{ start: s.gaddr, size: s.size }], ac, sc));
    prop(n, "xen,id", stringValue(s.id));
    // fdt_property_u64: always 8 bytes big-endian, whatever the cells.
    prop(n, "xen,offset", u32Cells(...numberCells(s.offset, 2)));
    return n;
  });
}

/** make_resv_memory_node: `/reserved-memory` with ranges, the cells, then the xen-shmem children. */
function makeReservedMemoryNode(shm: readonly GuestShmRegion[], ac: number, sc: number): FdtNode {
  const node = newNode("reserved-memory");
  prop(node, "ranges", new Uint8Array(0));
  prop(node, "#address-cells", u32Cells(ac));
  prop(node, "#size-cells", u32Cells(sc));
  node.children.push(...makeShmNodes(shm, ac, sc));
  return node;
}

/** The memory and shared-memory part of a dom0less domU's device tree. */
export function makeDomUDt(input: GuestDtInput): FdtTree {
  checkInput(input);
  const ac = GUEST_ROOT_ADDRESS_CELLS;
  const sc = GUEST_ROOT_SIZE_CELLS;
  const tree = newTree();
  prop(tree.root, "#address-cells", u32Cells(ac));
  prop(tree.root, "#size-cells", u32Cells(sc));
  tree.root.children.push(makeMemoryNode(input, ac, sc));
  if (input.shm.length > 0) tree.root.children.push(makeReservedMemoryNode(input.shm, ac, sc));
  return tree;
}

// ---- hardware domain ----

/**
 * The Xen configuration compatibles handle_node skips (with their subtrees) when copying the host
 * tree for the hardware domain. Hardware-side skips (PMU, psci, /cpus, the memory-mapped timer)
 * are not modelled: they have nothing to do with memory or shm.
 */
const XEN_CONFIG_COMPATIBLES = new Set([
  "xen,domain",
  "xen,domain-shared-memory-v1",
  "xen,evtchn-v1",
  "xen,xen",
  "xen,multiboot-module",
  "multiboot,module",
]);

function stringsOf(node: FdtNode, name: string): string[] {
  const p = getProp(node, name);
  return p ? (propStrings(p) ?? []) : [];
}

/** DT_MATCH_TYPE("memory") or one of the Xen configuration compatibles. */
function skippedForHwdom(node: FdtNode): boolean {
  if (stringsOf(node, "device_type")[0] === "memory") return true;
  return stringsOf(node, "compatible").some((c) => XEN_CONFIG_COMPATIBLES.has(c));
}

function copyNode(n: FdtNode): FdtNode {
  const c: FdtNode = {
    name: n.name,
    props: n.props.map((p) => {
      const q = { name: p.name, value: p.value.slice(), labels: [...p.labels] };
      return p.loc ? { ...q, loc: p.loc } : q;
    }),
    children: n.children.filter((k) => !skippedForHwdom(k)).map(copyNode),
    labels: [...n.labels],
  };
  if (n.loc) c.loc = n.loc;
  return c;
}

/** A single-cell property, or the default when absent. */
function cellProp(node: FdtNode, name: string, dflt: number): number {
  const p = getProp(node, name);
  const v = p ? propCells(p) : undefined;
  if (p && (v === undefined || v.length !== 1))
    throw dtError(`${name} of ${node.name || "/"} is not one cell`);
  return v?.[0] ?? dflt;
}

/**
 * The memory and shared-memory part of the hardware domain's device tree, built from the host
 * tree as Xen's handle_node does:
 * - every `device_type = "memory"` node and every Xen configuration node (xen,domain, the
 *   xen,domain-shared-memory-v1 nodes, boot modules, ...) is dropped with its subtree;
 * - Xen's own `memory@<first bank>` is added at the end of the root: `reg` = Dom0's RAM banks, then
 *   every shm region, in the root's #address-cells/#size-cells;
 * - if the host has `/reserved-memory`, the xen-shmem children go into it **before** its existing
 *   children (Xen writes them right after the node's properties, then copies the children), with
 *   the cells of its parent, the root (dt_n_addr_cells(node) reads the parent's value);
 * - otherwise a new `/reserved-memory` (ranges, root cells) is added after the memory node.
 * Cells default to 2/1 when the root does not say (DT_ROOT_NODE_*_CELLS_DEFAULT).
 */
export function makeHwdomDt(hostTree: FdtTree, input: GuestDtInput): FdtTree {
  checkInput(input);
  const ac = cellProp(hostTree.root, "#address-cells", 2);
  const sc = cellProp(hostTree.root, "#size-cells", 1);
  const tree: FdtTree = {
    root: copyNode(hostTree.root),
    memreserve: hostTree.memreserve.map((r) => ({ ...r })),
    bootCpuid: hostTree.bootCpuid,
  };
  if (hostTree.source !== undefined) tree.source = hostTree.source;

  const resv = tree.root.children.find((c) => c.name === "reserved-memory");
  tree.root.children.push(makeMemoryNode(input, ac, sc));
  if (input.shm.length > 0) {
    if (resv) resv.children.unshift(...makeShmNodes(input.shm, ac, sc));
    else tree.root.children.push(makeReservedMemoryNode(input.shm, ac, sc));
  }
  return tree;
}

// ---- output ----

/** DTS text of a generated tree (printDts: the form `dtc -I dtb -O dts` prints). */
export function guestDtToDts(tree: FdtTree): string {
  return printDts(tree);
}

/** DTB bytes of a generated tree. */
export function guestDtToDtb(tree: FdtTree): Uint8Array {
  return encodeDtb(tree);
}
