/**
 * System registers a bare-metal EL1 guest uses: their encodings (op0, op1, CRn, CRm, op2 as in
 * the Arm ARM's MRS/MSR tables) and the storage ids of those the vCPU keeps itself. What an
 * access does (EL0 permission, read-only, Xen's EL2 traps) is decided in insn/system.ts.
 */

/** Storage ids into A64Cpu.sys (2 words each). */
export const SYS = {
  SCTLR_EL1: 0,
  CPACR_EL1: 1,
  TTBR0_EL1: 2,
  TTBR1_EL1: 3,
  TCR_EL1: 4,
  MAIR_EL1: 5,
  AMAIR_EL1: 6,
  ESR_EL1: 7,
  FAR_EL1: 8,
  AFSR0_EL1: 9,
  AFSR1_EL1: 10,
  ELR_EL1: 11,
  SPSR_EL1: 12,
  VBAR_EL1: 13,
  CONTEXTIDR_EL1: 14,
  TPIDR_EL1: 15,
  TPIDR_EL0: 16,
  TPIDRRO_EL0: 17,
  CNTKCTL_EL1: 18,
  CSSELR_EL1: 19,
  PAR_EL1: 20,
  CNTV_CTL_EL0: 21,
  CNTV_CVAL_EL0: 22,
  MPIDR_EL1: 23,
} as const;

/** The 16-bit key of an encoding: op0:op1:CRn:CRm:op2 (the MRS/MSR instruction bits 20:5). */
export function sysKey(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

/** Keys of the registers with their own handling in insn/system.ts. */
export const K = {
  MIDR_EL1: sysKey(3, 0, 0, 0, 0),
  MPIDR_EL1: sysKey(3, 0, 0, 0, 5),
  REVIDR_EL1: sysKey(3, 0, 0, 0, 6),
  CCSIDR_EL1: sysKey(3, 1, 0, 0, 0),
  CLIDR_EL1: sysKey(3, 1, 0, 0, 1),
  AIDR_EL1: sysKey(3, 1, 0, 0, 7),
  CSSELR_EL1: sysKey(3, 2, 0, 0, 0),
  CTR_EL0: sysKey(3, 3, 0, 0, 1),
  DCZID_EL0: sysKey(3, 3, 0, 0, 7),
  SCTLR_EL1: sysKey(3, 0, 1, 0, 0),
  ACTLR_EL1: sysKey(3, 0, 1, 0, 1),
  CPACR_EL1: sysKey(3, 0, 1, 0, 2),
  TTBR0_EL1: sysKey(3, 0, 2, 0, 0),
  TTBR1_EL1: sysKey(3, 0, 2, 0, 1),
  TCR_EL1: sysKey(3, 0, 2, 0, 2),
  SPSR_EL1: sysKey(3, 0, 4, 0, 0),
  ELR_EL1: sysKey(3, 0, 4, 0, 1),
  SP_EL0: sysKey(3, 0, 4, 1, 0),
  SPSEL: sysKey(3, 0, 4, 2, 0),
  CURRENTEL: sysKey(3, 0, 4, 2, 2),
  DAIF: sysKey(3, 3, 4, 2, 1),
  NZCV: sysKey(3, 3, 4, 2, 0),
  FPCR: sysKey(3, 3, 4, 4, 0),
  FPSR: sysKey(3, 3, 4, 4, 1),
  AFSR0_EL1: sysKey(3, 0, 5, 1, 0),
  AFSR1_EL1: sysKey(3, 0, 5, 1, 1),
  ESR_EL1: sysKey(3, 0, 5, 2, 0),
  FAR_EL1: sysKey(3, 0, 6, 0, 0),
  PAR_EL1: sysKey(3, 0, 7, 4, 0),
  MAIR_EL1: sysKey(3, 0, 10, 2, 0),
  AMAIR_EL1: sysKey(3, 0, 10, 3, 0),
  VBAR_EL1: sysKey(3, 0, 12, 0, 0),
  ISR_EL1: sysKey(3, 0, 12, 1, 0),
  CONTEXTIDR_EL1: sysKey(3, 0, 13, 0, 1),
  TPIDR_EL1: sysKey(3, 0, 13, 0, 4),
  TPIDR_EL0: sysKey(3, 3, 13, 0, 2),
  TPIDRRO_EL0: sysKey(3, 3, 13, 0, 3),
  CNTKCTL_EL1: sysKey(3, 0, 14, 1, 0),
  CNTFRQ_EL0: sysKey(3, 3, 14, 0, 0),
  CNTPCT_EL0: sysKey(3, 3, 14, 0, 1),
  CNTVCT_EL0: sysKey(3, 3, 14, 0, 2),
  CNTV_TVAL_EL0: sysKey(3, 3, 14, 3, 0),
  CNTV_CTL_EL0: sysKey(3, 3, 14, 3, 1),
  CNTV_CVAL_EL0: sysKey(3, 3, 14, 3, 2),
} as const;

/**
 * Registers that are plain storage at EL1 (read/write, no side effect): SYS id by 16-bit key, -1
 * for any other encoding. A typed table, so an MRS/MSR decides with one load (no Map lookup).
 */
export const PLAIN_EL1: Int8Array = (() => {
  const t = new Int8Array(1 << 16).fill(-1);
  const ids: readonly (readonly [number, number])[] = [
    [K.TTBR0_EL1, SYS.TTBR0_EL1],
    [K.TTBR1_EL1, SYS.TTBR1_EL1],
    [K.TCR_EL1, SYS.TCR_EL1],
    [K.MAIR_EL1, SYS.MAIR_EL1],
    [K.AMAIR_EL1, SYS.AMAIR_EL1],
    [K.ESR_EL1, SYS.ESR_EL1],
    [K.FAR_EL1, SYS.FAR_EL1],
    [K.AFSR0_EL1, SYS.AFSR0_EL1],
    [K.AFSR1_EL1, SYS.AFSR1_EL1],
    [K.ELR_EL1, SYS.ELR_EL1],
    [K.VBAR_EL1, SYS.VBAR_EL1],
    [K.CONTEXTIDR_EL1, SYS.CONTEXTIDR_EL1],
    [K.TPIDR_EL1, SYS.TPIDR_EL1],
    [K.CNTKCTL_EL1, SYS.CNTKCTL_EL1],
    [K.PAR_EL1, SYS.PAR_EL1],
  ];
  for (const [key, id] of ids) t[key] = id;
  return t;
})();
