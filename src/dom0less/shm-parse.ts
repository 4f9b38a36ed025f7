/**
 * Xen's boot-time parse of the host device tree (phase 1), as far as it decides the fate of static
 * shared memory: `start_xen` registers Xen's own image as boot module 0 (BOOTMOD_XEN), then
 * `boot_fdt_info` registers the DTB as module 1 and the FDT /memreserve/ entries as reserved banks, then `device_tree_for_each_node(fdt, 0, early_scan_node)` visits every
 * node in document order and, per node, takes the first matching branch of:
 *   memory node -> RAM banks; /reserved-memory -> reserved banks (overlap-checked);
 *   multiboot module under /chosen -> boot module (overlap-checked, silently dropped on overlap);
 *   /chosen -> xen,static-heap (overlap-checked), initrd; depth-2 xen,domain -> xen,static-mem;
 *   depth <= 3 "xen,domain-shared-memory-v1" -> `process_shm_node`.
 * The first non-zero rc prints "fdt: node `<name>': parsing failed" and panics with
 * "Early FDT parsing failed (<rc>)". Message texts are those of xen/common/device-tree/
 * static-shmem.c, bootinfo-fdt.c and bootinfo.c at HEAD, formatted as arm64 printk does.
 */
import type { FdtTree } from "../fdt/tree.js";
import { getProp } from "../fdt/tree.js";
import { KindGuesser, moduleIsDomU, moduleUnderChosen, scanKind, shmPlacement } from "./classify.js";
import {
  addU64,
  allCells,
  cBytes,
  cellCount,
  cString,
  INVALID_PADDR,
  isAvailable,
  PAGE_SIZE_BIG,
  readU64,
} from "./raw.js";
import type {
  BootModuleKind,
  DroppedModule,
  ParsedShmNode,
  ShmBank,
  ShmParseError,
  ShmParseOptions,
  ShmParseOverlap,
  ShmParseResult,
  ShmRole,
} from "./types.js";
import { type WalkEntry, walkAll, walkTree } from "./walk.js";
import { fmtPaddrAlt, fmtPaddrBare } from "./xenfmt.js";

const EINVAL = -22;
const ENOENT = -2;
const ENOSPC = -28;

/** MAX_SHM_ID_LENGTH: 16 bytes including the NUL. */
export const MAX_SHM_ID_LENGTH = 16;
/** NR_SHMEM_BANKS. */
export const NR_SHMEM_BANKS = 32;
/** NR_MEM_BANKS: capacity of bootinfo.mem and bootinfo.reserved_mem. */
export const NR_MEM_BANKS = 256;
/** MAX_MODULES on Arm. */
export const MAX_MODULES = 32;

type MemType = "default" | "fdt-resvmem" | "static-domain" | "static-heap";

interface MemBank {
  start: bigint;
  size: bigint;
  type: MemType;
  path: string;
}

interface ShmBankState {
  start: bigint; // INVALID_PADDR for heap form
  size: bigint;
  id: string;
  idBytes: Uint8Array;
  nr: number;
  path: string;
}

type XenModKind = BootModuleKind | "fdt" | "xen";

interface ModState {
  kind: XenModKind;
  start: bigint;
  size: bigint;
  domU: boolean;
  path: string;
}

/** Thrown internally for a direct `panic()` (not an rc). */
class DirectPanic {
  constructor(
    readonly message: string,
    readonly node: string,
  ) {}
}

/** printk: text accumulates until a newline ends a log line (Xen has messages without "\n"). */
class Printk {
  readonly lines: string[] = [];
  private partial = "";
  print(text: string): void {
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop() ?? "";
    this.lines.push(...parts);
  }
  flush(): void {
    if (this.partial !== "") this.lines.push(this.partial);
    this.partial = "";
  }
}

function modKindString(k: XenModKind): string {
  switch (k) {
    case "xen":
      return "Xen";
    case "fdt":
      return "Device Tree";
    case "kernel":
      return "Kernel";
    case "ramdisk":
      return "Ramdisk";
    case "xsm":
      return "XSM";
    case "device-tree":
      return "DTB";
    default:
      return "Unknown";
  }
}

/** What bank[i] of an overlap message is, for sshm's note (Xen prints only the index). */
function bankWhat(b: { type?: MemType; path: string; id?: string }, isShm: boolean): string {
  if (isShm) return `the static shared memory bank of id "${b.id ?? ""}" (${b.path})`;
  switch (b.type) {
    case "fdt-resvmem":
      return "a /memreserve/ entry of the host DT";
    case "static-domain":
      return `the xen,static-mem bank of ${b.path}`;
    case "static-heap":
      return `the xen,static-heap bank of ${b.path}`;
    default:
      return `the reserved-memory region ${b.path}`;
  }
}

/** What mod[i] of an overlap message is, for sshm's note. */
function modWhat(m: ModState): string {
  if (m.kind === "xen")
    return m.size === 0n
      ? "Xen's own image (where the bootloader put it is not in the host DT; sshm assumes it overlaps nothing)"
      : "Xen's own image";
  if (m.kind === "fdt") return "the host device tree blob";
  return `the ${modKindString(m.kind)} module ${m.path}`;
}

function strncmpEqual(a: Uint8Array, b: Uint8Array, n: number): boolean {
  const la = Math.min(a.length, n);
  const lb = Math.min(b.length, n);
  if (la !== lb) return false;
  for (let i = 0; i < la; i++) if (a[i] !== b[i]) return false;
  return true;
}

class EarlyScan {
  readonly log = new Printk();
  readonly mem: MemBank[] = [];
  readonly reserved: MemBank[] = [];
  readonly shm: ShmBankState[] = [];
  readonly mods: ModState[] = [];
  readonly nodes: ParsedShmNode[] = [];
  readonly dropped: DroppedModule[] = [];
  readonly guesser = new KindGuesser();
  readonly nodeEntries: WalkEntry[] = [];
  /** Text of the failing check, for the error record. */
  failMsg = "";
  /** sshm's note on the failing check (what was overlapped, the bad value), if any. */
  failNote: string | undefined;
  /** The property at fault in the failing node, if the check is about one. */
  failProp: string | undefined;
  /** Node actually at fault (a /reserved-memory descendant rather than /reserved-memory). */
  failNode: string | undefined;
  /** The ranges of the failing overlap check, for the error record (the map draws them). */
  failOverlap: { start: bigint; size: bigint; id?: string; other: ShmParseOverlap["other"] } | undefined;

  constructor(readonly staticShm: boolean) {}

  /**
   * Xen builds a classic Dom0 unless it is in dom0less mode (`is_dom0less_mode`): that needs a
   * registered non-domU kernel module. A Dom0 kernel that add_boot_module refused does not count.
   */
  hasDom0(): boolean {
    return this.mods.some((m) => m.kind === "kernel" && !m.domU);
  }

  /** printk a failure message and remember it as the failing check's text. */
  private fail(text: string, newline = true): void {
    this.failMsg = text;
    this.log.print(newline ? `${text}\n` : text);
  }

  // ---- bootinfo.c ----

  private meminfoOverlap(
    banks: readonly { start: bigint; size: bigint; type?: MemType; path: string; id?: string }[],
    isShm: boolean,
    start: bigint,
    size: bigint,
    allowMemreserve: boolean,
  ): boolean {
    const end = addU64(start, size);
    for (let i = 0; i < banks.length; i++) {
      const b = banks[i];
      if (!b) continue;
      const bEnd = addU64(b.start, b.size);
      if (b.start === INVALID_PADDR || end <= b.start || start >= bEnd) continue;
      // The /memreserve/ exact-containment exception never applies to the shm list (its banks do
      // not carry a type), nor to shm regions, which pass allow = false.
      if (allowMemreserve && !isShm && start >= b.start && end <= bEnd && b.type === "fdt-resvmem") continue;
      this.fail(
        `Region: [${fmtPaddrAlt(start)}, ${fmtPaddrAlt(end)}) overlapping with bank[${i}]: [${fmtPaddrAlt(b.start)}, ${fmtPaddrAlt(bEnd)})`,
      );
      this.noteOverlap(start, size, b, isShm ? "shm" : "reserved", i);
      this.failNote = `bank[${i}] is ${bankWhat(b, isShm)}`;
      return true;
    }
    return false;
  }

  private modulesOverlap(start: bigint, size: bigint): boolean {
    const end = addU64(start, size);
    for (let i = 0; i < this.mods.length; i++) {
      const m = this.mods[i];
      if (!m) continue;
      const mEnd = addU64(m.start, m.size);
      if (end <= m.start || start >= mEnd) continue;
      this.fail(
        `Region: [${fmtPaddrAlt(start)}, ${fmtPaddrAlt(end)}) overlapping with mod[${i}]: [${fmtPaddrAlt(m.start)}, ${fmtPaddrAlt(mEnd)})`,
      );
      this.noteOverlap(start, size, m, "module", i);
      this.failNote = `mod[${i}] is ${modWhat(m)} (Xen's own image is mod[0], the host DTB mod[1], then the /chosen modules in DT order)`;
      return true;
    }
    return false;
  }

  private noteOverlap(
    start: bigint,
    size: bigint,
    b: { start: bigint; size: bigint; path: string },
    kind: ShmParseOverlap["other"]["kind"],
    index: number,
    id?: string,
  ): void {
    this.failOverlap = {
      start,
      size,
      ...(id === undefined ? {} : { id }),
      other: { start: Number(b.start), size: Number(b.size), kind, path: b.path, index },
    };
  }

  /** `check_reserved_regions_overlap`: reserved_mem, (ACPI: empty on DT boot), shmem, modules. */
  checkReservedRegionsOverlap(start: bigint, size: bigint, allowMemreserve: boolean): boolean {
    if (this.meminfoOverlap(this.reserved, false, start, size, allowMemreserve)) return true;
    if (this.staticShm && this.meminfoOverlap(this.shm, true, start, size, allowMemreserve)) return true;
    return this.modulesOverlap(start, size);
  }

  /** `add_boot_module`: refuses (returns false, no panic) when full or overlapping. */
  addBootModule(kind: XenModKind, start: bigint, size: bigint, domU: boolean, path: string): boolean {
    if (this.mods.length === MAX_MODULES) {
      this.log.print(
        `Ignoring ${modKindString(kind)} boot module at ${fmtPaddrBare(start)}-${fmtPaddrBare(addU64(start, size))} (too many)\n`,
      );
      return false;
    }
    if (this.checkReservedRegionsOverlap(start, size, true)) {
      this.dropped.push({ path, message: this.failMsg });
      this.failMsg = "";
      this.failOverlap = undefined;
      this.failNote = undefined;
      return false;
    }
    for (const m of this.mods) {
      if (m.kind === kind && m.start === start) {
        if (!domU) m.domU = false;
        return true;
      }
    }
    this.mods.push({ kind, start, size, domU, path });
    return true;
  }

  // ---- bootinfo-fdt.c ----

  /** `device_tree_get_meminfo`. */
  getMeminfo(e: WalkEntry, propName: string, ac: number, sc: number, list: MemBank[], type: MemType): number {
    if (!isAvailable(e.node)) return 0;
    if (ac < 1 || sc < 1) {
      // Xen's message has no trailing newline: the "parsing failed" line continues it.
      this.fail(`fdt: property \`${propName}': invalid #address-cells or #size-cells`, false);
      this.failNode = e.path;
      return EINVAL;
    }
    const prop = getProp(e.node, propName);
    if (!prop) return ENOENT;
    const regCells = ac + sc;
    const banks = Math.floor(prop.value.length / (regCells * 4));
    let i = 0;
    for (; i < banks && list.length < NR_MEM_BANKS; i++) {
      const start = readU64(prop.value, i * regCells, ac);
      const size = readU64(prop.value, i * regCells + ac, sc);
      if (list === this.reserved && this.checkReservedRegionsOverlap(start, size, true)) {
        this.failNode = e.path;
        return EINVAL;
      }
      if (size === 0n) continue;
      list.push({ start, size, type, path: e.path });
    }
    if (i < banks) {
      this.fail("Warning: Max number of supported memory regions reached.");
      this.failNode = e.path;
      return ENOSPC;
    }
    return 0;
  }

  processReservedMemory(e: WalkEntry): number {
    // A fresh walk of the subtree: /reserved-memory itself starts from the 2/1 defaults.
    for (const c of walkTree(e.node, e.path)) {
      if (c.depth === 0) continue;
      const rc = this.getMeminfo(c, "reg", c.ac, c.sc, this.reserved, "default");
      if (rc === ENOSPC)
        throw new DirectPanic("Max number of supported reserved-memory regions reached.", c.path);
      if (rc !== ENOENT && rc !== 0) return rc;
    }
    return 0;
  }

  processMultibootNode(e: WalkEntry): void {
    if (!moduleUnderChosen(e)) return;
    const prop = getProp(e.node, "reg");
    if (!prop) throw new DirectPanic(`node ${e.node.name} missing \`reg' property`, e.path);
    if (prop.value.length < (e.ac + e.sc) * 4)
      throw new DirectPanic(`fdt: node \`${e.node.name}': \`reg\` property length is too short`, e.path);
    const start = readU64(prop.value, 0, e.ac);
    const size = readU64(prop.value, e.ac, e.sc);
    const kind = this.guesser.kind(e);
    this.addBootModule(kind, start, size, moduleIsDomU(e), e.path);
  }

  processChosenNode(e: WalkEntry): number {
    if (getProp(e.node, "xen,static-heap")) {
      this.log.print("Checking for static heap in /chosen\n");
      const rc = this.getMeminfo(e, "xen,static-heap", e.ac, e.sc, this.reserved, "static-heap");
      if (rc) return rc;
    }
    this.log.print("Checking for initrd in /chosen\n");
    const ps = getProp(e.node, "linux,initrd-start");
    if (!ps) return 0;
    if (ps.value.length !== 4 && ps.value.length !== 8) {
      this.fail(`linux,initrd-start property has invalid length ${ps.value.length}`);
      return EINVAL;
    }
    const start = readU64(ps.value, 0, ps.value.length / 4);
    const pe = getProp(e.node, "linux,initrd-end");
    if (!pe) {
      this.fail("linux,initrd-end not present but -start was");
      return EINVAL;
    }
    if (pe.value.length !== 4 && pe.value.length !== 8) {
      this.fail(`linux,initrd-end property has invalid length ${pe.value.length}`);
      return EINVAL;
    }
    const end = readU64(pe.value, 0, pe.value.length / 4);
    if (start >= end) {
      this.fail(`linux,initrd limits invalid: ${fmtPaddrBare(start)} >= ${fmtPaddrBare(end)}`);
      return EINVAL;
    }
    this.log.print(`Initrd ${fmtPaddrBare(start)}-${fmtPaddrBare(end - 1n)}\n`);
    this.addBootModule("ramdisk", start, end - start, false, e.path);
    return 0;
  }

  processDomainNode(e: WalkEntry): number {
    this.log.print('Checking for "xen,static-mem" in domain node\n');
    if (!getProp(e.node, "xen,static-mem")) return 0;
    return this.getMeminfo(e, "xen,static-mem", e.ac, e.sc, this.reserved, "static-domain");
  }

  // ---- static-shmem.c ----

  /** `process_shm_node`, check for check, message for message. */
  processShmNode(e: WalkEntry): number {
    const ac = e.ac;
    const sc = e.sc;
    if (ac < 1 || sc < 1) {
      this.fail("fdt: invalid #address-cells or #size-cells for static shared memory node.");
      return EINVAL;
    }

    const propId = getProp(e.node, "xen,shm-id");
    if (!propId) return ENOENT;
    // The id is a C string in the blob: it ends at the first NUL (or at the zero byte that always
    // follows a property value in a DTB).
    const idBytes = cBytes(propId.value);
    const id = cString(propId.value);
    if (Math.min(idBytes.length, MAX_SHM_ID_LENGTH) === MAX_SHM_ID_LENGTH) {
      this.fail(`fdt: invalid xen,shm-id ${id}, it must be limited to ${MAX_SHM_ID_LENGTH} characters`);
      this.failProp = "xen,shm-id";
      return EINVAL;
    }

    let owner = false;
    let role: ShmRole | undefined;
    const propRole = getProp(e.node, "role");
    if (propRole) {
      const r = cString(propRole.value);
      if (r === "owner") {
        owner = true;
        role = "owner";
      } else if (r !== "borrower") {
        this.fail("fdt: invalid `role` property for static shared memory node.");
        this.failProp = "role";
        this.failNote = `role = ${JSON.stringify(r)}: Xen accepts only "owner" or "borrower" (leave role out for a region owned by dom_io)`;
        return EINVAL;
      } else role = "borrower";
    }

    const prop = getProp(e.node, "xen,shared-mem");
    if (!prop) return ENOENT;
    const len = prop.value.length;
    let paddr = INVALID_PADDR;
    let gaddr: bigint;
    let size: bigint;
    if (len !== (ac + sc + ac) * 4) {
      if (len === (ac + sc) * 4) {
        gaddr = readU64(prop.value, 0, ac);
        size = readU64(prop.value, ac, sc);
      } else {
        this.fail("fdt: invalid `xen,shared-mem` property.");
        this.failProp = "xen,shared-mem";
        return EINVAL;
      }
    } else {
      paddr = readU64(prop.value, 0, ac);
      gaddr = readU64(prop.value, ac, ac);
      size = readU64(prop.value, 2 * ac, sc);
      if (paddr % PAGE_SIZE_BIG !== 0n) {
        this.fail(`fdt: physical address ${fmtPaddrHex(paddr)} is not suitably aligned.`);
        this.failProp = "xen,shared-mem";
        return EINVAL;
      }
      // end = paddr + size in u64: a wrap, or size 0, gives end <= paddr.
      if (addU64(paddr, size) <= paddr) {
        this.fail(`fdt: static shared memory region ${id} overflow`);
        this.failProp = "xen,shared-mem";
        return EINVAL;
      }
    }

    if (gaddr % PAGE_SIZE_BIG !== 0n) {
      this.fail(`fdt: guest address ${fmtPaddrHex(gaddr)} is not suitably aligned.`);
      this.failProp = "xen,shared-mem";
      return EINVAL;
    }
    if (size === 0n) {
      this.fail("fdt: the size for static shared memory region can not be zero");
      this.failProp = "xen,shared-mem";
      return EINVAL;
    }
    if (size % PAGE_SIZE_BIG !== 0n) {
      this.fail(`fdt: size ${fmtPaddrHex(size)} is not suitably aligned`);
      this.failProp = "xen,shared-mem";
      return EINVAL;
    }

    const paddrAssigned = paddr !== INVALID_PADDR;
    let i = 0;
    for (; i < this.shm.length; i++) {
      const b = this.shm[i];
      if (!b) continue;
      if (strncmpEqual(idBytes, b.idBytes, MAX_SHM_ID_LENGTH)) {
        // Same id: host form must match start and size; heap form only the size (bug B1).
        const startMatch = paddrAssigned ? paddr === b.start : true;
        if (startMatch && size === b.size) break;
        this.fail(`fdt: different shared memory region could not share the same shm ID ${id}`);
        this.failProp = "xen,shared-mem";
        return EINVAL;
      }
      if (!paddrAssigned || paddr !== b.start || size !== b.size) continue;
      this.fail(`fdt: xen,shm-id ${id} does not match for all the nodes using the same region`);
      // The same range under another id: the two regions overlap completely.
      this.noteOverlap(paddr, size, b, "shm", i, id);
      this.failProp = "xen,shm-id";
      return EINVAL;
    }

    if (i === this.shm.length) {
      if (i < NR_SHMEM_BANKS) {
        if (paddrAssigned && this.checkReservedRegionsOverlap(paddr, size, false)) {
          if (this.failOverlap) this.failOverlap.id = id;
          this.failProp = "xen,shared-mem";
          return EINVAL;
        }
        this.shm.push({
          start: paddr,
          size,
          id,
          idBytes: idBytes.slice(0, MAX_SHM_ID_LENGTH - 1),
          nr: 0,
          path: e.path,
        });
      } else {
        this.fail("Warning: Max number of supported memory regions reached.");
        return ENOSPC;
      }
    }
    const bank = this.shm[i];
    if (!bank) return EINVAL; // unreachable
    if (!owner) bank.nr++;

    const hostForm = bank.start !== INVALID_PADDR;
    const nCells = cellCount(prop.value);
    const buildG = hostForm
      ? 2 * ac <= nCells
        ? readU64(prop.value, ac, ac)
        : null
      : readU64(prop.value, 0, ac);
    this.nodes.push({
      path: e.path,
      name: e.node.name,
      id,
      role,
      form: paddrAssigned ? "host" : "heap",
      hostAddr: paddrAssigned ? Number(paddr) : null,
      hostAddrBig: paddrAssigned ? paddr : null,
      guestAddr: Number(gaddr),
      guestAddrBig: gaddr,
      buildGuestAddrBig: buildG,
      size: Number(size),
      sizeBig: size,
      rawCells: allCells(prop.value),
      ac,
      sc,
      depth: e.depth,
      bankIndex: i,
      mappedBy: undefined, // decided after the scan, once the boot modules are known
      loc: e.node.loc,
    });
    this.nodeEntries.push(e);
    return 0;
  }

  /** `early_scan_node`. Returns rc; throws DirectPanic for Xen's direct panics. */
  scan(e: WalkEntry): number {
    this.failMsg = "";
    this.failNode = undefined;
    this.failOverlap = undefined;
    this.failNote = undefined;
    this.failProp = undefined;
    let rc = 0;
    switch (scanKind(e)) {
      case "memory":
        rc = this.getMeminfo(e, "reg", e.ac, e.sc, this.mem, "default");
        break;
      case "reserved-memory":
        rc = this.processReservedMemory(e);
        break;
      case "module":
        this.processMultibootNode(e);
        break;
      case "chosen":
        rc = this.processChosenNode(e);
        break;
      case "domain":
        rc = this.processDomainNode(e);
        break;
      case "shm":
        if (this.staticShm) rc = this.processShmNode(e);
        else {
          this.fail("CONFIG_STATIC_SHM must be enabled for parsing static shared memory nodes");
          rc = EINVAL;
        }
        break;
      default:
        break;
    }
    if (rc < 0) this.log.print(`fdt: node \`${e.node.name}': parsing failed\n`);
    return rc;
  }
}

/** "0x%"PRIpaddr: 0x + 16 digits (the "0x" is literal in Xen's format, so no `#` quirk). */
function fmtPaddrHex(v: bigint): string {
  return `0x${fmtPaddrBare(v)}`;
}

function toBig(v: bigint | number): bigint {
  return typeof v === "bigint" ? v : BigInt(v);
}

/**
 * Run Xen's boot-time parse over a host device tree and report the static-shm bank table, the
 * parsed nodes, and Xen's log up to the first failure and its panic.
 */
export function parseStaticShm(tree: FdtTree, opts: ShmParseOptions = {}): ShmParseResult {
  const entries = walkAll(tree);
  const scan = new EarlyScan(opts.staticShm ?? true);
  let error: ShmParseError | undefined;

  // start_xen: Xen's own image is boot module 0 (add_boot_module(BOOTMOD_XEN, virt_to_maddr(_start),
  // _end - _start)); boot_fdt_info then adds the DTB itself as module 1, then the /memreserve/
  // entries (no overlap check). The kernels, ramdisks and DTBs under /chosen follow in DT order.
  scan.addBootModule("xen", toBig(opts.xen?.start ?? 0), toBig(opts.xen?.size ?? 0), false, "(Xen image)");
  scan.addBootModule("fdt", toBig(opts.dtb?.start ?? 0), toBig(opts.dtb?.size ?? 0), false, "/");
  for (const m of tree.memreserve) {
    if (scan.reserved.length >= NR_MEM_BANKS) {
      error = { rc: null, node: "/memreserve/", message: "", panic: "Cannot allocate reserved memory bank" };
      scan.log.print(`${error.panic}\n`);
      break;
    }
    scan.reserved.push({
      start: BigInt(m.address),
      size: BigInt(m.size),
      type: "fdt-resvmem",
      path: "/memreserve/",
    });
  }

  if (!error) {
    for (const e of entries) {
      if (e.depth === 0) continue;
      let rc: number;
      try {
        rc = scan.scan(e);
      } catch (x) {
        if (!(x instanceof DirectPanic)) throw x;
        scan.log.print(`${x.message}\n`);
        error = { rc: null, node: x.node, message: x.message, panic: x.message };
        break;
      }
      if (rc !== 0) {
        const panic = `Early FDT parsing failed (${rc})`;
        scan.log.print(`${panic}\n`);
        error = { rc, node: scan.failNode ?? e.path, message: scan.failMsg, panic };
        const o = scan.failOverlap;
        if (o)
          error.overlap = {
            refused: {
              start: Number(o.start),
              size: Number(o.size),
              // A shm node refuses its own region; every other overlap check guards a reserved bank.
              kind: o.id === undefined ? "reserved" : "shm",
              path: error.node,
              ...(o.id === undefined ? {} : { id: o.id }),
            },
            other: o.other,
          };
        if (scan.failProp !== undefined) error.prop = scan.failProp;
        if (scan.failNote !== undefined) error.note = scan.failNote;
        break;
      }
    }
  }
  scan.log.flush();
  const dom0 = scan.hasDom0();
  scan.nodes.forEach((n, i) => {
    const e = scan.nodeEntries[i];
    if (e) n.mappedBy = shmPlacement(e, dom0).mappedBy;
  });

  const banks: ShmBank[] = scan.shm.map((b, index) => {
    const heap = b.start === INVALID_PADDR;
    return {
      index,
      id: b.id,
      start: heap ? null : Number(b.start),
      startBig: heap ? null : b.start,
      size: Number(b.size),
      sizeBig: b.size,
      nrBorrowers: b.nr,
      path: b.path,
    };
  });

  // early_print_info_shmem: the counter advances for every bank, so heap banks leave gaps.
  const bootLog: string[] = [];
  if (!error)
    scan.shm.forEach((b, i) => {
      if (b.start !== INVALID_PADDR)
        bootLog.push(
          ` SHMEM[${i}]: ${fmtPaddrBare(b.start)} - ${fmtPaddrBare(addU64(b.start, b.size) - 1n)}`,
        );
    });

  const result: ShmParseResult = {
    ok: error === undefined,
    banks,
    nodes: scan.nodes,
    log: scan.log.lines,
    bootLog,
    droppedModules: scan.dropped,
  };
  if (error) result.error = error;
  return result;
}
