/**
 * libfdt's sequential-write mode (fdt_sw.c), byte for byte: the blob Xen builds a guest device
 * tree in (prepare_dtb_domU: fdt_create, fdt_finish_reservemap, fdt_begin_node / fdt_property /
 * fdt_end_node, fdt_finish, never fdt_pack). It differs from dtc's layout (src/fdt/dtb.ts):
 *
 * - off_mem_rsvmap is FDT_ALIGN(sizeof(struct fdt_header), sizeof(struct fdt_reserve_entry)) =
 *   ALIGN(40, 16) = 0x30, not 40 (fdt_create_with_flags); bytes 0x28-0x2f stay zero;
 * - the strings block grows downwards from the end of the buffer while the tree is written: a new
 *   name is *prepended* (fdt_add_string_), so after fdt_finish's memmove the names sit in reverse
 *   order of first use;
 * - a name is reused when it equals any NUL-terminated tail of the table, searched lowest address
 *   first (fdt_find_string_ via fdt_find_add_string_), i.e. in the most recently added strings
 *   first: "phandle" lands inside "linux,phandle", "method" inside "enable-method";
 * - fdt_finish sets totalsize = off_dt_strings + size_dt_strings, no padding (it can be odd).
 *
 * The writer works in one fixed buffer of the size Xen passes to fdt_create, with libfdt's own
 * space checks, so running out of room fails where and how libfdt fails (-FDT_ERR_NOSPACE).
 */

import {
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_LAST_COMP_VERSION,
  FDT_MAGIC,
  FDT_PROP,
  FDT_VERSION,
} from "./dtb.js";

/** libfdt error numbers (libfdt.h); functions return their negation. */
export const FDT_ERR_NOSPACE = 3;

/** sizeof(struct fdt_header) = 40 rounded up to sizeof(struct fdt_reserve_entry) = 16. */
export const FDT_SW_HDRSIZE = 0x30;
const RESERVE_ENTRY = 16;

/** A libfdt call failed; `err` is libfdt's negative return value (e.g. -FDT_ERR_NOSPACE). */
export class FdtSwError extends Error {
  readonly err: number;
  constructor(fn: string, err: number) {
    super(`${fn} failed (${err})`);
    this.name = "FdtSwError";
    this.err = err;
  }
}

const utf8 = new TextEncoder();

/** FDT_TAGALIGN: round up to 4 bytes. */
const tagAlign = (n: number): number => (n + 3) & ~3;

/** The sequence of calls a device-tree builder makes (libfdt sw API, as Xen uses it). */
export interface FdtSink {
  beginNode(name: string): void;
  property(name: string, value: Uint8Array): void;
  endNode(): void;
}

export class FdtSw implements FdtSink {
  private readonly buf: Uint8Array;
  private readonly dv: DataView;
  private readonly totalsize: number;
  private offStruct = FDT_SW_HDRSIZE;
  private sizeStruct = 0;
  private sizeStrings = 0;
  /** Struct offsets of every FDT_PROP, for fdt_finish's nameoff fix-up walk. */
  private readonly props: number[] = [];
  private state: "memrsv" | "struct" | "complete" = "memrsv";

  /** fdt_create(buf, bufsize): a zeroed buffer of `bufsize` bytes. */
  constructor(bufsize: number) {
    if (!Number.isInteger(bufsize) || bufsize < FDT_SW_HDRSIZE)
      throw new FdtSwError("fdt_create", -FDT_ERR_NOSPACE);
    this.buf = new Uint8Array(bufsize);
    this.dv = new DataView(this.buf.buffer);
    this.totalsize = bufsize;
  }

  private expect(state: FdtSw["state"], fn: string): void {
    // libfdt returns -FDT_ERR_BADSTATE here; a builder calling out of order is a bug in sshm.
    if (this.state !== state) throw new Error(`fdt_sw: ${fn} in state ${this.state}`);
  }

  /** fdt_add_reservemap_entry. Xen adds none for a domU; kept for completeness of the layout. */
  addReservemapEntry(address: number, size: number): void {
    this.expect("memrsv", "fdt_add_reservemap_entry");
    if (this.offStruct + RESERVE_ENTRY > this.totalsize)
      throw new FdtSwError("fdt_add_reservemap_entry", -FDT_ERR_NOSPACE);
    this.u64At(this.offStruct, address);
    this.u64At(this.offStruct + 8, size);
    this.offStruct += RESERVE_ENTRY;
  }

  /** fdt_finish_reservemap: the terminating zero entry; the struct block starts after it. */
  finishReservemap(): void {
    this.addReservemapEntry(0, 0);
    this.state = "struct";
  }

  /** fdt_grab_space_: `len` bytes at the end of the struct block, or null when they do not fit. */
  private grab(len: number): number | null {
    const offset = this.sizeStruct;
    const spaceleft = this.totalsize - this.offStruct - this.sizeStrings;
    if (offset + len > spaceleft) return null;
    this.sizeStruct = offset + len;
    return this.offStruct + offset;
  }

  beginNode(name: string): void {
    this.expect("struct", "fdt_begin_node");
    const bytes = utf8.encode(name);
    const namelen = bytes.length + 1;
    const at = this.grab(4 + tagAlign(namelen));
    if (at === null) throw new FdtSwError("fdt_begin_node", -FDT_ERR_NOSPACE);
    this.dv.setUint32(at, FDT_BEGIN_NODE);
    this.buf.set(bytes, at + 4);
  }

  endNode(): void {
    this.expect("struct", "fdt_end_node");
    const at = this.grab(4);
    if (at === null) throw new FdtSwError("fdt_end_node", -FDT_ERR_NOSPACE);
    this.dv.setUint32(at, FDT_END_NODE);
  }

  /**
   * fdt_find_string_ over the current table [totalsize - sizeStrings, totalsize): the first
   * (lowest) address where name + NUL occurs. Returns the offset relative to the table's end
   * (negative), as fdt_find_add_string_ does, or 0 when absent.
   */
  private findString(s: Uint8Array): number {
    const len = s.length + 1;
    const start = this.totalsize - this.sizeStrings;
    const last = this.totalsize - len;
    for (let p = start; p <= last; p++) {
      let k = 0;
      while (k < s.length && this.buf[p + k] === s[k]) k++;
      if (k === s.length && this.buf[p + k] === 0) return p - this.totalsize;
    }
    return 0;
  }

  /** fdt_add_string_: prepend name + NUL; 0 when there is no room (libfdt's "no more room"). */
  private addString(s: Uint8Array): number {
    const len = s.length + 1;
    const offset = this.sizeStrings + len;
    const structTop = this.offStruct + this.sizeStruct;
    if (this.totalsize - offset < structTop) return 0;
    this.buf.set(s, this.totalsize - offset);
    this.buf[this.totalsize - offset + s.length] = 0;
    this.sizeStrings += len;
    return -offset;
  }

  /** fdt_property (fdt_property_placeholder + memcpy). */
  property(name: string, value: Uint8Array): void {
    this.expect("struct", "fdt_property");
    const s = utf8.encode(name);
    let nameoff = this.findString(s);
    const allocated = nameoff === 0;
    if (allocated) nameoff = this.addString(s);
    if (nameoff === 0) throw new FdtSwError("fdt_property", -FDT_ERR_NOSPACE);
    const at = this.grab(12 + tagAlign(value.length));
    if (at === null) {
      // fdt_del_last_string_: the table shrinks back; the bytes stay in the buffer.
      if (allocated) this.sizeStrings -= s.length + 1;
      throw new FdtSwError("fdt_property", -FDT_ERR_NOSPACE);
    }
    this.dv.setUint32(at, FDT_PROP);
    this.dv.setUint32(at + 4, value.length);
    this.dv.setInt32(at + 8, nameoff);
    this.buf.set(value, at + 12);
    this.props.push(at);
  }

  /** fdt_property_cell / fdt_property_u32: one big-endian 32-bit value. */
  propertyU32(name: string, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0);
    this.property(name, b);
  }

  /** fdt_property_u64: eight big-endian bytes. */
  propertyU64(name: string, v: number): void {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, Math.floor(v / 2 ** 32));
    dv.setUint32(4, v >>> 0);
    this.property(name, b);
  }

  /** fdt_property_string: strlen + 1 bytes. */
  propertyString(name: string, v: string): void {
    const s = utf8.encode(v);
    const b = new Uint8Array(s.length + 1);
    b.set(s);
    this.property(name, b);
  }

  /**
   * fdt_finish: the FDT_END tag, the strings moved down to follow the struct block, every nameoff
   * rebased, the header completed. Returns the blob (its first totalsize bytes).
   */
  finish(): Uint8Array {
    this.expect("struct", "fdt_finish");
    const end = this.grab(4);
    if (end === null) throw new FdtSwError("fdt_finish", -FDT_ERR_NOSPACE);
    this.dv.setUint32(end, FDT_END);
    const oldStr = this.totalsize - this.sizeStrings;
    const newStr = this.offStruct + this.sizeStruct;
    this.buf.copyWithin(newStr, oldStr, oldStr + this.sizeStrings);
    for (const at of this.props) this.dv.setInt32(at + 8, this.dv.getInt32(at + 8) + this.sizeStrings);
    const total = newStr + this.sizeStrings;
    this.dv.setUint32(0, FDT_MAGIC);
    this.dv.setUint32(4, total);
    this.dv.setUint32(8, this.offStruct);
    this.dv.setUint32(12, newStr);
    this.dv.setUint32(16, FDT_SW_HDRSIZE);
    this.dv.setUint32(20, FDT_VERSION);
    this.dv.setUint32(24, FDT_LAST_COMP_VERSION);
    this.dv.setUint32(28, 0); // boot_cpuid_phys: never set by the sw API
    this.dv.setUint32(32, this.sizeStrings);
    this.dv.setUint32(36, this.sizeStruct);
    this.state = "complete";
    return this.buf.slice(0, total);
  }

  private u64At(at: number, v: number): void {
    this.dv.setUint32(at, Math.floor(v / 2 ** 32));
    this.dv.setUint32(at + 4, v >>> 0);
  }
}
