/**
 * The memory-map picture as a layout model: every box, text, marker and connector with its place
 * and paint, in pixels, before any SVG is written. The renderer (svg.ts) only serialises it, and the
 * tests check its geometry (no connector over a box or a label).
 *
 * Steps, in order: the boxes of each column (host: RAM banks as background, regions and the frames
 * behind each domain's RAM in lanes; domains: one box per mapping), the issue markers and address
 * labels, where each connector leaves the host and enters its box, the route plan (route.ts), then
 * the columns' x positions, the header and legend above, and everything moved into place.
 */

import { type Column, contains, type Drawing, hostKey, hostTip, mappingKey, mappingTip } from "./drawing.js";
import type { Issue, Lane, Span } from "./layout.js";
import { assignLanes, isDomIo, regionId, spanOf } from "./layout.js";
import type { MapDomain, MapMapping } from "./model.js";
import { GUTTER_PAD, type Point, placeRoute, planRoutes, type RouteRequest, TRACK_SP } from "./route.js";
import { addr, approxSize, clipText } from "./text.js";

export const PAD = 24;
export const HOST_W = 200;
export const DOM_W = 160;
/** Left strip of a host RAM bank kept visible next to the regions drawn inside it. */
const RAM_STRIP = 26;
export const RED = "#d62728";
export const RAM_FILL = "#d9d9d9";
/** The narrowest a picture gets, so the title and legend have room. */
const MIN_WIDTH = 900;
/** Width the picture may take in the HTML page of a 1400 px window (body padding and border off). */
const PAGE_W = 1350;
/** Widest spacing of parallel runs, when the picture has room to spare. */
const MAX_TRACK_SP = 11;
/** Space between a gutter's last track and the next column's address labels. */
const LABEL_GAP = 8;
/** Address labels: 10px monospace (DejaVu Sans Mono advances 0.602 em), right-aligned this far left of the column. */
const ADDR_OFF = 7;
const MARKER_R = 9;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A line of text, anchored at (x, y) with dominant-baseline middle; `box` is the space it takes. */
export interface Text {
  x: number;
  y: number;
  text: string;
  cls: string;
  anchor?: "middle" | "end";
  box: Rect;
}

export type BoxRole = "bank" | "orphan" | "backing" | "region" | "mapping";

export interface Box extends Rect {
  col: number;
  role: BoxRole;
  /** What it stands for: "h<i>" a host region, "m<d>-<j>" a mapping (its guest range, or the host frames behind a RAM mapping), "o<i>" host frames no region describes. */
  key: string;
  fill: string;
  stroke: string;
  strokeW: number;
  dash?: string;
  overlay?: string;
  cls: string;
  tip: string;
  links?: string[];
  label?: Text;
  sub?: Text;
}

export interface Connector {
  /** The mapping it draws, "m<d>-<j>". */
  key: string;
  /** Key of the host box it leaves from and of the domain box it enters. */
  from: string;
  to: string;
  points: Point[];
  kind: "ram" | "shm";
  colour: string;
  width: number;
  opacity: number;
  dash?: string;
  tip: string;
  links: string[];
  /**
   * True when the box is a middle lane of three or more overlapping ranges with no free side: the
   * line then crosses the neighbouring lanes of that overlap (all of them marked in red).
   */
  crossesOverlap: boolean;
}

export interface Marker {
  cx: number;
  cy: number;
  r: number;
  issue: Issue;
  box: Rect;
}

export interface WarnArea extends Rect {
  n: number;
  overlap: boolean;
}

export interface Break {
  col: number;
  x: number;
  y: number;
  w: number;
  text: Text;
}

export interface LegendItem {
  /** Swatch or line sample. */
  kind: "swatch" | "line";
  x: number;
  y: number;
  w: number;
  fill?: string;
  stroke: string;
  strokeW: number;
  dash?: string;
  overlay?: string;
  text: Text;
}

export interface PlacedColumn extends Column {
  x: number;
  w: number;
  head: Text;
  headSub: Text;
}

export interface Picture {
  width: number;
  height: number;
  /** y of address 0 of the columns' scales. */
  top: number;
  cols: PlacedColumn[];
  title: Text;
  summary: Text;
  /** Markers of issues that mark no range, next to the summary line. */
  headMarkers: Marker[];
  legend: LegendItem[];
  boxes: Box[];
  breaks: Break[];
  addrs: (Text & { col: number })[];
  connectors: Connector[];
  warnAreas: WarnArea[];
  markers: Marker[];
  /** y where a list of the warnings can start (below everything drawn). */
  listY: number;
}

/** Estimated advance per character, in em: DejaVu Sans regular, bold, and Mono. */
const EM = { regular: 0.6, bold: 0.66, mono: 0.602 } as const;
const CLASS_FONT: Record<string, { size: number; em: number }> = {
  lbl: { size: 11, em: EM.bold },
  sub: { size: 10, em: EM.regular },
  addr: { size: 10, em: EM.mono },
  gap: { size: 10, em: EM.regular },
  head: { size: 13, em: EM.bold },
  headsub: { size: 11, em: EM.regular },
  title: { size: 20, em: EM.bold },
  summary: { size: 12, em: EM.regular },
  legend: { size: 11, em: EM.regular },
};

/** Place a text and reserve its space (baseline "middle": half the size above and below, plus 1px). */
export function text(x: number, y: number, s: string, cls: string, anchor?: "middle" | "end"): Text {
  const f = CLASS_FONT[cls] ?? { size: 11, em: EM.regular };
  const w = s.length * f.size * f.em;
  const bx = anchor === "middle" ? x - w / 2 : anchor === "end" ? x - w : x;
  return {
    x,
    y,
    text: s,
    cls,
    ...(anchor === undefined ? {} : { anchor }),
    box: { x: bx, y: y - f.size / 2 - 1, w, h: f.size + 2 },
  };
}

/** Cut `s` to fit `px` at the class's font (the full text stays in the tooltip). */
function fitText(s: string, px: number, cls: string): string {
  const f = CLASS_FONT[cls] ?? { size: 11, em: EM.regular };
  return clipText(s, px, f.size * (f.em / 0.6));
}

/** A box before the columns have their x: x is from the column's left edge, y from its top. */
type RelBox = Omit<Box, "label" | "sub"> & {
  labelText?: string;
  subText?: string;
  /** A RAM bank's label goes in its tallest free stretch: its y, relative. */
  labelAt?: number;
};

interface Ctx {
  dr: Drawing;
  widths: number[];
  /** Relative y of an address in column c. */
  Y(c: number, a: number): number;
}

function hostBoxes(cx: Ctx): RelBox[] {
  const { dr } = cx;
  const { map, colours } = dr;
  const W = cx.widths[0]!;
  const out: RelBox[] = [];
  const hostIdx = map.host.map((r, i) => ({ r, i }));
  const rams = hostIdx.filter(({ r }) => r.kind === "ram");
  const others = hostIdx.filter(({ r }) => r.kind !== "ram");
  const otherSpans = others.map(({ r }) => spanOf(r.start, r.size));
  // The frames behind each domain's RAM share lanes with the host regions, so the host column
  // shows who uses which part of a bank and a clash with a region stands side by side.
  const ramBacking: { d: MapDomain; k: number; j: number; s: Span }[] = [];
  map.domains.forEach((d, k) => {
    d.mappings.forEach((m, j) => {
      if (m.kind === "ram") ramBacking.push({ d, k, j, s: spanOf(m.hstart, m.size) });
    });
  });
  const ramLanes = assignLanes(rams.map(({ r }) => spanOf(r.start, r.size)));
  const inner = [...otherSpans, ...ramBacking.map((b) => b.s)];
  rams.forEach(({ r, i }, k) => {
    const s = spanOf(r.start, r.size);
    const lane = ramLanes[k]!;
    const w = W / lane.lanes;
    const y0 = cx.Y(0, s.start);
    // Label the bank in its tallest stretch not covered by a region drawn inside it.
    let best: { y: number; h: number } | undefined;
    let run: { y: number; h: number } | undefined;
    for (const p of dr.cols[0]!.scale.pieces) {
      if (p.start < s.start || p.end > s.end) continue;
      if (inner.some((o) => contains(o, p))) run = undefined;
      else if (run && Math.abs(run.y + run.h - p.y) < 0.01) run.h += p.h;
      else run = { y: p.y, h: p.h };
      if (run && (!best || run.h > best.h)) best = { ...run };
    }
    out.push({
      col: 0,
      role: "bank",
      key: hostKey(i),
      x: lane.lane * w,
      y: y0,
      w,
      h: cx.Y(0, s.end) - y0,
      fill: RAM_FILL,
      stroke: "#9a9a9a",
      strokeW: 1,
      cls: "region ram",
      tip: hostTip(dr, r),
      ...(best && best.h >= 14 ? { labelText: r.label, labelAt: best.y + best.h / 2 } : {}),
    });
  });
  // Host frames a mapping uses that no host region describes: an empty dashed outline underneath.
  const regionSpans = map.host.map((r) => spanOf(r.start, r.size));
  const orphans = new Map<string, Span>();
  for (const d of map.domains)
    for (const m of d.mappings) {
      const s = spanOf(m.hstart, m.size);
      if (!regionSpans.some((o) => contains(o, s))) orphans.set(`${s.start}:${s.end}`, s);
    }
  [...orphans.values()].forEach((s, q) => {
    const y0 = cx.Y(0, s.start);
    out.push({
      col: 0,
      role: "orphan",
      key: `o${q}`,
      x: 0,
      y: y0,
      w: W,
      h: cx.Y(0, s.end) - y0,
      fill: "#ffffff",
      stroke: "#888888",
      strokeW: 1,
      dash: "4 3",
      cls: "region orphan",
      tip: `host ${addr(s.start)}-${addr(s.end)} (${approxSize(s.end - s.start)})\nmapped by a domain but not described by any host region`,
    });
  });
  const lanes = assignLanes(inner);
  const laneBox = (lane: Lane, s: Span) => {
    const w = (W - RAM_STRIP) / lane.lanes;
    const y0 = cx.Y(0, s.start);
    return {
      x: RAM_STRIP + lane.lane * w,
      y: y0,
      w: w - (lane.lanes > 1 ? 2 : 0),
      h: cx.Y(0, s.end) - y0,
    };
  };
  ramBacking.forEach(({ d, k, j, s }, q) => {
    out.push({
      col: 0,
      role: "backing",
      key: mappingKey(k, j),
      ...laneBox(lanes[others.length + q]!, s),
      fill: "#ececec",
      stroke: "#9a9a9a",
      strokeW: 1,
      labelText: `${d.name} RAM`,
      cls: "backing ram",
      tip: mappingTip(dr, d, d.mappings[j]!),
    });
  });
  others.forEach(({ r, i }, k) => {
    const id = regionId(r);
    const b: RelBox = {
      col: 0,
      role: "region",
      key: hostKey(i),
      ...laneBox(lanes[k]!, spanOf(r.start, r.size)),
      fill: "#ffffff",
      stroke: "#666666",
      strokeW: 1,
      labelText: r.label,
      cls: `region ${r.kind}`,
      tip: hostTip(dr, r),
    };
    if (r.kind === "reserved") b.fill = "url(#sshm-hatch-reserved)";
    else if (r.kind === "module") {
      b.fill = "url(#sshm-hatch-module)";
      b.stroke = "#8a6d3b";
    } else if (id !== undefined) {
      const owner = r.owner ?? dr.owners.get(id);
      b.fill = colours.get(id) ?? "#9e9e9e";
      b.labelText = id;
      b.stroke = "#222222";
      b.strokeW = 2;
      if (owner === undefined) {
        b.dash = "5 3";
        b.stroke = "#777777";
        b.strokeW = 1;
      } else if (isDomIo(owner)) b.dash = "2 2";
      const heap = r.kind === "heap-shm";
      if (heap) b.overlay = "url(#sshm-dots)";
      const ownerText = owner === undefined ? "none" : isDomIo(owner) ? "d[IO]" : owner;
      b.subText =
        r.stage === "refused"
          ? "refused by Xen"
          : `${heap ? "heap · " : ""}${r.stage === "parsed" ? "parsed · " : ""}owner ${ownerText}`;
      b.cls += ` shm${owner !== undefined && isDomIo(owner) ? " dom_io" : ""}`;
    }
    if (r.stage !== undefined) b.cls += ` ${r.stage}`;
    out.push(b);
  });
  return out;
}

function domainBoxes(cx: Ctx): { boxes: RelBox[]; lanes: Lane[][] } {
  const { dr } = cx;
  const out: RelBox[] = [];
  const allLanes: Lane[][] = [];
  dr.map.domains.forEach((d, k) => {
    const W = cx.widths[k + 1]!;
    const lanes = assignLanes(d.mappings.map((m) => spanOf(m.gstart, m.size)));
    allLanes.push(lanes);
    d.mappings.forEach((m, j) => {
      const s = spanOf(m.gstart, m.size);
      const lane = lanes[j]!;
      const w = W / lane.lanes;
      const y0 = cx.Y(k + 1, s.start);
      const key = mappingKey(k, j);
      const b: RelBox = {
        col: k + 1,
        role: "mapping",
        key,
        x: lane.lane * w,
        y: y0,
        w: w - (lane.lanes > 1 ? 2 : 0),
        h: cx.Y(k + 1, s.end) - y0,
        fill: RAM_FILL,
        stroke: "#9a9a9a",
        strokeW: 1,
        labelText: "RAM",
        subText: `→ ${addr(m.hstart)}`,
        cls: `mapping ${m.kind}`,
        tip: mappingTip(dr, d, m),
        links: dr.mappingLinks.get(key) ?? [],
      };
      if (m.kind === "shm") {
        b.fill = dr.colours.get(m.id ?? "") ?? "#9e9e9e";
        b.labelText = m.id ?? "shm";
        b.stroke = "#222222";
        b.strokeW = m.role === "owner" ? 2.5 : 1.5;
        if (m.role === "borrower") b.dash = "6 3";
        else if (m.role === "dom_io-borrower") b.dash = "9 3 2 3";
        b.subText = m.role === "dom_io-borrower" ? "borrower (owner d[IO])" : (m.role ?? "shm");
        b.cls += ` ${m.role ?? "norole"}`;
      }
      out.push(b);
    });
  });
  return { boxes: out, lanes: allLanes };
}

/** Address labels at every range boundary, left of each column (relative y; x from the column). */
function addressLabels(cx: Ctx): { col: number; y: number; text: string }[] {
  const out: { col: number; y: number; text: string }[] = [];
  cx.dr.cols.forEach((c, col) => {
    let prevY = Number.NEGATIVE_INFINITY;
    for (const a of c.scale.boundaries()) {
      const y = c.scale.y(a);
      if (y - prevY < 11) continue;
      prevY = y;
      out.push({ col, y, text: addr(a) });
    }
  });
  return out;
}

/** Red areas over marked ranges, and a numbered marker inside the column at each one's top right. */
function issueMarks(cx: Ctx): {
  areas: (WarnArea & { col: number })[];
  markers: (Marker & { col: number })[];
} {
  const areas: (WarnArea & { col: number })[] = [];
  const markers: (Marker & { col: number })[] = [];
  for (const is of cx.dr.issues) {
    for (const m of is.marks) {
      if (!cx.dr.cols[m.col]) continue;
      const W = cx.widths[m.col]!;
      const y0 = cx.Y(m.col, m.start);
      const h = Math.max(cx.Y(m.col, m.end) - y0, 4);
      areas.push({ col: m.col, x: -3, y: y0, w: W + 6, h, n: is.n, overlap: m.overlap === true });
      const cy = y0 + Math.min(MARKER_R + 1, h / 2);
      let k = 0;
      while (
        markers.some(
          (p) => p.col === m.col && Math.abs(p.cx - (W - 12 - k * 20)) < 1 && Math.abs(p.cy - cy) < 20,
        )
      )
        k++;
      const mx = W - 12 - k * 20;
      markers.push({
        col: m.col,
        cx: mx,
        cy,
        r: MARKER_R,
        issue: is,
        box: { x: mx - MARKER_R, y: cy - MARKER_R, w: 2 * MARKER_R, h: 2 * MARKER_R },
      });
    }
  }
  return { areas, markers };
}

/** Free sub-intervals of [lo, hi] once the `blocked` intervals are taken out. */
function freeIntervals(lo: number, hi: number, blocked: readonly [number, number][]): [number, number][] {
  let free: [number, number][] = [[lo, hi]];
  for (const [a, b] of blocked)
    free = free.flatMap(([x, y]) => {
      if (b <= x || a >= y) return [[x, y] as [number, number]];
      const parts: [number, number][] = [];
      if (a > x) parts.push([x, a]);
      if (b < y) parts.push([b, y]);
      return parts;
    });
  return free.filter(([x, y]) => y - x > 0.5);
}

/** `count` points spread evenly over the free intervals (over [lo, hi] when nothing is free). */
function spread(lo: number, hi: number, free: [number, number][], count: number): number[] {
  const parts = free.length > 0 ? free : [[lo, hi] as [number, number]];
  const total = parts.reduce((s, [a, b]) => s + (b - a), 0);
  return Array.from({ length: count }, (_, i) => {
    let at = (total * (i + 1)) / (count + 1);
    for (const [a, b] of parts) {
      if (at <= b - a) return a + at;
      at -= b - a;
    }
    return hi;
  });
}

/** Half-height of an address label's band, plus the half width of the thickest line. */
const LABEL_BAND = 6 + 1.5;

interface Endpoints {
  reqs: RouteRequest[];
  meta: { key: string; from: string; to: string; m: MapMapping; d: MapDomain; crossesOverlap: boolean }[];
}

/**
 * Where each mapping's line leaves the host and enters its box. It leaves the host column's right
 * edge within the host range it maps (lines sharing one range spread over it), where no lane to the
 * right of its own box covers it; it enters the left edge of its box, or the right edge when the box
 * is the last of several lanes, between the column's address labels and clear of other lanes.
 */
function endpoints(
  cx: Ctx,
  boxes: readonly RelBox[],
  lanes: Lane[][],
  labels: readonly { col: number; y: number }[],
): Endpoints {
  const { dr } = cx;
  const reqs: RouteRequest[] = [];
  const meta: Endpoints["meta"] = [];
  const byKey = (col: number, key: string) => boxes.find((b) => b.col === col && b.key === key);
  const hostInner = boxes.filter((b) => b.col === 0 && (b.role === "backing" || b.role === "region"));
  const fanCount = new Map<string, number>();
  for (const d of dr.map.domains)
    for (const m of d.mappings)
      fanCount.set(`${m.hstart}:${m.size}`, (fanCount.get(`${m.hstart}:${m.size}`) ?? 0) + 1);
  const fanNext = new Map<string, number>();
  const exits = new Map<string, number[]>();
  dr.map.domains.forEach((d, k) => {
    d.mappings.forEach((m, j) => {
      const key = mappingKey(k, j);
      const hs = spanOf(m.hstart, m.size);
      // The host box this line leaves: the frames behind a RAM mapping, else the region holding it.
      let from =
        m.kind === "ram"
          ? byKey(0, key)
          : hostInner.find(
              (b) =>
                b.role === "region" &&
                (dr.mappingLinks.get(key) ?? []).includes(b.key) &&
                b.y <= cx.Y(0, hs.start) + 0.01 &&
                b.y + b.h >= cx.Y(0, hs.end) - 0.01,
            );
      from ??= boxes.find(
        (b) =>
          b.col === 0 &&
          b.role === "orphan" &&
          b.y <= cx.Y(0, hs.start) + 0.01 &&
          b.y + b.h >= cx.Y(0, hs.end) - 0.01,
      );
      from ??= boxes.find((b) => b.col === 0 && (dr.mappingLinks.get(key) ?? []).includes(b.key));
      const lo = cx.Y(0, hs.start);
      const hi = cx.Y(0, hs.end);
      const fk = `${m.hstart}:${m.size}`;
      if (!exits.has(fk)) {
        const right = from ? from.x + from.w : cx.widths[0]!;
        const blocked = hostInner
          .filter((b) => b !== from && b.x >= right - 0.5 && b.y < hi && b.y + b.h > lo)
          .map((b) => [b.y, b.y + b.h] as [number, number]);
        exits.set(fk, spread(lo, hi, freeIntervals(lo, hi, blocked), fanCount.get(fk) ?? 1));
      }
      const idx = fanNext.get(fk) ?? 0;
      fanNext.set(fk, idx + 1);
      const hy = exits.get(fk)![idx]!;

      const to = byKey(k + 1, key)!;
      const lane = lanes[k]![j]!;
      const side: "left" | "right" = lane.lanes > 1 && lane.lane === lane.lanes - 1 ? "right" : "left";
      const col = boxes.filter((b) => b.col === k + 1 && b !== to && b.y < to.y + to.h && b.y + b.h > to.y);
      const sideBoxes =
        side === "left"
          ? col.filter((b) => b.x + b.w <= to.x + 0.5)
          : col.filter((b) => b.x >= to.x + to.w - 0.5);
      const labelBands: [number, number][] =
        side === "left"
          ? labels.filter((l) => l.col === k + 1).map((l) => [l.y - LABEL_BAND, l.y + LABEL_BAND])
          : [];
      const boxBands = sideBoxes.map((b) => [b.y - 1, b.y + b.h + 1] as [number, number]);
      let free = freeIntervals(to.y + 1, to.y + to.h - 1, [...labelBands, ...boxBands]);
      let crossesOverlap = false;
      if (free.length === 0) {
        // No side is free of its overlapping neighbours: cross them, between the labels.
        crossesOverlap = sideBoxes.length > 0;
        free = freeIntervals(to.y + 1, to.y + to.h - 1, labelBands);
      }
      const best = free.reduce<[number, number] | undefined>(
        (a, f) => (!a || f[1] - f[0] > a[1] - a[0] ? f : a),
        undefined,
      );
      const gy = best ? (best[0] + best[1]) / 2 : to.y + to.h / 2;
      reqs.push({ hy, col: k + 1, gy, side, dx: side === "left" ? to.x : to.x + to.w });
      meta.push({ key, from: from?.key ?? "", to: key, m, d, crossesOverlap });
    });
  });
  return { reqs, meta };
}

/** Darker shade for lines so light palette colours stay visible on white. */
function darken(hex: string, f = 0.3): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const ch = (s: number) =>
    Math.round(((n >> s) & 0xff) * (1 - f))
      .toString(16)
      .padStart(2, "0");
  return `#${ch(16)}${ch(8)}${ch(0)}`;
}

function legendItems(dr: Drawing, width: number, y0: number): { items: LegendItem[]; bottom: number } {
  const items: LegendItem[] = [];
  let lx = PAD;
  let ly = y0;
  const add = (
    kind: LegendItem["kind"],
    w: number,
    paint: Omit<LegendItem, "kind" | "x" | "y" | "w" | "text">,
    s: string,
  ) => {
    const t = text(0, 0, s, "legend");
    const iw = w + 8 + t.box.w + 22;
    if (lx + iw > width - PAD && lx > PAD) {
      lx = PAD;
      ly += 22;
    }
    items.push({ kind, x: lx, y: ly, w, ...paint, text: text(lx + w + 8, ly, s, "legend") });
    lx += iw;
  };
  const sw = (fill: string, s: string, stroke = "#666666", strokeW = 1, dash?: string, overlay?: string) =>
    add(
      "swatch",
      22,
      { fill, stroke, strokeW, ...(dash ? { dash } : {}), ...(overlay ? { overlay } : {}) },
      s,
    );
  const ln = (dash: string | undefined, s: string) =>
    add("line", 30, { stroke: "#333333", strokeW: 2.5, ...(dash ? { dash } : {}) }, s);
  sw(RAM_FILL, "RAM");
  sw("url(#sshm-hatch-reserved)", "reserved");
  sw("url(#sshm-hatch-module)", "boot module");
  sw("#9e9e9e", "heap-allocated shm", "#666666", 1, undefined, "url(#sshm-dots)");
  for (const [id, c] of dr.colours) sw(c, id);
  ln(undefined, "owner");
  ln("7 4", "borrower");
  ln("9 3 2 3", "borrower of a dom_io-owned region");
  sw("#ffffff", "dom_io-owned region", "#222222", 2, "2 2");
  sw("url(#sshm-hatch-warn)", "overlap / warning (numbered)", RED, 2);
  return { items, bottom: ly };
}

const move = (r: Rect, dx: number, dy: number): Rect => ({ ...r, x: r.x + dx, y: r.y + dy });

/** Lay out the whole picture. */
/**
 * x of every column: each gutter holds its tracks and the next column's address labels. Tracks are
 * TRACK_SP apart; a picture narrower than the page gets the spare width spread over its tracks (up
 * to MAX_TRACK_SP), so parallel runs are easier to tell apart.
 */
function placeColumns(
  widths: readonly number[],
  tracks: readonly number[],
  labelW: (col: number) => number,
): { xs: number[]; margin: number; sp: number } {
  const place = (sp: number) => {
    const xs: number[] = [PAD + labelW(0)];
    for (let c = 1; c < widths.length; c++) {
      const gutter = Math.max(GUTTER_PAD * 2 + tracks[c - 1]! * sp, 28) + LABEL_GAP + labelW(c);
      xs.push(xs[c - 1]! + widths[c - 1]! + gutter);
    }
    const t = tracks[widths.length - 1]!;
    return { xs, margin: t > 0 ? GUTTER_PAD * 2 + t * sp : 0, sp };
  };
  const last = widths.length - 1;
  const natural = place(TRACK_SP);
  const all = tracks.reduce((a, b) => a + b, 0);
  const spare = PAGE_W - (natural.xs[last]! + widths[last]! + natural.margin + PAD);
  return all > 0 && spare > 0 ? place(Math.min(MAX_TRACK_SP, TRACK_SP + spare / all)) : natural;
}

/** Title, summary line (with markers of issues that mark no range) and the legend; y of the columns' top. */
function layoutHeader(dr: Drawing, width: number) {
  const { map, issues, colours } = dr;
  const title = text(PAD + 112, PAD + 11, fitText(map.title, width - 2 * PAD - 112, "title"), "title");
  const nShm = colours.size;
  const plural = (k: number, s: string) => `${k} ${s}${k === 1 ? "" : "s"}`;
  const summaryText = `${plural(map.domains.length, "domain")} · ${plural(nShm, "shared-memory region")} · ${plural(issues.length, "warning")}`;
  const sy = PAD + 36;
  const summary = text(PAD, sy, summaryText, "summary");
  let gx = PAD + summary.box.w + 20;
  const headMarkers: Marker[] = [];
  for (const is of issues.filter((i) => i.marks.length === 0)) {
    headMarkers.push({ cx: gx, cy: sy, r: MARKER_R, issue: is, box: { x: gx - 9, y: sy - 9, w: 18, h: 18 } });
    gx += 22;
  }
  const legend = legendItems(dr, width, PAD + 62);
  const headY = legend.bottom + 34;
  return { title, summary, headMarkers, legend: legend.items, headY, top: headY + 30 };
}

/** A box moved into place, with its label and sub-label cut to the room left by its markers. */
function placeBox(b: RelBox, x0: number, top: number, markers: readonly (Marker & { col: number })[]): Box {
  const { labelText, subText, labelAt, ...rest } = b;
  const bx = x0 + b.x;
  const by = top + b.y;
  const box: Box = { ...rest, x: bx, y: by };
  // A text line stops short of the first marker drawn across it (markers sit at a range's top right).
  const room = (y: number, cls: string) => {
    const half = (CLASS_FONT[cls]?.size ?? 11) / 2 + 1;
    let right = b.x + b.w - 4;
    for (const m of markers)
      if (m.col === b.col && Math.abs(m.cy - (y - top)) < MARKER_R + half && m.cx + MARKER_R > b.x + 6)
        right = Math.min(right, m.cx - MARKER_R - 4);
    return Math.max(right - (b.x + 6), 10);
  };
  const line = (y: number, s: string, cls: string) => text(bx + 6, y, fitText(s, room(y, cls), cls), cls);
  if (b.role === "bank") {
    if (labelText !== undefined && labelAt !== undefined) box.label = line(top + labelAt, labelText, "lbl");
  } else if (labelText !== undefined && b.h >= 14) {
    const two = subText !== undefined && b.h >= 34;
    const cy = by + b.h / 2;
    box.label = line(two ? cy - 6 : cy, labelText, "lbl");
    if (two) box.sub = line(cy + 8, subText ?? "", "sub");
  }
  return box;
}

function connectorOf(dr: Drawing, meta: Endpoints["meta"][number], points: Point[], tip: string): Connector {
  const { key, from, to, m, crossesOverlap } = meta;
  const shm = m.kind === "shm";
  const dash = m.role === "borrower" ? "7 4" : m.role === "dom_io-borrower" ? "9 3 2 3" : undefined;
  return {
    key,
    from,
    to,
    points,
    kind: m.kind,
    colour: shm ? darken(dr.colours.get(m.id ?? "") ?? "#9e9e9e") : "#8a8a8a",
    width: shm ? 2.5 : 1.5,
    opacity: shm ? 0.9 : 0.8,
    ...(dash === undefined ? {} : { dash }),
    tip,
    links: dr.mappingLinks.get(key) ?? [],
    crossesOverlap,
  };
}

/** Lay out the whole picture. */
export function layoutPicture(dr: Drawing): Picture {
  const { map } = dr;
  const widths = dr.cols.map((_, c) => (c === 0 ? HOST_W : DOM_W));
  const cx: Ctx = { dr, widths, Y: (c, a) => dr.cols[c]!.scale.y(a) };

  // 1. Boxes, issue marks and address labels, in column coordinates.
  const host = hostBoxes(cx);
  const { boxes: doms, lanes } = domainBoxes(cx);
  const rel = [...host, ...doms];
  const { areas, markers } = issueMarks(cx);
  const labels = addressLabels(cx);

  // 2. Where each line leaves and enters, then the route plan that sizes the gutters.
  const ep = endpoints(cx, rel, lanes, labels);
  const bottoms = dr.cols.map((c, col) =>
    Math.max(c.scale.height + 7, col > 0 && map.domains[col - 1]!.mappings.length === 0 ? 20 : 0),
  );
  const plan = planRoutes(ep.reqs, bottoms);
  const labelW = (col: number) =>
    ADDR_OFF +
    Math.max(0, ...labels.filter((l) => l.col === col).map((l) => text(0, 0, l.text, "addr").box.w));

  // 3. Columns across, the picture's width (column heads may be wider than their column).
  const { xs, margin, sp } = placeColumns(widths, plan.tracks, labelW);
  const last = widths.length - 1;
  const headText = (c: Column, i: number) => fitText(c.title, widths[i]! + 40, "head");
  const headRight = dr.cols.map(
    (c, i) => xs[i]! + Math.max(text(0, 0, headText(c, i), "head").box.w, text(0, 0, c.sub, "headsub").box.w),
  );
  const width = Math.max(
    xs[last]! + widths[last]! + margin + PAD,
    ...headRight.map((r) => r + PAD),
    MIN_WIDTH,
  );

  // 4. The header above, then everything moved into place below it.
  const header = layoutHeader(dr, width);
  const { top, headY } = header;
  const cols: PlacedColumn[] = dr.cols.map((c, i) => ({
    ...c,
    x: xs[i]!,
    w: widths[i]!,
    head: text(xs[i]!, headY, headText(c, i), "head"),
    headSub: text(xs[i]!, headY + 16, c.sub, "headsub"),
  }));
  const boxes = rel.map((b) => placeBox(b, xs[b.col]!, top, markers));
  const breaks: Break[] = cols.flatMap((c, col) =>
    c.scale.breaks.map((b) => {
      const y = top + b.y + b.h / 2;
      const t = text(c.x + c.w / 2, y, `≈ ${approxSize(b.end - b.start)} gap`, "gap", "middle");
      return { col, x: c.x, y, w: c.w, text: t };
    }),
  );
  const addrs = labels.map((l) => ({
    col: l.col,
    ...text(xs[l.col]! - ADDR_OFF, top + l.y, l.text, "addr", "end"),
  }));
  const trackX = (g: number, t: number) => xs[g]! + widths[g]! + GUTTER_PAD + t * sp;
  const connectors = plan.lines.map((l, i) => {
    const meta = ep.meta[i]!;
    const pts = placeRoute(l, { x: xs, w: widths, trackX }).map((p) => ({ x: p.x, y: top + p.y }));
    return connectorOf(dr, meta, pts, boxes.find((b) => b.col > 0 && b.key === meta.key)!.tip);
  });
  const warnAreas: WarnArea[] = areas.map((a) => ({
    ...move(a, xs[a.col]!, top),
    n: a.n,
    overlap: a.overlap,
  }));
  const placedMarkers: Marker[] = markers.map((m) => ({
    cx: xs[m.col]! + m.cx,
    cy: top + m.cy,
    r: m.r,
    issue: m.issue,
    box: move(m.box, xs[m.col]!, top),
  }));
  const columnsH = Math.max(0, ...bottoms, plan.bottom + 8);
  return {
    width,
    height: top + columnsH + 30,
    top,
    cols,
    title: header.title,
    summary: header.summary,
    headMarkers: header.headMarkers,
    legend: header.legend,
    boxes,
    breaks,
    addrs,
    connectors,
    warnAreas,
    markers: placedMarkers,
    listY: top + columnsH + 36,
  };
}
