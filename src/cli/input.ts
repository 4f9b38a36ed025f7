/**
 * From the files on the command line to a booted (or refused) system. One host device tree
 * (DTS or DTB) or one ImageBuilder config is a dom0less boot; one or more xl configs are created
 * in order on one xl host; a host device tree with xl configs is a dom0less boot whose Dom0 then
 * creates the configs' domains. What a file is comes from its content (kindOf). Other mixes, or
 * two device trees, describe no single machine and are a usage error.
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
import { type FdtTree, isDtb, loadDeviceTree } from "../fdt/index.js";
import {
  buildImageBuilderSystem,
  type ImageBuilderSystem,
  looksLikeImageBuilder,
} from "../imagebuilder/index.js";
import type { HostCpuOptions } from "./host-options.js";
import { UsageError } from "./usage.js";

/** What one file is. */
export type FileKind = "dt" | "xl" | "imagebuilder";
/** dt: a dom0less boot; xl: xl creates on sshm's own host; dt+xl: the dom0less boot, then xl in its Dom0. */
export type InputKind = FileKind | "dt+xl";

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
  /** For an ImageBuilder config: the generated tree and every file it loads with its address. */
  imagebuilder: ImageBuilderSystem | null;
}

const KIND_BY_EXT: Record<string, FileKind> = { ".dts": "dt", ".dtb": "dt", ".cfg": "xl" };

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

/** Text with no byte a terminal would act on: NUL, controls, DEL and invalid UTF-8. */
function isText(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) || c === 0x7f) return false;
  }
  return !new TextDecoder().decode(bytes).includes("\ufffd");
}

/** The first bytes as hex, for a message about a file that is not what it claims to be. */
function headHex(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/**
 * What one file is, by its content: a DTB by its magic 0xd00dfeed, an ImageBuilder config by its
 * `NAME=` assignments of uboot-script-gen's variables, DTS by `/dts-v1/`, an xl config by its
 * `key = value` lines; the extension decides only between text formats that do not say. Anything
 * else is unreadable input (an SshmError, exit 1), named with what it looks like.
 */
export function kindOf(file: string, bytes: Uint8Array): FileKind {
  const ext = extname(file).toLowerCase();
  if (isDtb(bytes)) return "dt";
  if (bytes.length === 0) throw new SshmError("EINPUT", `${file} is empty: not a device tree or a config`);
  // A .dts with a stray byte still goes to the DTS parser, whose message locates it (escaped).
  if (!isText(bytes) && ext !== ".dts") {
    const hint =
      ext === ".dtb"
        ? `not a device tree blob: a DTB starts with the magic d0 0d fe ed, this file with ${headHex(bytes)}`
        : `binary data (starts with ${headHex(bytes)}), not a device tree blob (magic d0 0d fe ed), DTS or config text`;
    throw new SshmError("EINPUT", `${file} is ${hint}`);
  }
  const text = new TextDecoder().decode(bytes);
  if (looksLikeImageBuilder(text)) return "imagebuilder";
  const noComments = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  if (/^\s*\/dts-v1\/\s*;/.test(noComments)) return "dt";
  if (ext === ".dtb")
    throw new SshmError(
      "EINPUT",
      `${file} is text, not a device tree blob (a DTB starts with the magic d0 0d fe ed); if it is DTS, name it .dts`,
    );
  const k = KIND_BY_EXT[ext];
  if (k) return k;
  if (
    /^[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*=/m.test(text) &&
    !/^[ \t]*[A-Z_][A-Z0-9_]*(\[[0-9]+\])?=/m.test(text)
  )
    return "xl";
  throw new SshmError(
    "EINPUT",
    `cannot tell what ${file} is: not a device tree blob (magic d0 0d fe ed), not DTS (/dts-v1/;), not an xl config (key = value) and not an ImageBuilder config (MEMORY_START=, DEVICE_TREE=, XEN=, ...)`,
  );
}

/**
 * Which front-end the files call for, from their contents; UsageError for mixes and for more than
 * one device tree or ImageBuilder config (one host, one description). One host device tree with
 * xl configs is "dt+xl": Xen boots the tree (with its Dom0), then xl creates the rest.
 */
export function classify(files: readonly string[]): { kind: InputKind; bytes: Buffer[]; kinds: FileKind[] } {
  if (files.length === 0) throw new UsageError("missing FILE: give a host device tree or xl config files");
  const bytes = files.map((f) => readInput(f));
  const kinds = files.map((f, i) => kindOf(f, bytes[i]!));
  const dts = files.filter((_, i) => kinds[i] === "dt");
  const set = new Set(kinds);
  if (dts.length > 1)
    throw new UsageError(`one host has one device tree, got ${dts.length}: ${dts.join(", ")}`);
  if (dts.length === 1 && set.size === 2 && set.has("xl")) return { kind: "dt+xl", bytes, kinds };
  if (set.size > 1)
    throw new UsageError(
      `${files.map((f, i) => `${f} is ${KIND_TEXT[kinds[i]!]}`).join(", ")}: these describe different systems; give one host device tree (optionally with xl configs), one ImageBuilder config or xl configs`,
    );
  if (kinds[0] !== "xl" && files.length > 1)
    throw new UsageError(
      `one host has one ${KIND_NOUN[kinds[0]!]}, got ${files.length}: ${files.join(", ")}`,
    );
  return { kind: kinds[0]!, bytes, kinds };
}

const KIND_NOUN: Record<FileKind, string> = {
  dt: "device tree",
  xl: "xl config",
  imagebuilder: "ImageBuilder config",
};

const KIND_TEXT: Record<FileKind, string> = {
  dt: "a host device tree",
  xl: "an xl config",
  imagebuilder: "an ImageBuilder config",
};

export interface LoadOptions extends HostCpuOptions {
  /** The xl host's RAM banks (`--host-ram`), instead of XL_HOST_RAM. A device tree has its own. */
  readonly hostRam?: readonly { base: number; size: number }[];
  /** Files in a dom0less host's RAM before Xen starts (`boot --load`). */
  readonly hostImages?: readonly HostImage[];
  readonly xenBuild?: XenBuild;
}

/** Boot (dom0less) or create (xl) what the files describe. Input syntax errors throw SshmError. */
export function loadSystem(files: readonly string[], load: LoadOptions = {}): Loaded {
  const { kind, bytes, kinds } = classify(files);
  if (kind === "xl" && load.hostImages)
    throw new UsageError(
      "--load puts files in a dom0less host's RAM: it needs a host device tree (.dts/.dtb)",
    );
  const hostRam = load.hostRam !== undefined && load.hostRam.length > 0 ? load.hostRam : undefined;
  if (kind !== "xl" && hostRam)
    throw new UsageError(
      "--host-ram is for xl configs on sshm's own host: a host device tree describes its RAM in its /memory nodes",
    );
  const bootOpts = (file: string) => ({
    file,
    ...(load.hostImages ? { hostImages: load.hostImages } : {}),
    ...(load.xenBuild ? { xenBuild: load.xenBuild } : {}),
    ...(load.paBits === undefined ? {} : { paBits: load.paBits }),
    ...(load.cpu === undefined ? {} : { cpu: load.cpu }),
  });
  if (kind === "dt" || kind === "dt+xl") {
    const at = kinds.indexOf("dt");
    const file = files[at]!;
    // Text goes through as a string so its positions are exact; a DTB by its magic.
    const b = bytes[at]!;
    const tree = loadDeviceTree(isDtb(b) ? b : b.toString("utf8"), file);
    const booted = bootTree(kind, files, tree, bootOpts(file), null);
    const system = booted.system;
    if (kind === "dt" || !system) return booted;
    // dt+xl: Xen booted the host tree's domains; xl in its Dom0 now creates the others, in order.
    const cfgs = files.flatMap((f, i) => (i === at ? [] : [{ file: f, text: bytes[i]!.toString("utf8") }]));
    const xl = createXlSystem(cfgs, {}, system);
    return { ...booted, report: xl.report, system: xl.host?.system ?? null, xlHost: xl.host };
  }
  if (kind === "imagebuilder") {
    const file = files[0]!;
    const ib = buildImageBuilderSystem(file);
    return bootTree(kind, files, ib.tree, bootOpts(file), ib);
  }
  const inputs = files.map((file, i) => ({ file, text: bytes[i]!.toString("utf8") }));
  const ram = (hostRam ?? XL_HOST_RAM).map((b) => ({ ...b }));
  checkBanks(ram);
  const opts: XlHostOptions = {
    ram,
    ...(load.paBits === undefined ? {} : { paBits: load.paBits }),
    ...(load.cpu === undefined ? {} : { cpu: load.cpu }),
  };
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
    imagebuilder: null,
  };
}

/** A dom0less boot of one host tree (from a DTS/DTB or an ImageBuilder config), with its layout. */
function bootTree(
  kind: InputKind,
  files: readonly string[],
  tree: FdtTree,
  opts: Parameters<typeof bootDom0less>[1],
  imagebuilder: ImageBuilderSystem | null,
): Loaded {
  const { report, system, parse } = bootDom0less(tree, opts);
  const layout = dtLayout(tree);
  if (report.phase === "parse") layout.parsed = parsedSoFar(parse);
  return { kind, files: [...files], report, system, xlHost: null, layout, tree, imagebuilder };
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
