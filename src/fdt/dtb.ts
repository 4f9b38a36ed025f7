/**
 * Flattened device tree (DTB) decoding and encoding, per the Devicetree Specification v0.4 ch. 5
 * and libfdt's header checks. The decoder treats its input as hostile: every offset and length is
 * checked before use, so a corrupt blob ends in an SshmError naming the byte offset and the broken
 * rule, never in a RangeError from a DataView or a hang.
 */

import { SshmError } from "../common/errors.js";
import type { FdtNode, FdtTree, MemReserve } from "./tree.js";
import { newNode, newTree } from "./tree.js";

export const FDT_MAGIC = 0xd00dfeed;
export const FDT_BEGIN_NODE = 1;
export const FDT_END_NODE = 2;
export const FDT_PROP = 3;
export const FDT_NOP = 4;
export const FDT_END = 9;

/** The version we write, and the oldest one a reader must understand to read it (dtc's choice). */
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;

/** v17 header: ten big-endian u32 fields. v16 lacks size_dt_struct (36 bytes). */
const HEADER_SIZE_V17 = 40;
const HEADER_SIZE_V16 = 36;
const MEMRSV_ENTRY = 16;
const TWO_POW_53 = 2n ** 53n;

const hex = (n: number): string => `0x${n.toString(16)}`;

function fail(code: string, file: string, offset: number, rule: string): never {
  throw new SshmError(code, `byte offset ${hex(offset)}: ${rule}`, { file });
}

interface Header {
  totalsize: number;
  offStruct: number;
  offStrings: number;
  offMemRsv: number;
  version: number;
  lastComp: number;
  bootCpuid: number;
  sizeStrings: number;
  /** Undefined for a v16 blob, which does not record it. */
  sizeStruct: number | undefined;
}

function readHeader(bytes: Uint8Array, dv: DataView, file: string): Header {
  // Read the magic first on its own so a short non-DTB file is reported as "not a DTB" rather
  // than as a truncated one.
  if (bytes.length < 4)
    fail("EDTB_TRUNCATED", file, 0, `blob is ${bytes.length} bytes, too short for a header`);
  const magic = dv.getUint32(0);
  if (magic !== FDT_MAGIC) {
    fail("EDTB_BAD_MAGIC", file, 0, `bad magic ${hex(magic)} (a DTB starts with ${hex(FDT_MAGIC)})`);
  }
  if (bytes.length < HEADER_SIZE_V16) {
    fail("EDTB_TRUNCATED", file, bytes.length, `blob ends inside the ${HEADER_SIZE_V16}-byte header`);
  }
  const version = dv.getUint32(20);
  const lastComp = dv.getUint32(24);
  // libfdt reads anything from v16 (the first with size_dt_strings and no full-path names) whose
  // last compatible version it knows (<= 17).
  if (version < 16) {
    fail("EDTB_VERSION", file, 20, `version ${version} is older than 16, the oldest supported`);
  }
  if (lastComp > FDT_VERSION) {
    fail(
      "EDTB_VERSION",
      file,
      24,
      `last_comp_version ${lastComp} is newer than ${FDT_VERSION}, the newest understood`,
    );
  }
  if (lastComp > version) {
    fail("EDTB_VERSION", file, 24, `last_comp_version ${lastComp} is greater than version ${version}`);
  }
  const headerSize = version >= 17 ? HEADER_SIZE_V17 : HEADER_SIZE_V16;
  if (bytes.length < headerSize) {
    fail("EDTB_TRUNCATED", file, bytes.length, `blob ends inside the ${headerSize}-byte v${version} header`);
  }
  const h: Header = {
    totalsize: dv.getUint32(4),
    offStruct: dv.getUint32(8),
    offStrings: dv.getUint32(12),
    offMemRsv: dv.getUint32(16),
    version,
    lastComp,
    bootCpuid: dv.getUint32(28),
    sizeStrings: dv.getUint32(32),
    sizeStruct: version >= 17 ? dv.getUint32(36) : undefined,
  };
  if (h.totalsize < headerSize) {
    fail("EDTB_OFFSET", file, 4, `totalsize ${hex(h.totalsize)} is smaller than the header`);
  }
  if (h.totalsize > bytes.length) {
    fail(
      "EDTB_TRUNCATED",
      file,
      bytes.length,
      `blob is ${hex(bytes.length)} bytes but its header says totalsize ${hex(h.totalsize)}`,
    );
  }
  checkBlock(file, 16, "memory reservation block", h.offMemRsv, 0, headerSize, h.totalsize);
  if (h.offMemRsv % 8 !== 0) {
    fail("EDTB_ALIGN", file, 16, `off_mem_rsvmap ${hex(h.offMemRsv)} is not 8-byte aligned`);
  }
  checkBlock(file, 8, "structure block", h.offStruct, h.sizeStruct ?? 0, headerSize, h.totalsize);
  if (h.offStruct % 4 !== 0) {
    fail("EDTB_ALIGN", file, 8, `off_dt_struct ${hex(h.offStruct)} is not 4-byte aligned`);
  }
  if (h.sizeStruct !== undefined && h.sizeStruct % 4 !== 0) {
    fail("EDTB_ALIGN", file, 36, `size_dt_struct ${hex(h.sizeStruct)} is not a multiple of 4`);
  }
  checkBlock(file, 12, "strings block", h.offStrings, h.sizeStrings, headerSize, h.totalsize);
  return h;
}

/** A block must start after the header and end within totalsize. */
function checkBlock(
  file: string,
  fieldOffset: number,
  what: string,
  off: number,
  size: number,
  headerSize: number,
  totalsize: number,
): void {
  if (off < headerSize) {
    fail("EDTB_OFFSET", file, fieldOffset, `${what} offset ${hex(off)} overlaps the header`);
  }
  if (off + size > totalsize) {
    fail(
      "EDTB_OFFSET",
      file,
      fieldOffset,
      `${what} [${hex(off)}, ${hex(off + size)}) extends past totalsize ${hex(totalsize)}`,
    );
  }
}

function readMemReserve(dv: DataView, h: Header, file: string): MemReserve[] {
  const out: MemReserve[] = [];
  // The block has no length field: it runs until a (0, 0) entry. It may not run past totalsize,
  // and libfdt also stops it at the first following block, which we do not require.
  for (let off = h.offMemRsv; ; off += MEMRSV_ENTRY) {
    if (off + MEMRSV_ENTRY > h.totalsize) {
      fail("EDTB_TRUNCATED", file, off, "memory reservation block has no terminating (0, 0) entry");
    }
    const address = dv.getBigUint64(off);
    const size = dv.getBigUint64(off + 8);
    if (address === 0n && size === 0n) return out;
    if (address >= TWO_POW_53 || size >= TWO_POW_53) {
      fail(
        "EDTB_RANGE",
        file,
        off,
        `memory reservation 0x${address.toString(16)} size 0x${size.toString(16)} reaches 2^53, beyond what sshm represents exactly`,
      );
    }
    out.push({ address: Number(address), size: Number(size) });
  }
}

const utf8 = new TextDecoder("utf-8");
const utf8enc = new TextEncoder();

/** Read a NUL-terminated string in [start, end); `undefined` when no NUL is found. */
function cString(bytes: Uint8Array, start: number, end: number): { text: string; end: number } | undefined {
  for (let i = start; i < end; i++) {
    if (bytes[i] === 0) return { text: utf8.decode(bytes.subarray(start, i)), end: i };
  }
  return undefined;
}

const align4 = (n: number): number => (n + 3) & ~3;

/**
 * Decode a DTB. `file` names the blob in error messages. Memory reservations and property values
 * are copied, so the tree does not alias `bytes`.
 */
export function decodeDtb(bytes: Uint8Array, file = "<dtb>"): FdtTree {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = readHeader(bytes, dv, file);
  const tree = newTree(file);
  tree.bootCpuid = h.bootCpuid;
  tree.memreserve = readMemReserve(dv, h, file);

  const strEnd = h.offStrings + h.sizeStrings;
  // Without size_dt_struct (v16) the structure block can only be bounded by totalsize.
  const structEnd = h.sizeStruct !== undefined ? h.offStruct + h.sizeStruct : h.totalsize;
  const stack: FdtNode[] = [];
  /** Whether the node on top of the stack already has a child (properties must come first). */
  const hasChild: boolean[] = [];
  let root: FdtNode | undefined;
  let off = h.offStruct;

  for (;;) {
    if (off + 4 > structEnd) {
      fail("EDTB_TRUNCATED", file, off, "structure block ends without an FDT_END token");
    }
    const tokOff = off;
    const token = dv.getUint32(off);
    off += 4;
    switch (token) {
      case FDT_BEGIN_NODE: {
        const s = cString(bytes, off, structEnd);
        if (!s) fail("EDTB_STRING", file, off, "node name is not NUL-terminated within the structure block");
        const parent = stack[stack.length - 1];
        if (parent === undefined) {
          if (root !== undefined) fail("EDTB_NESTING", file, tokOff, "second top-level node after the root");
          if (s.text !== "") {
            fail("EDTB_NAME", file, off, `root node has name "${s.text}" (it must be empty)`);
          }
        } else {
          if (s.text === "") fail("EDTB_NAME", file, off, "node with an empty name");
          if (parent.children.some((c) => c.name === s.text)) {
            fail("EDTB_DUPLICATE", file, off, `duplicate node name "${s.text}"`);
          }
        }
        const node = newNode(s.text);
        if (parent === undefined) root = node;
        else {
          parent.children.push(node);
          hasChild[hasChild.length - 1] = true;
        }
        stack.push(node);
        hasChild.push(false);
        off = align4(s.end + 1);
        break;
      }
      case FDT_END_NODE:
        if (stack.length === 0)
          fail("EDTB_NESTING", file, tokOff, "FDT_END_NODE without a matching FDT_BEGIN_NODE");
        stack.pop();
        hasChild.pop();
        break;
      case FDT_PROP: {
        const node = stack[stack.length - 1];
        if (node === undefined) fail("EDTB_NESTING", file, tokOff, "FDT_PROP outside any node");
        if (hasChild[hasChild.length - 1]) {
          fail("EDTB_NESTING", file, tokOff, "property after a child node (properties must come first)");
        }
        if (off + 8 > structEnd)
          fail("EDTB_TRUNCATED", file, off, "FDT_PROP header runs past the structure block");
        const len = dv.getUint32(off);
        const nameoff = dv.getUint32(off + 4);
        off += 8;
        if (len > structEnd - off) {
          fail(
            "EDTB_TRUNCATED",
            file,
            off,
            `property value of ${hex(len)} bytes runs past the structure block`,
          );
        }
        if (nameoff >= h.sizeStrings) {
          fail(
            "EDTB_STRING",
            file,
            tokOff + 8,
            `property name offset ${hex(nameoff)} is outside the strings block`,
          );
        }
        const name = cString(bytes, h.offStrings + nameoff, strEnd);
        if (!name) {
          fail(
            "EDTB_STRING",
            file,
            h.offStrings + nameoff,
            "property name is not NUL-terminated within the strings block",
          );
        }
        if (name.text === "") fail("EDTB_NAME", file, h.offStrings + nameoff, "property with an empty name");
        if (node.props.some((p) => p.name === name.text)) {
          fail("EDTB_DUPLICATE", file, tokOff, `duplicate property "${name.text}"`);
        }
        node.props.push({ name: name.text, value: bytes.slice(off, off + len), labels: [] });
        off = align4(off + len);
        break;
      }
      case FDT_NOP:
        break;
      case FDT_END:
        if (stack.length > 0) {
          fail("EDTB_NESTING", file, tokOff, `FDT_END with ${stack.length} node(s) still open`);
        }
        if (root === undefined) fail("EDTB_NESTING", file, tokOff, "FDT_END before any node");
        tree.root = root;
        return tree;
      default:
        fail("EDTB_TOKEN", file, tokOff, `unknown structure token ${hex(token)}`);
    }
  }
}

/** Grows a byte buffer; the encoder's only allocation strategy. */
class ByteWriter {
  private buf = new Uint8Array(256);
  private dv = new DataView(this.buf.buffer);
  len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  u32(v: number): void {
    this.reserve(4);
    this.dv.setUint32(this.len, v >>> 0);
    this.len += 4;
  }
  u64(v: number): void {
    this.reserve(8);
    this.dv.setBigUint64(this.len, BigInt(v));
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  pad4(): void {
    while (this.len % 4 !== 0) this.bytes(new Uint8Array(1));
  }
  take(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/**
 * The strings block, built the way dtc builds it: a name already present anywhere in the table as
 * a NUL-terminated suffix (e.g. "cells" inside "#address-cells") is reused, so our output matches
 * dtc's byte for byte.
 */
class StringTable {
  /** The table as a "binary string" (one char per byte) so indexOf positions are byte offsets. */
  private table = "";
  offsetOf(name: string): number {
    const want = `${String.fromCharCode(...utf8enc.encode(name))}\0`;
    const i = this.table.indexOf(want);
    if (i >= 0) return i;
    const at = this.table.length;
    this.table += want;
    return at;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.table, (c) => c.charCodeAt(0));
  }
}

function checkName(kind: string, name: string, path: string): void {
  if (name.includes("\0")) {
    throw new SshmError("EDTB_ENCODE", `${kind} name ${JSON.stringify(name)} contains a NUL byte`, {
      node: path,
    });
  }
}

function checkRange(what: string, v: number, max: number, maxText: string): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) {
    throw new SshmError("EDTB_ENCODE", `${what} ${v} is not an integer in [0, ${maxText}]`);
  }
}

/**
 * Encode a tree as a version-17 DTB laid out as dtc lays it out: header, memory reservation
 * block, structure block, strings block, no padding.
 */
export function encodeDtb(tree: FdtTree): Uint8Array {
  const strings = new StringTable();
  const st = new ByteWriter();
  const emit = (node: FdtNode, path: string, isRoot: boolean): void => {
    checkName("node", node.name, path);
    if (!isRoot && node.name === "") {
      throw new SshmError("EDTB_ENCODE", "node with an empty name", { node: path });
    }
    st.u32(FDT_BEGIN_NODE);
    st.bytes(utf8enc.encode(`${node.name}\0`));
    st.pad4();
    for (const p of node.props) {
      checkName("property", p.name, path);
      if (p.name === "") throw new SshmError("EDTB_ENCODE", "property with an empty name", { node: path });
      st.u32(FDT_PROP);
      st.u32(p.value.length);
      st.u32(strings.offsetOf(p.name));
      st.bytes(p.value);
      st.pad4();
    }
    for (const c of node.children) emit(c, path === "/" ? `/${c.name}` : `${path}/${c.name}`, false);
    st.u32(FDT_END_NODE);
  };
  emit(tree.root, "/", true);
  st.u32(FDT_END);
  const structBytes = st.take();
  const stringBytes = strings.bytes();

  const offMemRsv = HEADER_SIZE_V17; // 40: already 8-byte aligned
  const offStruct = offMemRsv + (tree.memreserve.length + 1) * MEMRSV_ENTRY;
  const offStrings = offStruct + structBytes.length;
  const totalsize = offStrings + stringBytes.length;

  const out = new ByteWriter();
  out.u32(FDT_MAGIC);
  out.u32(totalsize);
  out.u32(offStruct);
  out.u32(offStrings);
  out.u32(offMemRsv);
  out.u32(FDT_VERSION);
  out.u32(FDT_LAST_COMP_VERSION);
  checkRange("boot cpuid", tree.bootCpuid, 0xffff_ffff, "0xffffffff");
  out.u32(tree.bootCpuid);
  out.u32(stringBytes.length);
  out.u32(structBytes.length);
  for (const r of tree.memreserve) {
    checkRange("memreserve address", r.address, Number.MAX_SAFE_INTEGER, "2^53-1");
    checkRange("memreserve size", r.size, Number.MAX_SAFE_INTEGER, "2^53-1");
    out.u64(r.address);
    out.u64(r.size);
  }
  out.u64(0);
  out.u64(0);
  out.bytes(structBytes);
  out.bytes(stringBytes);
  return out.take();
}
