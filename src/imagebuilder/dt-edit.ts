/**
 * The two device-tree edits ImageBuilder's script makes, with libfdt's placement rules (U-Boot's
 * `fdt mknod`/`fdt set` and `fdtput -p` both go through libfdt): `fdt_add_subnode` puts a new
 * node right after its parent's properties, i.e. before every existing child, and
 * `fdt_add_property_` puts a new property first in its node (xen/common/libfdt/fdt_rw.c). So
 * nodes ImageBuilder creates later come earlier in the tree, and Xen, which walks the tree in
 * order, meets them in that order. An existing node or property is kept in place.
 */
import type { FdtNode, SourceLoc } from "../fdt/index.js";
import { getChild, getProp, newNode } from "../fdt/index.js";

/** `fdt mknod parent name`: the child, created first among the children if it did not exist. */
export function mknode(parent: FdtNode, name: string, loc: SourceLoc): FdtNode {
  const existing = getChild(parent, name);
  if (existing) return existing;
  const n = newNode(name);
  n.loc = loc;
  parent.children.unshift(n);
  return n;
}

/** `fdt set node name value`: replace the value in place, or add the property first. */
export function setprop(node: FdtNode, name: string, value: Uint8Array, loc: SourceLoc): void {
  const p = getProp(node, name);
  if (p) {
    p.value = value;
    p.loc = loc;
    return;
  }
  node.props.unshift({ name, value, labels: [], loc });
}
