/**
 * The boot report as a memory-map model for the picture (src/map). The report knows the domains'
 * mappings and the shm regions; the host's RAM banks, reservations and boot modules come from the
 * boot input (HostLayout), because a report of a refused boot has no system to ask and the picture
 * should still show the host the configuration was written for.
 */
import type { BootReport, MappingReport, RegionReport } from "../domains/index.js";
import type { MapHostRegion, MapRange, MapWarning, MemoryMap } from "../map/index.js";
import type { HostLayout, ParsedSoFar } from "./input.js";

/** The region's page reference count when every page has the same one (the tooltip shows one number). */
function uniformCount(r: RegionReport): number | undefined {
  const counts = new Set(r.refcounts.map((x) => x.count));
  return counts.size === 1 ? r.refcounts[0]!.count : undefined;
}

function regionHost(r: RegionReport): MapHostRegion[] {
  const count = uniformCount(r);
  // A host-form region is one fixed range; heap regions come in chunks the allocator chose, and an
  // xl region is a sub-range of its owner's RAM: both are drawn per chunk.
  return r.chunks.map((c, i) => ({
    kind: r.form === "heap" ? "heap-shm" : "shm",
    start: c.start,
    size: c.size,
    label: r.chunks.length > 1 ? `${r.id} (chunk ${i + 1}/${r.chunks.length})` : r.id,
    id: r.id,
    ...(r.owner === null ? {} : { owner: r.owner }),
    source: r.source,
    ...(count === undefined ? {} : { refcount: count }),
  }));
}

/**
 * Ranges a warning is about: the node names a region (its source), a mapping (its source) or a
 * domain (its source or name). Warnings about nothing drawn still appear in the list, unmarked.
 */
function warningRanges(report: BootReport, node: string): Pick<MapWarning, "host" | "guest"> {
  const path = node.replace(/ \(.*\)$/, "");
  const host: MapRange[] = [];
  const guest: { domain: string; range: MapRange }[] = [];
  for (const r of report.regions)
    if (r.source === path || r.id === path)
      for (const c of r.chunks) host.push({ start: c.start, size: c.size });
  for (const d of report.domains)
    for (const m of d.mappings) {
      const whole = d.source === path || d.name === path;
      if (m.source === path || (whole && m.kind === "shm"))
        guest.push({ domain: d.name, range: { start: m.gstart, size: m.size } });
    }
  return { ...(host.length > 0 ? { host } : {}), ...(guest.length > 0 ? { guest } : {}) };
}

/**
 * An xl owner's region is a sub-range of its own RAM (form "owner-ram"): the same pages appear in
 * the report once as RAM and once as the owner's shm mapping. Drawn as is, the picture would flag
 * an overlap that is the design, so the owner's RAM is drawn with those pages cut out: each page
 * is shown once, as what it is used for.
 */
function carveOwnerRam(report: BootReport, d: BootReport["domains"][number]): MappingReport[] {
  const ownerRam = new Set(report.regions.filter((r) => r.form === "owner-ram").map((r) => r.id));
  const holes = d.mappings.filter((m) => m.kind === "shm" && m.role === "owner" && ownerRam.has(m.id ?? ""));
  const out: MappingReport[] = [];
  for (const m of d.mappings) {
    if (m.kind !== "ram" || holes.length === 0) {
      out.push(m);
      continue;
    }
    let pieces = [{ g: m.gstart, end: m.gstart + m.size }];
    for (const h of holes)
      pieces = pieces.flatMap((p) => {
        const lo = Math.max(p.g, h.gstart);
        const hi = Math.min(p.end, h.gstart + h.size);
        if (lo >= hi) return [p];
        return [...(p.g < lo ? [{ g: p.g, end: lo }] : []), ...(hi < p.end ? [{ g: hi, end: p.end }] : [])];
      });
    // RAM chunks map linearly, so a piece's host start is the chunk's plus the same distance.
    for (const p of pieces)
      out.push({ ...m, gstart: p.g, size: p.end - p.g, hstart: m.hstart + (p.g - m.gstart) });
  }
  return out;
}

const PARSED_NOTE = "parsed before Xen stopped: no domain was built";

/**
 * What a tree refused at parse time still shows: the shm banks Xen registered before it stopped
 * and, for a failed overlap check, the range it refused (drawn beside the one it overlaps; the
 * reserved ranges and boot modules are already drawn from the host description).
 */
function parsedRegions(p: ParsedSoFar, host: readonly MapHostRegion[]): MapHostRegion[] {
  const out: MapHostRegion[] = p.shm.map((b) => ({
    kind: "shm",
    start: b.start,
    size: b.size,
    label: b.id,
    id: b.id,
    ...(b.owner === undefined ? {} : { owner: b.owner }),
    source: b.source,
    stage: "parsed",
    note: PARSED_NOTE,
  }));
  const r = p.overlap?.refused;
  if (r === undefined) return out;
  const note = "refused by Xen's overlap check: the boot panics here";
  const drawn = host.find(
    (h) => h.start === r.start && h.size === r.size && h.source === r.path && h.kind === r.kind,
  );
  if (drawn) Object.assign(drawn, { stage: "refused", note });
  else
    out.push({
      kind: r.kind,
      start: r.start,
      size: r.size,
      label: `${r.id ?? "reserved"} (refused)`,
      ...(r.id === undefined ? {} : { id: r.id }),
      source: r.path,
      stage: "refused",
      note,
    });
  return out;
}

/** The XEN-PANIC / XEN-CRASH entry: the panic line, the failing check's line, the ranges at fault. */
function refusal(report: BootReport, parsed: ParsedSoFar | undefined): MapWarning {
  const panic =
    report.panic ?? report.log[report.log.length - 1] ?? `Xen ${report.verdict} this configuration`;
  const o = parsed?.overlap;
  return {
    code: report.verdict === "crash" ? "XEN-CRASH" : "XEN-PANIC",
    message: parsed !== undefined && parsed.message !== "" ? `${panic}: ${parsed.message}` : panic,
    ...(report.failedNode === null ? {} : { node: report.failedNode }),
    ...(o === undefined
      ? {}
      : {
          host: [
            { start: o.refused.start, size: o.refused.size },
            { start: o.other.start, size: o.other.size },
          ],
        }),
  };
}

export function toMemoryMap(report: BootReport, hostRam?: HostLayout): MemoryMap {
  const host: MapHostRegion[] = [];
  const ram = hostRam?.ram ?? [];
  for (const [i, b] of ram.entries())
    host.push({
      kind: "ram",
      start: b.start,
      size: b.size,
      label: `RAM bank ${i}`,
      ...(b.source === undefined ? {} : { source: b.source }),
    });
  if (ram.length === 0) {
    // Without the host description, the RAM the domains were given is the RAM known to exist.
    for (const d of report.domains)
      for (const m of d.mappings)
        if (m.kind === "ram")
          host.push({
            kind: "ram",
            start: m.hstart,
            size: m.size,
            label: `RAM of ${d.name}`,
            source: d.source,
          });
  }
  for (const r of hostRam?.reserved ?? [])
    host.push({ kind: "reserved", start: r.start, size: r.size, label: "reserved", source: r.source });
  for (const m of hostRam?.modules ?? [])
    host.push({ kind: "module", start: m.start, size: m.size, label: m.label, source: m.source });
  for (const r of report.regions) host.push(...regionHost(r));
  const parsed = report.phase === "parse" ? hostRam?.parsed : undefined;
  if (parsed !== undefined) host.push(...parsedRegions(parsed, host));

  return {
    title: `${report.source} (${report.kind})`,
    verdict: report.verdict,
    host,
    domains: report.domains
      // A dying domain's p2m is already torn down: it maps nothing any more.
      .filter((d) => d.state === "running")
      .map((d) => ({
        name: d.name,
        domid: d.domid,
        directMapped: d.directMap,
        mappings: carveOwnerRam(report, d).map((m) => ({
          gstart: m.gstart,
          size: m.size,
          hstart: m.hstart,
          kind: m.kind,
          p2mType: m.p2mType,
          ...(m.blocks === "" ? {} : { blocks: m.blocks }),
          ...(m.id === undefined ? {} : { id: m.id }),
          ...(m.role === undefined ? {} : { role: m.role }),
          ...(m.offset === undefined ? {} : { offset: m.offset }),
          ...(m.source === undefined ? {} : { source: m.source }),
        })),
      })),
    warnings: [
      // A refused boot is the first thing the picture must say: it shows how far Xen got.
      ...(report.verdict === "accepted" ? [] : [refusal(report, parsed)]),
      ...report.warnings.map((w) => ({
        code: w.code,
        message: w.message,
        node: w.node,
        ...warningRanges(report, w.node),
      })),
    ],
  };
}
