/**
 * The domain settings sshm needs from an xl config file, read the way xl (tools/xl/xl_parse.c)
 * and libxl read them for an Arm guest:
 *
 * - `name`: mandatory ("Domain name must be specified.").
 * - `memory` (MiB): default 32, libxl's default when the setting is absent
 *   (libxl__domain_build_info_setdefault: max_memkb = 32 * 1024, target = max).
 *   0 fails as in libxc's Arm memory setup ("ram size is 0"), and so does more than the two guest
 *   RAM banks can hold ("ram size is too large for guest address space").
 * - `maxmem` (MiB): defaults to `memory`. sshm also rejects maxmem < memory (own check).
 * - `vcpus`: default 1; must be at least 1 (own check).
 * - `type`: xl compares the value as a prefix of "hvm", then "pv", then "pvh". So "p" means pv and
 *   "" means hvm, and anything else is "Invalid domain type X.". On Arm libxl accepts only PVH:
 *   it converts PV to PVH with three warnings, and refuses HVM ("Unsupported Arm guest type hvm").
 *   When the setting is absent, xl on Arm uses PVH.
 * - `static_shm`: a list of SSHM_SPEC strings (sshm-spec.ts), checked one by one and then as a list.
 *
 * Numbers are read like libxlu's xlu_cfg_get_long: the value, quoted or not, goes through C's
 * strtol with base 0. So "256", 256, 0x100 and 0400 (octal) all mean 256. The same wording as
 * libxlu is used for a value that is not a number, and for a setting built with `+=`.
 *
 * Where xl only prints a warning and ignores the setting (a list where a single value belongs, a
 * value that is not a number), sshm stops with an error. Such a config never does what its author
 * meant.
 *
 * Error policy: the first broken rule is thrown as an SshmError with file:line:column. No
 * partial result is returned. Non-fatal notes (the PV to PVH conversion) are returned in `warnings`.
 */

/** Guest RAM layout of an Arm guest (xen/include/public/arch-arm.h). */
import { GUEST_RAM0_BASE, GUEST_RAM0_SIZE, GUEST_RAM1_BASE, GUEST_RAM1_SIZE } from "../common/addr.js";
import type { XlAtom, XlConfig, XlSetting, XlValue } from "./config-parser.js";
import { parseXlConfig } from "./config-parser.js";
import type { SourceLoc } from "./source.js";
import { XL_CODES, type XlErrorCode, xlError } from "./source.js";
import { checkSshmSpecList, parseSshmSpec, type SshmSpec } from "./sshm-spec.js";

export { GUEST_RAM0_BASE, GUEST_RAM0_SIZE, GUEST_RAM1_BASE, GUEST_RAM1_SIZE };
export const GUEST_RAM_MAX = GUEST_RAM0_SIZE + GUEST_RAM1_SIZE;

/** libxl's memory default when `memory` is absent: 32 MiB. */
export const XL_DEFAULT_MEMORY_MIB = 32;

const MIB = 1024 * 1024;
const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

export interface GuestRamBank {
  readonly base: number;
  readonly size: number;
}

export interface XlWarning {
  readonly message: string;
  readonly loc: SourceLoc;
}

export interface XlDomainConfig {
  readonly file: string;
  readonly name: string;
  readonly memoryMiB: number;
  readonly maxmemMiB: number;
  readonly vcpus: number;
  /** Always "pvh": the only type an Arm guest can have. */
  readonly type: "pvh";
  /** What the file asked for, after xl's prefix matching; undefined when `type` is absent. */
  readonly requestedType: "pv" | "pvh" | undefined;
  /**
   * Guest RAM as libxc lays it out for `memory`: bank 0 at GUEST_RAM0_BASE (up to 3 GiB), the
   * rest in bank 1 at GUEST_RAM1_BASE. The hypervisor model checks static_shm ranges against it.
   */
  readonly ramBanks: readonly GuestRamBank[];
  readonly staticShm: readonly SshmSpec[];
  readonly warnings: readonly XlWarning[];
  /** Where each extracted setting was written (absent keys: not present). */
  readonly locs: Readonly<
    Partial<Record<"name" | "memory" | "maxmem" | "vcpus" | "type" | "static_shm", SourceLoc>>
  >;
  /** The whole parsed file, for settings sshm does not interpret. */
  readonly config: XlConfig;
}

type StrtolResult = { kind: "ok"; value: bigint } | { kind: "invalid" } | { kind: "range" };

const C_SPACE = " \t\n\v\f\r";

/** C strtol(s, &ep, 0) followed by libxlu's "whole string consumed" check. */
export function strtolBase0(s: string): StrtolResult {
  let i = 0;
  while (i < s.length && C_SPACE.includes(s.charAt(i))) i++;
  let neg = false;
  if (s.charAt(i) === "+" || s.charAt(i) === "-") {
    neg = s.charAt(i) === "-";
    i++;
  }
  let base = 10;
  const isHexDigit = (ch: string): boolean => /^[0-9a-fA-F]$/.test(ch);
  if (
    s.charAt(i) === "0" &&
    (s.charAt(i + 1) === "x" || s.charAt(i + 1) === "X") &&
    isHexDigit(s.charAt(i + 2))
  ) {
    base = 16;
    i += 2;
  } else if (s.charAt(i) === "0") {
    base = 8;
  }
  const digitValue = (ch: string): number => {
    const v = Number.parseInt(ch, 36);
    return Number.isNaN(v) || v >= base ? -1 : v;
  };
  const start = i;
  let v = 0n;
  while (i < s.length && digitValue(s.charAt(i)) >= 0) {
    v = v * BigInt(base) + BigInt(digitValue(s.charAt(i)));
    i++;
  }
  if (i === start) return { kind: "invalid" };
  if (neg) v = -v;
  // strtol reports ERANGE before the caller looks at trailing characters.
  if (v > LONG_MAX || v < LONG_MIN) return { kind: "range" };
  if (i !== s.length) return { kind: "invalid" };
  return { kind: "ok", value: v };
}

function fail(code: XlErrorCode, message: string, loc: SourceLoc): never {
  throw xlError(code, message, loc);
}

function single(set: XlSetting): XlAtom {
  if (set.value.kind === "list") {
    fail(XL_CODES.value, `parameter \`${set.name}' is a list but should be a single value`, set.value.loc);
  }
  return set.value;
}

function getLong(cfg: XlConfig, name: string): { value: number; loc: SourceLoc } | undefined {
  const set = cfg.settings.get(name);
  if (!set) return undefined;
  const atom = single(set);
  if (set.op === "+=") {
    fail(XL_CODES.value, `can't use += with numbers for parameter \`${name}'`, set.loc);
  }
  const r = strtolBase0(atom.text);
  if (r.kind === "range") {
    fail(
      XL_CODES.value,
      `parameter \`${name}' could not be parsed as a number: Numerical result out of range`,
      atom.loc,
    );
  }
  if (r.kind === "invalid") fail(XL_CODES.value, `parameter \`${name}' is not a valid number`, atom.loc);
  // |value| < 2^63; Number() rounds above 2^53, but every caller bounds the value far below.
  return { value: Number(r.value), loc: atom.loc };
}

/** xl's `type` parsing: prefix comparison in the order hvm, pv, pvh. */
function xlDomainType(buf: string): "hvm" | "pv" | "pvh" | undefined {
  // strncmp(buf, t, strlen(buf)) == 0 is exactly "t starts with buf".
  for (const t of ["hvm", "pv", "pvh"] as const) if (t.startsWith(buf)) return t;
  return undefined;
}

/** RAM banks libxc fills for a guest of `bytes` RAM (arch_setup_meminit on Arm). */
export function guestRamBanks(bytes: number): GuestRamBank[] {
  const banks: GuestRamBank[] = [];
  const b0 = Math.min(bytes, GUEST_RAM0_SIZE);
  if (b0 > 0) banks.push({ base: GUEST_RAM0_BASE, size: b0 });
  const b1 = Math.min(bytes - b0, GUEST_RAM1_SIZE);
  if (b1 > 0) banks.push({ base: GUEST_RAM1_BASE, size: b1 });
  return banks;
}

function staticShmList(set: XlSetting): XlValue[] {
  if (set.value.kind !== "list") {
    fail(
      XL_CODES.value,
      `parameter \`static_shm' is a single value but should be a list (static_shm = [ "SSHM_SPEC", ... ])`,
      set.value.loc,
    );
  }
  return [...set.value.items];
}

/** Extract and check the domain settings of a parsed xl config. Throws on the first broken rule. */
export function extractDomainConfig(cfg: XlConfig): XlDomainConfig {
  const locs: Partial<Record<"name" | "memory" | "maxmem" | "vcpus" | "type" | "static_shm", SourceLoc>> = {};
  const warnings: XlWarning[] = [];
  const fileStart: SourceLoc = { file: cfg.file, line: 1, column: 1 };

  const nameSet = cfg.settings.get("name");
  if (!nameSet) fail(XL_CODES.missing, "Domain name must be specified.", fileStart);
  const nameAtom = single(nameSet);
  if (nameAtom.text === "") fail(XL_CODES.value, "parameter `name' must not be empty", nameAtom.loc);
  locs.name = nameAtom.loc;

  let requestedType: "pv" | "pvh" | undefined;
  const typeSet = cfg.settings.get("type");
  if (typeSet) {
    const atom = single(typeSet);
    locs.type = atom.loc;
    const t = xlDomainType(atom.text);
    if (t === undefined) fail(XL_CODES.type, `Invalid domain type ${atom.text}.`, atom.loc);
    if (t === "hvm") fail(XL_CODES.type, "Unsupported Arm guest type hvm", atom.loc);
    if (t === "pv") {
      for (const m of [
        "Converting PV guest to PVH.",
        "Arm guest are now PVH.",
        "Please fix your configuration file/toolstack.",
      ]) {
        warnings.push({ message: m, loc: atom.loc });
      }
    }
    requestedType = t;
  }

  let memoryMiB = XL_DEFAULT_MEMORY_MIB;
  const mem = getLong(cfg, "memory");
  if (mem) {
    locs.memory = mem.loc;
    memoryMiB = mem.value;
    if (memoryMiB < 0)
      fail(XL_CODES.memory, `memory must be a positive number of MiB, not ${memoryMiB}`, mem.loc);
    if (memoryMiB === 0) fail(XL_CODES.memory, "ram size is 0 (memory = 0)", mem.loc);
  }
  if (memoryMiB * MIB > GUEST_RAM_MAX) {
    fail(
      XL_CODES.memory,
      `ram size is too large for guest address space: ${(memoryMiB * MIB).toString(16)} > ${GUEST_RAM_MAX.toString(16)} (memory = ${memoryMiB} MiB)`,
      mem?.loc ?? fileStart,
    );
  }

  let maxmemMiB = memoryMiB;
  const maxmem = getLong(cfg, "maxmem");
  if (maxmem) {
    locs.maxmem = maxmem.loc;
    if (maxmem.value < memoryMiB) {
      fail(
        XL_CODES.memory,
        `maxmem (${maxmem.value} MiB) is less than memory (${memoryMiB} MiB)`,
        maxmem.loc,
      );
    }
    maxmemMiB = maxmem.value;
  }

  let vcpus = 1;
  const v = getLong(cfg, "vcpus");
  if (v) {
    locs.vcpus = v.loc;
    if (v.value < 1) fail(XL_CODES.value, `vcpus must be at least 1, not ${v.value}`, v.loc);
    vcpus = v.value;
  }

  const specs: SshmSpec[] = [];
  const shmSet = cfg.settings.get("static_shm");
  if (shmSet) {
    locs.static_shm = shmSet.loc;
    staticShmList(shmSet).forEach((item, i) => {
      if (item.kind === "list") {
        fail(XL_CODES.value, `static_shm[${i}]: value is not a string (expected "SSHM_SPEC")`, item.loc);
      }
      specs.push(parseSshmSpec(item, i));
    });
    checkSshmSpecList(specs);
  }

  return {
    file: cfg.file,
    name: nameAtom.text,
    memoryMiB,
    maxmemMiB,
    vcpus,
    type: "pvh",
    requestedType,
    ramBanks: guestRamBanks(memoryMiB * MIB),
    staticShm: specs,
    warnings,
    locs,
    config: cfg,
  };
}

/**
 * Parse and check one xl domain config file: syntax, the domain settings above, every SSHM_SPEC
 * and the per-file static_shm rules. Throws SshmError on the first broken rule.
 */
export function loadXlDomain(text: string, file: string): XlDomainConfig {
  return extractDomainConfig(parseXlConfig(text, file));
}
