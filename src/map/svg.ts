/**
 * The memory-map picture as SVG: the host physical space as the left column, one column per domain's
 * IPA space to its right, Bézier lines from every guest range to the host range behind it, and red
 * numbered markers for overlaps and warnings. The same drawing is embedded in the HTML page, where
 * tooltips come from data attributes instead of <title> elements.
 */

import type { Issue, Scale, Span } from "./layout.js";
import {
  assignLanes,
  buildIssues,
  buildScale,
  isDomIo,
  regionId,
  shmColours,
  spanOf,
  validateMap,
} from "./layout.js";
import type { MapDomain, MapHostRegion, MapMapping, MemoryMap } from "./model.js";
import { addr, approxSize, clipText, esc, rangeText } from "./text.js";

const PAD = 24;
/** Room left of each column for its address labels. */
const LABEL_W = 92;
const HOST_W = 220;
const DOM_W = 180;
/** Right edge of one column to the left edge of the next: markers, curves and the next labels. */
const GAP = 140;
/** Left strip of a host RAM bank kept visible next to the regions drawn inside it. */
const RAM_STRIP = 30;
const RED = "#d62728";
const RAM_FILL = "#d9d9d9";
const FONT = "DejaVu Sans, Arial, Helvetica, sans-serif";
const MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace";

/** How the renderer is used: standalone SVG, or the drawing inside the HTML page. */
export interface SvgOptions {
  /** Tooltips as data-tip attributes (for the page's script) and no warnings list inside the SVG. */
  embedded?: boolean;
}

interface Column {
  x: number;
  w: number;
  scale: Scale;
  title: string;
  sub: string;
}

/** Everything the renderers share about one map: columns, colours, numbered issues, relations. */
export interface Drawing {
  map: MemoryMap;
  colours: Map<string, string>;
  issues: Issue[];
  cols: Column[];
  /** Borrowing domains per shm id, in domain order. */
  borrowers: Map<string, string[]>;
  /** Owner per shm id: the host region's owner, else the owning domain, else dom_io when implied. */
  owners: Map<string, string>;
  /** Host regions each mapping lands in (keys "h<i>"), for hover links. */
  mappingLinks: Map<string, string[]>;
}

const hostKey = (i: number) => `h${i}`;
export const mappingKey = (d: number, j: number) => `m${d}-${j}`;

/** A darker shade for lines and outlines so light palette colours stay visible on white. */
function darken(hex: string, f = 0.3): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const ch = (s: number) =>
    Math.round(((n >> s) & 0xff) * (1 - f))
      .toString(16)
      .padStart(2, "0");
  return `#${ch(16)}${ch(8)}${ch(0)}`;
}

const contains = (outer: Span, inner: Span) => outer.start <= inner.start && inner.end <= outer.end;
const overlaps = (a: Span, b: Span) => a.start < b.end && b.start < a.end;

/** Lay the map out once; both renderers draw from this. */
export function prepare(map: MemoryMap): Drawing {
  validateMap(map);
  const colours = shmColours(map);
  const issues = buildIssues(map);
  const hostSpans: Span[] = map.host.map((r) => spanOf(r.start, r.size));
  for (const d of map.domains) for (const m of d.mappings) hostSpans.push(spanOf(m.hstart, m.size));
  for (const is of issues) for (const m of is.marks) if (m.col === 0) hostSpans.push(m);
  const cols: Column[] = [
    {
      x: PAD + LABEL_W,
      w: HOST_W,
      scale: buildScale(hostSpans),
      title: "Host physical memory",
      sub: "machine addresses (paddr)",
    },
  ];
  map.domains.forEach((d, k) => {
    const spans = d.mappings.map((m) => spanOf(m.gstart, m.size));
    for (const is of issues) for (const m of is.marks) if (m.col === k + 1) spans.push(m);
    const prev = cols[cols.length - 1]!;
    cols.push({
      x: prev.x + prev.w + GAP,
      w: DOM_W,
      scale: buildScale(spans),
      title: `${d.name} (d${d.domid})`,
      sub: `guest IPA space${d.directMapped ? " · direct-mapped" : ""}`,
    });
  });

  const borrowers = new Map<string, string[]>();
  const owners = new Map<string, string>();
  for (const r of map.host) {
    const id = regionId(r);
    if (id !== undefined && r.owner !== undefined && !owners.has(id)) owners.set(id, r.owner);
  }
  for (const d of map.domains) {
    for (const m of d.mappings) {
      if (m.kind !== "shm" || m.id === undefined) continue;
      if (m.role === "owner" && !owners.has(m.id)) owners.set(m.id, d.name);
      if (m.role === "dom_io-borrower" && !owners.has(m.id)) owners.set(m.id, "dom_io");
      if (m.role === "borrower" || m.role === "dom_io-borrower") {
        const list = borrowers.get(m.id) ?? [];
        if (!list.includes(d.name)) list.push(d.name);
        borrowers.set(m.id, list);
      }
    }
  }

  const mappingLinks = new Map<string, string[]>();
  map.domains.forEach((d, k) => {
    d.mappings.forEach((m, j) => {
      const hs = spanOf(m.hstart, m.size);
      const hit = map.host.map((r, i) => ({ r, i })).filter(({ r }) => overlaps(spanOf(r.start, r.size), hs));
      const special = hit.filter(({ r }) => r.kind !== "ram");
      mappingLinks.set(
        mappingKey(k, j),
        (special.length > 0 ? special : hit).map(({ i }) => hostKey(i)),
      );
    });
  });
  return { map, colours, issues, cols, borrowers, owners, mappingLinks };
}

export function hostTip(dr: Drawing, r: MapHostRegion): string {
  const id = regionId(r);
  const lines = [id !== undefined ? `${r.kind} ${id}` : `${r.kind}: ${r.label}`];
  if (id !== undefined && r.label !== id) lines.push(r.label);
  lines.push(
    `host ${rangeText(r.start, r.size)}`,
    `start ${addr(r.start)} · end ${addr(r.start + r.size)} (exclusive) · size ${approxSize(r.size)}`,
  );
  if (id !== undefined) {
    const owner = r.owner ?? dr.owners.get(id);
    lines.push(`owner: ${owner === undefined ? "none" : isDomIo(owner) ? `${owner} (dom_io)` : owner}`);
    lines.push(`borrowers: ${(dr.borrowers.get(id) ?? []).join(", ") || "none"}`);
  } else if (r.owner !== undefined) lines.push(`owner: ${r.owner}`);
  if (r.refcount !== undefined) lines.push(`page refcount: ${r.refcount}`);
  if (r.source !== undefined) lines.push(`source: ${r.source}`);
  if (r.note !== undefined) lines.push(r.note);
  return lines.join("\n");
}

export function mappingTip(dr: Drawing, d: MapDomain, m: MapMapping): string {
  const lines = [`${d.name} (d${d.domid}) · ${m.kind === "shm" ? `shm ${m.id ?? "?"}` : "RAM"}`];
  if (m.role !== undefined) lines.push(`role: ${m.role}`);
  lines.push(
    `guest ${rangeText(m.gstart, m.size)}`,
    `host ${rangeText(m.hstart, m.size)}`,
    `start ${addr(m.gstart)} · end ${addr(m.gstart + m.size)} (exclusive) · size ${approxSize(m.size)}`,
  );
  if (m.kind === "shm" && m.id !== undefined) {
    const owner = dr.owners.get(m.id);
    lines.push(`region owner: ${owner ?? "none"}`);
    lines.push(`borrowers: ${(dr.borrowers.get(m.id) ?? []).join(", ") || "none"}`);
  }
  if (m.p2mType !== undefined) lines.push(`p2m type: ${m.p2mType}`);
  if (m.blocks !== undefined) lines.push(`blocks: ${m.blocks}`);
  if (m.offset !== undefined) lines.push(`offset: ${addr(m.offset)}`);
  if (m.source !== undefined) lines.push(`source: ${m.source}`);
  return lines.join("\n");
}

/** Tooltip markup: a <title> child for a standalone SVG, a data-tip attribute inside the page. */
function tipAttr(opts: SvgOptions, tip: string, key?: string, links?: string[]): string {
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

interface BoxSpec {
  x: number;
  y: number;
  w: number;
  h: number;
  fill: string;
  stroke: string;
  strokeW: number;
  dash?: string;
  overlay?: string;
  label?: string;
  sub?: string;
  cls: string;
  tip: string;
  key?: string;
  links?: string[];
}

function box(out: string[], o: BoxSpec, opts: SvgOptions): void {
  out.push(`<g class="${o.cls}"${tipAttr(opts, o.tip, o.key, o.links)}>${tipTitle(opts, o.tip)}`);
  const dash = o.dash !== undefined ? ` stroke-dasharray="${o.dash}"` : "";
  out.push(
    `<rect x="${n(o.x)}" y="${n(o.y)}" width="${n(o.w)}" height="${n(o.h)}" fill="${o.fill}" stroke="${o.stroke}" stroke-width="${o.strokeW}"${dash}/>`,
  );
  if (o.overlay !== undefined)
    out.push(
      `<rect x="${n(o.x)}" y="${n(o.y)}" width="${n(o.w)}" height="${n(o.h)}" fill="${o.overlay}" pointer-events="none"/>`,
    );
  if (o.label !== undefined && o.h >= 14) {
    const two = o.sub !== undefined && o.h >= 34;
    const cy = o.y + o.h / 2;
    out.push(
      `<text class="lbl" x="${n(o.x + 6)}" y="${n(two ? cy - 6 : cy)}">${esc(clipText(o.label, o.w - 10, 11))}</text>`,
    );
    if (two)
      out.push(
        `<text class="sub" x="${n(o.x + 6)}" y="${n(cy + 8)}">${esc(clipText(o.sub ?? "", o.w - 10, 10))}</text>`,
      );
  }
  out.push("</g>");
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
.head{font:bold 13px ${FONT};fill:#111111}
.headsub{font:11px ${FONT};fill:#666666}
.title{font:bold 20px ${FONT};fill:#111111}
.summary{font:12px ${FONT};fill:#444444}
.legend{font:11px ${FONT};fill:#222222;dominant-baseline:middle}
.wtext{font:12px ${FONT};fill:#222222}
.mnum{font:bold 11px ${FONT};fill:#ffffff;text-anchor:middle;dominant-baseline:central}
.verdict{font:bold 12px ${FONT};fill:#ffffff;text-anchor:middle;dominant-baseline:central}
</style>`;

const VERDICT: Record<MemoryMap["verdict"], { text: string; colour: string }> = {
  accepted: { text: "ACCEPTED", colour: "#2e7d32" },
  rejected: { text: "REJECTED", colour: RED },
  crash: { text: "XEN CRASH", colour: "#6a1b9a" },
};

/** Numbered red marker; its tooltip repeats the list entry it refers to. */
function marker(out: string[], cx: number, cy: number, is: Issue, opts: SvgOptions): void {
  const tip = `${is.n}. ${is.code}: ${is.message}${is.node !== undefined ? ` (node ${is.node})` : ""}`;
  out.push(
    `<g class="marker" data-n="${is.n}"${tipAttr(opts, tip)}>${tipTitle(opts, tip)}<circle cx="${n(cx)}" cy="${n(cy)}" r="9" fill="${RED}" stroke="#ffffff" stroke-width="1.5"/><text class="mnum" x="${n(cx)}" y="${n(cy)}">${is.n}</text></g>`,
  );
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

/** Draw the whole picture; `opts.embedded` is used by renderHtml. */
export function drawSvg(dr: Drawing, opts: SvgOptions = {}): string {
  const { map, colours, issues, cols } = dr;
  const last = cols[cols.length - 1]!;
  const width = Math.max(last.x + last.w + 70 + PAD, 900);
  const body: string[] = [];

  // Verdict badge first (its width is known), then the title.
  const v = VERDICT[map.verdict];
  body.push(
    `<g class="verdict-badge" data-verdict="${map.verdict}"><rect x="${PAD}" y="${PAD}" width="100" height="22" rx="11" fill="${v.colour}"/><text class="verdict" x="${PAD + 50}" y="${PAD + 11}">${v.text}</text></g>`,
  );
  // Cut to the picture width; the full title stays in the document <title> and aria-label.
  body.push(
    `<text class="title" x="${PAD + 112}" y="${PAD + 18}">${esc(clipText(map.title, width - 2 * PAD - 112, 21))}</text>`,
  );
  const nShm = colours.size;
  const summary = `${map.domains.length} domain${map.domains.length === 1 ? "" : "s"} · ${nShm} shared-memory region${nShm === 1 ? "" : "s"} · ${issues.length} warning${issues.length === 1 ? "" : "s"}`;
  const sy = PAD + 40;
  body.push(`<text class="summary" x="${PAD}" y="${sy}">${esc(summary)}</text>`);
  // Issues that mark no range get their marker here, so every list entry has one in the picture.
  let gx = PAD + summary.length * 6.6 + 20;
  for (const is of issues.filter((i) => i.marks.length === 0)) {
    marker(body, gx, sy - 4, is, opts);
    gx += 22;
  }

  // Legend, wrapped to the picture width.
  let lx = PAD;
  let ly = PAD + 66;
  const item = (w: number, draw: (x: number, y: number) => string, text: string) => {
    const iw = w + 8 + text.length * 6.4 + 22;
    if (lx + iw > width - PAD && lx > PAD) {
      lx = PAD;
      ly += 22;
    }
    body.push(
      `<g class="legend-item">${draw(lx, ly)}<text class="legend" x="${n(lx + w + 8)}" y="${ly}">${esc(text)}</text></g>`,
    );
    lx += iw;
  };
  const sw =
    (fill: string, stroke = "#666666", strokeW = 1, dash = "") =>
    (x: number, y: number) =>
      `<rect x="${x}" y="${y - 7}" width="22" height="14" fill="${fill}" stroke="${stroke}" stroke-width="${strokeW}"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`;
  const ln = (dash: string) => (x: number, y: number) =>
    `<path d="M${x} ${y}h30" stroke="#333333" stroke-width="2.5" fill="none"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`;
  item(22, sw(RAM_FILL), "RAM");
  item(22, sw("url(#sshm-hatch-reserved)"), "reserved");
  item(22, sw("url(#sshm-hatch-module)"), "boot module");
  item(
    22,
    (x, y) =>
      `${sw("#9e9e9e")(x, y)}<rect x="${x}" y="${y - 7}" width="22" height="14" fill="url(#sshm-dots)"/>`,
    "heap-allocated shm",
  );
  for (const [id, c] of colours) item(22, sw(c), id);
  item(30, ln(""), "owner");
  item(30, ln("7 4"), "borrower");
  item(30, ln("9 3 2 3"), "borrower of a dom_io-owned region");
  item(22, sw("#ffffff", "#222222", 2, "2 2"), "dom_io-owned region");
  item(22, sw("url(#sshm-hatch-warn)", RED, 2), "overlap / warning (numbered)");

  // Column headers.
  const headY = ly + 34;
  for (const c of cols) {
    body.push(`<text class="head" x="${c.x}" y="${headY}">${esc(clipText(c.title, c.w + 40, 13))}</text>`);
    body.push(`<text class="headsub" x="${c.x}" y="${headY + 16}">${esc(c.sub)}</text>`);
  }
  const top = headY + 34;
  const Y = (c: Column, a: number) => top + c.scale.y(a);

  // Host column: RAM banks as the background, everything else in lanes inset from the left.
  const host = cols[0]!;
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
  rams.forEach(({ r, i }, k) => {
    const s = spanOf(r.start, r.size);
    const ln2 = ramLanes[k]!;
    const w = host.w / ln2.lanes;
    const x = host.x + ln2.lane * w;
    const y0 = Y(host, s.start);
    const h = Y(host, s.end) - y0;
    box(
      body,
      {
        x,
        y: y0,
        w,
        h,
        fill: RAM_FILL,
        stroke: "#9a9a9a",
        strokeW: 1,
        cls: "region ram",
        tip: hostTip(dr, r),
        key: hostKey(i),
      },
      opts,
    );
    // Label the bank in its tallest stretch not covered by a region drawn inside it.
    let best: { y: number; h: number } | undefined;
    let run: { y: number; h: number } | undefined;
    for (const p of host.scale.pieces) {
      if (p.start < s.start || p.end > s.end) continue;
      const covered = [...otherSpans, ...ramBacking.map((b) => b.s)].some((o) => contains(o, p));
      if (covered) run = undefined;
      else if (run && Math.abs(run.y + run.h - p.y) < 0.01) run.h += p.h;
      else run = { y: p.y, h: p.h };
      if (run && (!best || run.h > best.h)) best = { ...run };
    }
    if (best && best.h >= 14)
      body.push(
        `<text class="lbl" x="${n(x + 6)}" y="${n(top + best.y + best.h / 2)}" pointer-events="none">${esc(clipText(r.label, w - 10, 11))}</text>`,
      );
  });
  // Host frames a mapping uses that no host region describes: an empty dashed outline underneath.
  const regionSpans = map.host.map((r) => spanOf(r.start, r.size));
  const orphans = new Map<string, Span>();
  for (const d of map.domains)
    for (const m of d.mappings) {
      const s = spanOf(m.hstart, m.size);
      if (!regionSpans.some((o) => contains(o, s))) orphans.set(`${s.start}:${s.end}`, s);
    }
  for (const s of orphans.values()) {
    const y0 = Y(host, s.start);
    box(
      body,
      {
        x: host.x,
        y: y0,
        w: host.w,
        h: Y(host, s.end) - y0,
        fill: "#ffffff",
        stroke: "#888888",
        strokeW: 1,
        dash: "4 3",
        cls: "region orphan",
        tip: `host ${rangeText(s.start, s.end - s.start)}\nmapped by a domain but not described by any host region`,
      },
      opts,
    );
  }
  const otherLanes = assignLanes([...otherSpans, ...ramBacking.map((b) => b.s)]);
  ramBacking.forEach(({ d, k, j, s }, q) => {
    const lane = otherLanes[others.length + q]!;
    const w = (host.w - RAM_STRIP) / lane.lanes;
    const y0 = Y(host, s.start);
    const m = d.mappings[j]!;
    box(
      body,
      {
        x: host.x + RAM_STRIP + lane.lane * w,
        y: y0,
        w: w - (lane.lanes > 1 ? 2 : 0),
        h: Y(host, s.end) - y0,
        fill: "#ececec",
        stroke: "#9a9a9a",
        strokeW: 1,
        label: `${d.name} RAM`,
        cls: "backing ram",
        tip: mappingTip(dr, d, m),
        key: mappingKey(k, j),
      },
      opts,
    );
  });
  others.forEach(({ r, i }, k) => {
    const s = spanOf(r.start, r.size);
    const lane = otherLanes[k]!;
    const inner = host.w - RAM_STRIP;
    const w = inner / lane.lanes;
    const x = host.x + RAM_STRIP + lane.lane * w;
    const y0 = Y(host, s.start);
    const h = Y(host, s.end) - y0;
    const id = regionId(r);
    const spec: BoxSpec = {
      x,
      y: y0,
      w: w - (lane.lanes > 1 ? 2 : 0),
      h,
      fill: "#ffffff",
      stroke: "#666666",
      strokeW: 1,
      label: r.label,
      cls: `region ${r.kind}`,
      tip: hostTip(dr, r),
      key: hostKey(i),
    };
    if (r.kind === "reserved") spec.fill = "url(#sshm-hatch-reserved)";
    else if (r.kind === "module") {
      spec.fill = "url(#sshm-hatch-module)";
      spec.stroke = "#8a6d3b";
    } else if (id !== undefined) {
      const c = colours.get(id) ?? "#9e9e9e";
      const owner = r.owner ?? dr.owners.get(id);
      spec.fill = c;
      spec.label = id;
      spec.stroke = "#222222";
      spec.strokeW = 2;
      if (owner === undefined) {
        spec.dash = "5 3";
        spec.stroke = "#777777";
        spec.strokeW = 1;
      } else if (isDomIo(owner)) spec.dash = "2 2";
      const heap = r.kind === "heap-shm";
      if (heap) spec.overlay = "url(#sshm-dots)";
      const ownerText = owner === undefined ? "none" : isDomIo(owner) ? "d[IO]" : owner;
      spec.sub =
        r.stage === "refused"
          ? "refused by Xen"
          : `${heap ? "heap · " : ""}${r.stage === "parsed" ? "parsed · " : ""}owner ${ownerText}`;
      spec.cls += ` shm${owner !== undefined && isDomIo(owner) ? " dom_io" : ""}`;
    }
    if (r.stage !== undefined) spec.cls += ` ${r.stage}`;
    box(body, spec, opts);
  });
  // Domain columns: each mapping in a lane; overlapping guest ranges end up side by side.
  map.domains.forEach((d, k) => {
    const c = cols[k + 1]!;
    if (d.mappings.length === 0)
      body.push(`<text class="sub" x="${c.x + 6}" y="${top + 10}">(no mappings)</text>`);
    const lanes = assignLanes(d.mappings.map((m) => spanOf(m.gstart, m.size)));
    d.mappings.forEach((m, j) => {
      const s = spanOf(m.gstart, m.size);
      const lane = lanes[j]!;
      const w = c.w / lane.lanes;
      const y0 = Y(c, s.start);
      const spec: BoxSpec = {
        x: c.x + lane.lane * w,
        y: y0,
        w: w - (lane.lanes > 1 ? 2 : 0),
        h: Y(c, s.end) - y0,
        fill: RAM_FILL,
        stroke: "#9a9a9a",
        strokeW: 1,
        label: "RAM",
        sub: `→ ${addr(m.hstart)}`,
        cls: `mapping ${m.kind}`,
        tip: mappingTip(dr, d, m),
        key: mappingKey(k, j),
        links: dr.mappingLinks.get(mappingKey(k, j)) ?? [],
      };
      if (m.kind === "shm") {
        spec.fill = colours.get(m.id ?? "") ?? "#9e9e9e";
        spec.label = m.id ?? "shm";
        spec.stroke = "#222222";
        spec.strokeW = m.role === "owner" ? 2.5 : 1.5;
        if (m.role === "borrower") spec.dash = "6 3";
        else if (m.role === "dom_io-borrower") spec.dash = "9 3 2 3";
        spec.sub = m.role === "dom_io-borrower" ? "borrower (owner d[IO])" : (m.role ?? "shm");
        spec.cls += ` ${m.role ?? "norole"}`;
      }
      box(body, spec, opts);
    });
  });

  // "≈" bands for unoccupied gaps.
  for (const c of cols)
    for (const b of c.scale.breaks) {
      const y = top + b.y + b.h / 2;
      body.push(
        `<g class="break"><path d="M${c.x} ${n(y - 4)}q${c.w / 8} -5 ${c.w / 4} 0t${c.w / 4} 0t${c.w / 4} 0t${c.w / 4} 0M${c.x} ${n(y + 4)}q${c.w / 8} -5 ${c.w / 4} 0t${c.w / 4} 0t${c.w / 4} 0t${c.w / 4} 0" stroke="#aaaaaa" fill="none"/><text class="gap" x="${n(c.x + c.w / 2)}" y="${n(y)}" text-anchor="middle" paint-order="stroke" stroke="#ffffff" stroke-width="4">≈ ${esc(approxSize(b.end - b.start))} gap</text></g>`,
      );
    }

  // Lines from each guest range to its host range; mappings sharing a host range fan out.
  const fan = new Map<string, number>();
  const fanCount = new Map<string, number>();
  for (const d of map.domains)
    for (const m of d.mappings) {
      const key = `${m.hstart}:${m.size}`;
      fanCount.set(key, (fanCount.get(key) ?? 0) + 1);
    }
  map.domains.forEach((d, k) => {
    const c = cols[k + 1]!;
    const lanes = assignLanes(d.mappings.map((m) => spanOf(m.gstart, m.size)));
    d.mappings.forEach((m, j) => {
      const fk = `${m.hstart}:${m.size}`;
      const idx = fan.get(fk) ?? 0;
      fan.set(fk, idx + 1);
      const hs = spanOf(m.hstart, m.size);
      const gs = spanOf(m.gstart, m.size);
      const hy0 = Y(host, hs.start);
      const hy = hy0 + ((Y(host, hs.end) - hy0) * (idx + 1)) / ((fanCount.get(fk) ?? 1) + 1);
      const gy = (Y(c, gs.start) + Y(c, gs.end)) / 2;
      const hx = host.x + host.w;
      const lane = lanes[j]!;
      const gxl = c.x + (lane.lane * c.w) / lane.lanes;
      const ctl = Math.max(40, (gxl - hx) * 0.45);
      const shm = m.kind === "shm";
      const colour = shm ? darken(colours.get(m.id ?? "") ?? "#9e9e9e") : "#9a9a9a";
      const dash =
        m.role === "borrower"
          ? ' stroke-dasharray="7 4"'
          : m.role === "dom_io-borrower"
            ? ' stroke-dasharray="9 3 2 3"'
            : "";
      const key = mappingKey(k, j);
      const tip = mappingTip(dr, d, m);
      body.push(
        `<path class="map-line ${m.kind}" data-mapping="${esc(key)}"${tipAttr(opts, tip, key, dr.mappingLinks.get(key) ?? [])} d="M${n(hx)} ${n(hy)}C${n(hx + ctl)} ${n(hy)} ${n(gxl - ctl)} ${n(gy)} ${n(gxl)} ${n(gy)}" fill="none" stroke="${colour}" stroke-width="${shm ? 2.5 : 1.5}" stroke-opacity="${shm ? 0.9 : 0.7}"${dash}>${tipTitle(opts, tip)}</path>`,
      );
      body.push(
        `<circle cx="${n(hx)}" cy="${n(hy)}" r="3" fill="${colour}" pointer-events="none"/><circle cx="${n(gxl)}" cy="${n(gy)}" r="3" fill="${colour}" pointer-events="none"/>`,
      );
    });
  });

  // Address labels at every range boundary, left of each column.
  for (const c of cols) {
    let prevY = Number.NEGATIVE_INFINITY;
    for (const a of c.scale.boundaries()) {
      const y = Y(c, a);
      if (y - prevY < 11) continue;
      prevY = y;
      body.push(
        `<path d="M${c.x - 5} ${n(y)}h5" stroke="#555555"/><text class="addr" x="${c.x - 7}" y="${n(y)}">${addr(a)}</text>`,
      );
    }
  }

  // Overlaps and warnings: red areas over the marked ranges, a numbered marker beside each.
  const placed: { col: number; y: number; k: number }[] = [];
  for (const is of issues) {
    for (const m of is.marks) {
      const c = cols[m.col];
      if (!c) continue;
      const y0 = Y(c, m.start);
      const h = Math.max(Y(c, m.end) - y0, 4);
      body.push(
        `<rect class="warn-area${m.overlap ? " overlap" : ""}" data-n="${is.n}" x="${c.x - 3}" y="${n(y0)}" width="${c.w + 6}" height="${n(h)}" fill="${m.overlap ? "url(#sshm-hatch-warn)" : RED}" fill-opacity="${m.overlap ? 1 : 0.15}" stroke="${RED}" stroke-width="2.5" pointer-events="none"/>`,
      );
      const my = y0 + Math.min(10, h / 2);
      let k = 0;
      while (placed.some((p) => p.col === m.col && p.k === k && Math.abs(p.y - my) < 20)) k++;
      placed.push({ col: m.col, y: my, k });
      marker(body, c.x + c.w + 16 + k * 22, my, is, opts);
    }
  }

  const columnsH = Math.max(0, ...cols.map((c) => c.scale.height));
  let height = top + columnsH + 30;
  if (!opts.embedded) {
    // The list the markers refer to, so a standalone SVG explains itself.
    let y = height + 6;
    body.push(`<text class="head" x="${PAD}" y="${y}">Warnings</text>`);
    y += 22;
    if (issues.length === 0) {
      body.push(`<text class="wtext" x="${PAD}" y="${y}">None.</text>`);
      y += 18;
    }
    const chars = Math.max(40, Math.floor((width - 2 * PAD - 30) / 6.8));
    for (const is of issues) {
      marker(body, PAD + 9, y - 4, is, opts);
      const text = `${is.code}: ${is.message}${is.node !== undefined ? ` (node ${is.node})` : ""}`;
      for (const line of wrap(text, chars)) {
        body.push(
          `<text class="wtext warning" data-n="${is.n}" x="${PAD + 26}" y="${y}">${esc(line)}</text>`,
        );
        y += 17;
      }
      y += 5;
    }
    height = y + PAD;
  }

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="sshm-map" width="${n(width)}" height="${n(height)}" viewBox="0 0 ${n(width)} ${n(height)}" role="img" aria-label="${esc(map.title)}">`,
    `<title>${esc(`${map.title} (${map.verdict})`)}</title>`,
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
