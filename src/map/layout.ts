/**
 * Geometry of the memory-map picture, kept apart from the SVG text so it can be tested on numbers:
 * the piecewise address scale of each column, side-by-side lanes for overlapping ranges, the shm
 * colour palette, the overlap scan and the numbered list of warnings with the ranges they mark.
 */

import { SshmError } from "../common/index.js";
import type { MapDomain, MapHostRegion, MapMapping, MemoryMap } from "./model.js";
import { addr, rangeText } from "./text.js";

/** Height of the smallest range (4 KiB and below): enough for one line of 11px text. */
export const MIN_PIECE_H = 18;
/** Extra pixels per doubling above 4 KiB: a 1 GiB bank gets 18 + 18*5 = 108px, a 4 KiB page 18px. */
export const PX_PER_DOUBLING = 5;
/** Height of the "≈" band drawn for an unoccupied gap, whatever its size. */
export const BREAK_H = 24;

/** A half-open address interval [start, end). */
export interface Span {
  start: number;
  end: number;
}

/** One stretch of a column between two consecutive range boundaries, drawn linearly. */
export interface Piece extends Span {
  y: number;
  h: number;
}

/** An unoccupied gap between two occupied stretches, drawn as a fixed-height "≈" band. */
export interface Break extends Span {
  y: number;
  h: number;
}

export interface Scale {
  pieces: Piece[];
  breaks: Break[];
  height: number;
  /** Address → y offset from the column top; exact at every range boundary. */
  y(a: number): number;
  /** Every boundary drawn, ascending (starts and ends of pieces, merged). */
  boundaries(): number[];
}

/** Height of a stretch of `bytes`, logarithmic so a 4 KiB page stays visible next to a 1 GiB bank. */
export function pieceHeight(bytes: number): number {
  const doublings = Math.max(0, Math.log2(bytes / 4096));
  return Math.round(MIN_PIECE_H + PX_PER_DOUBLING * doublings);
}

/** Zero-size ranges still get a drawable stretch (one byte) so they can be seen and hovered. */
export function spanOf(start: number, size: number): Span {
  return { start, end: start + Math.max(size, 1) };
}

/**
 * Piecewise scale over the union of `spans`: every range boundary splits the column, each occupied
 * stretch gets pieceHeight(its size), and each gap between occupied stretches becomes one break.
 */
export function buildScale(spans: readonly Span[]): Scale {
  const points = [...new Set(spans.flatMap((s) => [s.start, s.end]))].sort((a, b) => a - b);
  // Coverage count per elementary interval via start/end deltas: O(n log n), no pairwise scan.
  const delta = new Map<number, number>();
  for (const s of spans) {
    delta.set(s.start, (delta.get(s.start) ?? 0) + 1);
    delta.set(s.end, (delta.get(s.end) ?? 0) - 1);
  }
  const pieces: Piece[] = [];
  const breaks: Break[] = [];
  let y = 0;
  let depth = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i]!;
    const end = points[i + 1]!;
    depth += delta.get(start) ?? 0;
    if (depth > 0) {
      const h = pieceHeight(end - start);
      pieces.push({ start, end, y, h });
      y += h;
    } else if (pieces.length > 0) {
      breaks.push({ start, end, y, h: BREAK_H });
      y += BREAK_H;
    }
  }
  const height = y;
  const yOf = (a: number): number => {
    let lo = 0;
    let hi = pieces.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = pieces[mid]!;
      if (a < p.start) hi = mid - 1;
      else if (a > p.end) lo = mid + 1;
      else return p.y + (p.h * (a - p.start)) / (p.end - p.start);
    }
    // Outside every piece: inside a break (its middle) or beyond either end of the column.
    const b = breaks.find((g) => a > g.start && a < g.end);
    if (b) return b.y + b.h / 2;
    return a < (pieces[0]?.start ?? 0) ? 0 : height;
  };
  return {
    pieces,
    breaks,
    height,
    y: yOf,
    boundaries: () => [...new Set(pieces.flatMap((p) => [p.start, p.end]))].sort((a, b) => a - b),
  };
}

/** Lane of one item inside its group of chain-overlapping items: x = lane/lanes of the width. */
export interface Lane {
  lane: number;
  lanes: number;
}

/**
 * Side-by-side lanes so overlapping ranges stay visible: items that chain-overlap form a group,
 * each group is coloured greedily, and only that group is split (one overlap elsewhere does not
 * narrow the whole column).
 */
export function assignLanes(spans: readonly Span[]): Lane[] {
  const order = spans.map((s, i) => ({ s, i })).sort((a, b) => a.s.start - b.s.start || b.s.end - a.s.end);
  const out: Lane[] = spans.map(() => ({ lane: 0, lanes: 1 }));
  let group: number[] = [];
  let laneEnds: number[] = [];
  let groupEnd = -1;
  const close = () => {
    for (const i of group) out[i]!.lanes = laneEnds.length;
    group = [];
    laneEnds = [];
  };
  for (const { s, i } of order) {
    if (s.start >= groupEnd) close();
    let lane = laneEnds.findIndex((e) => e <= s.start);
    if (lane < 0) {
      lane = laneEnds.length;
      laneEnds.push(s.end);
    } else laneEnds[lane] = s.end;
    out[i]!.lane = lane;
    group.push(i);
    groupEnd = Math.max(groupEnd, s.end);
  }
  close();
  return out;
}

/** Tableau-like palette without pure red, which is kept for overlaps and warnings. */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#b07aa1",
  "#edc948",
  "#76b7b2",
  "#ff9da7",
  "#9c755f",
  "#8cd17d",
  "#a0cbe8",
  "#ffbe7d",
  "#d4a6c8",
] as const;

/**
 * Beyond the palette: golden-angle hues squeezed into 20°..340° (no reds), lightness cycling so
 * near hues still differ, as #rrggbb.
 */
function extraColour(k: number): string {
  const hue = 20 + (((40 + k * 137.508) % 360) * 320) / 360;
  const s = 0.55;
  const l = [0.6, 0.45, 0.72][k % 3]!;
  const f = (n: number) => {
    const kk = (n + hue / 30) % 12;
    const c = l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(kk - 3, 9 - kk, 1));
    return Math.round(c * 255)
      .toString(16)
      .padStart(2, "0");
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/** One colour per shm id, by order of first appearance (host regions, then each domain's mappings). */
export function shmColours(map: MemoryMap): Map<string, string> {
  const ids: string[] = [];
  const see = (id: string | undefined) => {
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  };
  for (const r of map.host) if (r.kind === "shm" || r.kind === "heap-shm") see(r.id ?? r.label);
  for (const d of map.domains) for (const m of d.mappings) if (m.kind === "shm") see(m.id);
  return new Map(ids.map((id, k) => [id, PALETTE[k] ?? extraColour(k - PALETTE.length)]));
}

/** The shm id a host region stands for (its label when the id is missing). */
export function regionId(r: MapHostRegion): string | undefined {
  return r.kind === "shm" || r.kind === "heap-shm" ? (r.id ?? r.label) : undefined;
}

/** dom_io may be spelled as Xen's %pd prints it or as the C name. */
export function isDomIo(owner: string | undefined): boolean {
  return owner !== undefined && /^(dom_io|d\[io\]|domid_io)$/i.test(owner.trim());
}

/** Column 0 is the host; column k ≥ 1 is map.domains[k - 1]. */
export interface Mark extends Span {
  col: number;
  /** Drawn hatched: the intersection of two overlapping ranges. */
  overlap?: boolean;
}

export interface Issue {
  /** 1-based number printed in the marker and the list. */
  n: number;
  code: string;
  message: string;
  node?: string;
  marks: Mark[];
  /** True for overlaps found by the renderer itself rather than reported in map.warnings. */
  derived: boolean;
}

const intersect = (a: Span, b: Span): Span | undefined => {
  const start = Math.max(a.start, b.start);
  const end = Math.min(a.end, b.end);
  return start < end ? { start, end } : undefined;
};

function hostName(r: MapHostRegion): string {
  return regionId(r) !== undefined ? `${r.kind} ${regionId(r)}` : `${r.kind} ${r.label}`;
}

function mappingName(m: MapMapping): string {
  return m.kind === "shm" ? `shm ${m.id ?? "?"}` : "ram";
}

interface Overlap {
  col: number;
  span: Span;
  message: string;
}

/**
 * Overlaps the picture must flag. Host: two non-RAM regions, or two RAM banks (RAM containing shm,
 * modules or reservations is normal). Host ranges of mappings: two different things (a domain's
 * RAM, or different shm ids) backed by the same frames. Guest: any two mappings of one domain, since
 * Arm's p2m silently replaces the older entry (DT-41).
 */
export function findOverlaps(map: MemoryMap): Overlap[] {
  const out: Overlap[] = [];
  const seen = new Set<string>();
  const push = (o: Overlap) => {
    const k = `${o.col}:${o.span.start}:${o.span.end}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push(o);
  };
  const host = map.host;
  for (let i = 0; i < host.length; i++) {
    for (let j = i + 1; j < host.length; j++) {
      const a = host[i]!;
      const b = host[j]!;
      if ((a.kind === "ram") !== (b.kind === "ram")) continue;
      const x = intersect(spanOf(a.start, a.size), spanOf(b.start, b.size));
      if (x)
        push({
          col: 0,
          span: x,
          message: `host ranges overlap: ${hostName(a)} ${rangeText(a.start, a.size)} and ${hostName(b)} ${rangeText(b.start, b.size)}`,
        });
    }
  }
  const backed: { what: string; who: string; m: MapMapping }[] = [];
  map.domains.forEach((d) => {
    for (const m of d.mappings) {
      backed.push({ what: m.kind === "shm" ? `shm:${m.id ?? ""}` : `ram:${d.name}`, who: d.name, m });
    }
  });
  for (let i = 0; i < backed.length; i++) {
    for (let j = i + 1; j < backed.length; j++) {
      const a = backed[i]!;
      const b = backed[j]!;
      if (a.what === b.what) continue;
      const x = intersect(spanOf(a.m.hstart, a.m.size), spanOf(b.m.hstart, b.m.size));
      if (x)
        push({
          col: 0,
          span: x,
          message: `host frames [${addr(x.start)}, ${addr(x.end)}) back both ${a.who} ${mappingName(a.m)} and ${b.who} ${mappingName(b.m)}`,
        });
    }
  }
  map.domains.forEach((d, k) => {
    const ms = d.mappings;
    for (let i = 0; i < ms.length; i++) {
      for (let j = i + 1; j < ms.length; j++) {
        const a = ms[i]!;
        const b = ms[j]!;
        const x = intersect(spanOf(a.gstart, a.size), spanOf(b.gstart, b.size));
        if (x)
          push({
            col: k + 1,
            span: x,
            message: `${d.name}: guest ranges overlap: ${mappingName(a)} ${rangeText(a.gstart, a.size)} and ${mappingName(b)} ${rangeText(b.gstart, b.size)}; the later p2m entry silently replaces the earlier one`,
          });
      }
    }
  });
  return out;
}

/**
 * The numbered list under the picture: map.warnings in order, then the overlaps found here. An
 * overlap joins a warning instead of getting its own entry when that warning is about an overlap
 * (its code or message says so) and marks the same place, so a lint warning for DT-41 and the
 * picture's own finding are not listed twice. A warning without ranges marks the regions and
 * mappings whose source is its node; one with neither is listed with a marker by the title.
 */
export function buildIssues(map: MemoryMap): Issue[] {
  const colOf = new Map<string, number>();
  map.domains.forEach((d, k) => {
    if (!colOf.has(d.name)) colOf.set(d.name, k + 1);
  });
  const issues: Issue[] = map.warnings.map((w, i) => {
    const marks: Mark[] = [];
    for (const r of w.host ?? []) marks.push({ col: 0, ...spanOf(r.start, r.size) });
    for (const g of w.guest ?? []) {
      const col = colOf.get(g.domain);
      if (col !== undefined) marks.push({ col, ...spanOf(g.range.start, g.range.size) });
    }
    if (marks.length === 0 && w.node !== undefined) {
      for (const r of map.host) if (r.source === w.node) marks.push({ col: 0, ...spanOf(r.start, r.size) });
      map.domains.forEach((d, k) => {
        for (const m of d.mappings)
          if (m.source === w.node) marks.push({ col: k + 1, ...spanOf(m.gstart, m.size) });
      });
    }
    const issue: Issue = { n: i + 1, code: w.code, message: w.message, marks, derived: false };
    if (w.node !== undefined) issue.node = w.node;
    return issue;
  });
  for (const o of findOverlaps(map)) {
    const mark: Mark = { col: o.col, ...o.span, overlap: true };
    const covering = issues.find(
      (is) =>
        !is.derived &&
        /overlap/i.test(`${is.code} ${is.message}`) &&
        is.marks.some((m) => m.col === o.col && intersect(m, o.span) !== undefined),
    );
    if (covering) {
      // A mark of exactly the intersection (one range inside the other) is hatched rather than doubled.
      const same = covering.marks.find(
        (m) => m.col === o.col && m.start === o.span.start && m.end === o.span.end,
      );
      if (same) same.overlap = true;
      else covering.marks.push(mark);
    } else {
      issues.push({
        n: issues.length + 1,
        code: "overlap",
        message: o.message,
        marks: [mark],
        derived: true,
      });
    }
  }
  return issues;
}

function checkRange(what: string, start: number, size: number): void {
  if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(size) || size < 0)
    throw new SshmError(
      "EMAP_MODEL",
      `${what}: start ${start} and size ${size} must be non-negative integers`,
    );
  if (start + size > Number.MAX_SAFE_INTEGER)
    throw new SshmError("EMAP_MODEL", `${what}: range ends beyond 2^53`);
}

/** Reject models no picture can be drawn from (the boot report builds them; JSON may too). */
export function validateMap(map: MemoryMap): void {
  if (!["accepted", "rejected", "crash"].includes(map.verdict))
    throw new SshmError(
      "EMAP_MODEL",
      `verdict must be accepted, rejected or crash, not ${String(map.verdict)}`,
    );
  map.host.forEach((r, i) => {
    checkRange(`host region ${i} (${r.label})`, r.start, r.size);
  });
  map.domains.forEach((d: MapDomain) => {
    d.mappings.forEach((m, i) => {
      checkRange(`${d.name} mapping ${i} guest range`, m.gstart, m.size);
      checkRange(`${d.name} mapping ${i} host range`, m.hstart, m.size);
    });
  });
  map.warnings.forEach((w) => {
    for (const r of w.host ?? []) checkRange(`warning ${w.code} host range`, r.start, r.size);
    for (const g of w.guest ?? []) checkRange(`warning ${w.code} guest range`, g.range.start, g.range.size);
  });
}
