/**
 * Depth-first document-order walk of a tree with the cell sizes Xen's
 * `device_tree_for_each_node` hands to its callback: each node gets its *parent's*
 * #address-cells/#size-cells, where a node that does not define one inherits its parent's value
 * and the root starts from DT_ROOT_NODE_ADDR_CELLS_DEFAULT (2) / DT_ROOT_NODE_SIZE_CELLS_DEFAULT (1).
 */
import type { FdtNode, FdtTree } from "../fdt/tree.js";
import { getU32 } from "./raw.js";

export const DT_ROOT_NODE_ADDR_CELLS_DEFAULT = 2;
export const DT_ROOT_NODE_SIZE_CELLS_DEFAULT = 1;

export interface WalkEntry {
  node: FdtNode;
  path: string;
  /** 0 for the walk's start node, 1 for its children, ... */
  depth: number;
  /** Cells that apply to this node's own `reg`-like properties (its parent's, inherited). */
  ac: number;
  sc: number;
  /** This node's own effective cells (what its children get). */
  ownAc: number;
  ownSc: number;
  parent: WalkEntry | undefined;
}

/**
 * Walk `start` and its descendants. `startPath` is the path of `start`. Like Xen, the start node
 * itself is seeded with the root defaults (2/1), whatever its real ancestors say: Xen's walk "only
 * cares about relative depth" and restarts from the defaults when it walks a subtree
 * (e.g. /reserved-memory).
 */
export function walkTree(start: FdtNode, startPath = "/"): WalkEntry[] {
  const out: WalkEntry[] = [];
  const visit = (node: FdtNode, path: string, depth: number, parent: WalkEntry | undefined): void => {
    const ac = parent ? parent.ownAc : DT_ROOT_NODE_ADDR_CELLS_DEFAULT;
    const sc = parent ? parent.ownSc : DT_ROOT_NODE_SIZE_CELLS_DEFAULT;
    const e: WalkEntry = {
      node,
      path,
      depth,
      ac,
      sc,
      ownAc: getU32(node, "#address-cells", ac),
      ownSc: getU32(node, "#size-cells", sc),
      parent,
    };
    out.push(e);
    for (const c of node.children) visit(c, path === "/" ? `/${c.name}` : `${path}/${c.name}`, depth + 1, e);
  };
  visit(start, startPath, 0, undefined);
  return out;
}

/** The whole tree from the root. */
export function walkAll(tree: FdtTree): WalkEntry[] {
  return walkTree(tree.root, "/");
}
