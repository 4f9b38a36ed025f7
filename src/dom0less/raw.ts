/**
 * Low-level readers that mirror how Xen's early FDT code looks at raw property bytes. Xen works on
 * the flattened blob with C string and u64 arithmetic, so these helpers reproduce exactly that:
 * strings end at the first NUL (or at the end of the value: the byte after a property value is
 * always 0 in a DTB, either alignment padding or the high byte of the next big-endian token),
 * numbers are read as `dt_next_cell` does (shift-or into a u64, dropping high bits beyond 64).
 */
import type { FdtNode, FdtProperty } from "../fdt/tree.js";
import { getProp } from "../fdt/tree.js";

export const U64_MASK = (1n << 64n) - 1n;
/** Xen's INVALID_PADDR on arm64: ~0UL. */
export const INVALID_PADDR = U64_MASK;
export const PAGE_SIZE_BIG = 4096n;

const latin = new TextDecoder("utf-8");

/** Bytes of the C string at the start of `value` (up to the first NUL or the end). */
export function cBytes(value: Uint8Array): Uint8Array {
  const nul = value.indexOf(0);
  return nul < 0 ? value : value.subarray(0, nul);
}

/** The C string at the start of a property value, as `%s` would print it. */
export function cString(value: Uint8Array): string {
  return latin.decode(cBytes(value));
}

/**
 * The strings of a string-list property the way Xen's `device_tree_node_compatible` walks them:
 * split at NULs, the last one possibly unterminated (it is NUL-terminated in the blob anyway).
 */
export function cStringList(value: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < value.length) {
    let end = value.indexOf(0, start);
    if (end < 0) end = value.length;
    out.push(latin.decode(value.subarray(start, end)));
    start = end + 1;
  }
  return out;
}

/** `device_tree_node_compatible`: any entry equal ignoring ASCII case (dt_compat_cmp = strcasecmp). */
export function compatibleCaseless(node: FdtNode, match: string): boolean {
  const p = getProp(node, "compatible");
  if (!p) return false;
  const m = match.toLowerCase();
  return cStringList(p.value).some((s) => s.toLowerCase() === m);
}

/** libfdt `fdt_node_check_compatible(...) == 0`: exact, case-sensitive string-list membership. */
export function compatibleExact(node: FdtNode, match: string): boolean {
  const p = getProp(node, "compatible");
  if (!p) return false;
  return cStringList(p.value).includes(match);
}

/** Number of whole 32-bit cells in a value. */
export function cellCount(value: Uint8Array): number {
  return Math.floor(value.length / 4);
}

/** Cell `i` (big-endian u32) of a value, or undefined past the end. */
export function cellAt(value: Uint8Array, i: number): number | undefined {
  if (i < 0 || (i + 1) * 4 > value.length) return undefined;
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(i * 4);
}

/** All whole cells of a value. */
export function allCells(value: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < cellCount(value); i++) out.push(cellAt(value, i) ?? 0);
  return out;
}

/**
 * `dt_next_cell(n, &cell)`: read `n` cells starting at cell index `at` into a u64, the way
 * `dt_read_number` does: `r = (r << 32) | cell`, so with n > 2 only the low 64 bits survive.
 * Cells past the end of the value read as 0 (callers check lengths first, as Xen does).
 */
export function readU64(value: Uint8Array, at: number, n: number): bigint {
  let r = 0n;
  for (let i = 0; i < n; i++) r = ((r << 32n) | BigInt(cellAt(value, at + i) ?? 0)) & U64_MASK;
  return r;
}

/** `device_tree_get_u32`: the first cell, or the default if absent or shorter than 4 bytes. */
export function getU32(node: FdtNode, name: string, dflt: number): number {
  const p = getProp(node, name);
  if (!p || p.value.length < 4) return dflt;
  return cellAt(p.value, 0) ?? dflt;
}

/** `device_tree_node_is_available`: no status, or status "ok"/"okay". */
export function isAvailable(node: FdtNode): boolean {
  const p: FdtProperty | undefined = getProp(node, "status");
  if (!p) return true;
  if (p.value.length === 0) return false;
  const s = cString(p.value);
  return s === "ok" || s === "okay";
}

/** `device_tree_node_matches`: name is `match` or `match@...` (case-sensitive). */
export function nameMatches(node: FdtNode, match: string): boolean {
  return node.name === match || node.name.startsWith(`${match}@`);
}

/** u64 addition with wrap-around, as paddr_t arithmetic does. */
export function addU64(a: bigint, b: bigint): bigint {
  return (a + b) & U64_MASK;
}
