/** Shared test helpers: a loc-free view of a tree for equality checks, and a raw DTB builder. */

import { execFileSync, spawnSync } from "node:child_process";
import type { FdtNode, FdtTree } from "../../src/fdt/index.js";

export interface NodeShape {
  name: string;
  labels?: string[];
  props: { name: string; value: string; labels?: string[] }[];
  children: NodeShape[];
}

export interface TreeShape {
  memreserve: { address: number; size: number }[];
  bootCpuid: number;
  root: NodeShape;
}

const hexBytes = (v: Uint8Array): string => Buffer.from(v).toString("hex");

function nodeShape(n: FdtNode, withLabels: boolean): NodeShape {
  const s: NodeShape = {
    name: n.name,
    props: n.props.map((p) =>
      withLabels
        ? { name: p.name, value: hexBytes(p.value), labels: p.labels }
        : { name: p.name, value: hexBytes(p.value) },
    ),
    children: n.children.map((c) => nodeShape(c, withLabels)),
  };
  if (withLabels) s.labels = n.labels;
  return s;
}

/** The tree without source locations (and, unless asked, without labels, which DTBs lack). */
export function shape(t: FdtTree, withLabels = false): TreeShape {
  return {
    memreserve: t.memreserve.map((r) => ({ address: r.address, size: r.size })),
    bootCpuid: t.bootCpuid,
    root: nodeShape(t.root, withLabels),
  };
}

/** Where dtc is; fails loudly (rather than skipping) when it is missing. */
export function requireDtc(): string {
  try {
    execFileSync("dtc", ["--version"], { stdio: "pipe" });
    return "dtc";
  } catch {
    throw new Error(
      "dtc is not on PATH: install the device-tree-compiler package (apt-get install device-tree-compiler); " +
        "the interop tests need it",
    );
  }
}

export interface DtcResult {
  stdout: Buffer;
  stderr: string;
}

/**
 * Run dtc, capturing stderr even on success. With `input`, it is fed on stdin ("-" is appended
 * as the input file); otherwise the last argument names the input file.
 */
export function runDtc(args: string[], input?: Uint8Array | string): DtcResult {
  const r = spawnSync(
    "dtc",
    input === undefined ? args : [...args, "-"],
    input === undefined ? {} : { input },
  );
  if (r.error) throw r.error;
  const stderr = r.stderr.toString();
  if (r.status !== 0) throw new Error(`dtc ${args.join(" ")} failed (${r.status}): ${stderr}`);
  return { stdout: r.stdout, stderr };
}

// ---- raw DTB builder, for blobs the encoder would never write ----

export type StructItem = number | { name: string } | { bytes: Uint8Array };

export interface RawDtb {
  /** Memory reservation entries, written as given (add [0n, 0n] yourself to terminate). */
  rsv?: [bigint, bigint][];
  struct: StructItem[];
  strings?: string;
  version?: number;
  lastComp?: number;
  /** Header fields to overwrite after layout, by byte offset in the header. */
  patch?: Record<number, number>;
  /** Omit size_dt_struct (a v16 header, 36 bytes). */
  v16?: boolean;
}

export const TOK = { BEGIN: 1, END_NODE: 2, PROP: 3, NOP: 4, END: 9 } as const;

export function rawDtb(d: RawDtb): Uint8Array {
  const bytes: number[] = [];
  const pushPadded = (b: Uint8Array): void => {
    bytes.push(...b);
    while (bytes.length % 4) bytes.push(0);
  };
  for (const it of d.struct) {
    if (typeof it === "number") {
      pushPadded(new Uint8Array([it >>> 24, (it >>> 16) & 0xff, (it >>> 8) & 0xff, it & 0xff]));
    } else if ("name" in it) pushPadded(new TextEncoder().encode(`${it.name}\0`));
    else pushPadded(it.bytes);
  }
  const structBytes = Uint8Array.from(bytes);
  const strings = new TextEncoder().encode(d.strings ?? "");
  const rsv = d.rsv ?? [[0n, 0n]];
  // 40 even for a 36-byte v16 header, keeping the reservation block 8-byte aligned.
  const offRsv = 40;
  const offStruct = offRsv + rsv.length * 16;
  const offStrings = offStruct + structBytes.length;
  const total = offStrings + strings.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const hdr = [
    0xd00dfeed,
    total,
    offStruct,
    offStrings,
    offRsv,
    d.version ?? (d.v16 ? 16 : 17),
    d.lastComp ?? 16,
    0,
    strings.length,
    d.v16 ? 0 : structBytes.length,
  ];
  hdr.forEach((v, i) => {
    dv.setUint32(i * 4, v);
  });
  rsv.forEach(([a, s], i) => {
    dv.setBigUint64(offRsv + i * 16, a);
    dv.setBigUint64(offRsv + i * 16 + 8, s);
  });
  out.set(structBytes, offStruct);
  out.set(strings, offStrings);
  for (const [off, v] of Object.entries(d.patch ?? {})) dv.setUint32(Number(off), v);
  return out;
}

export function u32(v: number): { bytes: Uint8Array } {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v);
  return { bytes: b };
}
