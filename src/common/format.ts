/**
 * Number formatting the way Xen's printk prints it, so log lines compare byte for byte.
 * Xen on arm64: PRIpaddr is "016lx" (printed after a literal "0x"), PRI_mfn is "05lx".
 */

function hex(n: number | bigint): string {
  return (typeof n === "bigint" ? n : BigInt(n)).toString(16);
}

/** "0x%"PRIpaddr on arm64: 0x + 16 zero-padded lowercase hex digits. */
export function fmtPaddr(n: number | bigint): string {
  return `0x${hex(n).padStart(16, "0")}`;
}

/** "%"PRI_mfn: at least 5 lowercase hex digits, no prefix. */
export function fmtMfn(n: number | bigint): string {
  return hex(n).padStart(5, "0");
}

/** "%lx" / "%x": lowercase hex, no padding, no prefix. */
export function fmtHex(n: number | bigint): string {
  return hex(n);
}

/** "0x%lx": 0x + lowercase hex, no padding. */
export function fmt0x(n: number | bigint): string {
  return `0x${hex(n)}`;
}

/** Human size, e.g. 4096 -> "4 KiB", 0x20000000 -> "512 MiB". Exact values only; otherwise hex bytes. */
export function fmtSize(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (i < units.length - 1 && v >= 1024 && v % 1024 === 0) {
    v /= 1024;
    i++;
  }
  return `${v} ${units[i]}`;
}
