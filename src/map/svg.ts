/**
 * The memory-map picture as SVG: the layout model (picture.ts) written out step by step — header,
 * legend, column heads, boxes, gap bands, connectors, address labels, issue marks and, for a
 * standalone SVG, the numbered list the markers refer to. The same drawing is embedded in the HTML
 * page, where tooltips come from data attributes instead of <title> elements.
 */

import { type Drawing, prepare } from "./drawing.js";
import type { Issue } from "./layout.js";
import type { MemoryMap } from "./model.js";
import {
  type Box,
  type Connector,
  layoutPicture,
  type Marker,
  PAD,
  type Picture,
  RED,
  type Text,
} from "./picture.js";
import type { Point } from "./route.js";
import { esc } from "./text.js";

const FONT = "DejaVu Sans, Arial, Helvetica, sans-serif";
const MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace";
/** Inside the HTML page the picture shrinks to the page width, but not below this share of its size (then it scrolls). */
const MIN_SCALE = 0.6;

/** How the renderer is used: standalone SVG, or the drawing inside the HTML page. */
export interface SvgOptions {
  /** Tooltips as data-tip attributes (for the page's script) and no warnings list inside the SVG. */
  embedded?: boolean;
}

/** Tooltip markup: a <title> child for a standalone SVG, a data-tip attribute inside the page. */
function tipAttr(opts: SvgOptions, tip: string, key?: string, links?: readonly string[]): string {
  let s = "";
  if (opts.embedded) s += ` data-tip="${esc(tip)}"`;
  if (key !== undefined) s += ` data-key="${esc(key)}"`;
  if (links !== undefined && links.length > 0) s += ` data-links="${esc(links.join(" "))}"`;
  return s;
}
const tipTitle = (opts: SvgOptions, tip: string) => (opts.embedded ? "" : `<title>${esc(tip)}</title>`);

function n(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function textEl(t: Text, extra = ""): string {
  const anchor = t.anchor === undefined ? "" : ` text-anchor="${t.anchor}"`;
  return `<text class="${t.cls}" x="${n(t.x)}" y="${n(t.y)}"${anchor}${extra}>${esc(t.text)}</text>`;
}

const DEFS = `<defs>
<pattern id="sshm-hatch-reserved" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#f0f0f0"/><line x1="0" y1="0" x2="0" y2="8" stroke="#8f8f8f" stroke-width="3"/></pattern>
<pattern id="sshm-hatch-module" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="8" height="8" fill="#f7efe0"/><line x1="0" y1="0" x2="0" y2="8" stroke="#b8915a" stroke-width="2"/></pattern>
<pattern id="sshm-dots" width="7" height="7" patternUnits="userSpaceOnUse"><circle cx="3.5" cy="3.5" r="1.3" fill="#ffffff" fill-opacity="0.85"/></pattern>
<pattern id="sshm-hatch-warn" width="7" height="7" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="7" stroke="${RED}" stroke-width="2" stroke-opacity="0.55"/></pattern>
</defs>`;

const STYLE = `<style>
.lbl{font:600 11px ${FONT};fill:#1a1a1a;dominant-baseline:middle;paint-order:stroke;stroke:#ffffff;stroke-width:3px;stroke-linejoin:round}
.sub{font:10px ${FONT};fill:#333333;dominant-baseline:middle;paint-order:stroke;stroke:#ffffff;stroke-width:3px;stroke-linejoin:round}
.addr{font:10px ${MONO};fill:#333333;dominant-baseline:middle;text-anchor:end;paint-order:stroke;stroke:#ffffff;stroke-width:3px;stroke-linejoin:round}
.gap{font:10px ${FONT};fill:#777777;dominant-baseline:middle}
.head{font:bold 13px ${FONT};fill:#111111;dominant-baseline:middle}
.headsub{font:11px ${FONT};fill:#666666;dominant-baseline:middle}
.title{font:bold 20px ${FONT};fill:#111111;dominant-baseline:middle}
.summary{font:12px ${FONT};fill:#444444;dominant-baseline:middle}
.legend{font:11px ${FONT};fill:#222222;dominant-baseline:middle}
.wtext{font:12px ${FONT};fill:#222222;dominant-baseline:middle}
.mnum{font:bold 11px ${FONT};fill:#ffffff;text-anchor:middle;dominant-baseline:central}
.verdict{font:bold 12px ${FONT};fill:#ffffff;text-anchor:middle;dominant-baseline:central}
</style>`;

const VERDICT: Record<MemoryMap["verdict"], { text: string; colour: string }> = {
  accepted: { text: "ACCEPTED", colour: "#2e7d32" },
  rejected: { text: "REJECTED", colour: RED },
  crash: { text: "XEN CRASH", colour: "#6a1b9a" },
};

/** Numbered red marker; its tooltip repeats the list entry it refers to. */
function markerEl(m: Pick<Marker, "cx" | "cy" | "r">, is: Issue, opts: SvgOptions): string {
  const tip = `${is.n}. ${is.code}: ${is.message}${is.node !== undefined ? ` (node ${is.node})` : ""}`;
  return `<g class="marker" data-n="${is.n}"${tipAttr(opts, tip)}>${tipTitle(opts, tip)}<circle cx="${n(m.cx)}" cy="${n(m.cy)}" r="${m.r}" fill="${RED}" stroke="#ffffff" stroke-width="1.5"/><text class="mnum" x="${n(m.cx)}" y="${n(m.cy)}">${is.n}</text></g>`;
}

function wrap(s: string, width: number): string[] {
  const words = s.split(/\s+/).filter((w) => w.length > 0);
  const lines: string[] = [];
  let cur = "";
  for (const w of words) {
    if (cur.length > 0 && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else cur = cur.length > 0 ? `${cur} ${w}` : w;
  }
  if (cur.length > 0) lines.push(cur);
  return lines.length > 0 ? lines : [""];
}

function drawHeader(out: string[], pic: Picture, map: MemoryMap, opts: SvgOptions): void {
  const v = VERDICT[map.verdict];
  out.push(
    `<g class="verdict-badge" data-verdict="${map.verdict}"><rect x="${PAD}" y="${PAD}" width="100" height="22" rx="11" fill="${v.colour}"/><text class="verdict" x="${PAD + 50}" y="${PAD + 11}">${v.text}</text></g>`,
    // Cut to the picture width; the full title stays in the document <title> and aria-label.
    textEl(pic.title),
    textEl(pic.summary),
  );
  for (const m of pic.headMarkers) out.push(markerEl(m, m.issue, opts));
}

function drawLegend(out: string[], pic: Picture): void {
  for (const it of pic.legend) {
    const dash = it.dash ? ` stroke-dasharray="${it.dash}"` : "";
    const sample =
      it.kind === "line"
        ? `<path d="M${it.x} ${it.y}h${it.w}" stroke="${it.stroke}" stroke-width="${it.strokeW}" fill="none"${dash}/>`
        : `<rect x="${it.x}" y="${it.y - 7}" width="${it.w}" height="14" fill="${it.fill}" stroke="${it.stroke}" stroke-width="${it.strokeW}"${dash}/>${
            it.overlay
              ? `<rect x="${it.x}" y="${it.y - 7}" width="${it.w}" height="14" fill="${it.overlay}"/>`
              : ""
          }`;
    out.push(`<g class="legend-item">${sample}${textEl(it.text)}</g>`);
  }
}

function drawColumnHeads(out: string[], pic: Picture): void {
  pic.cols.forEach((c, i) => {
    out.push(`<g class="column-head" data-col="${i}">${textEl(c.head)}${textEl(c.headSub)}</g>`);
  });
}

function drawBox(out: string[], b: Box, opts: SvgOptions): void {
  out.push(
    `<g class="${b.cls}" data-col="${b.col}"${tipAttr(opts, b.tip, b.key.startsWith("o") ? undefined : b.key, b.links)}>${tipTitle(opts, b.tip)}`,
  );
  const dash = b.dash !== undefined ? ` stroke-dasharray="${b.dash}"` : "";
  out.push(
    `<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.w)}" height="${n(b.h)}" fill="${b.fill}" stroke="${b.stroke}" stroke-width="${b.strokeW}"${dash}/>`,
  );
  if (b.overlay !== undefined)
    out.push(
      `<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.w)}" height="${n(b.h)}" fill="${b.overlay}" pointer-events="none"/>`,
    );
  if (b.label) out.push(textEl(b.label, b.role === "bank" ? ' pointer-events="none"' : ""));
  if (b.sub) out.push(textEl(b.sub));
  out.push("</g>");
}

function drawBreaks(out: string[], pic: Picture): void {
  for (const b of pic.breaks) {
    const q = b.w / 8;
    const wave = (y: number) =>
      `M${n(b.x)} ${n(y)}q${n(q)} -5 ${n(2 * q)} 0t${n(2 * q)} 0t${n(2 * q)} 0t${n(2 * q)} 0`;
    out.push(
      `<g class="break"><path d="${wave(b.y - 4)}${wave(b.y + 4)}" stroke="#aaaaaa" fill="none"/>${textEl(b.text, ' paint-order="stroke" stroke="#ffffff" stroke-width="4"')}</g>`,
    );
  }
}

/** An orthogonal polyline with its corners rounded (never more than half of either leg). */
export function roundedPath(pts: readonly Point[], radius = 5): string {
  let d = `M${n(pts[0]!.x)} ${n(pts[0]!.y)}`;
  for (let i = 1; i < pts.length - 1; i++) {
    const a = pts[i - 1]!;
    const p = pts[i]!;
    const b = pts[i + 1]!;
    const lin = Math.hypot(p.x - a.x, p.y - a.y);
    const lout = Math.hypot(b.x - p.x, b.y - p.y);
    const r = Math.min(radius, lin / 2, lout / 2);
    const p1 = { x: p.x - ((p.x - a.x) / lin) * r, y: p.y - ((p.y - a.y) / lin) * r };
    const p2 = { x: p.x + ((b.x - p.x) / lout) * r, y: p.y + ((b.y - p.y) / lout) * r };
    d += `L${n(p1.x)} ${n(p1.y)}Q${n(p.x)} ${n(p.y)} ${n(p2.x)} ${n(p2.y)}`;
  }
  const z = pts[pts.length - 1]!;
  return `${d}L${n(z.x)} ${n(z.y)}`;
}

function drawConnector(out: string[], c: Connector, opts: SvgOptions): void {
  const dash = c.dash !== undefined ? ` stroke-dasharray="${c.dash}"` : "";
  out.push(
    `<path class="map-line ${c.kind}" data-mapping="${esc(c.key)}" data-from="${esc(c.from)}"${tipAttr(opts, c.tip, c.key, c.links)} d="${roundedPath(c.points)}" fill="none" stroke="${c.colour}" stroke-width="${c.width}" stroke-opacity="${c.opacity}" stroke-linejoin="round"${dash}>${tipTitle(opts, c.tip)}</path>`,
  );
  const a = c.points[0]!;
  const z = c.points[c.points.length - 1]!;
  out.push(
    `<circle cx="${n(a.x)}" cy="${n(a.y)}" r="3" fill="${c.colour}" pointer-events="none"/><circle cx="${n(z.x)}" cy="${n(z.y)}" r="3" fill="${c.colour}" pointer-events="none"/>`,
  );
}

function drawAddressLabels(out: string[], pic: Picture): void {
  for (const a of pic.addrs) {
    const x = pic.cols[a.col]!.x;
    out.push(`<path d="M${x - 5} ${n(a.y)}h5" stroke="#555555"/>${textEl(a)}`);
  }
}

/** Red areas over the marked ranges, then the numbered markers on top. */
function drawIssues(out: string[], pic: Picture, opts: SvgOptions): void {
  for (const a of pic.warnAreas)
    out.push(
      `<rect class="warn-area${a.overlap ? " overlap" : ""}" data-n="${a.n}" x="${n(a.x)}" y="${n(a.y)}" width="${n(a.w)}" height="${n(a.h)}" fill="${a.overlap ? "url(#sshm-hatch-warn)" : RED}" fill-opacity="${a.overlap ? 1 : 0.15}" stroke="${RED}" stroke-width="2.5" pointer-events="none"/>`,
    );
  for (const m of pic.markers) out.push(markerEl(m, m.issue, opts));
}

/** The list the markers refer to, so a standalone SVG explains itself; returns the height used. */
function drawWarningList(out: string[], pic: Picture, issues: readonly Issue[], opts: SvgOptions): number {
  let y = pic.listY;
  out.push(`<text class="head" x="${PAD}" y="${y}">Warnings</text>`);
  y += 22;
  if (issues.length === 0) {
    out.push(`<text class="wtext" x="${PAD}" y="${y}">None.</text>`);
    y += 18;
  }
  const chars = Math.max(40, Math.floor((pic.width - 2 * PAD - 30) / 6.8));
  for (const is of issues) {
    out.push(markerEl({ cx: PAD + 9, cy: y, r: 9 }, is, opts));
    const text = `${is.code}: ${is.message}${is.node !== undefined ? ` (node ${is.node})` : ""}`;
    for (const line of wrap(text, chars)) {
      out.push(`<text class="wtext warning" data-n="${is.n}" x="${PAD + 26}" y="${y}">${esc(line)}</text>`);
      y += 17;
    }
    y += 5;
  }
  return y + PAD;
}

/** Draw the whole picture; `opts.embedded` is used by renderHtml. */
export function drawSvg(dr: Drawing, opts: SvgOptions = {}): string {
  const pic = layoutPicture(dr);
  const body: string[] = [];
  drawHeader(body, pic, dr.map, opts);
  drawLegend(body, pic);
  drawColumnHeads(body, pic);
  for (const b of pic.boxes) drawBox(body, b, opts);
  drawBreaks(body, pic);
  for (const c of pic.connectors) drawConnector(body, c, opts);
  drawAddressLabels(body, pic);
  drawIssues(body, pic, opts);
  const height = opts.embedded ? pic.height : drawWarningList(body, pic, dr.issues, opts);
  const { width } = pic;
  // In the page: as wide as its natural size or the page, whichever is smaller, down to MIN_SCALE.
  const fit = opts.embedded
    ? ` style="max-width:100%;height:auto;min-width:${Math.round(width * MIN_SCALE)}px"`
    : "";
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="sshm-map" width="${n(width)}" height="${n(height)}" viewBox="0 0 ${n(width)} ${n(height)}" role="img" aria-label="${esc(dr.map.title)}"${fit}>`,
    `<title>${esc(`${dr.map.title} (${dr.map.verdict})`)}</title>`,
    STYLE,
    DEFS,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...body,
    "</svg>",
  ].join("\n");
}

/** The memory map as a self-contained SVG document. */
export function renderSvg(map: MemoryMap): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${drawSvg(prepare(map))}\n`;
}
