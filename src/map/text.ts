/** Text helpers shared by the SVG and HTML renderers: escaping, short addresses, rough sizes. */

import { fmt0x, fmtSize } from "../common/index.js";

/**
 * Characters XML 1.0 forbids even when escaped (C0 controls other than tab/newline/return, lone
 * surrogates, U+FFFE/U+FFFF). Ids and labels come from user device trees, so they can hold anything;
 * one stray byte must not make the whole picture unreadable.
 */
const XML_INVALID =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Escape for XML/HTML text and double- or single-quoted attribute values. */
export function esc(s: string): string {
  return s
    .replace(XML_INVALID, "\ufffd")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Short address for labels: 0x60000000 (fmtPaddr without the 16-digit padding). */
export function addr(n: number): string {
  return fmt0x(n);
}

/** Exact size when it is a whole unit (fmtSize), otherwise a rounded one marked with "~". */
export function approxSize(n: number): string {
  const exact = fmtSize(n);
  if (!exact.endsWith(" B") || n < 1024) return exact;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n / 1024;
  let i = 0;
  while (i < units.length - 1 && v >= 1024) {
    v /= 1024;
    i++;
  }
  return `~${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** "[0x10000000, 0x20000000) 256 MiB" — half-open like Xen's own region messages. */
export function rangeText(start: number, size: number): string {
  return `[${addr(start)}, ${addr(start + size)}) ${approxSize(size)}`;
}

/** Cut a label to an estimated pixel width; the full text stays in the tooltip. */
export function clipText(s: string, px: number, fontSize: number): string {
  const max = Math.max(1, Math.floor(px / (fontSize * 0.6)));
  return s.length <= max ? s : `${s.slice(0, Math.max(1, max - 1))}…`;
}
