/**
 * The commands behind `sshm check|boot|map|simulate|bench`, as functions: the CLI (main.ts) parses
 * arguments into these options, and `npm start` (src/main.ts) calls the same functions on the
 * built-in examples. Each returns its exit status with what it produced; input errors are thrown as
 * SshmError (exit 1) and usage errors as UsageError (exit 64) for the caller to print.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";
import { isSshmError } from "../common/index.js";
import { type BootReport, type HostImage, toSimSystem, type XenBuild } from "../domains/index.js";
import { encodeDtb, parseDts } from "../fdt/index.js";
import type { MemoryMap } from "../map/index.js";
import type { Scenario, ScenarioKind, SimResult } from "../sim/types.js";
import { destroyDomains, type Loaded, loadSystem, readInput } from "./input.js";
import { toMemoryMap } from "./map-model.js";
import { bootJson, checkJson, simulateJson } from "./report-json.js";
import { bootText, checkText, summaryLine, verdictExitCode, warningLines } from "./report-text.js";
import type { Style } from "./text.js";
import { parseLoad } from "./units.js";
import { UsageError } from "./usage.js";

/** Where a command writes; `style` colours stdout text (plain unless stdout is a colour TTY). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  style: Style;
}

export function printLines(io: Io, lines: readonly string[]): void {
  io.out(`${lines.join("\n")}\n`);
}

function printJson(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

// ---- check ----

export interface CheckOptions {
  json?: boolean;
  /** xl host RAM banks (--host-ram). */
  hostRam?: readonly { base: number; size: number }[];
}

const loadOpts = (o: { hostRam?: readonly { base: number; size: number }[] }) =>
  o.hostRam === undefined ? {} : { hostRam: o.hostRam };

export interface CommandResult {
  code: number;
  report: BootReport;
}

export function checkCommand(files: readonly string[], opts: CheckOptions, io: Io): CommandResult {
  const loaded = loadSystem(files, loadOpts(opts));
  const report = loaded.report;
  if (opts.json) printJson(io, checkJson(loaded, report));
  else printLines(io, checkText(report, io.style));
  return { code: verdictExitCode(report), report };
}

// ---- boot ----

export interface BootCmdOptions {
  json?: boolean;
  hostRam?: readonly { base: number; size: number }[];
  /** Domains to destroy after the boot, in order. */
  destroy?: readonly string[];
  /** Directory for each guest's DTB (<domain>.dtb). */
  guestDtb?: string;
  /** Print each guest's device tree in the text output (default true; npm start writes DTBs instead). */
  showGuestDts?: boolean;
  /** FILE@ADDR: files in host RAM before Xen starts; kernels are then probed and loaded. */
  load?: readonly string[];
  /** The Xen build modelled (guest RAM Xen never wrote: 0xc2 in debug, 0 in release). */
  xenBuild?: string;
}

/** --load FILE@ADDR... as host images (a bad spec is a usage error, a missing file an input error). */
export function hostImagesFromLoads(loads: readonly string[]): HostImage[] {
  return loads.map((spec) => {
    let parsed: { file: string; addr: number };
    try {
      parsed = parseLoad(spec);
    } catch (e) {
      throw new UsageError(`--load: ${(e as Error).message}`);
    }
    return { addr: parsed.addr, bytes: new Uint8Array(readInput(parsed.file)), file: parsed.file };
  });
}

export interface BootResultCmd extends CommandResult {
  loaded: Loaded;
  /** Files written by --guest-dtb. */
  written: string[];
}

export function bootCommand(files: readonly string[], opts: BootCmdOptions, io: Io): BootResultCmd {
  if (opts.xenBuild !== undefined && opts.xenBuild !== "debug" && opts.xenBuild !== "release")
    throw new UsageError(`--xen-build: "${opts.xenBuild}" is not debug or release`);
  const loaded = loadSystem(files, {
    ...loadOpts(opts),
    ...(opts.load && opts.load.length > 0 ? { hostImages: hostImagesFromLoads(opts.load) } : {}),
    ...(opts.xenBuild ? { xenBuild: opts.xenBuild as XenBuild } : {}),
  });
  const destroy = opts.destroy ?? [];
  let report = loaded.report;
  if (report.verdict === "accepted" && destroy.length > 0) {
    try {
      report = destroyDomains(loaded, destroy);
    } catch (e) {
      // Naming a domain that is not there is a mistake on the command line, not in the input.
      if (isSshmError(e) && (e.code === "ENODOM" || e.code === "EXL_DOM0"))
        throw new UsageError(`--destroy: ${e.message}`);
      throw e;
    }
  }
  const written: string[] = [];
  if (opts.guestDtb !== undefined && report.verdict === "accepted") {
    mkdirSync(opts.guestDtb, { recursive: true });
    // The blobs Xen hands the guests (libfdt's layout for a dom0less domU), not a re-encoding.
    const blobs = loaded.system?.guestDtbs() ?? [];
    for (const g of report.guestDts) {
      const file = join(opts.guestDtb, `${g.domain.replace(/[^A-Za-z0-9_.-]/g, "_")}.dtb`);
      const blob = blobs.find((b) => b.domain === g.domain)?.dtb;
      writeFileSync(file, blob ?? encodeDtb(parseDts(g.dts, `${g.domain}.dts`)));
      written.push(file);
    }
  }
  if (opts.json) printJson(io, bootJson(loaded, report));
  else {
    const lines = bootText(
      opts.showGuestDts === false ? { ...report, guestDts: [] } : report,
      io.style,
      destroy,
    );
    if (written.length > 0) lines.push("", `wrote ${written.join(", ")}`);
    printLines(io, lines);
  }
  if (opts.json && written.length > 0) io.err(`wrote ${written.join(", ")}\n`);
  return { code: verdictExitCode(report), report, loaded, written };
}

// ---- map ----

export interface MapCmdOptions {
  output: string;
  hostRam?: readonly { base: number; size: number }[];
}

export interface MapResultCmd extends CommandResult {
  map: MemoryMap;
}

/**
 * Writes the picture even for a refused boot (it shows how far Xen got), then exits as `check`
 * would on the same files: the picture is written, the configuration is still rejected or warned.
 */
export async function mapCommand(
  files: readonly string[],
  opts: MapCmdOptions,
  io: Io,
): Promise<MapResultCmd> {
  const ext = extname(opts.output).toLowerCase();
  if (ext !== ".svg" && ext !== ".html")
    throw new UsageError(
      `-o ${opts.output}: the picture is written as .svg or .html, chosen by the extension`,
    );
  const loaded = loadSystem(files, loadOpts(opts));
  const map = toMemoryMap(loaded.report, loaded.layout);
  // The xl report's source is just "xl": the picture is titled by the configs it was created from.
  if (loaded.kind === "xl") map.title = `xl create ${files.join(" ")}`;
  const { writeMap } = await import("../map/index.js");
  await writeMap(map, opts.output);
  printLines(io, [`wrote ${opts.output}: ${summaryLine(loaded.report, io.style)}`]);
  return { code: verdictExitCode(loaded.report), report: loaded.report, map };
}

// ---- simulate ----

export interface SimulateCmdOptions {
  scenario: ScenarioKind;
  hostRam?: readonly { base: number; size: number }[];
  size: number;
  durationMs?: number;
  count?: number;
  region?: string;
  doorbell?: boolean;
  json?: boolean;
  /** Progress bar on stderr (default: the simulator's own choice, a TTY). */
  progress?: boolean;
}

export interface SimulateResultCmd extends CommandResult {
  result: SimResult | null;
}

export async function simulateCommand(
  files: readonly string[],
  opts: SimulateCmdOptions,
  io: Io,
): Promise<SimulateResultCmd> {
  const loaded = loadSystem(files, loadOpts(opts));
  const report = loaded.report;
  if (!loaded.system) {
    // Nothing runs on a system Xen refuses: say why, as check would.
    if (opts.json) printJson(io, simulateJson(loaded, report, null, 1));
    else printLines(io, checkText(report, io.style));
    return { code: 1, report, result: null };
  }
  const sim = toSimSystem(loaded.system);
  if (sim.regions.length === 0)
    throw new UsageError("this system has no shared memory region to simulate traffic on");
  if (opts.region !== undefined && !sim.regions.some((r) => r.id === opts.region))
    throw new UsageError(
      `--region: no region "${opts.region}" with live participants (have: ${sim.regions.map((r) => r.id).join(", ")})`,
    );
  const scenario: Scenario = {
    kind: opts.scenario,
    size: opts.size,
    ...(opts.region === undefined ? {} : { region: opts.region }),
    ...(opts.count === undefined ? {} : { count: opts.count }),
    // A count alone means "this many messages"; otherwise run for the duration (default 2 s).
    ...(opts.durationMs === undefined && opts.count !== undefined
      ? {}
      : { durationMs: opts.durationMs ?? 2000 }),
    doorbell: opts.doorbell ?? true,
  };
  const { simulate, formatSimResult } = await import("../sim/index.js");
  let result: SimResult;
  try {
    result = await simulate(sim, scenario, opts.progress === undefined ? {} : { progress: opts.progress });
  } catch (e) {
    // The scenario is made of option values (--size, --region, --scenario): a plan the region
    // cannot hold is a usage error like any other bad option value.
    if (isSshmError(e) && e.code === "ESIM_SCENARIO") throw new UsageError(e.message);
    throw e;
  }
  // Verified traffic on a configuration with warnings exits 2, as check does for the same input.
  const code = result.ok ? verdictExitCode(report) : 1;
  if (opts.json) printJson(io, simulateJson(loaded, report, result, code));
  else {
    const lines = [summaryLine(report, io.style), "", formatSimResult(result).replace(/\n$/, "")];
    const w = warningLines(report, io.style);
    if (w.length > 0) lines.push("", ...w);
    printLines(io, lines);
  }
  return { code, report, result };
}

// ---- bench ----

export interface BenchCmdOptions {
  json?: string;
  timeMs: number;
}

export async function benchCommand(
  suites: readonly string[],
  opts: BenchCmdOptions,
  io: Io,
): Promise<number> {
  const { SUITES, runBenchmarks } = await import("../../bench/run.js");
  const { formatTable } = await import("../../bench/lib.js");
  const unknown = suites.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0)
    throw new UsageError(
      `unknown bench suite ${unknown.join(", ")} (have: ${SUITES.map((s) => s.name).join(", ")})`,
    );
  const results = await runBenchmarks(suites, { timeMs: opts.timeMs, log: (s) => io.err(`${s}\n`) });
  io.out(`${formatTable(results)}\n`);
  if (opts.json !== undefined) {
    writeFileSync(opts.json, `${JSON.stringify(results, null, 2)}\n`);
    io.out(`\nwrote ${opts.json}\n`);
  }
  return 0;
}
