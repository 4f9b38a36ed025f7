/**
 * Where Xen puts a domU's kernel, DTB and initrd: kernel_zimage_place / kernel_zimage_place_in_bank
 * and place_dtb_initrd / first_bank_can_fit_modules / find_dtb_initrd_placement
 * (xen/arch/arm/kernel.c, HEAD), called from kernel_zimage_load. Only the first RAM bank counts.
 * u64 (paddr_t) arithmetic, wrapping as in C.
 */

import { type KernelImage, U64 } from "./probe.js";

const MB = (n: number) => BigInt(n) << 20n;
const SZ_2M = MB(2);
const INVALID_PADDR = U64;

/** ROUNDUP(x, a) for a power of two, in u64. */
const roundup = (x: bigint, a: bigint) => (x + a - 1n) & U64 & ~(a - 1n);

export interface Bank {
  readonly start: bigint;
  readonly size: bigint;
}

export interface Placement {
  /** Guest address the kernel is copied to, and its first instruction (info->entry). */
  readonly loadAddr: bigint;
  readonly entry: bigint;
  /** kinfo->dtb_paddr and kinfo->initrd_paddr. */
  readonly dtbAddr: bigint;
  readonly initrdAddr: bigint;
}

export type PlaceResult =
  | ({ readonly ok: true } & Placement)
  /** A direct panic() in Xen: the message is the panic line. */
  | { readonly ok: false; readonly panic: string };

/** kernel_zimage_place_in_bank: INVALID_PADDR when a position-independent zImage does not fit. */
export function kernelZimagePlaceInBank(image: KernelImage, bank: Bank): bigint {
  // A 64-bit image without a fixed address goes at bank start + text_offset: nothing is aligned
  // and nothing checks that it fits (the copy fails later if it does not).
  if (image.is64 && image.start === 0n) return (bank.start + image.textOffset) & U64;
  if (image.start === 0n) {
    // Documentation/arm/Booting: below 128 MiB, above 32 MiB, as high as possible, 2 MiB aligned.
    let loadEnd = (bank.start + bank.size) & U64;
    const b128 = (bank.start + MB(128)) & U64;
    if (b128 < loadEnd) loadEnd = b128;
    if (((loadEnd - bank.start) & U64) < image.len) return INVALID_PADDR;
    return (loadEnd - image.len) & U64 & ~(SZ_2M - 1n);
  }
  return image.start;
}

/** first_bank_can_fit_modules: the kernel (rounded up to 2 MiB) plus DTB+initrd within bank 0. */
export function firstBankCanFitModules(
  ramsize: bigint,
  kernbase: bigint,
  kernend: bigint,
  s: bigint,
): boolean {
  const kernsize = (roundup(kernend, SZ_2M) - kernbase) & U64;
  return ((s + kernsize) & U64) <= ramsize;
}

/**
 * find_dtb_initrd_placement: at bank start + 128 MiB if the bank reaches that far past it and the
 * kernel ends below it; else at the top of the bank if that stays above the 2 MiB-rounded kernel
 * end; else just below the kernel if there is room; else nowhere.
 */
export function findDtbInitrdPlacement(
  rambase: bigint,
  ramend: bigint,
  kernbase: bigint,
  kernend: bigint,
  s: bigint,
): bigint | null {
  const ram128mb = (rambase + MB(128)) & U64;
  if (ramend >= ((ram128mb + s) & U64) && kernend < ram128mb) return ram128mb;
  if (((ramend - s) & U64) > roundup(kernend, SZ_2M)) return (ramend - s) & U64;
  if (((kernbase - rambase) & U64) > s) return (kernbase - s) & U64;
  return null;
}

/**
 * kernel_zimage_load's placement decisions, in its order: kernel_zimage_place (panic if a
 * position-independent zImage does not fit), the entry point, then place_dtb_initrd for
 * [load_addr, load_addr + len) with the DTB's totalsize and the initrd's size.
 */
export function placeKernel(
  image: KernelImage,
  bank0: Bank,
  dtbSize: number,
  initrdSize: number,
): PlaceResult {
  const loadAddr = kernelZimagePlaceInBank(image, bank0);
  if (loadAddr === INVALID_PADDR)
    return { ok: false, panic: "Unable to find suitable location for the kernel" };
  const entry = image.entry === 0n ? loadAddr : image.entry;
  const kernbase = loadAddr;
  const kernend = (loadAddr + image.len) & U64;
  // place_dtb_initrd: both rounded up to 2 MiB ("Linux only requires 4 byte alignment").
  const initrdLen = roundup(BigInt(initrdSize), SZ_2M);
  const dtbLen = roundup(BigInt(dtbSize), SZ_2M);
  const s = (initrdLen + dtbLen) & U64;
  const rambase = bank0.start;
  const ramend = (bank0.start + bank0.size) & U64;
  if (!firstBankCanFitModules(bank0.size, kernbase, kernend, s))
    return { ok: false, panic: "Not enough memory in the first bank for the kernel+dtb+initrd" };
  const dtbAddr = findDtbInitrdPlacement(rambase, ramend, kernbase, kernend, s);
  if (dtbAddr === null) return { ok: false, panic: "Unable to find suitable location for dtb+initrd" };
  return { ok: true, loadAddr, entry, dtbAddr, initrdAddr: (dtbAddr + dtbLen) & U64 };
}
