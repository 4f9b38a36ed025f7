/**
 * Text output for people: aligned tables, short addresses, human sizes and optional colour.
 * Colour is decided once per run (stdout a TTY and NO_COLOR unset) and passed down, so the same
 * functions produce plain text for pipes, tests and the JSON-free summary of `npm start`.
 */
import { fmtSize } from "../common/index.js";

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const ansi =
  (open: number, close: number) =>
  (s: string): string =>
    `\x1b[${open}m${s}\x1b[${close}m`;

export const PLAIN: Style = {
  bold: (s) => s,
  dim: (s) => s,
  red: (s) => s,
  green: (s) => s,
  yellow: (s) => s,
  cyan: (s) => s,
};

export const COLOUR: Style = {
  bold: ansi(1, 22),
  dim: ansi(2, 22),
  red: ansi(31, 39),
  green: ansi(32, 39),
  yellow: ansi(33, 39),
  cyan: ansi(36, 39),
};

/** https://no-color.org: any non-empty NO_COLOR turns colour off; otherwise colour only on a TTY. */
export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return PLAIN;
  return stream.isTTY === true ? COLOUR : PLAIN;
}

const ANSI_RE = /\x1b\[[0-9;]*m/g;

/** Printed width: escapes take no columns. */
function width(s: string): number {
  return s.replace(ANSI_RE, "").length;
}

/**
 * Rows under a header, columns padded to the widest cell. `right` names the columns aligned right
 * (numbers). The last column is not padded so lines carry no trailing blanks.
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  style: Style,
  right: ReadonlySet<number> = new Set(),
): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => width(r[c] ?? ""))));
  const line = (r: readonly string[], head: boolean): string =>
    r
      .map((cell, c) => {
        const pad = " ".repeat(Math.max(0, (widths[c] ?? 0) - width(cell)));
        const last = c === r.length - 1;
        const text = right.has(c) ? pad + cell : last ? cell : cell + pad;
        return head ? style.bold(text) : text;
      })
      .join("  ")
      .trimEnd();
  return [line(header, true), ...rows.map((r) => line(r, false))];
}

/** Short hex address for tables: "0x50000000". */
export function addr(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Inclusive range as Xen prints ranges ("start - end" with the last byte): "0x50000000-0x6fffffff". */
export function range(start: number, size: number): string {
  return size > 0 ? `${addr(start)}-${addr(start + size - 1)}` : `${addr(start)} (empty)`;
}

/** fmtSize, but sizes that are not exact multiples stay readable: "1.5 MiB (0x180000)". */
export function size(n: number): string {
  const exact = fmtSize(n);
  if (!exact.endsWith(" B") || n < 1024) return exact;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (i < units.length - 1 && v >= 1024) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]} (${addr(n)})`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function indent(lines: readonly string[], by = "  "): string[] {
  return lines.map((l) => (l === "" ? l : by + l));
}
