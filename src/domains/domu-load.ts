/**
 * Loading a dom0less domU the way construct_domU and construct_domain do once the boot modules'
 * bytes are in host RAM: images placed in host RAM before Xen starts (QEMU's generic loader, or
 * `--load FILE@ADDR`), the kernel probe, guest RAM as Xen's scrub leaves it, kernel_load
 * (kernel_zimage_load), initrd_load (with the /chosen placeholders patched in place), dtb_load, and
 * the vCPUs' first register state.
 */

import { fmtPaddr, SshmError } from "../common/index.js";
import type { FdtTree } from "../fdt/index.js";
import { findNode, getProp, u32Cells } from "../fdt/index.js";
import {
  type KernelImage,
  type ModuleRange,
  type Placement,
  placeKernel,
  type ReadHost,
  U64,
  type VcpuBootState,
  vcpuBootState,
} from "../kernel/index.js";
import { p2m_ram_rw } from "../p2m/index.js";
import type { HostMemory } from "../pagealloc/index.js";
import type { Domain } from "./domain.js";

/** A file's bytes at a host physical address before Xen starts (`-device loader,file=,addr=`). */
export interface HostImage {
  readonly addr: number;
  readonly bytes: Uint8Array;
  /** Where the bytes came from, for messages. */
  readonly file: string;
}

/** SCRUB_BYTE_PATTERN (xen/include/xen/scrub.h) in a debug build; release builds clear pages. */
export const SCRUB_BYTE_PATTERN = 0xc2;

/** The build of Xen being modelled: what it leaves in guest RAM it never wrote (reference §2.3). */
export type XenBuild = "debug" | "release";

/** Every load inside host RAM, no two overlapping; then their bytes are written there. */
export function placeHostImages(
  mem: HostMemory,
  ram: readonly { start: number; size: number }[],
  images: readonly HostImage[],
): void {
  const sorted = [...images].sort((a, b) => a.addr - b.addr);
  for (const img of images) {
    const end = img.addr + img.bytes.length;
    if (!Number.isSafeInteger(img.addr) || img.addr < 0)
      throw new SshmError(
        "ELOAD_ADDR",
        `${img.file}: load address ${img.addr} is not a host physical address`,
      );
    const inRam = ram.some((b) => img.addr >= b.start && end <= b.start + b.size);
    if (!inRam)
      throw new SshmError(
        "ELOAD_NOT_RAM",
        `${img.file}: [${fmtPaddr(img.addr)}, ${fmtPaddr(end)}) is not inside host RAM (${ram.map((b) => `[${fmtPaddr(b.start)}, ${fmtPaddr(b.start + b.size)})`).join(", ") || "none"}): a loaded file must lie in one RAM bank`,
      );
  }
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (b.addr < a.addr + a.bytes.length)
      throw new SshmError(
        "ELOAD_OVERLAP",
        `${b.file} at ${fmtPaddr(b.addr)} overlaps ${a.file} at [${fmtPaddr(a.addr)}, ${fmtPaddr(a.addr + a.bytes.length)}): two loads cannot share host memory`,
      );
  }
  for (const img of images) mem.writeBytes(img.addr, img.bytes);
}

/** copy_from_paddr over host RAM; bytes outside RAM read as 0 here (Xen would map whatever is there). */
export function hostReader(mem: HostMemory): ReadHost {
  return (addr, len) => {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; ) {
      const a = Number((addr + BigInt(i)) & U64);
      const n = Math.min(len - i, 4096 - (a % 4096));
      try {
        mem.readInto(a, out.subarray(i, i + n));
      } catch {
        // not RAM: leave zeros
      }
      i += n;
    }
    return out;
  };
}

/**
 * copy_to_guest_phys_flush_dcache → copy_guest(COPY_to_guest | COPY_ipa): page by page through the
 * domain's p2m; a page that is not p2m_ram_rw (unmapped, foreign, MMIO) stops the copy. Returns the
 * number of bytes not copied (0 = done); the pages before the failure keep what was written.
 */
export function copyToGuestPhys(d: Domain, mem: HostMemory, gpa: bigint, bytes: Uint8Array): number {
  let addr = gpa & U64;
  let done = 0;
  while (done < bytes.length) {
    const offset = Number(addr & 0xfffn);
    const size = Math.min(bytes.length - done, 4096 - offset);
    const gfn = Number(addr >> 12n);
    const e = gfn < 2 ** 52 ? d.p2m.lookup(gfn) : undefined;
    if (!e || e.type !== p2m_ram_rw) return bytes.length - done;
    mem.writeBytes(e.mfn * 4096 + offset, bytes.subarray(done, done + size));
    done += size;
    addr = (addr + BigInt(size)) & U64;
  }
  return 0;
}

/** bootscrub= from xen,xen-bootargs (parse_bootscrub_param; the last one wins). */
export function bootscrubMode(xenBootargs: string | undefined): "off" | "on" | "idle" {
  let mode: "off" | "on" | "idle" = "idle";
  for (const w of (xenBootargs ?? "").split(/\s+/)) {
    if (w === "bootscrub") mode = "on";
    else if (w.startsWith("bootscrub=")) {
      const v = w.slice("bootscrub=".length);
      if (["0", "no", "off", "false", "disable"].includes(v)) mode = "off";
      else if (["1", "yes", "on", "true", "enable"].includes(v)) mode = "on";
      else if (v === "idle") mode = "idle";
    }
  }
  return mode;
}

/**
 * What a domain's heap RAM holds before Xen writes to it: with bootscrub=idle (the default) every
 * boot-time heap page is marked for scrubbing and scrubbed when allocated, to 0xc2 in a debug build
 * and 0 in a release one. With bootscrub=on the scrub runs only after the domains are built
 * (heap_init_late), with bootscrub=off never: the pages keep what they had. Static memory is not
 * scrubbed either way.
 */
/** scrub_one_page over a range of heap pages (bootscrub=idle only). */
export function scrubHostRange(
  mem: HostMemory,
  start: number,
  size: number,
  build: XenBuild,
  mode: "off" | "on" | "idle",
): void {
  if (mode === "idle") mem.fill(start, size, build === "debug" ? SCRUB_BYTE_PATTERN : 0);
}

export function scrubDomainRam(
  d: Domain,
  mem: HostMemory,
  build: XenBuild,
  mode: "off" | "on" | "idle",
  staticMem: boolean,
): void {
  if (mode !== "idle" || staticMem) return;
  const pattern = build === "debug" ? SCRUB_BYTE_PATTERN : 0;
  for (const c of d.ram) mem.fill(c.hstart, c.size, pattern);
}

/** The kernel as loaded: what the probe found, where it all went, and the vCPUs' first state. */
export interface DomUKernel {
  readonly image: KernelImage;
  readonly placement: Placement;
  readonly vcpus: readonly VcpuBootState[];
}

/** fdt_setprop_inplace of an 8-byte value in /chosen, in the blob and in its tree. */
function setChosenU64(dtb: Uint8Array, tree: FdtTree, name: string, value: bigint): boolean {
  const chosen = findNode(tree, "/chosen");
  const p = chosen ? getProp(chosen, name) : undefined;
  if (p === undefined || p.value.length !== 8) return false;
  const v = u32Cells(Number((value >> 32n) & 0xffff_ffffn), Number(value & 0xffff_ffffn));
  p.value = v;
  // The placeholder sits in the struct block: find its FDT_PROP by name (the strings block is after it).
  const dv = new DataView(dtb.buffer, dtb.byteOffset, dtb.byteLength);
  const offStruct = dv.getUint32(8);
  const offStrings = dv.getUint32(12);
  const want = new TextEncoder().encode(`${name}\0`);
  for (let at = offStruct; at + 12 <= offStrings; at += 4) {
    if (dv.getUint32(at) !== 3 || dv.getUint32(at + 4) !== 8) continue;
    const no = offStrings + dv.getUint32(at + 8);
    if (want.every((c, k) => dtb[no + k] === c)) {
      dtb.set(v, at + 12);
      return true;
    }
  }
  return false;
}

export type ConstructResult =
  | { readonly ok: true; readonly kernel: DomUKernel }
  | { readonly ok: false; readonly panic: string };

/**
 * construct_domain's kernel_load, initrd_load and dtb_load for a probed image, with Xen's log lines
 * pushed to `log` and its panics returned. `dtb` (and its tree) are patched for the initrd.
 */
export function constructDomUKernel(
  d: Domain,
  mem: HostMemory,
  image: KernelImage,
  initrd: ModuleRange | undefined,
  dt: { dtb: Uint8Array; tree: FdtTree },
  maxVcpus: number,
  log: string[],
): ConstructResult {
  const pd = `d${d.domid}`;
  const banks = d.ramBanks();
  const bank0 = banks[0];
  if (!bank0) return { ok: false, panic: `${pd} has no RAM bank to load a kernel into` };
  const read = hostReader(mem);
  const initrdSize = initrd ? Number(initrd.size) : 0;
  const p = placeKernel(
    image,
    { start: BigInt(bank0.start), size: BigInt(bank0.size) },
    dt.dtb.length,
    initrdSize,
  );
  if (!p.ok) return { ok: false, panic: p.panic };
  const hex = (v: bigint) => (v & U64).toString(16).padStart(16, "0");
  log.push(
    `Loading zImage from ${hex(image.kernelAddr)} to ${hex(p.loadAddr)}-${hex(p.loadAddr + image.len)}`,
  );
  // ioremap_wc + copy: the module's bytes as they are in host RAM.
  const kernel = read(image.kernelAddr, Number(image.len));
  if (copyToGuestPhys(d, mem, p.loadAddr, kernel) !== 0)
    return { ok: false, panic: `Unable to copy the kernel in the ${pd} memory` };
  if (initrd && initrd.size > 0n) {
    const end = p.initrdAddr + initrd.size;
    log.push(`Loading ${pd} initrd from ${hex(initrd.start)} to 0x${hex(p.initrdAddr)}-0x${hex(end)}`);
    if (!setChosenU64(dt.dtb, dt.tree, "linux,initrd-start", p.initrdAddr))
      return { ok: false, panic: 'Cannot fix up "linux,initrd-start" property' };
    if (!setChosenU64(dt.dtb, dt.tree, "linux,initrd-end", end))
      return { ok: false, panic: 'Cannot fix up "linux,initrd-end" property' };
    if (copyToGuestPhys(d, mem, p.initrdAddr, read(initrd.start, initrdSize)) !== 0)
      return { ok: false, panic: `Unable to copy the initrd in the ${pd} memory` };
  }
  log.push(`Loading ${pd} DTB to 0x${hex(p.dtbAddr)}-0x${hex(p.dtbAddr + BigInt(dt.dtb.length))}`);
  const left = copyToGuestPhys(d, mem, p.dtbAddr, dt.dtb);
  if (left !== 0)
    return { ok: false, panic: `Unable to copy the DTB to ${pd} memory (left = ${left} bytes)` };
  const vcpus: VcpuBootState[] = [];
  for (let i = 0; i < maxVcpus; i++) vcpus.push(vcpuBootState(i, p.entry, p.dtbAddr, image.is64));
  return { ok: true, kernel: { image, placement: p, vcpus } };
}
