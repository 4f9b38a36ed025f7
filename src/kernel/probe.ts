/**
 * kernel_probe (xen/common/device-tree/kernel.c) with the Arm probes it calls, in Xen's order
 * (xen/arch/arm/kernel.c): kernel_uimage_probe, then kernel_decompress (gzip), then
 * kernel_image_probe = kernel_zimage64_probe, then kernel_zimage32_probe. Each reads the module's
 * bytes in host RAM the way Xen's copy_from_paddr does, and fails with Xen's errno and message.
 *
 * Addresses and sizes are u64 in Xen (paddr_t) and are kept as bigint here: an image header can
 * hold any value, and Xen's arithmetic on it wraps at 2^64.
 */

/** UIMAGE_MAGIC, ZIMAGE64_MAGIC_V0/V1, ZIMAGE32_MAGIC (xen/arch/arm/kernel.c). */
export const UIMAGE_MAGIC = 0x27051956;
export const ZIMAGE64_MAGIC_V0 = 0x14000008;
export const ZIMAGE64_MAGIC_V1 = 0x644d5241;
export const ZIMAGE32_MAGIC = 0x016f2818;
const UIMAGE_HEADER = 64;
const ZIMAGE64_HEADER = 64;
const ZIMAGE32_HEADER_LEN = 0x30;
const IH_ARCH_ARM = 2;
const IH_ARCH_ARM64 = 22;
const IH_COMP_GZIP = 1;
const FDT_MAGIC = 0xd00dfeed;

const ENOENT = 2;
const EINVAL = 22;
const EOPNOTSUPP = 95;

export const U64 = (1n << 64n) - 1n;

/** What the probe found (kernel_info->image, type, entry). */
export interface KernelImage {
  readonly format: "Image" | "zImage" | "uImage";
  /** DOMAIN_64BIT / DOMAIN_32BIT. */
  readonly is64: boolean;
  /** image.kernel_addr: host address of the bytes kernel_zimage_load copies. */
  readonly kernelAddr: bigint;
  /** image.len: how many bytes it copies. */
  readonly len: bigint;
  /** image.text_offset (arm64 Image header; 0 for a uImage). */
  readonly textOffset: bigint;
  /** image.start: 0 = position independent, else the fixed load address (uImage, zImage32). */
  readonly start: bigint;
  /** info->entry: 0 = the load address (kernel_zimage_load), else the uImage's ep. */
  readonly entry: bigint;
}

export type ProbeResult =
  | { readonly ok: true; readonly image: KernelImage; readonly log: readonly string[] }
  /** kernel_probe returned rc < 0: construct_domU fails with it ("Could not set up domain ..."). */
  | { readonly ok: false; readonly rc: number; readonly log: readonly string[] }
  /** Xen would go on in a way sshm does not model (decompressing a gzip image into heap pages). */
  | { readonly ok: false; readonly rc: null; readonly unmodelled: string; readonly log: readonly string[] };

/** A boot module as Xen's module table has it: host start and size. */
export interface ModuleRange {
  readonly start: bigint;
  readonly size: bigint;
}

/** copy_from_paddr: `len` bytes of host memory at `addr`. */
export type ReadHost = (addr: bigint, len: number) => Uint8Array;

/** "%016lx" (PRIpaddr on arm64), no 0x. */
export function fmtPaddr16(v: bigint): string {
  return (v & U64).toString(16).padStart(16, "0");
}

const le32 = (b: Uint8Array, at: number) =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);
const be32 = (b: Uint8Array, at: number) =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, false);
const le64 = (b: Uint8Array, at: number) =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true);

/** gzip_check (xen/common/gzip/gunzip.c): 1f 8b, or 1f 9e. */
function gzipCheck(magic: Uint8Array, size: bigint): boolean {
  return size >= 2n && magic[0] === 0x1f && (magic[1] === 0x8b || magic[1] === 0x9e);
}

type Step =
  | { rc: number; log: string[] }
  | { image: KernelImage; log: string[] }
  | { unmodelled: string; log: string[] };

function kernelUimageProbe(mod: ModuleRange, read: ReadHost): Step {
  const log: string[] = [];
  if (mod.size < BigInt(UIMAGE_HEADER)) return { rc: -ENOENT, log };
  const h = read(mod.start, UIMAGE_HEADER);
  if (be32(h, 0) !== UIMAGE_MAGIC) return { rc: -ENOENT, log };
  const len = BigInt(be32(h, 12));
  if (len > mod.size - BigInt(UIMAGE_HEADER)) return { rc: -EINVAL, log };
  const comp = h[63]!;
  if (comp && comp !== IH_COMP_GZIP) {
    log.push(`Unsupported uImage compression type ${comp}`);
    return { rc: -EOPNOTSUPP, log };
  }
  const start = BigInt(be32(h, 16));
  const entry = BigInt(be32(h, 20));
  if (start === 0n) log.push("No load address provided. Xen will decide where to load it.");
  else log.push(`Provided load address: ${fmtPaddr16(start)} and entry address: ${fmtPaddr16(entry)}`);
  if (start === 0n && entry !== 0n) {
    log.push("Entry point cannot be non zero for PIE image.");
    return { rc: -EINVAL, log };
  }
  if (comp) {
    // kernel_decompress(mod, sizeof(uimage)): -EINVAL unless a gzip stream follows the header.
    const off = BigInt(UIMAGE_HEADER);
    if (mod.size - off < 2n || !gzipCheck(read(mod.start + off, 2), mod.size - off))
      return { rc: -EINVAL, log };
    return { unmodelled: GZIP_UNMODELLED, log };
  }
  const arch = h[29]!;
  let is64: boolean;
  if (arch === IH_ARCH_ARM) is64 = false;
  else if (arch === IH_ARCH_ARM64) is64 = true;
  else {
    log.push(`Unsupported uImage arch type ${arch}`);
    return { rc: -EINVAL, log };
  }
  // A uImage header wins over any zImage header behind it: text_offset is 0.
  return {
    image: { format: "uImage", is64, kernelAddr: mod.start + off64, len, textOffset: 0n, start, entry },
    log,
  };
}
const off64 = BigInt(UIMAGE_HEADER);

const GZIP_UNMODELLED =
  "the kernel module is gzip-compressed: Xen would inflate it into heap pages (kernel_decompress) before the domain's memory is allocated, which sshm does not model; load the uncompressed Image";

function kernelZimage64Probe(addr: bigint, size: bigint, read: ReadHost): KernelImage | null {
  if (size < BigInt(ZIMAGE64_HEADER)) return null;
  const h = read(addr, ZIMAGE64_HEADER);
  if (le32(h, 0) !== ZIMAGE64_MAGIC_V0 && le32(h, 0x38) !== ZIMAGE64_MAGIC_V1) return null;
  // "Currently there is no length in the header, so just use the size": image_size is ignored.
  return {
    format: "Image",
    is64: true,
    kernelAddr: addr,
    len: size,
    textOffset: le64(h, 8),
    start: 0n,
    entry: 0n,
  };
}

function kernelZimage32Probe(addr: bigint, size: bigint, read: ReadHost): KernelImage | null {
  if (size < BigInt(ZIMAGE32_HEADER_LEN)) return null;
  const h = read(addr, ZIMAGE32_HEADER_LEN);
  if (le32(h, 0x24) !== ZIMAGE32_MAGIC) return null;
  const start = le32(h, 0x28);
  let end = le32(h, 0x2c);
  // (end - start) is uint32_t arithmetic; the comparisons are with 64-bit paddr_t values.
  if (BigInt((end - start) >>> 0) > size) return null;
  // The appended-DTB check compares an absolute address with the module size (Xen's own code), so
  // it only holds for a module at a tiny host address.
  const tail = (addr + BigInt(end) - BigInt(start)) & U64;
  if (((tail + 8n) & U64) <= size) {
    const d = read(tail, 8);
    if (be32(d, 0) === FDT_MAGIC) {
      end = (end + be32(d, 4)) >>> 0;
      if (BigInt(end) > ((addr + size) & U64)) return null;
    }
  }
  return {
    format: "zImage",
    is64: false,
    kernelAddr: addr,
    len: BigInt((end - start) >>> 0),
    textOffset: 0n,
    start: BigInt(start),
    entry: 0n,
  };
}

/**
 * kernel_probe for a domU: `mod` is the domain's multiboot,kernel module (undefined when it has
 * none or Xen's module table dropped it), `initrd` its ramdisk module. `domName` is %pd ("d1").
 */
export function kernelProbe(
  mod: ModuleRange | undefined,
  initrd: ModuleRange | undefined,
  read: ReadHost,
  domName: string,
): ProbeResult {
  if (!mod || mod.size === 0n) return { ok: false, rc: -ENOENT, log: ["Missing kernel boot module?"] };
  const log = [`Loading ${domName} kernel from boot module @ ${fmtPaddr16(mod.start)}`];
  if (initrd) log.push(`Loading ramdisk from boot module @ ${fmtPaddr16(initrd.start)}`);
  const u = kernelUimageProbe(mod, read);
  log.push(...u.log);
  if ("image" in u) return { ok: true, image: u.image, log };
  if ("unmodelled" in u) return { ok: false, rc: null, unmodelled: u.unmodelled, log };
  if (u.rc !== -ENOENT) return { ok: false, rc: u.rc, log };
  // kernel_decompress(mod, 0): -EINVAL (not gzip) lets the probe go on.
  if (mod.size >= 2n && gzipCheck(read(mod.start, 2), mod.size))
    return { ok: false, rc: null, unmodelled: GZIP_UNMODELLED, log };
  const image =
    kernelZimage64Probe(mod.start, mod.size, read) ?? kernelZimage32Probe(mod.start, mod.size, read);
  // Neither header: -EINVAL, and Xen prints nothing more.
  if (!image) return { ok: false, rc: -EINVAL, log };
  return { ok: true, image, log };
}
