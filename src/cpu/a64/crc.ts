/**
 * CRC32 and CRC32C as the A64 CRC32* instructions compute them (aarch64/instrs/integer/crc):
 * BitReverse(Poly32Mod2(BitReverse(acc):Zeros(size) EOR BitReverse(val):Zeros(32), poly)), which
 * is the reflected, table-driven CRC over the value's bytes, least significant first, with no
 * initial or final inversion. Polynomials 0x04C11DB7 (CRC32) and 0x1EDC6F41 (CRC32C), reflected.
 */

function table(poly: number): Int32Array {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c;
  }
  return t;
}

const CRC32_TABLE = table(0xedb88320);
const CRC32C_TABLE = table(0x82f63b78);

/** Fold the low `bytes` bytes of `val` (1, 2 or 4) into `acc`. */
export function crc32Update(acc: number, val: number, bytes: number, castagnoli: boolean): number {
  const t = castagnoli ? CRC32C_TABLE : CRC32_TABLE;
  let c = acc;
  for (let i = 0; i < bytes; i++) c = t[(c ^ (val >>> (8 * i))) & 0xff]! ^ (c >>> 8);
  return c | 0;
}
