/**
 * Where uboot-script-gen loads each file. Its rules, reproduced from the script:
 * - `memaddr` starts at MEMORY_START + 2 MiB (at least 0xC00000); that address takes the U-Boot
 *   script itself and the first file goes 2 MiB above it;
 * - `add_size`: after a file of `size` bytes the next address is the end rounded up to 2 MiB
 *   (`offset`), where `size` is the larger of the file's length and the size its arm64 Image header
 *   (magic "ARM\x64" at byte 56, image_size at byte 16) or arm32 zImage header (magic 0x016f2818
 *   at byte 36, end - start at bytes 44 and 40) claims — `get_image_size`;
 * - that next address is moved past every /reserved-memory range of DEVICE_TREE it touches
 *   (`fill_reserved_spaces_from_dtb`), testing `[next, next + size]` of the file just placed
 *   against `[start, end]`, both ends inclusive, and moving to `(end + 2 MiB) & ~(2 MiB - 1)`;
 * - after the last file, `MEMORY_END - memaddr - 2 MiB` must not be negative ("Error, not enough
 *   memory to load all binaries").
 */

/** uboot-script-gen's `offset`: the 2 MiB alignment of every load address. */
export const IMAGEBUILDER_OFFSET = 0x20_0000;
/** The lowest address the U-Boot script is loaded at (12 MiB). */
export const IMAGEBUILDER_MIN_SCRIPT_ADDR = 0xc0_0000;

const ARM64_MAGIC = 0x644d_5241;
const ARM32_MAGIC = 0x016f_2818;

/** `get_image_size`: the effective size an arm64/arm32 kernel header claims, 0 without one. */
export function headerImageSize(bytes: Uint8Array): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // `od -t x4` / `-t u8` read in the host's byte order: little-endian on the machines ImageBuilder runs on.
  if (bytes.length >= 60 && dv.getUint32(56, true) === ARM64_MAGIC && bytes.length >= 24) {
    const lo = dv.getUint32(16, true);
    const hi = dv.getUint32(20, true);
    return hi * 0x1_0000_0000 + lo;
  }
  if (bytes.length >= 48 && dv.getUint32(36, true) === ARM32_MAGIC) {
    const start = dv.getUint32(40, true);
    const end = dv.getUint32(44, true);
    return end - start;
  }
  return 0;
}

/** A host range from DEVICE_TREE's /reserved-memory, as fill_reserved_spaces_from_dtb keeps it. */
export interface ReservedSpace {
  start: number;
  size: number;
}

/** Rounds up to the next 2 MiB boundary the way the script's `(x + offset - 1) & ~(offset - 1)` does. */
function alignUp(x: number): number {
  return Math.floor((x + IMAGEBUILDER_OFFSET - 1) / IMAGEBUILDER_OFFSET) * IMAGEBUILDER_OFFSET;
}

/** The script's load-address cursor. */
export class LoadCursor {
  /** Where the U-Boot script itself is loaded (`uboot_addr`). */
  readonly scriptAddr: number;
  /** The address the next file is loaded at (`memaddr`). */
  addr: number;

  constructor(
    memoryStart: number,
    private readonly reserved: readonly ReservedSpace[],
  ) {
    let a = memoryStart + IMAGEBUILDER_OFFSET;
    if (a < IMAGEBUILDER_MIN_SCRIPT_ADDR) a = IMAGEBUILDER_MIN_SCRIPT_ADDR;
    this.scriptAddr = a;
    this.addr = a + IMAGEBUILDER_OFFSET;
  }

  /** `load_file` + `add_size`: place a file of `size` effective bytes; returns its address. */
  place(size: number): number {
    const at = this.addr;
    let next = alignUp(at + size);
    for (const r of this.reserved) {
      const end = r.start + r.size;
      // The script compares the next address with the size of the file just placed (sic).
      if (next <= end && next + size >= r.start)
        next = Math.floor((end + IMAGEBUILDER_OFFSET) / IMAGEBUILDER_OFFSET) * IMAGEBUILDER_OFFSET;
    }
    this.addr = next;
    return at;
  }
}
