/**
 * An FdtSink that builds an FdtTree from the same begin/property/end calls a libfdt sequential
 * writer receives, so a generated tree can be printed as DTS in exactly the order of its blob.
 */

import type { FdtSink } from "./sw.js";
import type { FdtNode, FdtTree } from "./tree.js";
import { newNode, newTree } from "./tree.js";

export class FdtTreeSink implements FdtSink {
  readonly tree: FdtTree = newTree();
  private readonly stack: FdtNode[] = [];

  beginNode(name: string): void {
    const parent = this.stack[this.stack.length - 1];
    if (!parent) {
      // The first node is the root (fdt_begin_node(fdt, "")).
      this.tree.root.name = name;
      this.stack.push(this.tree.root);
      return;
    }
    const n = newNode(name);
    parent.children.push(n);
    this.stack.push(n);
  }

  property(name: string, value: Uint8Array): void {
    const n = this.stack[this.stack.length - 1];
    if (!n) throw new Error("FdtTreeSink: property outside a node");
    n.props.push({ name, value: value.slice(), labels: [] });
  }

  endNode(): void {
    if (!this.stack.pop()) throw new Error("FdtTreeSink: end_node without begin_node");
  }
}
