/**
 * The in-memory device tree shared by every front-end: the DTB decoder and the DTS parser produce
 * it, the writers print and encode it, and the dom0less binding and the guest-DT generator read or
 * build it. Property values are raw big-endian bytes, exactly as they sit in a DTB.
 */

/** A position in a source file (1-based line and column). */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export interface FdtProperty {
  name: string;
  /** Raw value bytes (big-endian cells, NUL-terminated strings, ...). Empty for a boolean property. */
  value: Uint8Array;
  labels: string[];
  /** Where the property was (last) defined, when it came from DTS. */
  loc?: SourceLoc;
}

export interface FdtNode {
  /** Full node name with unit address, e.g. "memory@40000000"; "" for the root. */
  name: string;
  props: FdtProperty[];
  children: FdtNode[];
  labels: string[];
  /** Where the node was (first) defined, when it came from DTS. */
  loc?: SourceLoc;
}

export interface MemReserve {
  /** Host address; number, exact below 2^53 (a DTB entry above that is rejected by the decoder). */
  address: number;
  size: number;
}

export interface FdtTree {
  root: FdtNode;
  memreserve: MemReserve[];
  bootCpuid: number;
  /** Name of the file the tree came from, for error messages. */
  source?: string;
}

export function newNode(name: string): FdtNode {
  return { name, props: [], children: [], labels: [] };
}

export function newTree(source?: string): FdtTree {
  const t: FdtTree = { root: newNode(""), memreserve: [], bootCpuid: 0 };
  if (source !== undefined) t.source = source;
  return t;
}

export function getProp(node: FdtNode, name: string): FdtProperty | undefined {
  return node.props.find((p) => p.name === name);
}

export function getChild(node: FdtNode, name: string): FdtNode | undefined {
  return node.children.find((c) => c.name === name);
}

/** Node name without the unit address: "memory@40000000" -> "memory". */
export function baseName(node: FdtNode): string {
  const at = node.name.indexOf("@");
  return at < 0 ? node.name : node.name.slice(0, at);
}

/** Find a node by absolute path ("/", "/chosen/domU1"). */
export function findNode(tree: FdtTree, path: string): FdtNode | undefined {
  if (path === "/" || path === "") return tree.root;
  let n: FdtNode | undefined = tree.root;
  for (const part of path.split("/").filter((s) => s.length > 0)) {
    n = n ? getChild(n, part) : undefined;
    if (!n) return undefined;
  }
  return n;
}

/** Join a parent path and a child name into a path. */
export function childPath(parentPath: string, child: FdtNode): string {
  return parentPath === "/" ? `/${child.name}` : `${parentPath}/${child.name}`;
}

/** Set (replace or append) a property. */
export function setProp(node: FdtNode, name: string, value: Uint8Array): FdtProperty {
  const existing = getProp(node, name);
  if (existing) {
    existing.value = value;
    return existing;
  }
  const p: FdtProperty = { name, value, labels: [] };
  node.props.push(p);
  return p;
}

// ---- value encoders (for building trees in code) ----

export function u32Cells(...cells: number[]): Uint8Array {
  const out = new Uint8Array(cells.length * 4);
  const dv = new DataView(out.buffer);
  cells.forEach((c, i) => {
    dv.setUint32(i * 4, c >>> 0);
  });
  return out;
}

/** Encode `value` as `n` big-endian 32-bit cells (n = 1 or 2 typically). Exact for value < 2^53. */
export function numberCells(value: number, n: number): number[] {
  const cells: number[] = new Array(n).fill(0);
  let v = value;
  for (let i = n - 1; i >= 0; i--) {
    cells[i] = v % 0x1_0000_0000;
    v = Math.floor(v / 0x1_0000_0000);
  }
  return cells;
}

export function stringValue(...strings: string[]): Uint8Array {
  const enc = new TextEncoder();
  const parts = strings.map((s) => enc.encode(`${s}\0`));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---- value decoders ----

/** The value as big-endian u32 cells, or undefined if its length is not a multiple of 4. */
export function propCells(p: FdtProperty): number[] | undefined {
  if (p.value.length % 4 !== 0) return undefined;
  const dv = new DataView(p.value.buffer, p.value.byteOffset, p.value.byteLength);
  const out: number[] = [];
  for (let i = 0; i < p.value.length; i += 4) out.push(dv.getUint32(i));
  return out;
}

/**
 * The value as NUL-terminated strings, or undefined if it is not a well-formed string list
 * (empty, or not NUL-terminated).
 */
export function propStrings(p: FdtProperty): string[] | undefined {
  const v = p.value;
  if (v.length === 0 || v[v.length - 1] !== 0) return undefined;
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    if (v[i] === 0) {
      out.push(new TextDecoder().decode(v.subarray(start, i)));
      start = i + 1;
    }
  }
  return out;
}

/** First string of a string property, or undefined. */
export function propString(p: FdtProperty): string | undefined {
  return propStrings(p)?.[0];
}

/** Combine `cells` big-endian 32-bit cells into a bigint (exact for any width). */
export function cellsToBigInt(cells: readonly number[]): bigint {
  let v = 0n;
  for (const c of cells) v = (v << 32n) | BigInt(c >>> 0);
  return v;
}
