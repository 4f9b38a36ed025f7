/** A tiny tree builder for dom0less fixtures (values as cells, strings, booleans or raw bytes). */
import { type FdtNode, type FdtTree, newNode, newTree, stringValue, u32Cells } from "../../src/fdt/tree.js";

export type Val = number[] | string | string[] | true | Uint8Array;

export function encode(v: Val): Uint8Array {
  if (v === true) return new Uint8Array(0);
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string") return stringValue(v);
  if (v.length > 0 && typeof v[0] === "string") return stringValue(...(v as string[]));
  return u32Cells(...(v as number[]));
}

export function node(name: string, props: Record<string, Val> = {}, ...children: FdtNode[]): FdtNode {
  const n = newNode(name);
  for (const [k, v] of Object.entries(props)) n.props.push({ name: k, value: encode(v), labels: [] });
  n.children.push(...children);
  return n;
}

export function tree(
  rootProps: Record<string, Val>,
  children: FdtNode[],
  memreserve: { address: number; size: number }[] = [],
): FdtTree {
  const t = newTree("host.dts");
  const r = node("", rootProps, ...children);
  t.root = r;
  t.memreserve = memreserve;
  return t;
}

// ---- reference §10 conventions: RAM 0x10000000-0xBFFFFFFF, /chosen and domains with 1/1 cells ----

export const SHM = "xen,domain-shared-memory-v1";

export function shm(name: string, id: string | undefined, sm: number[] | undefined, role?: string): FdtNode {
  const p: Record<string, Val> = { compatible: SHM };
  if (role !== undefined) p.role = role;
  if (id !== undefined) p["xen,shm-id"] = id;
  if (sm !== undefined) p["xen,shared-mem"] = sm;
  return node(name, p);
}

export function kernel(at: number, size = 0x80_0000): FdtNode {
  return node(`module@${at.toString(16)}`, {
    compatible: ["multiboot,kernel", "multiboot,module"],
    reg: [at, size],
  });
}

export function domU(name: string, children: FdtNode[], extra: Record<string, Val> = {}): FdtNode {
  return node(
    name,
    {
      compatible: "xen,domain",
      "#address-cells": [1],
      "#size-cells": [1],
      memory: [0, 131072],
      cpus: [1],
      ...extra,
    },
    ...children,
  );
}

export function memoryNode(): FdtNode {
  return node("memory@10000000", { device_type: "memory", reg: [0, 0x1000_0000, 0, 0xb000_0000] });
}

export function host(
  chosenChildren: FdtNode[],
  opts: {
    rootChildren?: FdtNode[];
    after?: FdtNode[];
    chosenProps?: Record<string, Val>;
    memreserve?: { address: number; size: number }[];
  } = {},
): FdtTree {
  return tree(
    { "#address-cells": [2], "#size-cells": [2] },
    [
      memoryNode(),
      ...(opts.rootChildren ?? []),
      node(
        "chosen",
        { "#address-cells": [1], "#size-cells": [1], ...(opts.chosenProps ?? {}) },
        ...chosenChildren,
      ),
      ...(opts.after ?? []),
    ],
    opts.memreserve ?? [],
  );
}
