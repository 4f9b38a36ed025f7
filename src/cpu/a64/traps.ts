/**
 * The exits an A64 vCPU takes to EL2: the trap interface the hypervisor implements (issue 13 §4).
 * One method per exit kind, each with the syndrome the hardware would write to ESR_EL2 (and
 * HPFAR_EL2/FAR_EL2 for a stage-2 abort, built with src/p2m/fault.ts).
 *
 * On entry to a method the vCPU's PC is the preferred return address of the exception as the
 * Arm ARM defines it for that EC (the instruction after an HVC; the trapping instruction for SMC,
 * WFx, MSR/MRS and aborts), so a handler that emulates the instruction advances it itself
 * (`cpu.pc += 4`, as Xen's advance_pc), one that injects calls the vCPU's inject* methods, and
 * one that must end the run calls `cpu.stop(message)`.
 */
import type { A64Cpu } from "./cpu.js";

/** A stage-2 data or instruction abort as taken to EL2 (EC 0x24 / 0x20). */
export interface Stage2Abort {
  /** ESR_EL2 (with ISV and the access syndrome for single-register loads/stores). */
  readonly esr: number;
  /** FAR_EL2: the faulting virtual address (= IPA with the stage-1 MMU off). */
  readonly far: number;
  /** HPFAR_EL2: IPA[47:12] in bits 43:4. */
  readonly hpfar: number;
  /** The faulting IPA. */
  readonly ipa: number;
  readonly kind: "translation" | "access-flag" | "permission" | "address-size";
  readonly level: number;
  readonly access: "read" | "write" | "exec";
}

/** A trapped MSR/MRS/SYS (EC 0x18): what the hypervisor needs to emulate it. */
export interface SysregTrap {
  /** ESR_EL2: EC 0x18, ISS = Op0, Op2, Op1, CRn, Rt, CRm, Direction. */
  readonly esr: number;
  readonly op0: number;
  readonly op1: number;
  readonly crn: number;
  readonly crm: number;
  readonly op2: number;
  readonly rt: number;
  /** true for MRS (read into Xt). */
  readonly read: boolean;
}

export interface VcpuTraps {
  /** HVC #imm from EL1 (EC 0x16). PC = the next instruction. */
  hvc(cpu: A64Cpu, imm: number, esr: number): void;
  /** SMC #imm from EL1, trapped by HCR_EL2.TSC (EC 0x17). PC = the SMC. */
  smc(cpu: A64Cpu, imm: number, esr: number): void;
  /** WFI/WFE trapped by HCR_EL2.TWI/TWE (EC 0x01). PC = the WFx. */
  wfx(cpu: A64Cpu, wfe: boolean, esr: number): void;
  /** A system-register access trapped by an HCR_EL2/MDCR_EL2 control (EC 0x18). PC = the insn. */
  sysreg(cpu: A64Cpu, trap: SysregTrap): void;
  /** A stage-2 fault on a fetch, load or store (EC 0x20 / 0x24). PC = the faulting instruction. */
  stage2Abort(cpu: A64Cpu, abort: Stage2Abort): void;
}

/**
 * Traps for a vCPU with no hypervisor behind it (bare tests, the differential harness): every
 * exit to EL2 stops the vCPU with a message naming it.
 */
export const STOP_ON_TRAP: VcpuTraps = {
  hvc(cpu, imm) {
    cpu.stop(`HVC #0x${imm.toString(16)} at 0x${cpu.pc.toString(16)}: no hypervisor attached`);
  },
  smc(cpu, imm) {
    cpu.stop(`SMC #0x${imm.toString(16)} at 0x${cpu.pc.toString(16)}: no hypervisor attached`);
  },
  wfx(cpu, wfe) {
    cpu.stop(`${wfe ? "WFE" : "WFI"} at 0x${cpu.pc.toString(16)}: no hypervisor attached`);
  },
  sysreg(cpu, t) {
    cpu.stop(
      `trapped ${t.read ? "MRS" : "MSR"} S${t.op0}_${t.op1}_C${t.crn}_C${t.crm}_${t.op2} at 0x${cpu.pc.toString(16)}: no hypervisor attached`,
    );
  },
  stage2Abort(cpu, a) {
    cpu.stop(
      `stage-2 ${a.kind} fault at level ${a.level} on ${a.access} of IPA 0x${a.ipa.toString(16)} at 0x${cpu.pc.toString(16)}`,
    );
  },
};
