/**
 * Stage-2 fault reporting: fault status codes, the ESR_EL2 syndrome of a data or instruction
 * abort taken to EL2 from EL1/EL0, HPFAR_EL2 and the typed error the translator throws.
 *
 * Encodings: long-descriptor FSC (QEMU `arm_fi_to_lfsc`, Xen `FSC_*` in processor.h); data-abort
 * ISS as Xen's `struct hsr_dabt` (xen/arch/arm/include/asm/hsr.h); reference §1.5 and §3.4.
 */

import { SshmError } from "../common/errors.js";
import { fmtPaddr } from "../common/format.js";
import type { AccessType } from "./walker.js";

export type FaultKind = "translation" | "access-flag" | "permission" | "address-size";

/** Numeric kinds as packed by walkStage2Raw: `(kind << 8) | level`. */
export const FAULT_TRANSLATION = 1;
export const FAULT_ACCESS_FLAG = 2;
export const FAULT_PERMISSION = 3;
export const FAULT_ADDRESS_SIZE = 4;

const KIND_NAMES: readonly FaultKind[] = [
  "translation",
  "translation",
  "access-flag",
  "permission",
  "address-size",
];

export function faultKindName(kind: number): FaultKind {
  const n = KIND_NAMES[kind];
  if (kind < 1 || n === undefined) throw new RangeError(`unknown stage-2 fault kind ${kind}`);
  return n;
}

export function faultKindCode(kind: FaultKind): number {
  switch (kind) {
    case "translation":
      return FAULT_TRANSLATION;
    case "access-flag":
      return FAULT_ACCESS_FLAG;
    case "permission":
      return FAULT_PERMISSION;
    case "address-size":
      return FAULT_ADDRESS_SIZE;
  }
}

/** Kind and level of a packed walkStage2Raw result (non-zero). */
export function packedFaultKind(packed: number): number {
  return packed >>> 8;
}

export function packedFaultLevel(packed: number): number {
  return packed & 0xff;
}

// FSC groups (bits 5:2) for the four walk faults, level in bits 1:0.
const FSC_BASE: readonly number[] = [-1, 0x04, 0x08, 0x0c, 0x00];

export const FSC_ADDRESS_SIZE = 0x00;
export const FSC_TRANSLATION = 0x04;
export const FSC_ACCESS_FLAG = 0x08;
export const FSC_PERMISSION = 0x0c;
/** Synchronous external abort, not on a walk. */
export const FSC_SEA = 0x10;
/** Synchronous external abort on a table walk, level in bits 1:0. */
export const FSC_SEA_WALK = 0x14;
export const FSC_ALIGNMENT = 0x21;
export const FSC_TLB_CONFLICT = 0x30;

/** Long-descriptor FSC for a walk fault: 0b0000LL address size, 0b0001LL translation, etc. */
export function fscFor(kind: FaultKind | number, level: number): number {
  const k = typeof kind === "number" ? kind : faultKindCode(kind);
  const base = FSC_BASE[k];
  if (base === undefined || base < 0) throw new RangeError(`unknown stage-2 fault kind ${kind}`);
  if (!Number.isInteger(level) || level < 0 || level > 3)
    throw new RangeError(`fault level ${level} not in 0..3`);
  return base | level;
}

/** Inverse of fscFor for the four walk-fault groups; undefined for any other FSC. */
export function decodeFsc(fsc: number): { kind: FaultKind; level: number } | undefined {
  const group = fsc & 0x3c;
  const level = fsc & 3;
  if (group === FSC_ADDRESS_SIZE) return { kind: "address-size", level };
  if (group === FSC_TRANSLATION) return { kind: "translation", level };
  if (group === FSC_ACCESS_FLAG) return { kind: "access-flag", level };
  if (group === FSC_PERMISSION) return { kind: "permission", level };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// ESR_EL2

/** EC: data abort from a lower exception level. */
export const ESR_EC_DABT_LOW = 0x24;
/** EC: instruction abort from a lower exception level. */
export const ESR_EC_IABT_LOW = 0x20;
const ESR_EC_SHIFT = 26;
/** IL: 32-bit instruction (always 1 for AArch64 aborts with a valid syndrome). */
export const ESR_IL = 1 << 25;

/** Data-abort syndrome fields, named as in Xen's struct hsr_dabt. */
export interface DataAbortSyndrome {
  /** DFSC, bits 5:0. */
  readonly dfsc: number;
  /** WnR, bit 6: the access was a write. */
  readonly wnr?: boolean | 0 | 1;
  /** S1PTW, bit 7: the fault happened on a stage-1 table walk. */
  readonly s1ptw?: boolean;
  /** CM, bit 8: cache maintenance. */
  readonly cm?: boolean;
  /** EA, bit 9: external abort type. */
  readonly ea?: boolean;
  /** FnV, bit 10: FAR not valid. */
  readonly fnv?: boolean;
  /** AR, bit 14: acquire/release. */
  readonly ar?: boolean;
  /** SF, bit 15: 64-bit register. */
  readonly sf?: boolean;
  /** SRT, bits 20:16: transfer register. */
  readonly srt?: number;
  /** SSE, bit 21: sign-extend. */
  readonly sse?: boolean;
  /** SAS, bits 23:22: access size, 0 = byte .. 3 = doubleword. */
  readonly sas?: number;
  /** ISV, bit 24: bits 23:14 are valid (what lets a hypervisor emulate MMIO). */
  readonly isv?: boolean;
  /** IL, bit 25 (default true). */
  readonly il?: boolean;
}

const bit = (v: boolean | 0 | 1 | undefined, n: number): number => (v ? 1 << n : 0);

/** ESR_EL2 for a data abort taken from EL1/EL0 (EC 0x24). */
export function esrDataAbort(s: DataAbortSyndrome): number {
  const iss =
    (s.dfsc & 0x3f) |
    bit(s.wnr, 6) |
    bit(s.s1ptw, 7) |
    bit(s.cm, 8) |
    bit(s.ea, 9) |
    bit(s.fnv, 10) |
    bit(s.ar, 14) |
    bit(s.sf, 15) |
    (((s.srt ?? 0) & 0x1f) << 16) |
    bit(s.sse, 21) |
    (((s.sas ?? 0) & 3) << 22) |
    bit(s.isv, 24);
  return ((ESR_EC_DABT_LOW << ESR_EC_SHIFT) | (s.il === false ? 0 : ESR_IL) | iss) >>> 0;
}

export interface InstructionAbortSyndrome {
  /** IFSC, bits 5:0. */
  readonly ifsc: number;
  readonly s1ptw?: boolean;
  readonly ea?: boolean;
  readonly fnv?: boolean;
  readonly il?: boolean;
}

/** ESR_EL2 for an instruction abort taken from EL1/EL0 (EC 0x20). Bit 6 is RES0 here. */
export function esrInstructionAbort(s: InstructionAbortSyndrome): number {
  const iss = (s.ifsc & 0x3f) | bit(s.s1ptw, 7) | bit(s.ea, 9) | bit(s.fnv, 10);
  return ((ESR_EC_IABT_LOW << ESR_EC_SHIFT) | (s.il === false ? 0 : ESR_IL) | iss) >>> 0;
}

export interface DecodedEsr {
  readonly ec: number;
  readonly il: boolean;
  readonly iss: number;
  readonly fsc: number;
  readonly wnr: boolean;
  readonly s1ptw: boolean;
  readonly cm: boolean;
  readonly ea: boolean;
  readonly fnv: boolean;
  readonly isv: boolean;
  readonly sas: number;
  readonly sse: boolean;
  readonly srt: number;
  readonly sf: boolean;
  readonly ar: boolean;
}

/** Split an abort ESR into its fields (data-abort ISS layout; unused fields read 0 for IABT). */
export function decodeEsr(esr: number): DecodedEsr {
  const e = esr >>> 0;
  const ec = e >>> ESR_EC_SHIFT;
  const isData = ec === ESR_EC_DABT_LOW || ec === 0x25;
  const isv = isData && (e & (1 << 24)) !== 0;
  return {
    ec,
    il: (e & ESR_IL) !== 0,
    iss: e & 0x1ffffff,
    fsc: e & 0x3f,
    wnr: isData && (e & 0x40) !== 0,
    s1ptw: (e & 0x80) !== 0,
    cm: isData && (e & 0x100) !== 0,
    ea: (e & 0x200) !== 0,
    fnv: (e & 0x400) !== 0,
    isv,
    sas: isv ? (e >>> 22) & 3 : 0,
    sse: isv && (e & (1 << 21)) !== 0,
    srt: isv ? (e >>> 16) & 0x1f : 0,
    sf: isv && (e & (1 << 15)) !== 0,
    ar: isv && (e & (1 << 14)) !== 0,
  };
}

// ---------------------------------------------------------------------------------------------
// HPFAR_EL2

/** HPFAR_EL2.FIPA[43:4] = IPA[47:12]; i.e. (ipa >> 12) << 4, limited to a 48-bit IPA. */
export function hpfarFor(ipa: number): number {
  return (Math.floor(ipa / 4096) % 2 ** 36) * 16;
}

/** The faulting IPA from HPFAR (page) plus the page offset taken from FAR_EL2 if given. */
export function ipaFromHpfar(hpfar: number, far = 0): number {
  return Math.floor((hpfar % 2 ** 44) / 16) * 4096 + (far & 0xfff);
}

/**
 * Whether HPFAR_EL2 holds the faulting IPA architecturally (rule R_FKLWR, as Linux's
 * __hpfar_valid encodes it): for stage-2 translation, access-flag and address-size faults, and
 * for permission faults only when taken on a stage-1 table walk. Otherwise it is UNKNOWN and a
 * hypervisor must recover the IPA itself (sshm still fills it, since it knows the IPA).
 */
export function hpfarValid(kind: FaultKind, s1ptw = false): boolean {
  return kind !== "permission" || s1ptw;
}

/** Xen's narrower trust (traps.c hpfar_is_valid): only S1PTW or translation faults. */
export function xenHpfarIsValid(kind: FaultKind, s1ptw = false): boolean {
  return s1ptw || kind === "translation";
}

// ---------------------------------------------------------------------------------------------
// The error the translator throws

/** What an access looked like, for the ISS of a data abort (ISV=1 when given). */
export interface AccessSyndrome {
  readonly sas: number;
  readonly srt: number;
  readonly sse?: boolean;
  readonly sf?: boolean;
  readonly ar?: boolean;
}

export interface Stage2FaultInit {
  readonly ipa: number;
  readonly kind: FaultKind | number;
  readonly level: number;
  readonly access: AccessType;
  /** The fault hit a stage-1 table walk (S1PTW). */
  readonly s1ptw?: boolean;
  /** Instruction details for a data abort; without them ISV=0 (no emulation possible). */
  readonly syndrome?: AccessSyndrome;
}

const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, "0");

/**
 * A stage-2 abort as the hypervisor would see it. Thrown by the translator so a fault is
 * reported as a typed error, never as a wrong value.
 */
export class Stage2Fault extends SshmError {
  readonly ipa: number;
  readonly kind: FaultKind;
  readonly level: number;
  readonly fsc: number;
  readonly wnr: 0 | 1;
  readonly esr: number;
  readonly hpfar: number;
  readonly hpfarValid: boolean;
  readonly access: AccessType;
  readonly s1ptw: boolean;

  constructor(init: Stage2FaultInit) {
    const kind = typeof init.kind === "number" ? faultKindName(init.kind) : init.kind;
    const fsc = fscFor(kind, init.level);
    const wnr: 0 | 1 = init.access === "write" ? 1 : 0;
    const s1ptw = init.s1ptw === true;
    const exec = init.access === "exec";
    super(
      "ESTAGE2_FAULT",
      `stage-2 ${kind} fault at level ${init.level} on ${init.access} to IPA ${fmtPaddr(init.ipa)} (${exec ? "IFSC" : "DFSC"} 0x${hex2(fsc)})`,
    );
    this.name = "Stage2Fault";
    this.ipa = init.ipa;
    this.kind = kind;
    this.level = init.level;
    this.fsc = fsc;
    this.wnr = wnr;
    this.access = init.access;
    this.s1ptw = s1ptw;
    const syn = init.syndrome;
    this.esr = exec
      ? esrInstructionAbort({ ifsc: fsc, s1ptw })
      : esrDataAbort({
          dfsc: fsc,
          wnr,
          s1ptw,
          ...(syn === undefined
            ? {}
            : {
                isv: true,
                sas: syn.sas,
                srt: syn.srt,
                sse: syn.sse === true,
                sf: syn.sf === true,
                ar: syn.ar === true,
              }),
        });
    this.hpfar = hpfarFor(init.ipa);
    this.hpfarValid = hpfarValid(kind, s1ptw);
  }

  /** Build from a walkStage2Raw result (`(kind << 8) | level`). */
  static fromPacked(packed: number, ipa: number, access: AccessType, syndrome?: AccessSyndrome): Stage2Fault {
    return new Stage2Fault({
      ipa,
      kind: packedFaultKind(packed),
      level: packedFaultLevel(packed),
      access,
      ...(syndrome === undefined ? {} : { syndrome }),
    });
  }
}

export function isStage2Fault(e: unknown): e is Stage2Fault {
  return e instanceof Stage2Fault;
}
