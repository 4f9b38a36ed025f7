/**
 * The host description: what the host device tree tells Xen about RAM, reserved memory, boot
 * modules and dom0less domains. Unlike the boot-time parse (shm-parse.ts), which reproduces
 * Xen's lenient early scan message for message, this is a strict, structured view: a malformed
 * property is an SshmError naming the file, node, property and rule. Static-shm nodes are only
 * located here (their checks belong to Xen's parse).
 */
import { SshmError, type Where } from "../common/errors.js";
import type { FdtNode, FdtProperty, FdtTree } from "../fdt/tree.js";
import { getProp } from "../fdt/tree.js";
import {
  hasDom0Kernel,
  isDomainNodeUnderChosen,
  KindGuesser,
  moduleIsDomU,
  moduleUnderChosen,
  scanKind,
  shmPlacement,
} from "./classify.js";
import { findIgnoredShmNodes } from "./lookalike.js";
import { allCells, cellAt, isAvailable, readU64 } from "./raw.js";
import type { BootModule, DomainSpec, HostDescription, Range, ReservedRegion, ShmNodeInfo } from "./types.js";
import { type WalkEntry, walkAll, walkTree } from "./walk.js";

/** DOMAIN_CAPS_HARDWARE (xen/include/public/bootfdt.h). */
export const DOMAIN_CAPS_HARDWARE = 0x2;

function where(
  tree: FdtTree,
  path: string,
  prop: FdtProperty | undefined,
  key: string,
  node?: FdtNode,
): Where {
  const loc = prop?.loc ?? node?.loc;
  return {
    ...(tree.source !== undefined ? { file: tree.source } : loc ? { file: loc.file } : {}),
    ...(loc ? { line: loc.line, column: loc.column } : {}),
    node: path,
    key,
  };
}

export function makeRange(startBig: bigint, sizeBig: bigint): Range {
  return { start: Number(startBig), size: Number(sizeBig), startBig, sizeBig };
}

/**
 * Decode a `reg`-like property as (address, size) pairs with the given cells. Strict: cells must
 * be 1..4 (Xen rejects 0 with "invalid #address-cells or #size-cells"), the length a whole number
 * of pairs, and each value must fit Xen's 64-bit paddr_t.
 */
function regPairs(
  tree: FdtTree,
  e: WalkEntry,
  prop: FdtProperty,
  ac: number,
  sc: number,
  opts: { atLeastOne?: boolean; firstOnly?: boolean } = {},
): Range[] {
  const w = where(tree, e.path, prop, prop.name, e.node);
  if (ac < 1 || sc < 1 || ac > 4 || sc > 4)
    throw new SshmError(
      "EDOM0LESS_CELLS",
      `invalid #address-cells (${ac}) or #size-cells (${sc}) for this property: both must be at least 1`,
      w,
    );
  const pair = (ac + sc) * 4;
  const len = prop.value.length;
  if (opts.firstOnly) {
    if (len < pair)
      throw new SshmError(
        "EDOM0LESS_REG",
        `property is ${len} bytes, shorter than one (address, size) pair of ${ac}+${sc} cells (${pair} bytes)`,
        w,
      );
  } else if (len % pair !== 0 || (opts.atLeastOne && len === 0)) {
    throw new SshmError(
      "EDOM0LESS_REG",
      `property is ${len} bytes, not a${opts.atLeastOne ? " non-zero" : ""} whole number of (address, size) pairs of ${ac}+${sc} cells (${pair} bytes each)`,
      w,
    );
  }
  const out: Range[] = [];
  const n = opts.firstOnly ? 1 : len / pair;
  for (let i = 0; i < n; i++) {
    const cells = allCells(prop.value).slice(i * (ac + sc), (i + 1) * (ac + sc));
    const wide = (from: number, count: number): bigint => {
      let v = 0n;
      for (let k = 0; k < count; k++) v = (v << 32n) | BigInt(cells[from + k] ?? 0);
      return v;
    };
    const start = wide(0, ac);
    const size = wide(ac, sc);
    if (start >> 64n !== 0n || size >> 64n !== 0n)
      throw new SshmError("EDOM0LESS_REG", `entry ${i} does not fit Xen's 64-bit paddr_t`, w);
    out.push(makeRange(start, size));
  }
  return out;
}

/**
 * Xen's dt_property_read_bool (xen/include/xen/device_tree.h) only asks whether the property
 * exists: `vpl011 = <1>` (what ImageBuilder writes) counts as set, like an empty `vpl011;`.
 */
function boolProp(e: WalkEntry, name: string): boolean {
  return getProp(e.node, name) !== undefined;
}

function u32Prop(tree: FdtTree, e: WalkEntry, name: string): number | undefined {
  const p = getProp(e.node, name);
  if (!p) return undefined;
  if (p.value.length !== 4)
    throw new SshmError(
      "EDOM0LESS_PROP",
      `must be one 32-bit cell, but is ${p.value.length} bytes`,
      where(tree, e.path, p, name, e.node),
    );
  return cellAt(p.value, 0) ?? 0;
}

function domainSpec(
  tree: FdtTree,
  e: WalkEntry,
  modules: readonly BootModule[],
  shm: readonly ShmNodeInfo[],
): DomainSpec {
  const memP = getProp(e.node, "memory");
  if (!memP)
    throw new SshmError(
      "EDOM0LESS_MISSING",
      'missing: a "xen,domain" node must give its memory size in KiB',
      where(tree, e.path, undefined, "memory", e.node),
    );
  if (memP.value.length !== 4 && memP.value.length !== 8)
    throw new SshmError(
      "EDOM0LESS_PROP",
      `must be 1 or 2 cells (KiB), but is ${memP.value.length} bytes`,
      where(tree, e.path, memP, "memory", e.node),
    );
  const memoryKiB = Number(readU64(memP.value, 0, memP.value.length / 4));
  const cpus = u32Prop(tree, e, "cpus") ?? 1;
  if (cpus < 1)
    throw new SshmError(
      "EDOM0LESS_PROP",
      "must be at least 1",
      where(tree, e.path, getProp(e.node, "cpus"), "cpus", e.node),
    );
  const smP = getProp(e.node, "xen,static-mem");
  // Xen's early scan (process_domain_node) reads xen,static-mem with the cells of the domain
  // node's parent (/chosen), like any reg property of the node.
  const staticMem = smP ? regPairs(tree, e, smP, e.ac, e.sc, { atLeastOne: true }) : [];
  const capabilities = u32Prop(tree, e, "capabilities") ?? 0;
  const own = modules.filter((m) => m.owner === e.path);
  return {
    name: e.node.name,
    path: e.path,
    node: e.node,
    memoryKiB,
    cpus,
    directMap: boolProp(e, "direct-map"),
    staticMem,
    vpl011: boolProp(e, "vpl011"),
    isDom0: false,
    capabilities,
    isHwdom: (capabilities & DOMAIN_CAPS_HARDWARE) !== 0,
    kernel: own.find((m) => m.kind === "kernel"),
    ramdisk: own.find((m) => m.kind === "ramdisk"),
    dtb: own.find((m) => m.kind === "device-tree"),
    shmNodes: shm.filter((s) => s.mappedBy === e.path),
  };
}

/** Build the host description from a host device tree. Throws SshmError on malformed input. */
export function describeHost(tree: FdtTree): HostDescription {
  const entries = walkAll(tree);
  const root = entries[0];
  if (!root) throw new SshmError("EDOM0LESS_TREE", "empty tree");
  const dom0 = hasDom0Kernel(entries);

  const ramBanks: Range[] = [];
  const reserved: ReservedRegion[] = [];
  const modules: BootModule[] = [];
  const shmNodes: ShmNodeInfo[] = [];
  const guesser = new KindGuesser();

  for (const m of tree.memreserve) {
    reserved.push({
      ...makeRange(BigInt(m.address), BigInt(m.size)),
      kind: "memreserve",
      path: "/memreserve/",
    });
  }

  for (const e of entries) {
    const kind = scanKind(e);
    if (kind === "memory") {
      const reg = getProp(e.node, "reg");
      if (!isAvailable(e.node)) continue;
      if (!reg)
        throw new SshmError(
          "EDOM0LESS_MISSING",
          'missing: a memory node (device_type = "memory") needs reg',
          where(tree, e.path, undefined, "reg", e.node),
        );
      // Empty banks are ignored by Xen ("Some DT may describe empty bank").
      for (const r of regPairs(tree, e, reg, e.ac, e.sc, { atLeastOne: true }))
        if (r.sizeBig !== 0n) ramBanks.push(r);
    } else if (kind === "reserved-memory") {
      // Xen walks /reserved-memory as a fresh subtree: its own cells default to 2/1 (not the
      // root's), and every available descendant with a reg is reserved.
      for (const c of walkTree(e.node, e.path)) {
        if (c.depth === 0 || !isAvailable(c.node)) continue;
        const reg = getProp(c.node, "reg");
        if (!reg) continue;
        for (const r of regPairs(tree, c, reg, c.ac, c.sc))
          if (r.sizeBig !== 0n) reserved.push({ ...r, kind: "reserved-memory", path: c.path });
      }
    } else if (kind === "module") {
      if (!moduleUnderChosen(e)) continue;
      const reg = getProp(e.node, "reg");
      if (!reg)
        throw new SshmError(
          "EDOM0LESS_MISSING",
          'missing: a multiboot module needs reg (Xen panics: "node ... missing `reg\' property")',
          where(tree, e.path, undefined, "reg", e.node),
        );
      const [r] = regPairs(tree, e, reg, e.ac, e.sc, { firstOnly: true });
      if (!r) continue;
      const domU = moduleIsDomU(e);
      modules.push({
        ...r,
        kind: guesser.kind(e),
        path: e.path,
        owner: domU ? e.parent?.path : undefined,
        domU,
      });
    } else if (kind === "chosen") {
      const heap = getProp(e.node, "xen,static-heap");
      if (heap && isAvailable(e.node))
        for (const r of regPairs(tree, e, heap, e.ac, e.sc, { atLeastOne: true }))
          if (r.sizeBig !== 0n) reserved.push({ ...r, kind: "static-heap", path: e.path });
    } else if (kind === "domain") {
      const sm = getProp(e.node, "xen,static-mem");
      if (sm && isAvailable(e.node))
        for (const r of regPairs(tree, e, sm, e.ac, e.sc, { atLeastOne: true }))
          if (r.sizeBig !== 0n) reserved.push({ ...r, kind: "static-mem", path: e.path });
    } else if (kind === "shm") {
      const p = shmPlacement(e, dom0);
      shmNodes.push({
        path: e.path,
        node: e.node,
        depth: e.depth,
        ac: e.ac,
        sc: e.sc,
        mappedBy: p.mappedBy,
        unmappedReason: p.unmappedReason,
        loc: e.node.loc,
      });
    }
  }

  const domUs: DomainSpec[] = [];
  let chosen: WalkEntry | undefined;
  for (const e of entries) {
    if (e.depth === 1 && e.path === "/chosen") chosen = e;
    if (isDomainNodeUnderChosen(e)) domUs.push(domainSpec(tree, e, modules, shmNodes));
  }

  let dom0Spec: DomainSpec | undefined;
  if (dom0 && chosen) {
    const own = modules.filter((m) => !m.domU);
    dom0Spec = {
      name: "Dom0",
      path: "/chosen",
      node: chosen.node,
      memoryKiB: undefined,
      cpus: 1,
      // Dom0 is always direct-mapped on Arm unless LLC colouring is on.
      directMap: true,
      staticMem: [],
      vpl011: false,
      isDom0: true,
      capabilities: 0x7,
      isHwdom: true,
      kernel: own.find((m) => m.kind === "kernel"),
      ramdisk: own.find((m) => m.kind === "ramdisk"),
      dtb: own.find((m) => m.kind === "device-tree"),
      shmNodes: shmNodes.filter((s) => s.mappedBy === "/chosen"),
    };
  }

  return {
    source: tree.source,
    rootAddressCells: root.ownAc,
    rootSizeCells: root.ownSc,
    ramBanks,
    reserved,
    modules,
    dom0: dom0Spec,
    domUs,
    shmNodes,
    ignoredShmNodes: findIgnoredShmNodes(entries, dom0),
  };
}
