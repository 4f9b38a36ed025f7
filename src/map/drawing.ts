/**
 * What every renderer needs to know about one map before placing anything: the address scale of
 * each column, the shm colours, the numbered issues, who owns and borrows each id, which host
 * regions each mapping lands in (hover links), and the tooltip texts.
 */

import type { Issue, Scale, Span } from "./layout.js";
import { buildIssues, buildScale, isDomIo, regionId, shmColours, spanOf, validateMap } from "./layout.js";
import type { MapDomain, MapHostRegion, MapMapping, MemoryMap } from "./model.js";
import { addr, approxSize, rangeText } from "./text.js";

/** One column of the picture: column 0 is the host, column k ≥ 1 is map.domains[k - 1]. */
export interface Column {
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

export const hostKey = (i: number) => `h${i}`;
export const mappingKey = (d: number, j: number) => `m${d}-${j}`;

export const contains = (outer: Span, inner: Span) => outer.start <= inner.start && inner.end <= outer.end;
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
    { scale: buildScale(hostSpans), title: "Host physical memory", sub: "machine addresses (paddr)" },
  ];
  map.domains.forEach((d, k) => {
    const spans = d.mappings.map((m) => spanOf(m.gstart, m.size));
    for (const is of issues) for (const m of is.marks) if (m.col === k + 1) spans.push(m);
    cols.push({
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
