/**
 * printk conversions used by the boot-time messages that src/common/format.ts does not cover.
 * Xen's vsprintf `number()` counts the "0x" of the `#` flag inside the field width and drops the
 * prefix entirely for 0, so "%#"PRIpaddr ("%#016lx" on arm64) prints 0x60000000 as
 * "0x00000060000000" (16 characters in all) and 0 as "0000000000000000".
 */

function hex(n: bigint | number): string {
  return (typeof n === "bigint" ? n : BigInt(n)).toString(16);
}

/** "%"PRIpaddr on arm64 ("%016lx"): 16 zero-padded lowercase hex digits, no prefix. */
export function fmtPaddrBare(n: bigint | number): string {
  return hex(n).padStart(16, "0");
}

/** "%#"PRIpaddr on arm64 ("%#016lx"): see the module comment. */
export function fmtPaddrAlt(n: bigint | number): string {
  const v = typeof n === "bigint" ? n : BigInt(n);
  if (v === 0n) return "0".repeat(16);
  return `0x${hex(v).padStart(14, "0")}`;
}
