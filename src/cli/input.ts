/**
 * From the files on the command line to a booted (or refused) system. One host device tree
 * (.dts/.dtb) is a dom0less boot; one or more xl configs (.cfg) are created in order on one xl host.
 * Mixing the two, or giving two device trees, describes no single machine and is a usage error.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { SshmError } from "../common/index.js";
import { describeHost, type ShmParseOverlap, type ShmParseResult } from "../dom0less/index.js";
import {
  type BootReport,
  bootDom0less,
  createXlSystem,
  type HostImage,
  type System,
  type XenBuild,
  type XlHost,
  type XlHostOptions,
} from "../domains/index.js";
import { type FdtTree, loadDeviceTree } from "../fdt/index.js";
import { UsageError } from "./usage.js";

/** dt: a dom0less boot; xl: xl creates on sshm's own host; dt+xl: the dom0less boot, then xl in its Dom0. */
export type InputKind = "dt" | "xl" | "dt+xl";

/**
 * The xl host's RAM, passed explicitly (it is XlHost's default) so the map can draw the bank even
 * when a create fails and no host object comes back.
 */
export const XL_HOST_RAM = [{ base: 0x4000_0000, size: 4 * 2 ** 30 }] as const;

/** What the map draws besides the report: host RAM banks, reservations and boot modules. */
export interface HostLayout {
  ram: { start: number; size: number; source?: string }[];
  reserved: { start: number; size: number; source: string }[];
  modules: { start: number; size: number; label: string; source: string }[];
  /** Set when Xen refused the tree in its early FDT scan, so no domain was built. */
  parsed?: ParsedSoFar;
}

/**
 * How far Xen's early FDT scan got before it panicked: the shm banks it had registered (host form;
 * a heap bank has no host range yet) and, when the failing check was an overlap test, the range it
 * refused and the one already registered that it overlapped. The map draws these in place of the
 * domains a refused boot never builds.
 */
export interface ParsedSoFar {
  shm: { id: string; start: number; size: number; source: string; owner?: string }[];
  /** The failing check's own log line ("Region: [...) overlapping with bank[0]: [...)"), or "". */
  message: string;
  overlap?: ShmParseOverlap;
}

export interface Loaded {
  kind: InputKind;
  files: string[];
  report: BootReport;
  /** The running system when Xen accepted it (dom0less) or every create succeeded (xl). */
  system: System | null;
  xlHost: XlHost | null;
  layout: HostLayout;
  /** The host device tree (dom0less), for the positions of the nodes a report names. */
  tree: FdtTree | null;
}

const KIND_BY_EXT: Record<string, InputKind> = { ".dts": "dt", ".dtb": "dt", ".cfg": "xl" };

/** Which front-end the files call for; UsageError for unknown extensions, mixes and two DTs. */
export function classify(files: readonly string[]): InputKind {
  if (files.length === 0) throw new UsageError("missing FILE: give a host device tree or xl config files");
  const kinds = files.map((f) => {
    const k = KIND_BY_EXT[extname(f).toLowerCase()];
    if (!k)
      throw new UsageError(
        `cannot tell what ${f} is from its extension: use .dts or .dtb (host device tree) or .cfg (xl config)`,
      );
    return k;
  });
  const dts = files.filter((_, i) => kinds[i] === "dt");
  if (dts.length > 1)
    throw new UsageError(`one host has one device tree, got ${dts.length}: ${dts.join(", ")}`);
  // A host tree with xl configs: Xen boots the tree (with its Dom0), then xl creates the rest.
  if (dts.length === 1 && files.length > 1) return "dt+xl";
  return kinds[0]!;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a path component is not a directory",
};

/** A file's bytes; an unreadable file is an SshmError naming it and the reason in plain words. */
export function readInput(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    const why = ERRNO_TEXT[code] ?? (e instanceof Error ? e.message : String(e));
    throw new SshmError("EREAD", `cannot read ${file}: ${why}`);
  }
}

export interface LoadOptions {
  /** The xl host's RAM banks (`--host-ram`), instead of XL_HOST_RAM. A device tree has its own. */
  readonly hostRam?: readonly { base: number; size: number }[];
  /** Files in a dom0less host's RAM before Xen starts (`boot --load`). */
  readonly hostImages?: readonly HostImage[];
  readonly xenBuild?: XenBuild;
}

/** Boot (dom0less) or create (xl) what the files describe. Input syntax errors throw SshmError. */
export function loadSystem(files: readonly string[], load: LoadOptions = {}): Loaded {
  const kind = classify(files);
  if (kind === "xl" && load.hostImages)
    throw new UsageError(
      "--load puts files in a dom0less host's RAM: it needs a host device tree (.dts/.dtb)",
    );
  const hostRam = load.hostRam !== undefined && load.hostRam.length > 0 ? load.hostRam : undefined;
  if (kind !== "xl" && hostRam)
    throw new UsageError(
      "--host-ram is for xl configs on sshm's own host: a host device tree describes its RAM in its /memory nodes",
    );
  if (kind !== "xl") {
    const file = files.find((f) => KIND_BY_EXT[extname(f).toLowerCase()] === "dt")!;
    const bytes = readInput(file);
    // .dts goes through as text so its positions are exact; loadDeviceTree sniffs the DTB magic.
    const tree = loadDeviceTree(
      extname(file).toLowerCase() === ".dts" ? bytes.toString("utf8") : bytes,
      file,
    );
    const { report, system, parse } = bootDom0less(tree, {
      file,
      ...(load.hostImages ? { hostImages: load.hostImages } : {}),
      ...(load.xenBuild ? { xenBuild: load.xenBuild } : {}),
    });
    const layout = dtLayout(tree);
    if (report.phase === "parse") layout.parsed = parsedSoFar(parse);
    const booted = { kind, files: [...files], report, system, xlHost: null, layout, tree };
    if (kind === "dt" || !system) return booted;
    // dt+xl: Xen booted the host tree's domains; xl in its Dom0 now creates the others, in order.
    const cfgs = files.filter((f) => f !== file);
    const xl = createXlSystem(
      cfgs.map((f) => ({ file: f, text: readInput(f).toString("utf8") })),
      {},
      system,
    );
    return { ...booted, report: xl.report, system: xl.host?.system ?? null, xlHost: xl.host };
  }
  const inputs = files.map((file) => ({ file, text: readInput(file).toString("utf8") }));
  const ram = (hostRam ?? XL_HOST_RAM).map((b) => ({ ...b }));
  checkBanks(ram);
  const opts: XlHostOptions = { ram };
  const { report, host } = createXlSystem(inputs, opts);
  return {
    kind,
    files: [...files],
    report,
    system: host?.system ?? null,
    xlHost: host,
    layout: {
      ram: ram.map((b) => ({ start: b.base, size: b.size, source: "xl host RAM" })),
      reserved: [],
      modules: [],
    },
    tree: null,
  };
}

/** --host-ram banks must not overlap: one physical address is one frame. */
function checkBanks(ram: readonly { base: number; size: number }[]): void {
  const sorted = [...ram].sort((a, b) => a.base - b.base);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (b.base < a.base + a.size)
      throw new UsageError(
        `--host-ram: banks 0x${a.base.toString(16)}+0x${a.size.toString(16)} and 0x${b.base.toString(16)}+0x${b.size.toString(16)} overlap`,
      );
  }
}

function dtLayout(tree: FdtTree): HostLayout {
  try {
    const h = describeHost(tree);
    return {
      ram: h.ramBanks.map((b) => ({ start: b.start, size: b.size })),
      reserved: h.reserved.map((r) => ({ start: r.start, size: r.size, source: r.path })),
      modules: h.modules.map((m) => ({
        start: m.start,
        size: m.size,
        label: `${m.owner ? m.owner.slice(m.owner.lastIndexOf("/") + 1) : "Xen/Dom0"} ${m.kind}`,
        source: m.path,
      })),
    };
  } catch (e) {
    // A tree too broken to describe still gets a picture of its domains' mappings.
    if (e instanceof SshmError) return { ram: [], reserved: [], modules: [] };
    throw e;
  }
}

/**
 * The owner Xen would give each bank at build (process_shm): the domain of its role = "owner"
 * node, else dom_io when a node has no role; only borrowers leave it without one (bug B5).
 */
function plannedOwner(parse: ShmParseResult, bank: number): string | undefined {
  const nodes = parse.nodes.filter((n) => n.bankIndex === bank);
  const owner = nodes.find((n) => n.role === "owner");
  if (owner?.mappedBy !== undefined)
    return owner.mappedBy === "/chosen" ? "Dom0" : owner.mappedBy.slice(owner.mappedBy.lastIndexOf("/") + 1);
  return nodes.some((n) => n.role === undefined) ? "dom_io" : undefined;
}

function parsedSoFar(parse: ShmParseResult): ParsedSoFar {
  return {
    shm: parse.banks.flatMap((b) => {
      if (b.start === null) return [];
      const owner = plannedOwner(parse, b.index);
      return [{ id: b.id, start: b.start, size: b.size, source: b.path, ...(owner ? { owner } : {}) }];
    }),
    message: parse.error?.message ?? "",
    ...(parse.error?.overlap ? { overlap: parse.error.overlap } : {}),
  };
}

/**
 * Destroy the named domains in order (`boot --destroy`), through the toolstack for xl so its
 * xenstore records go too. An unknown name is an SshmError listing the domains there are.
 */
export function destroyDomains(loaded: Loaded, names: readonly string[]): BootReport {
  if (names.length === 0) return loaded.report;
  const system = loaded.system;
  if (!system) return loaded.report;
  for (const name of names) {
    if (loaded.xlHost) loaded.xlHost.destroyDomain(name);
    else system.destroy(name);
  }
  return loaded.xlHost ? loaded.xlHost.report() : system.report();
}
