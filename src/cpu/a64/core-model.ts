/**
 * The core a vCPU models: the identification values a guest reads without a trap (MIDR via
 * VPIDR_EL2, CTR_EL0, DCZID_EL0, CLIDR_EL1, REVIDR_EL1, AIDR_EL1 — Xen leaves TID0/1/2 clear, so
 * these are the hardware's), the ID group-3 values Xen's TID3 trap hands back (its sanitised
 * `domain_cpuinfo`), the physical address size and the optional instructions the core implements.
 *
 * This file holds the values sshm's A64 vCPU needs until the shared core table (src/cpu/cores.ts,
 * with MIDR and PARange per core) lands; the two default cores here are Cortex-A57 r1p3 (Armv8.0:
 * no LSE atomics, CRC32 present) and a "max" core (Armv8.1 LSE) for the differential tests against
 * qemu-aarch64, whose default user-mode CPU implements LSE.
 */

export interface CoreModel {
  readonly name: string;
  /** MIDR_EL1 as read by a guest (Xen writes the pCPU's MIDR to VPIDR_EL2). */
  readonly midr: number;
  readonly revidr: number;
  readonly aidr: number;
  readonly ctr: number;
  readonly dczid: number;
  readonly clidr: number;
  /** Physical address size in bits (ID_AA64MMFR0_EL1.PARange). */
  readonly paBits: number;
  /** FEAT_LSE: CAS*, LDADD* ... SWP* (Armv8.1). UNDEFINED when absent. */
  readonly lse: boolean;
  /** FEAT_CRC32 (optional in Armv8.0, present on every Arm Cortex-A5x/A7x). */
  readonly crc32: boolean;
  /**
   * ID group-3 registers (op0=3, op1=0, CRn=0, CRm=1..7) as lo/hi words, keyed by (CRm << 3) | op2;
   * absent keys read as zero (the reserved encodings Xen's TID3 handler returns 0 for).
   */
  readonly idRegs: Readonly<Record<number, readonly [number, number]>>;
}

/** Key of an ID group-3 register in CoreModel.idRegs. */
export const idKey = (crm: number, op2: number): number => (crm << 3) | op2;

/**
 * Cortex-A57 r1p3 (Cortex-A57 TRM, "AArch64 register summary"), with the fields Xen's
 * create_domain_cpuinfo clears for a domU already zero on this core (no SVE, MTE, PAC, AMU, RAS,
 * MPAM).
 */
export const CORTEX_A57: CoreModel = {
  name: "arm,cortex-a57",
  midr: 0x411fd073,
  revidr: 0,
  aidr: 0,
  ctr: 0x8444c004,
  dczid: 0x4,
  clidr: 0x0a200023,
  paBits: 44,
  lse: false,
  crc32: true,
  idRegs: {
    [idKey(4, 0)]: [0x00002222, 0], // ID_AA64PFR0_EL1: EL0..EL3 AArch64+AArch32, FP, AdvSIMD
    [idKey(5, 0)]: [0x10305106, 0], // ID_AA64DFR0_EL1
    [idKey(6, 0)]: [0x00011120, 0], // ID_AA64ISAR0_EL1: AES+PMULL, SHA1, SHA2, CRC32
    [idKey(7, 0)]: [0x00001124, 0], // ID_AA64MMFR0_EL1: PARange 44 bits, 16-bit ASID, 4K/64K
  },
};

/** An Armv8.1 core with LSE, 48-bit PA: the instruction set qemu-aarch64's default CPU runs. */
export const MAX_CORE: CoreModel = {
  ...CORTEX_A57,
  name: "sshm,max-v8.1",
  paBits: 48,
  lse: true,
  idRegs: {
    ...CORTEX_A57.idRegs,
    [idKey(6, 0)]: [0x00211120, 0], // + Atomic (LSE) = 2
    [idKey(7, 0)]: [0x00001125, 0], // PARange 48 bits
  },
};
