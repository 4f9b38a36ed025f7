/**
 * DTS writer: prints a tree the way `dtc -I dtb -O dts` (1.6) does, so users can diff the two.
 * A tree holds raw bytes, not the types the source was written with, so each value's form is
 * guessed by dtc's rule: printable NUL-terminated text -> strings, a multiple of 4 bytes -> cells,
 * else bytes. One deliberate difference: a string list is printed `"a", "b"` (as newer dtc does)
 * rather than 1.6's `"a\0b"`.
 */

import type { FdtNode, FdtProperty, FdtTree } from "./tree.js";

/** C isprint() in the "C" locale. */
const isPrint = (c: number): boolean => c >= 0x20 && c <= 0x7e;
/** Control characters dtc still accepts inside a string (they have C escapes). */
const STRING_CONTROLS = new Set([7, 8, 9, 10, 11, 12, 13]);

export type ValueForm = "empty" | "string" | "cells" | "bytes";

/** dtc's guess_value_type for a property without type information. */
export function guessForm(v: Uint8Array): ValueForm {
  if (v.length === 0) return "empty";
  let notString = 0;
  let nuls = 0;
  for (const c of v) {
    if (c === 0) nuls++;
    else if (!isPrint(c) && !STRING_CONTROLS.has(c)) notString++;
  }
  if (v[v.length - 1] === 0 && notString === 0 && nuls <= v.length - nuls) return "string";
  if (v.length % 4 === 0) return "cells";
  return "bytes";
}

const ESCAPES: Record<number, string> = {
  7: "\\a",
  8: "\\b",
  9: "\\t",
  10: "\\n",
  11: "\\v",
  12: "\\f",
  13: "\\r",
  92: "\\\\",
  34: '\\"',
};

function quote(bytes: Uint8Array): string {
  let s = '"';
  for (const c of bytes) {
    const e = ESCAPES[c];
    if (e !== undefined) s += e;
    else if (isPrint(c)) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return `${s}"`;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, "0");

/** The text after the property name: ";" or " = <value>;". */
export function formatValue(v: Uint8Array): string {
  switch (guessForm(v)) {
    case "empty":
      return ";";
    case "string": {
      const parts: string[] = [];
      let start = 0;
      for (let i = 0; i < v.length; i++) {
        if (v[i] === 0) {
          parts.push(quote(v.subarray(start, i)));
          start = i + 1;
        }
      }
      return ` = ${parts.join(", ")};`;
    }
    case "cells": {
      const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
      const cells: string[] = [];
      for (let i = 0; i < v.length; i += 4) cells.push(`0x${hex2(dv.getUint32(i))}`);
      return ` = <${cells.join(" ")}>;`;
    }
    default:
      return ` = [${Array.from(v, hex2).join(" ")}];`;
  }
}

const labelPrefix = (labels: readonly string[]): string => labels.map((l) => `${l}: `).join("");

function writeProp(p: FdtProperty, indent: string): string {
  return `${indent}${labelPrefix(p.labels)}${p.name}${formatValue(p.value)}\n`;
}

function writeNode(n: FdtNode, level: number, out: string[]): void {
  const indent = "\t".repeat(level);
  const head = level === 0 ? "/" : `${labelPrefix(n.labels)}${n.name}`;
  out.push(`${indent}${head} {\n`);
  for (const p of n.props) out.push(writeProp(p, `${indent}\t`));
  for (const c of n.children) {
    out.push("\n");
    writeNode(c, level + 1, out);
  }
  out.push(`${indent}};\n`);
}

const hex16 = (n: number): string => `0x${n.toString(16).padStart(16, "0")}`;

/** Print a tree as DTS source that dtc (and parseDts) compile back to the same tree. */
export function printDts(tree: FdtTree): string {
  const out: string[] = ["/dts-v1/;\n\n"];
  for (const r of tree.memreserve) out.push(`/memreserve/\t${hex16(r.address)} ${hex16(r.size)};\n`);
  writeNode(tree.root, 0, out);
  // dtc's grammar has no place for a label on "/ {"; a labelled reference to the root path
  // attaches it without changing anything else.
  if (tree.root.labels.length > 0) out.push(`\n${labelPrefix(tree.root.labels)}&{/} {\n};\n`);
  return out.join("");
}
