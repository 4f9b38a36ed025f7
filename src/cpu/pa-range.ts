/**
 * Which PA range (ID_AA64MMFR0_EL1.PARange) and VMID width Xen's system_cpuinfo ends up with on a
 * host, and why. Xen reads the boot CPU's ID registers (processor_id -> identify_cpu in
 * xen/arch/arm/setup.c), brings up the other CPUs (start_secondary in xen/arch/arm/smpboot.c),
 * parks every CPU whose MIDR differs from the boot CPU's unless `hmp-unsafe` is on the command
 * line, and lowers each field to the smallest value of the CPUs it keeps (update_system_features:
 * PARange and VMIDBits are FTR_LOWER_SAFE in xen/arch/arm/arm64/cpufeature.c). setup_virt_paging
 * then reads system_cpuinfo.mm64.pa_range.
 *
 * A host DT does not carry ID registers: sshm reads the `compatible` of each `/cpus` child with
 * `device_type = "cpu"` (the nodes dt_smp_init_cpus counts) through the core table, takes the
 * first as the boot CPU (Xen takes the one whose `reg` is the boot CPU's MPIDR, which firmware
 * decides; QEMU boots on cpu@0, listed first), and lets `--cpu` / `--pa-bits` override it.
 */
import { SshmError } from "../common/index.js";
import { type FdtTree, findNode, getProp, propCells, propString, propStrings } from "../fdt/index.js";
import { CORES, type CoreInfo, coreByCompatible, coreByName } from "./cores.js";

/** PARange encoding → bits (ID_AA64MMFR0_EL1.PARange; 6 = 52 bits with FEAT_LPA). */
const PA_BITS = [32, 36, 40, 42, 44, 48, 52] as const;

/** What sshm assumes with no CPU information: 40 bits, the range of most Armv8.0 parts. */
export const DEFAULT_PA_BITS = 40;

export type PaRangeSource = "cpu" | "option" | "default";

export interface HostCpu {
  readonly path: string;
  readonly compatible: readonly string[];
  /** Xen's logical CPU number: 0 for the boot CPU, then 1, 2, ... in DT order. */
  readonly cpuid: number;
  readonly core: CoreInfo | undefined;
  /** False when Xen parks it (MIDR differs from the boot CPU's and no hmp-unsafe). */
  readonly online: boolean;
}

export interface PaRangeNote {
  readonly code: string;
  readonly node: string;
  readonly message: string;
}

export interface PaRangeChoice {
  /** PA size of system_cpuinfo.mm64.pa_range, in bits. */
  readonly paBits: number;
  /** The PARange encoding (index of paBits in 32/36/40/42/44/48/52). */
  readonly paRange: number;
  /** All online CPUs support 16-bit VMIDs (VTCR_EL2.VS). */
  readonly vmid16: boolean;
  readonly source: PaRangeSource;
  /** Why, in words: "cpu@0 compatible "arm,cortex-a57" (Cortex-A57: PARange 4)". */
  readonly why: string;
  readonly cpus: readonly HostCpu[];
  /** What Xen prints while bringing up the CPUs (the MIDR mismatch lines). */
  readonly log: readonly string[];
  /** sshm warnings: a core sshm does not know (UNKNOWN_CPU). */
  readonly warnings: readonly PaRangeNote[];
}

export interface PaRangeOptions {
  /** `--pa-bits N`: the CPU's PA range in bits (32, 36, 40, 42, 44, 48 or 52). */
  readonly paBits?: number;
  /** `--cpu NAME`: every CPU of the host is this core. */
  readonly cpu?: string;
}

/** The PARange encoding for a size in bits, or -1. */
export function paRangeOfBits(bits: number): number {
  return (PA_BITS as readonly number[]).indexOf(bits);
}

export const VALID_PA_BITS: readonly number[] = PA_BITS;

/** PRIregister on arm64 is "016lx". */
function reg64(v: number): string {
  return `0x${v.toString(16).padStart(16, "0")}`;
}

/** Xen's boolean_param parse of one option on the command line (last occurrence wins). */
export function xenBoolParam(cmdline: string | undefined, name: string): boolean | undefined {
  if (cmdline === undefined) return undefined;
  let v: boolean | undefined;
  for (const opt of cmdline.split(" ").filter((s) => s.length > 0)) {
    const eq = opt.indexOf("=");
    let key = eq < 0 ? opt : opt.slice(0, eq);
    const val = eq < 0 ? "" : opt.slice(eq + 1);
    // parse_params: a "no-" prefix inverts a boolean.
    let assert = true;
    if (key.startsWith("no-")) {
      assert = false;
      key = key.slice(3);
    }
    if (key !== name) continue;
    if (val === "") {
      v = assert;
      continue;
    }
    // parse_bool; an unrecognised value leaves the option as it was.
    const b = ["1", "on", "yes", "true", "enable"].includes(val)
      ? true
      : ["0", "no", "off", "false", "disable"].includes(val)
        ? false
        : undefined;
    if (b !== undefined) v = b ? assert : !assert;
  }
  return v;
}

/** The `device_type = "cpu"` children of /cpus, with Xen's logical numbering. */
function dtCpus(tree: FdtTree | null): { path: string; compatible: string[] }[] {
  const cpus = tree ? findNode(tree, "/cpus") : undefined;
  if (!cpus) return [];
  const out: { path: string; compatible: string[] }[] = [];
  for (const c of cpus.children) {
    const dt = getProp(c, "device_type");
    if (!dt || propString(dt) !== "cpu") continue;
    // dt_smp_init_cpus skips a node without reg ("has no reg property").
    const reg = getProp(c, "reg");
    if (!reg || (propCells(reg)?.length ?? 0) === 0) continue;
    const compat = getProp(c, "compatible");
    out.push({ path: `/cpus/${c.name}`, compatible: compat ? (propStrings(compat) ?? []) : [] });
  }
  return out;
}

function cpuText(c: HostCpu): string {
  return `${c.path} compatible ${JSON.stringify(c.compatible[0] ?? "")} (${coreText(c.core!)})`;
}

function unknownCoreMessage(c: HostCpu): string {
  const hint = `sshm assumes ${DEFAULT_PA_BITS} bits; give --cpu NAME (${CORES.map((k) => k.name).join(", ")}) or --pa-bits N to say what the host has`;
  if (c.core)
    return `${c.path} is ${JSON.stringify(c.compatible[0] ?? "")} (${c.core.title}), whose ID_AA64MMFR0_EL1.PARange the device tree cannot tell: ${hint}`;
  const names =
    c.compatible.length > 0 ? c.compatible.map((s) => JSON.stringify(s)).join(", ") : "(no compatible)";
  return `${c.path} has compatible ${names}, a core sshm does not know, so its ID_AA64MMFR0_EL1.PARange is unknown: ${hint}`;
}

function coreText(core: CoreInfo): string {
  return core.paRange === null ? `${core.title}, PA range unknown` : `${core.title}, PARange ${core.paRange}`;
}

/** Decide the PA range and VMID width Xen would see on this host. */
export function choosePaRange(tree: FdtTree | null, opts: PaRangeOptions = {}): PaRangeChoice {
  const warnings: PaRangeNote[] = [];
  const log: string[] = [];
  let cpus: HostCpu[] = [];
  let paBits: number | undefined;
  let vmid16 = false;
  let source: PaRangeSource = "default";
  let why = "";

  const forced = opts.cpu === undefined ? undefined : coreByName(opts.cpu);
  if (opts.cpu !== undefined && !forced)
    throw new SshmError(
      "ECPU",
      `unknown core ${JSON.stringify(opts.cpu)}: sshm knows ${CORES.map((k) => k.name).join(", ")}`,
    );
  if (forced) {
    source = "option";
    vmid16 = forced.vmidBits === 16;
    if (forced.paRange !== null) {
      paBits = PA_BITS[forced.paRange];
      why = `from --cpu ${forced.name} (${coreText(forced)})`;
    }
  } else {
    const nodes = dtCpus(tree);
    const hmpUnsafe =
      xenBoolParam(
        (() => {
          const ch = tree ? findNode(tree, "/chosen") : undefined;
          const p = ch && getProp(ch, "xen,xen-bootargs");
          return p ? propString(p) : undefined;
        })(),
        "hmp-unsafe",
      ) ?? false;
    const boot = nodes[0];
    if (boot) {
      const bootCore = coreByCompatible(boot.compatible);
      cpus = nodes.map((n, i) => {
        const core = i === 0 ? bootCore : coreByCompatible(n.compatible);
        // Cores sshm does not know have no MIDR here: the same compatible list means the same core.
        const sameCore =
          core && bootCore
            ? core.midr === bootCore.midr
            : n.compatible.join("\0") === boot.compatible.join("\0");
        return {
          path: n.path,
          compatible: n.compatible,
          cpuid: i,
          core,
          online: i === 0 || sameCore || hmpUnsafe,
        };
      });
      for (const c of cpus) {
        if (c.cpuid === 0 || (c.core && bootCore && c.core.midr === bootCore.midr)) continue;
        if (!c.core || !bootCore) continue;
        log.push(
          `CPU${c.cpuid} MIDR (${reg64(c.core.midr)}) does not match boot CPU MIDR (${reg64(bootCore.midr)}),`,
          hmpUnsafe
            ? "hmp-unsafe turned on so tainting Xen and keep core on!!"
            : "disable cpu (see big.LITTLE.txt under docs/).",
        );
      }
      // update_system_features: the lowest PARange / VMIDBits of the CPUs that stay on.
      let pa = Number.POSITIVE_INFINITY;
      let v16 = true;
      let lowest: HostCpu | undefined;
      for (const c of cpus.filter((x) => x.online)) {
        const known = c.core?.paRange ?? null;
        let bits: number = DEFAULT_PA_BITS;
        if (known === null) {
          warnings.push({ code: "UNKNOWN_CPU", node: c.path, message: unknownCoreMessage(c) });
          v16 = false;
        } else {
          bits = PA_BITS[known]!;
          if (c.core?.vmidBits !== 16) v16 = false;
        }
        if (bits < pa) {
          pa = bits;
          lowest = c;
        }
      }
      paBits = pa;
      vmid16 = v16;
      const parked = cpus.filter((x) => !x.online).length;
      const parkedText =
        parked > 0
          ? `; ${parked} CPU${parked === 1 ? "" : "s"} with another MIDR parked by Xen (no hmp-unsafe)`
          : "";
      if (warnings.length > 0) {
        source = "default";
        why = `sshm's default: ${warnings.map((w) => w.node).join(", ")} ${warnings.length === 1 ? "is" : "are"} not a core whose PA range sshm knows${parkedText}`;
      } else {
        source = "cpu";
        why = `from ${cpuText(cpus[0]!)}${lowest && lowest.cpuid !== 0 ? `, lowered by ${cpuText(lowest)} (kept on by hmp-unsafe)` : ""}${parkedText}`;
      }
    }
  }

  if (opts.paBits !== undefined) {
    if (paRangeOfBits(opts.paBits) < 0)
      throw new SshmError(
        "EPA_BITS",
        `invalid PA size ${opts.paBits}: ID_AA64MMFR0_EL1.PARange encodes ${PA_BITS.join(", ")} bits`,
      );
    paBits = opts.paBits;
    source = "option";
    why = `from --pa-bits ${opts.paBits}`;
  } else if (paBits === undefined) {
    paBits = DEFAULT_PA_BITS;
    if (forced) {
      warnings.push({
        code: "UNKNOWN_CPU",
        node: "--cpu",
        message: `--cpu ${forced.name} (${forced.title}) copies the machine's own ID registers, so its PA range is unknown: sshm assumes ${DEFAULT_PA_BITS} bits; give --pa-bits N as well`,
      });
      source = "default";
      why = `sshm's default: --cpu ${forced.name} has no known PA range`;
    } else {
      why = tree
        ? "sshm's default: the host DT has no /cpus/cpu node"
        : "sshm's default: an xl host has no host DT";
    }
  }
  return { paBits, paRange: paRangeOfBits(paBits), vmid16, source, why, cpus, log, warnings };
}
