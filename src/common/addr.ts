/**
 * Address and frame-number types. Host physical addresses (paddr, mfn) and guest physical
 * addresses (IPA, gfn) are kept apart by branded number types: free at run time, but the compiler
 * refuses to pass a gfn where an mfn is expected. All are plain numbers, exact up to 2^53.
 */

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Host (machine) physical address. */
export type Paddr = Brand<number, "paddr">;
/** Guest physical address (intermediate physical address, IPA). */
export type Ipa = Brand<number, "ipa">;
/** Machine frame number: host physical address >> 12. */
export type Mfn = Brand<number, "mfn">;
/** Guest frame number: IPA >> 12. */
export type Gfn = Brand<number, "gfn">;
/** Domain id. */
export type DomId = number;

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PAGE_MASK = PAGE_SIZE - 1;

/** Xen's system domain ids (xen/include/public/xen.h). */
export const DOMID_FIRST_RESERVED = 0x7ff0;
export const DOMID_SELF = 0x7ff0;
export const DOMID_IO = 0x7ff1;
export const DOMID_XEN = 0x7ff2;
export const DOMID_COW = 0x7ff3;
export const DOMID_INVALID = 0x7ff4;
export const DOMID_IDLE = 0x7fff;

export const paddr = (n: number): Paddr => n as Paddr;
export const ipa = (n: number): Ipa => n as Ipa;
export const mfn = (n: number): Mfn => n as Mfn;
export const gfn = (n: number): Gfn => n as Gfn;

/** Frame of a host address (floor). Uses division so it stays exact above 2^32. */
export const paddrToMfn = (a: Paddr | number): Mfn => Math.floor(a / PAGE_SIZE) as Mfn;
export const mfnToPaddr = (m: Mfn | number): Paddr => (m * PAGE_SIZE) as Paddr;
export const ipaToGfn = (a: Ipa | number): Gfn => Math.floor(a / PAGE_SIZE) as Gfn;
export const gfnToIpa = (g: Gfn | number): Ipa => (g * PAGE_SIZE) as Ipa;

/** True when a (non-negative, < 2^53) address or size is a multiple of 4 KiB. */
export const isPageAligned = (n: number): boolean => n % PAGE_SIZE === 0;

/** How Xen names a domain in log lines (%pd): "d0", "d1", "d[IO]", "d[XEN]". */
export function formatDomain(d: DomId): string {
  switch (d) {
    case DOMID_IO:
      return "d[IO]";
    case DOMID_XEN:
      return "d[XEN]";
    case DOMID_COW:
      return "d[COW]";
    case DOMID_IDLE:
      return "d[IDLE]";
    default:
      return `d${d}`;
  }
}

/**
 * Xen's guest memory layout on Arm (xen/include/public/arch-arm.h): where a domain that is not
 * direct-mapped gets its RAM — bank 0 first, then bank 1.
 */
export const GUEST_RAM0_BASE = 0x4000_0000;
export const GUEST_RAM0_SIZE = 0xc000_0000;
export const GUEST_RAM1_BASE = 0x02_0000_0000;
export const GUEST_RAM1_SIZE = 0xfe_0000_0000;
