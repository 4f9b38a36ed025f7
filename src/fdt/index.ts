/**
 * The device-tree front-end: read a host device tree as DTB or DTS, print it, encode it.
 */

import { decodeDtb, FDT_MAGIC } from "./dtb.js";
import type { ParseDtsOptions } from "./dts-parser.js";
import { parseDts } from "./dts-parser.js";
import type { FdtTree } from "./tree.js";

export { decodeDtb, encodeDtb, FDT_MAGIC } from "./dtb.js";
export type { ParseDtsOptions } from "./dts-parser.js";
export { parseDts } from "./dts-parser.js";
export type { ValueForm } from "./dts-writer.js";
export { formatValue, guessForm, printDts } from "./dts-writer.js";
export { FDT_ERR_NOSPACE, FDT_SW_HDRSIZE, type FdtSink, FdtSw, FdtSwError } from "./sw.js";
export * from "./tree.js";
export { FdtTreeSink } from "./tree-sink.js";

/** True when `bytes` starts with the DTB magic (big-endian 0xd00dfeed). */
export function isDtb(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) === FDT_MAGIC;
}

/**
 * Load a device tree from a file's contents: a DTB when the bytes start with the FDT magic,
 * otherwise DTS source (UTF-8). Text given as a string is always DTS.
 */
export function loadDeviceTree(
  bytesOrText: Uint8Array | string,
  file: string,
  opts: ParseDtsOptions = {},
): FdtTree {
  if (typeof bytesOrText === "string") return parseDts(bytesOrText, file, opts);
  if (isDtb(bytesOrText)) return decodeDtb(bytesOrText, file);
  return parseDts(new TextDecoder().decode(bytesOrText), file, opts);
}
