/**
 * The `--json` output of check, boot and simulate, documented by the JSON Schemas in docs/schema/.
 *
 * Two rules make it safe for other tools:
 * - Every guest or host address, frame number (mfn), offset into a region and size of a memory
 *   range (mapping, chunk, region, ring) is a "0x…" string of lowercase hex. JSON numbers are
 *   IEEE doubles in most readers (JavaScript, jq) and lose integers past 2^53, and a 64-bit
 *   address is read as hex by people anyway. Counts (pages, references, messages, bytes moved),
 *   domids, message sizes and times stay numbers.
 * - Every place in the input is a NodeLoc `{ path, file, line, col }`: the failed node, and the
 *   node (or xl config position) of each warning.
 *
 * The report objects (src/domains/report.ts) keep plain numbers; only this view changes them.
 */
import type {
  BootReport,
  DomainReport,
  MappingReport,
  RegionReport,
  ReportWarning,
} from "../domains/index.js";
import { type FdtTree, findNode } from "../fdt/index.js";
import type { PageCountRun, SimResult } from "../sim/types.js";
import { verdictExitCode } from "./report-text.js";

/** "0x40000000": an address, frame number, offset or memory size as JSON carries it. */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** A place in the user's input. line/col are null where the input has none (a DTB, a whole file). */
export interface NodeLoc {
  /** Device-tree node path; null for an xl config position. */
  readonly path: string | null;
  /** The property Xen rejected (its position is line/col), when it rejected one property. */
  readonly property?: string;
  readonly file: string | null;
  readonly line: number | null;
  readonly col: number | null;
}

/** What the locations are resolved against: the input files and, for a device tree, its tree. */
export interface JsonContext {
  readonly files: readonly string[];
  readonly tree: FdtTree | null;
}

/** "file:12:5" as xl's formatLoc writes it. */
const FILE_POS = /^(.+):(\d+):(\d+)$/;
/**
 * "/chosen/domU1/shm0 (file:30:13)" as the dom0less boot writes a failed node, or
 * "/chosen/domU1/shm0 property role (file:33:17)" when Xen rejected one property of it.
 */
const PATH_POS = /^(\/\S*)(?: property (\S+))? \(([^()]+):(\d+):(\d+)\)/;

function nodeOf(ctx: JsonContext, path: string): NodeLoc {
  const loc = ctx.tree ? findNode(ctx.tree, path)?.loc : undefined;
  if (loc) return { path, file: loc.file, line: loc.line, col: loc.column };
  // A DTB has no positions: the node is still in that file.
  return { path, file: ctx.files.length === 1 ? ctx.files[0]! : null, line: null, col: null };
}

/**
 * Where a report's node reference points: a DT path (looked up in the tree), "path (file:l:c)",
 * an xl "file:l:c", a domain name (its DT node or config file), or an input file.
 */
export function locate(ctx: JsonContext, node: string, domains: readonly DomainReport[]): NodeLoc {
  const pp = PATH_POS.exec(node);
  if (pp)
    return {
      path: pp[1]!,
      ...(pp[2] === undefined ? {} : { property: pp[2] }),
      file: pp[3]!,
      line: Number(pp[4]),
      col: Number(pp[5]),
    };
  if (node.startsWith("/")) return nodeOf(ctx, node);
  const fp = FILE_POS.exec(node);
  if (fp) return { path: null, file: fp[1]!, line: Number(fp[2]), col: Number(fp[3]) };
  if (ctx.files.includes(node)) return { path: null, file: node, line: null, col: null };
  const d = domains.find((x) => x.name === node);
  if (d?.source.startsWith("/")) return nodeOf(ctx, d.source);
  if (d && ctx.files.includes(d.source)) return { path: null, file: d.source, line: null, col: null };
  return { path: null, file: null, line: null, col: null };
}

/**
 * The failed node with its position. An xl create names the config file; the position of the
 * setting that failed leads Xen's (xl's) message, "xl create FILE: FILE:line:col: ...".
 */
function failedLoc(ctx: JsonContext, r: BootReport): NodeLoc | null {
  if (r.failedNode === null) return null;
  const loc = locate(ctx, r.failedNode, r.domains);
  if (loc.line !== null || r.kind !== "xl") return loc;
  const prefix = `xl create ${r.failedNode}: `;
  const line = r.log.find((l) => l.startsWith(prefix));
  const fp = line ? /^(.+?):(\d+):(\d+): /.exec(line.slice(prefix.length)) : null;
  if (fp?.[1] === r.failedNode) return { ...loc, line: Number(fp[2]), col: Number(fp[3]) };
  return loc;
}

export interface WarningJson {
  readonly code: string;
  readonly node: NodeLoc;
  readonly message: string;
}

function warningJson(ctx: JsonContext, w: ReportWarning, domains: readonly DomainReport[]): WarningJson {
  return { ...w, node: locate(ctx, w.node, domains) };
}

function mappingJson(m: MappingReport): object {
  return {
    ...m,
    gstart: hex(m.gstart),
    size: hex(m.size),
    hstart: hex(m.hstart),
    ...(m.offset === undefined ? {} : { offset: hex(m.offset) }),
  };
}

function domainJson(d: DomainReport): object {
  return { ...d, mappings: d.mappings.map(mappingJson) };
}

function regionJson(r: RegionReport): object {
  return {
    ...r,
    host: r.host === null ? null : hex(r.host),
    chunks: r.chunks.map((c) => ({ start: hex(c.start), size: hex(c.size) })),
    size: hex(r.size),
    borrowers: r.borrowers.map((b) => ({ ...b, gaddr: hex(b.gaddr), offset: hex(b.offset) })),
    refcounts: r.refcounts.map((x) => ({ ...x, mfn: hex(x.mfn) })),
  };
}

/** `check --json`: the verdict part of the report, where it stopped, the warnings, the exit code. */
export function checkJson(ctx: JsonContext, r: BootReport, exitCode: number = verdictExitCode(r)): object {
  return {
    source: r.source,
    files: [...ctx.files],
    kind: r.kind,
    verdict: r.verdict,
    phase: r.phase,
    log: r.log,
    panic: r.panic,
    failedNode: failedLoc(ctx, r),
    notes: r.notes,
    warnings: r.warnings.map((w) => warningJson(ctx, w, r.domains)),
    paRange: r.paRange,
    exitCode,
  };
}

/** `boot --json`: the whole report (what check prints, plus domains, regions, guest DTs, xenstore). */
export function bootJson(ctx: JsonContext, r: BootReport): object {
  return {
    ...r,
    ...checkJson(ctx, r),
    domains: r.domains.map(domainJson),
    regions: r.regions.map(regionJson),
  };
}

function pageCountJson(p: PageCountRun): object {
  // A page the owner's stage-2 does not map has no frame: mfn and count are null, not -1.
  return {
    ...p,
    offset: hex(p.offset),
    mfn: p.mfn < 0 ? null : hex(p.mfn),
    count: p.mfn < 0 ? null : p.count,
  };
}

/** The simulation result in JSON form (addresses, offsets and ring sizes as hex strings). */
export function simResultJson(s: SimResult): object {
  return {
    ...s,
    guests: s.guests.map((g) => ({
      ...g,
      fault: g.fault === null ? null : { ...g.fault, ipa: hex(g.fault.ipa) },
    })),
    rings: s.rings.map((g) => ({ ...g, offset: hex(g.offset), bytes: hex(g.bytes) })),
    pageCounts: s.pageCounts === null ? null : s.pageCounts.map(pageCountJson),
  };
}

/** `simulate --json`: check's object for the configuration, and the run's result (null if none ran). */
export function simulateJson(
  ctx: JsonContext,
  r: BootReport,
  result: SimResult | null,
  exitCode: number,
): object {
  return { ...checkJson(ctx, r, exitCode), result: result === null ? null : simResultJson(result) };
}
