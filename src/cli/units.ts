/**
 * Parsing of the human units the CLI accepts: durations ("500ms", "2s", "1.5m") and byte sizes
 * ("64", "4k", "64KiB", "1M"). Sizes are binary (k = 1024): the simulator's payloads and Xen's
 * pages are powers of two, and "4k" meaning 4000 would never be what an integrator wants.
 */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/**
 * Milliseconds from "500ms", "2s", "1.5s", "1m". A bare number is refused: "2" read as 2 ms ran a
 * two-millisecond simulation for a user who meant two seconds, so the unit is required.
 */
export function parseDuration(text: string): number {
  const bare = /^\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  if (bare)
    throw new RangeError(`"${text}" has no unit: write ${bare[1]}s or ${bare[1]}ms (units: ms, s, m)`);
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*$/i.exec(text);
  if (!m) throw new RangeError(`"${text}" is not a duration (use e.g. 500ms, 2s, 1m)`);
  const ms = Number(m[1]) * (DURATION_UNITS[m[2]!.toLowerCase()] ?? 1);
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`"${text}" is not a positive duration`);
  return Math.round(ms);
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** Bytes from "64", "4k", "4K", "4KiB", "4kb", "1M", "0x1000". Throws on junk or fractions of a byte. */
export function parseSize(text: string): number {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t, 16);
  const m = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|(b))?$/i.exec(t);
  if (!m) throw new RangeError(`"${text}" is not a size (use e.g. 64, 4k, 64KiB)`);
  const unit = (m[2] ?? m[3] ?? "").toLowerCase();
  const bytes = Number(m[1]) * (SIZE_UNITS[unit] ?? 1);
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw new RangeError(`"${text}" is not a whole positive size`);
  return bytes;
}

/**
 * "FILE@ADDR" (QEMU's `-device loader,file=FILE,addr=ADDR`): the file and a host physical address,
 * hex with 0x or decimal. The last "@" splits, so a file name may contain one.
 */
export function parseLoad(text: string): { file: string; addr: number } {
  const at = text.lastIndexOf("@");
  const file = at > 0 ? text.slice(0, at) : "";
  const a = at > 0 ? text.slice(at + 1).trim() : "";
  if (!file || !a) throw new RangeError(`"${text}" is not FILE@ADDR (e.g. guest.bin@0x80000000)`);
  const addr = /^0x[0-9a-f]+$/i.test(a) ? Number.parseInt(a, 16) : /^\d+$/.test(a) ? Number(a) : Number.NaN;
  if (!Number.isSafeInteger(addr))
    throw new RangeError(`"${a}" in "${text}" is not an address (hex with 0x, or decimal, below 2^53)`);
  return { file, addr };
}

/** A positive integer option value ("--count 100"). */
export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) <= 0)
    throw new RangeError(`"${text}" is not a positive whole number`);
  return Number(text);
}

/**
 * A host RAM bank "BASE+SIZE" (`--host-ram 0x40000000+4G`): the base in hex or decimal, the size
 * as parseSize reads it. Both page aligned, as every RAM bank Xen's frame table covers.
 */
export function parseRamBank(text: string): { base: number; size: number } {
  const m = /^\s*(0x[0-9a-f]+|\d+)\s*\+\s*(\S+)\s*$/i.exec(text);
  if (!m) throw new RangeError(`"${text}" is not BASE+SIZE (e.g. 0x40000000+4G)`);
  const base = Number(m[1]);
  const size = parseSize(m[2]!);
  if (!Number.isSafeInteger(base) || !Number.isSafeInteger(base + size))
    throw new RangeError(`"${text}" ends past 2^53`);
  if (base % 4096 !== 0 || size % 4096 !== 0)
    throw new RangeError(`"${text}": base and size must be multiples of 4 KiB (whole pages)`);
  return { base, size };
}
