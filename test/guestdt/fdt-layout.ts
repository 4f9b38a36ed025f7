/** Test helpers: read a DTB's header and struct tokens, and run the reference dtc. */
import { spawnSync } from "node:child_process";
import { expect } from "vitest";

export interface Header {
  magic: number;
  totalsize: number;
  offStruct: number;
  offStrings: number;
  offMemRsv: number;
  version: number;
  lastComp: number;
  bootCpuid: number;
  sizeStrings: number;
  sizeStruct: number;
}

export function header(b: Uint8Array): Header {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u = (i: number) => dv.getUint32(i * 4);
  return {
    magic: u(0),
    totalsize: u(1),
    offStruct: u(2),
    offStrings: u(3),
    offMemRsv: u(4),
    version: u(5),
    lastComp: u(6),
    bootCpuid: u(7),
    sizeStrings: u(8),
    sizeStruct: u(9),
  };
}

/** The strings block as [name, offset] in table order. */
export function stringTable(b: Uint8Array): [string, number][] {
  const h = header(b);
  const s = Buffer.from(b.subarray(h.offStrings, h.offStrings + h.sizeStrings)).toString("latin1");
  const out: [string, number][] = [];
  let at = 0;
  for (const name of s.split("\0").slice(0, -1)) {
    out.push([name, at]);
    at += name.length + 1;
  }
  return out;
}

/**
 * The struct block as readable tokens with property names resolved through nameoff, so blobs
 * whose string tables differ (libfdt's vs dtc's order) can be compared token for token.
 */
export function structTokens(b: Uint8Array): string[] {
  const h = header(b);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: string[] = [];
  let p = h.offStruct;
  const end = h.offStruct + h.sizeStruct;
  const cstr = (at: number) => {
    let e = at;
    while (b[e] !== 0) e++;
    return Buffer.from(b.subarray(at, e)).toString("latin1");
  };
  while (p < end) {
    const tag = dv.getUint32(p);
    p += 4;
    if (tag === 1) {
      const name = cstr(p);
      out.push(`begin ${JSON.stringify(name)}`);
      p += (name.length + 1 + 3) & ~3;
    } else if (tag === 3) {
      const len = dv.getUint32(p);
      const nameoff = dv.getUint32(p + 4);
      out.push(
        `prop ${cstr(h.offStrings + nameoff)} ${Buffer.from(b.subarray(p + 8, p + 8 + len)).toString("hex")}`,
      );
      p += 8 + ((len + 3) & ~3);
    } else if (tag === 2) out.push("end");
    else if (tag === 9) out.push("fdt_end");
    else throw new Error(`bad tag ${tag} at ${p - 4}`);
  }
  return out;
}

/** dtc -I dts -O dtb; fails (not skips) when dtc is missing or complains. */
export function dtcCompile(dts: string): Uint8Array {
  const r = spawnSync("dtc", ["-q", "-I", "dts", "-O", "dtb", "-"], { input: dts });
  if (r.error) throw new Error(`dtc is required (apt-get install device-tree-compiler): ${r.error.message}`);
  expect(r.stderr.toString()).toBe("");
  expect(r.status).toBe(0);
  return new Uint8Array(r.stdout);
}

/** dtc -I dtb -O dts: what the reference tool reads from a blob (must read it without a word). */
export function dtcDecompile(dtb: Uint8Array, warnings: readonly string[] = []): string {
  const r = spawnSync("dtc", ["-I", "dtb", "-O", "dts", "-"], { input: dtb });
  if (r.error) throw new Error(`dtc is required (apt-get install device-tree-compiler): ${r.error.message}`);
  expect(r.stderr.toString()).toBe(warnings.map((w) => `<stdout>: ${w}\n`).join(""));
  expect(r.status).toBe(0);
  return r.stdout.toString();
}
