/**
 * Xen's p2m types and mem_access permissions, as plain numbers.
 *
 * The type is what Xen keeps in the software bits 58:55 of every stage-2 descriptor
 * (xen/arch/arm/include/asm/p2m.h `p2m_type_t`); the values must match Xen's so descriptor words
 * compare bit for bit. The access type is Xen's `p2m_access_t` (xen/include/xen/mem_access.h):
 * the low three bits are r/w/x with bitmask semantics, 8..10 are special "convert on access"
 * values. Both are numeric constants rather than TS enums so they cost nothing on hot paths and
 * survive `verbatimModuleSyntax`/`isolatedModules`.
 */

export const p2m_invalid = 0;
export const p2m_ram_rw = 1;
export const p2m_ram_ro = 2;
export const p2m_mmio_direct_dev = 3;
export const p2m_mmio_direct_nc = 4;
export const p2m_mmio_direct_c = 5;
export const p2m_map_foreign_rw = 6;
export const p2m_map_foreign_ro = 7;
export const p2m_grant_map_rw = 8;
export const p2m_grant_map_ro = 9;
export const p2m_iommu_map_rw = 10;
export const p2m_iommu_map_ro = 11;
/** First value that is not a real type; Xen never stores it (BUG() in p2m_set_permission). */
export const p2m_max_real_type = 12;

export type P2mType = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11;

/** Names indexed by type value, spelled as in Xen's source. */
export const P2M_TYPE_NAME: readonly string[] = Object.freeze([
  "p2m_invalid",
  "p2m_ram_rw",
  "p2m_ram_ro",
  "p2m_mmio_direct_dev",
  "p2m_mmio_direct_nc",
  "p2m_mmio_direct_c",
  "p2m_map_foreign_rw",
  "p2m_map_foreign_ro",
  "p2m_grant_map_rw",
  "p2m_grant_map_ro",
  "p2m_iommu_map_rw",
  "p2m_iommu_map_ro",
]);

/**
 * Name of a type value. The descriptor field is 4 bits wide, so 12..15 can appear in a corrupted
 * or foreign-written table; those are named "p2m_type_<n>" rather than rejected, because display
 * code must be able to show any descriptor.
 */
export function p2mTypeName(t: number): string {
  return P2M_TYPE_NAME[t] ?? `p2m_type_${t}`;
}

/** True for the twelve values Xen can store (0..11). */
export function isP2mType(t: number): t is P2mType {
  return Number.isInteger(t) && t >= 0 && t < p2m_max_real_type;
}

// Type groups, as Xen's p2m_to_mask() bitmaps (xen/arch/arm/include/asm/p2m.h).
const mask = (t: number): number => 1 << t;
const P2M_RAM_TYPES = mask(p2m_ram_rw) | mask(p2m_ram_ro);
const P2M_GRANT_TYPES = mask(p2m_grant_map_rw) | mask(p2m_grant_map_ro);
const P2M_FOREIGN_TYPES = mask(p2m_map_foreign_rw) | mask(p2m_map_foreign_ro);

/** `p2m_is_ram`: only ram_rw and ram_ro (foreign and grant mappings are *not* RAM here). */
export function p2m_is_ram(t: number): boolean {
  return (mask(t) & P2M_RAM_TYPES) !== 0;
}

/** `p2m_is_foreign`: map_foreign_rw/ro, the types whose pages hold a reference on another domain. */
export function p2m_is_foreign(t: number): boolean {
  return (mask(t) & P2M_FOREIGN_TYPES) !== 0;
}

/** `p2m_is_any_ram`: RAM, grant and foreign mappings, i.e. anything backed by a real RAM frame. */
export function p2m_is_any_ram(t: number): boolean {
  return (mask(t) & (P2M_RAM_TYPES | P2M_GRANT_TYPES | P2M_FOREIGN_TYPES)) !== 0;
}

// p2m_access_t (xen/include/xen/mem_access.h).
export const p2m_access_n = 0;
export const p2m_access_r = 1;
export const p2m_access_w = 2;
export const p2m_access_x = 4;
export const p2m_access_rw = 3;
export const p2m_access_rx = 5;
export const p2m_access_wx = 6;
export const p2m_access_rwx = 7;
/** Special: page goes from RX to RW on write (encoded like rx). */
export const p2m_access_rx2rw = 8;
/** Special: page goes from N to RWX on access (encoded like n). */
export const p2m_access_n2rwx = 9;
/** Special: like r, but CPU-initiated table walks may write (encoded like r on Arm). */
export const p2m_access_r_pw = 10;

export type P2mAccess = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

/** Xen's `p2m->default_access` when mem_access is not in use. */
export const P2M_DEFAULT_ACCESS: P2mAccess = p2m_access_rwx;

const ACCESS_NAMES: readonly string[] = Object.freeze([
  "p2m_access_n",
  "p2m_access_r",
  "p2m_access_w",
  "p2m_access_rw",
  "p2m_access_x",
  "p2m_access_rx",
  "p2m_access_wx",
  "p2m_access_rwx",
  "p2m_access_rx2rw",
  "p2m_access_n2rwx",
  "p2m_access_r_pw",
]);

export function p2mAccessName(a: number): string {
  return ACCESS_NAMES[a] ?? `p2m_access_${a}`;
}

export function isP2mAccess(a: number): a is P2mAccess {
  return Number.isInteger(a) && a >= 0 && a <= p2m_access_r_pw;
}
