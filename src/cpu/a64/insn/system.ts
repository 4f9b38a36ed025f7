/**
 * Exception generation and system instructions (Arm ARM C4.1.65): SVC, HVC, SMC, BRK, HLT, ERET,
 * HINT (NOP, YIELD, WFE, WFI, SEV, SEVL and the other hints, which execute as NOP), CLREX, DMB,
 * DSB, ISB, MSR (immediate) to SPSel/DAIFSet/DAIFClr, MRS/MSR (register) and SYS (DC, IC, TLBI).
 *
 * EL2 traps follow the controls Xen sets for a domU (A64Cpu.hcr, xen-guest-abi §3 and §7): the
 * vCPU raises them through its VcpuTraps with the ESR_EL2 syndrome; EL0 permission checks
 * (UNDEFINED at EL1) come first, as the Arm ARM's access pseudo-code orders them.
 */

import { EC_BRK, EC_HVC64, EC_ILLEGAL_STATE, EC_SMC64, EC_SVC64, EC_SYSREG, EC_WFX, RD } from "../arch.js";
import { idKey } from "../core-model.js";
import type { A64Cpu } from "../cpu.js";
import { K, PLAIN_EL1, SYS } from "../sysregs.js";
import { fence } from "./atomic.js";

const IL = 1 << 25;
const TWO32 = 4294967296;

// ---- exception generation ----

export function SVC(c: A64Cpu, w: number): void {
  // Preferred return: the next instruction.
  const pc = c.pc;
  c.takeException(EC_SVC64, (w >>> 5) & 0xffff, pc | 0, Math.floor(pc / TWO32));
}

export function HVC(c: A64Cpu, w: number): void {
  if (c.el === 0) {
    c.undefined();
    return;
  }
  const imm = (w >>> 5) & 0xffff;
  c.traps.hvc(c, imm, ((EC_HVC64 << 26) | IL | imm) >>> 0);
}

export function SMC(c: A64Cpu, w: number): void {
  if (c.el === 0) {
    c.undefined();
    return;
  }
  const imm = (w >>> 5) & 0xffff;
  if (!c.hcr.tsc) {
    c.undefined();
    return;
  } // no EL3 behind this vCPU
  c.pc -= 4; // trapped SMC: preferred return is the SMC itself
  c.traps.smc(c, imm, ((EC_SMC64 << 26) | IL | imm) >>> 0);
}

export function BRK(c: A64Cpu, w: number): void {
  c.exceptionHere(EC_BRK, (w >>> 5) & 0xffff);
}

/** HLT with halting debug disabled, and UDF: UNDEFINED. */
export function UNDEF(c: A64Cpu, _w: number): void {
  c.undefined();
}

/** ERET (AArch64.ExceptionReturn) from EL1; UNDEFINED at EL0. */
export function ERET(c: A64Cpu, _w: number): void {
  if (c.el === 0) {
    c.undefined();
    return;
  }
  const spsr = c.sysLo(SYS.SPSR_EL1);
  const elrLo = c.sysLo(SYS.ELR_EL1);
  const elrHi = c.sysHi(SYS.ELR_EL1);
  const m = spsr & 0x1f;
  c.exAddr = -1;
  c.setNzcv(spsr >>> 28);
  c.daif = (spsr >>> 6) & 0xf;
  // Legal targets: EL0t (0b00000), EL1t (0b00100), EL1h (0b00101); anything else (AArch32,
  // EL2/EL3, EL0 with SP_ELx) is an illegal return: PSTATE.IL is set and EL/SP stay as they are,
  // so the first instruction at the target takes an Illegal Execution State exception.
  if (m !== 0 && m !== 4 && m !== 5) {
    c.takeException(EC_ILLEGAL_STATE, 0, elrLo, elrHi);
    c.setSys(SYS.SPSR_EL1, c.sysLo(SYS.SPSR_EL1) | (1 << 20), 0);
    return;
  }
  c.selectSp(m >>> 2, m & 1);
  c.branchToReg(elrLo, elrHi);
}

// ---- hints, barriers, CLREX, MSR (immediate) ----

/** HINT #imm: WFE = 2, WFI = 3; every other hint executes as NOP on this vCPU. */
export function HINT(c: A64Cpu, w: number): void {
  const op = (w >>> 5) & 0x7f;
  if (op !== 2 && op !== 3) return;
  const wfe = op === 2;
  const sctlr = c.sysLo(SYS.SCTLR_EL1);
  const esr = ((EC_WFX << 26) | IL | (1 << 24) | (0xe << 20) | (wfe ? 1 : 0)) >>> 0;
  // EL0: SCTLR_EL1.nTWE (bit 18) / nTWI (bit 16) = 0 traps to EL1.
  if (c.el === 0 && ((sctlr >>> (wfe ? 18 : 16)) & 1) === 0) {
    c.exceptionHere(EC_WFX, esr & 0x1ffffff);
    return;
  }
  if (wfe ? c.hcr.twe : c.hcr.twi) {
    c.pc -= 4;
    c.traps.wfx(c, wfe, esr);
  } else c.halt = 1; // executed natively: no event or interrupt model yet; yield the thread
}

export function CLREX(c: A64Cpu, _w: number): void {
  c.exAddr = -1;
}

export function DMB(_c: A64Cpu, _w: number): void {
  fence();
}

/** DSB: also the point where the vCPU sees other threads' stage-2 TLB flushes. */
export function DSB(c: A64Cpu, _w: number): void {
  fence();
  c.mem.sync();
  c.dropFetchPage();
}

/** ISB: a context synchronisation event; the next fetch goes through the translator again. */
export function ISB(c: A64Cpu, _w: number): void {
  c.dropFetchPage();
}

/** MSR (immediate): op1:op2 = 000:101 SPSel, 011:110 DAIFSet, 011:111 DAIFClr. */
export function MSR_i(c: A64Cpu, w: number): void {
  const op1 = (w >>> 16) & 7;
  const op2 = (w >>> 5) & 7;
  const crm = (w >>> 8) & 15;
  if (op1 === 0 && op2 === 5) {
    if (c.el === 0) {
      c.undefined();
      return;
    }
    c.selectSp(c.el, crm & 1);
  } else if (op1 === 3 && (op2 === 6 || op2 === 7)) {
    // EL0 access needs SCTLR_EL1.UMA (bit 9).
    if (c.el === 0 && ((c.sysLo(SYS.SCTLR_EL1) >>> 9) & 1) === 0) {
      c.undefined();
      return;
    }
    c.daif = op2 === 6 ? c.daif | crm : c.daif & ~crm;
  } else c.undefined();
}

// ---- MRS / MSR (register) and SYS ----

/** The EC 0x18 syndrome of a trapped MSR/MRS/SYS. */
function sysEsr(w: number): number {
  const op0 = (w >>> 19) & 3;
  const op1 = (w >>> 16) & 7;
  const crn = (w >>> 12) & 15;
  const crm = (w >>> 8) & 15;
  const op2 = (w >>> 5) & 7;
  const rt = w & 31;
  const read = (w >>> 21) & 1;
  return (
    ((EC_SYSREG << 26) |
      IL |
      (op0 << 20) |
      (op2 << 17) |
      (op1 << 14) |
      (crn << 10) |
      (rt << 5) |
      (crm << 1) |
      read) >>>
    0
  );
}

function trapToEl2(c: A64Cpu, w: number): void {
  c.pc -= 4;
  c.traps.sysreg(c, {
    esr: sysEsr(w),
    op0: (w >>> 19) & 3,
    op1: (w >>> 16) & 7,
    crn: (w >>> 12) & 15,
    crm: (w >>> 8) & 15,
    op2: (w >>> 5) & 7,
    rt: w & 31,
    read: ((w >>> 21) & 1) === 1,
  });
}

/** Is this encoding trapped to EL2 by one of Xen's controls? (EL1 accesses.) */
function trappedByXen(c: A64Cpu, key: number): boolean {
  const op0 = key >>> 14;
  const op1 = (key >>> 11) & 7;
  const crn = (key >>> 7) & 15;
  const crm = (key >>> 3) & 15;
  const h = c.hcr;
  if (op0 === 2) return h.tda; // debug registers (MDCR_EL2.TDA/TDOSA/TDRA)
  if (op0 !== 3) return false;
  if (h.tid3 && op1 === 0 && crn === 0 && crm >= 1 && crm <= 7) return true;
  if (h.tac && key === K.ACTLR_EL1) return true;
  if (h.tidcp && (crn === 11 || crn === 15)) return true;
  if (h.tda && crn === 9 && (crm === 12 || crm === 13 || crm === 14)) return true; // PMU (TPM)
  // CNTP_* (CNTHCTL_EL2.EL1PCEN = 0: Xen's vtimer emulates the physical timer).
  if (op1 === 3 && crn === 14 && crm === 2) return true;
  return false;
}

/** EL0-accessible registers (with their SCTLR_EL1/CNTKCTL_EL1 enables). */
function el0Allowed(c: A64Cpu, key: number, read: boolean): boolean {
  const sctlr = c.sysLo(SYS.SCTLR_EL1);
  const kctl = c.sysLo(SYS.CNTKCTL_EL1);
  switch (key) {
    case K.NZCV:
    case K.FPCR:
    case K.FPSR:
    case K.TPIDR_EL0:
      return true;
    case K.DAIF:
      return ((sctlr >>> 9) & 1) === 1;
    case K.TPIDRRO_EL0:
    case K.DCZID_EL0:
      return read;
    case K.CTR_EL0:
      return read && ((sctlr >>> 15) & 1) === 1;
    case K.CNTFRQ_EL0:
      return read && (kctl & 3) !== 0;
    case K.CNTVCT_EL0:
      return read && (kctl & 2) !== 0;
    case K.CNTPCT_EL0:
      return read && (kctl & 1) !== 0;
    case K.CNTV_CTL_EL0:
    case K.CNTV_CVAL_EL0:
    case K.CNTV_TVAL_EL0:
      return ((kctl >>> 8) & 1) === 1;
    default:
      return false;
  }
}

/** MRS Xt, <sysreg>. */
export function MRS(c: A64Cpu, w: number): void {
  const key = (w >>> 5) & 0xffff;
  if (c.el === 0 && !el0Allowed(c, key, true)) {
    c.undefined();
    return;
  }
  if (c.el === 1 && trappedByXen(c, key)) {
    trapToEl2(c, w);
    return;
  }
  let lo = 0;
  let hi = 0;
  const core = c.core;
  switch (key) {
    case K.MIDR_EL1:
      lo = core.midr;
      break;
    case K.MPIDR_EL1:
      lo = c.sysLo(SYS.MPIDR_EL1);
      break;
    case K.REVIDR_EL1:
      lo = core.revidr;
      break;
    case K.AIDR_EL1:
      lo = core.aidr;
      break;
    case K.CTR_EL0:
      lo = core.ctr;
      break;
    case K.DCZID_EL0:
      lo = core.dczid;
      break;
    case K.CLIDR_EL1:
      lo = core.clidr;
      break;
    case K.CCSIDR_EL1: {
      c.unimplemented(w, "MRS CCSIDR_EL1 (cache geometry)");
      return;
    }
    case K.CSSELR_EL1:
      lo = c.sysLo(SYS.CSSELR_EL1);
      break;
    case K.SCTLR_EL1:
      lo = c.sysLo(SYS.SCTLR_EL1);
      break;
    case K.CPACR_EL1:
      lo = c.sysLo(SYS.CPACR_EL1);
      break;
    case K.SPSR_EL1:
      lo = c.sysLo(SYS.SPSR_EL1);
      break;
    case K.SP_EL0: {
      if (c.spsel === 0) {
        c.undefined();
        return;
      }
      [lo, hi] = c.bankedSp(0);
      break;
    }
    case K.SPSEL:
      lo = c.spsel;
      break;
    case K.CURRENTEL:
      lo = c.el << 2;
      break;
    case K.DAIF:
      lo = c.daif << 6;
      break;
    case K.NZCV:
      lo = (c.nf << 31) | (c.zf << 30) | (c.cf << 29) | (c.vf << 28);
      break;
    case K.FPCR:
      if (c.fpTrap()) return;
      lo = c.fpcr;
      break;
    case K.FPSR:
      if (c.fpTrap()) return;
      lo = c.fpsr;
      break;
    case K.ISR_EL1:
      lo = 0; // no interrupt model yet: nothing pending
      break;
    case K.TPIDR_EL0:
      lo = c.sysLo(SYS.TPIDR_EL0);
      hi = c.sysHi(SYS.TPIDR_EL0);
      break;
    case K.TPIDRRO_EL0:
      lo = c.sysLo(SYS.TPIDRRO_EL0);
      hi = c.sysHi(SYS.TPIDRRO_EL0);
      break;
    case K.CNTFRQ_EL0:
      lo = c.cntfrq;
      break;
    case K.CNTVCT_EL0:
    case K.CNTPCT_EL0: {
      const t = c.counter();
      lo = (t % TWO32) | 0;
      hi = Math.floor(t / TWO32);
      break;
    }
    case K.CNTV_CTL_EL0:
      lo = c.sysLo(SYS.CNTV_CTL_EL0);
      break;
    case K.CNTV_CVAL_EL0:
      lo = c.sysLo(SYS.CNTV_CVAL_EL0);
      hi = c.sysHi(SYS.CNTV_CVAL_EL0);
      break;
    default: {
      const id = PLAIN_EL1[key]!;
      if (id >= 0) {
        lo = c.sysLo(id);
        hi = c.sysHi(id);
        break;
      }
      // ID group 3 without Xen's trap: the core's values (reserved encodings read as zero).
      if (key >>> 14 === 3 && ((key >>> 7) & 0x7f) === 0 && ((key >>> 3) & 15) >= 1) {
        const v = core.idRegs[idKey((key >>> 3) & 15, key & 7)];
        lo = v?.[0] ?? 0;
        hi = v?.[1] ?? 0;
        break;
      }
      c.unimplemented(w, `MRS ${sysName(key)}`);
      return;
    }
  }
  const d = RD[w & 31]!;
  c.r[2 * d] = lo;
  c.r[2 * d + 1] = hi;
}

/** MSR <sysreg>, Xt. */
export function MSR(c: A64Cpu, w: number): void {
  const key = (w >>> 5) & 0xffff;
  if (c.el === 0 && !el0Allowed(c, key, false)) {
    c.undefined();
    return;
  }
  if (c.el === 1 && trappedByXen(c, key)) {
    trapToEl2(c, w);
    return;
  }
  const t = w & 31;
  const lo = c.r[2 * t]!;
  const hi = c.r[2 * t + 1]!;
  switch (key) {
    case K.SCTLR_EL1:
      // Stage-1 translation and big-endian data are not modelled yet: stop rather than run wrong.
      if ((lo & 1) !== 0) {
        c.stopAt(w, "SCTLR_EL1.M = 1 (stage-1 MMU) is not implemented yet");
        return;
      }
      if ((lo & (3 << 24)) !== 0) {
        c.stopAt(w, "SCTLR_EL1.EE/E0E = 1 (big-endian data) is not implemented");
        return;
      }
      c.setSys(SYS.SCTLR_EL1, lo, 0);
      return;
    case K.CPACR_EL1:
      c.setSys(SYS.CPACR_EL1, lo, 0);
      return;
    case K.SPSR_EL1:
      c.setSys(SYS.SPSR_EL1, lo, 0);
      return;
    case K.SP_EL0:
      if (c.spsel === 0) {
        c.undefined();
        return;
      }
      c.setBankedSp(0, lo, hi);
      return;
    case K.SPSEL:
      c.selectSp(c.el, lo & 1);
      return;
    case K.DAIF:
      c.daif = (lo >>> 6) & 0xf;
      return;
    case K.NZCV:
      c.setNzcv(lo >>> 28);
      return;
    case K.FPCR:
      if (c.fpTrap()) return;
      c.fpcr = lo;
      return;
    case K.FPSR:
      if (c.fpTrap()) return;
      c.fpsr = lo;
      return;
    case K.CSSELR_EL1:
      c.setSys(SYS.CSSELR_EL1, lo, 0);
      return;
    case K.TPIDR_EL0:
      c.setSys(SYS.TPIDR_EL0, lo, hi);
      return;
    case K.TPIDRRO_EL0:
      if (c.el === 0) {
        c.undefined();
        return;
      }
      c.setSys(SYS.TPIDRRO_EL0, lo, hi);
      return;
    case K.CNTV_CTL_EL0:
      c.setSys(SYS.CNTV_CTL_EL0, lo & 3, 0);
      return;
    case K.CNTV_CVAL_EL0:
      c.setSys(SYS.CNTV_CVAL_EL0, lo, hi);
      return;
    default: {
      const id = PLAIN_EL1[key]!;
      if (id >= 0) {
        c.setSys(id, lo, hi);
        return;
      }
      // Identification registers are read-only: MSR to them is UNDEFINED.
      if (key >>> 14 === 3 && ((key >>> 7) & 0x7f) === 0) {
        c.undefined();
        return;
      }
      c.unimplemented(w, `MSR ${sysName(key)}`);
      return;
    }
  }
}

/** SYS: DC, IC, TLBI and AT (op0 = 1). */
export function SYS_(c: A64Cpu, w: number): void {
  const op1 = (w >>> 16) & 7;
  const crn = (w >>> 12) & 15;
  const crm = (w >>> 8) & 15;
  const op2 = (w >>> 5) & 7;
  const el0 = c.el === 0;
  if (crn === 7) {
    // Instruction cache maintenance: the decode cache is keyed by the word, always coherent.
    if (op1 === 0 && op2 === 0 && (crm === 1 || crm === 5)) {
      if (el0) c.undefined();
      return;
    }
    if (op1 === 3 && crm === 5 && op2 === 1) {
      if (el0 && ((c.sysLo(SYS.SCTLR_EL1) >>> 26) & 1) === 0) {
        c.undefined();
        return;
      }
      return; // IC IVAU
    }
    if (op1 === 0 && op2 === 2 && (crm === 6 || crm === 10 || crm === 14)) {
      // DC ISW/CSW/CISW: set/way operations trap to Xen (HCR_EL2.TSW).
      if (el0) {
        c.undefined();
        return;
      }
      if (c.hcr.tsw) {
        trapToEl2(c, w);
        return;
      }
      return;
    }
    if (op1 === 0 && crm === 6 && op2 === 1) {
      if (el0) c.undefined();
      return;
    } // DC IVAC
    if (op1 === 3 && crm === 4 && op2 === 1) {
      dcZva(c, w);
      return;
    }
    if (op1 === 3 && op2 === 1 && (crm === 10 || crm === 11 || crm === 12 || crm === 14)) {
      // DC CVAC/CVAU/CVAP/CIVAC: no caches are modelled; memory is always coherent.
      if (el0 && ((c.sysLo(SYS.SCTLR_EL1) >>> 26) & 1) === 0) {
        c.undefined();
        return;
      }
      return;
    }
    if (crm === 8 || crm === 9) {
      c.unimplemented(w, "AT (address translation)");
      return;
    }
  }
  if (crn === 8 && op1 === 0) {
    if (el0) c.undefined();
    return;
  }
  c.unimplemented(w, "SYS");
}

/**
 * DC ZVA: with the MMU off every data access is Device-nGnRnE, for which DC ZVA always takes an
 * alignment fault (Arm ARM, DC ZVA: "If the memory region being zeroed is any type of Device
 * memory, this instruction generates an Alignment fault").
 */
function dcZva(c: A64Cpu, w: number): void {
  if (c.el === 0 && ((c.sysLo(SYS.SCTLR_EL1) >>> 14) & 1) === 0) {
    c.undefined();
    return;
  }
  const t = w & 31;
  c.dataAbortEl1(0x21, c.r[2 * t]!, c.r[2 * t + 1]!, true);
}

function sysName(key: number): string {
  return `S${key >>> 14}_${(key >>> 11) & 7}_C${(key >>> 7) & 15}_C${(key >>> 3) & 15}_${key & 7}`;
}
