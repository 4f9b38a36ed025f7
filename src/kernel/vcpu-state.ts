/**
 * The register state a domU's vCPU 0 starts with (construct_domain, arch_vcpu_create; everything
 * else is zero because alloc_vcpu_struct clears the whole struct vcpu), as plain data for the vCPU
 * that will run it. 64-bit values are bigint: this is built once per vCPU, never on a hot path.
 */

import { vcpuidToVaffinity } from "../guestdt/index.js";

/** PSR_GUEST64_INIT = D | A | I | F | EL1h (public/arch-arm.h). */
export const PSR_GUEST64_INIT = 0x3c5;
/** PSR_GUEST32_INIT = Z | A | I | F | SVC. */
export const PSR_GUEST32_INIT = 0x4000_01d3;
/** SCTLR_GUEST_INIT (public/arch-arm.h): MMU, caches and alignment checks off, little-endian. */
export const SCTLR_GUEST_INIT = 0x00c5_0078n;
/** MPIDR_SMP (bit 31): VMPIDR_EL2 = MPIDR_SMP | vcpuid_to_vaffinity(id) (vcpu_initialise). */
export const MPIDR_SMP = 0x8000_0000n;

export interface VcpuBootState {
  readonly vcpuId: number;
  /** AArch64 (HCR_EL2.RW set by vcpu_switch_to_aarch64_mode) or an AArch32 guest. */
  readonly aarch64: boolean;
  /** x0..x30 (an AArch32 guest: r0..r14 in x0..x14). */
  readonly x: readonly bigint[];
  readonly pc: bigint;
  /** PSTATE (CPSR for AArch32). */
  readonly pstate: number;
  readonly spEl0: bigint;
  readonly spEl1: bigint;
  readonly elrEl1: bigint;
  readonly spsrEl1: bigint;
  /** The EL1 system registers Xen sets or leaves at zero for a new vCPU. */
  readonly sysregs: {
    readonly SCTLR_EL1: bigint;
    readonly MPIDR_EL1: bigint;
    readonly VBAR_EL1: bigint;
    readonly CPACR_EL1: bigint;
    readonly TCR_EL1: bigint;
    readonly TTBR0_EL1: bigint;
    readonly TTBR1_EL1: bigint;
    readonly MAIR_EL1: bigint;
    readonly AMAIR_EL1: bigint;
    readonly CONTEXTIDR_EL1: bigint;
    readonly TPIDR_EL0: bigint;
    readonly TPIDR_EL1: bigint;
    readonly TPIDRRO_EL0: bigint;
    readonly CSSELR_EL1: bigint;
    readonly CNTKCTL_EL1: bigint;
    readonly ESR_EL1: bigint;
    readonly FAR_EL1: bigint;
    readonly PAR_EL1: bigint;
  };
  /** True for vCPU 0 (_VPF_down cleared by construct_domain); secondaries wait for PSCI CPU_ON. */
  readonly online: boolean;
}

/** VMPIDR_EL2 of a vCPU: bit 31 set, AFF0 = id[3:0], AFF1 = id[11:4]; U and MT clear. */
export function vmpidr(vcpuId: number): bigint {
  return MPIDR_SMP | BigInt(vcpuidToVaffinity(vcpuId));
}

/**
 * construct_domain's state for vCPU `vcpuId` of a domain whose kernel entry and DTB address are
 * known: vCPU 0 gets PC = entry and x0 = the DTB (x1..x3 "reserved for future use" = 0); every
 * other vCPU is created offline with zeroed registers.
 */
export function vcpuBootState(vcpuId: number, entry: bigint, dtbAddr: bigint, aarch64 = true): VcpuBootState {
  const boot = vcpuId === 0;
  const x: bigint[] = new Array(31).fill(0n);
  if (boot && aarch64) x[0] = dtbAddr;
  if (boot && !aarch64) {
    // From Linux's arm/Booting: r0 = 0, r1 = ~0 (no machine id, a DTB is used), r2 = the DTB.
    x[1] = 0xffff_ffffn;
    x[2] = dtbAddr;
  }
  return {
    vcpuId,
    aarch64,
    x,
    pc: boot ? entry : 0n,
    pstate: boot ? (aarch64 ? PSR_GUEST64_INIT : PSR_GUEST32_INIT) : 0,
    spEl0: 0n,
    spEl1: 0n,
    elrEl1: 0n,
    spsrEl1: 0n,
    sysregs: {
      // arch_vcpu_create writes SCTLR_GUEST_INIT into every vCPU's saved SCTLR.
      SCTLR_EL1: SCTLR_GUEST_INIT,
      MPIDR_EL1: vmpidr(vcpuId),
      VBAR_EL1: 0n,
      // FPEN = 00: FP/SIMD traps to EL1 until the guest enables it.
      CPACR_EL1: 0n,
      TCR_EL1: 0n,
      TTBR0_EL1: 0n,
      TTBR1_EL1: 0n,
      MAIR_EL1: 0n,
      AMAIR_EL1: 0n,
      CONTEXTIDR_EL1: 0n,
      TPIDR_EL0: 0n,
      TPIDR_EL1: 0n,
      TPIDRRO_EL0: 0n,
      CSSELR_EL1: 0n,
      CNTKCTL_EL1: 0n,
      ESR_EL1: 0n,
      FAR_EL1: 0n,
      PAR_EL1: 0n,
    },
    online: boot,
  };
}
