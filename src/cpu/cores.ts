/**
 * The Arm cores sshm knows, as plain data: what a host DT's `/cpus/cpu@N` `compatible` names, and
 * the ID-register values Xen reads from that core. Xen never looks at the compatible string for
 * this: it reads ID_AA64MMFR0_EL1.PARange (setup_virt_paging in xen/arch/arm/mmu/p2m.c) and
 * ID_AA64MMFR1_EL1.VMIDBits from the hardware, and compares MIDR_EL1 with the boot CPU's
 * (start_secondary in xen/arch/arm/smpboot.c). The compatible is the only trace of the core a
 * host DT carries, so sshm maps it to the values the core reports.
 *
 * One row per core. Later users (an A64 vCPU) add ID-register fields to `CoreInfo`; every value
 * carries its source in `cite`.
 *
 * MIDR: where QEMU models the core, QEMU's value (its revision is the one QEMU picked). For a core
 * known only from its TRM the revision is written as r0p0: a DT names no revision, and Xen only
 * compares whole MIDRs, so two cores with the same compatible compare equal whatever the revision.
 */

export interface CoreInfo {
  /** sshm's name for `--cpu` (QEMU's `-cpu` name where QEMU models it). */
  readonly name: string;
  /** Human name. */
  readonly title: string;
  /** `compatible` strings of a `/cpus/cpu@N` node that mean this core. */
  readonly compatible: readonly string[];
  /** MIDR_EL1 (implementer, variant, architecture 0xf, part number, revision). */
  readonly midr: number;
  /**
   * ID_AA64MMFR0_EL1.PARange (0 = 32 bits, 1 = 36, 2 = 40, 3 = 42, 4 = 44, 5 = 48, 6 = 52), or
   * null when no DT-visible fact fixes it (QEMU `host` copies the machine's own registers).
   */
  readonly paRange: number | null;
  /** ID_AA64MMFR1_EL1.VMIDBits as a width (0 = 8 bits, 2 = 16 bits); null when unknown. */
  readonly vmidBits: 8 | 16 | null;
  /** Where each value comes from. */
  readonly cite: string;
}

/** Arm Ltd's MIDR implementer code in bits 31:24, architecture 0xf in bits 19:16. */
function armMidr(variant: number, part: number, revision: number): number {
  return (0x41 * 2 ** 24 + variant * 2 ** 20 + 0xf * 2 ** 16 + part * 2 ** 4 + revision) >>> 0;
}

const QEMU = "QEMU target/arm/tcg/cpu64.c";
const QEMU_A57_A53 = "QEMU target/arm/cpu64.c";

export const CORES: readonly CoreInfo[] = Object.freeze([
  {
    name: "cortex-a35",
    title: "Cortex-A35",
    compatible: ["arm,cortex-a35"],
    midr: 0x411fd040,
    paRange: 2,
    vmidBits: 8,
    cite: `${QEMU} aarch64_a35_initfn: midr 0x411fd040, id_aa64mmfr0 0x00101122 (PARange 2), id_aa64mmfr1 0`,
  },
  {
    name: "cortex-a53",
    title: "Cortex-A53",
    compatible: ["arm,cortex-a53"],
    midr: 0x410fd034,
    paRange: 2,
    vmidBits: 8,
    cite: `${QEMU_A57_A53} aarch64_a53_initfn: midr 0x410fd034, id_aa64mmfr0 0x00001122 ("40 bit physical addr"), id_aa64mmfr1 0; Cortex-A53 TRM (DDI 0500) ID_AA64MMFR0_EL1.PARange 0b0010 "40 bits, 1 TB"`,
  },
  {
    name: "cortex-a55",
    title: "Cortex-A55",
    compatible: ["arm,cortex-a55"],
    midr: 0x412fd050,
    paRange: 2,
    vmidBits: 16,
    cite: `${QEMU} aarch64_a55_initfn: midr 0x412FD050 (r2p0), id_aa64mmfr0 0x0000000000101122 (PARange 2), id_aa64mmfr1 0x0000000010212122 (VMIDBits 2)`,
  },
  {
    name: "cortex-a57",
    title: "Cortex-A57",
    compatible: ["arm,cortex-a57"],
    midr: 0x411fd070,
    paRange: 4,
    vmidBits: 8,
    cite: `${QEMU_A57_A53} aarch64_a57_initfn: midr 0x411fd070, id_aa64mmfr0 0x00001124 (PARange 4), id_aa64mmfr1 0`,
  },
  {
    name: "cortex-a65",
    title: "Cortex-A65",
    compatible: ["arm,cortex-a65"],
    midr: armMidr(0, 0xd06, 0),
    paRange: 4,
    vmidBits: 16,
    cite: "Cortex-A65 TRM: part number 0xD06, physical address size 44 bits, 8- or 16-bit VMID (VTCR_EL2.VS); not modelled by QEMU",
  },
  {
    name: "cortex-a72",
    title: "Cortex-A72",
    compatible: ["arm,cortex-a72"],
    midr: 0x410fd083,
    paRange: 4,
    vmidBits: 8,
    cite: `${QEMU} aarch64_a72_initfn: midr 0x410fd083, id_aa64mmfr0 0x00001124 (PARange 4), id_aa64mmfr1 0`,
  },
  {
    name: "cortex-a73",
    title: "Cortex-A73",
    compatible: ["arm,cortex-a73"],
    midr: armMidr(0, 0xd09, 0),
    paRange: 2,
    vmidBits: 8,
    cite: "Cortex-A73 MPCore TRM (100048): part number 0xD09, ID_AA64MMFR0_EL1.PARange 0b0010 (40 bits), an Armv8.0 core (8-bit VMID); not modelled by QEMU",
  },
  {
    name: "cortex-a75",
    title: "Cortex-A75",
    compatible: ["arm,cortex-a75"],
    midr: armMidr(0, 0xd0a, 0),
    paRange: 4,
    vmidBits: 16,
    cite: "Cortex-A75 core TRM (100403): part number 0xD0A, physical address size 44 bits, 8- or 16-bit VMID; not modelled by QEMU",
  },
  {
    name: "cortex-a76",
    title: "Cortex-A76",
    compatible: ["arm,cortex-a76"],
    midr: 0x414fd0b1,
    paRange: 2,
    vmidBits: 16,
    cite: `${QEMU} aarch64_a76_initfn: midr 0x414fd0b1 (r4p1), id_aa64mmfr0 0x0000000000101122 (PARange 2), id_aa64mmfr1 0x0000000010212122 (VMIDBits 2); Cortex-A76 TRM (100798) PARange 0x2 "40 bits, 1TB"`,
  },
  {
    name: "cortex-a77",
    title: "Cortex-A77",
    compatible: ["arm,cortex-a77"],
    midr: armMidr(0, 0xd0d, 0),
    paRange: 2,
    vmidBits: 16,
    cite: 'Cortex-A77 core TRM (101111) A5.1 AArch64 behavior: "Physical Address (PA) size Maximum 40 bits", "VMID size 8 or 16 bits depending on the value of VTCR_EL2.VS"; part number 0xD0D; not modelled by QEMU',
  },
  {
    name: "cortex-a78",
    title: "Cortex-A78",
    compatible: ["arm,cortex-a78"],
    midr: armMidr(0, 0xd41, 0),
    paRange: 2,
    vmidBits: 16,
    cite: "Cortex-A78 core TRM (101430): part number 0xD41, physical address size 40 bits, 8- or 16-bit VMID; not modelled by QEMU",
  },
  {
    name: "cortex-x1",
    title: "Cortex-X1",
    compatible: ["arm,cortex-x1"],
    midr: armMidr(0, 0xd44, 0),
    paRange: 2,
    vmidBits: 16,
    cite: "Cortex-X1 core TRM (101433): part number 0xD44, physical address size 40 bits, 8- or 16-bit VMID; not modelled by QEMU",
  },
  {
    name: "cortex-a510",
    title: "Cortex-A510",
    compatible: ["arm,cortex-a510"],
    midr: armMidr(0, 0xd46, 0),
    paRange: 2,
    vmidBits: 16,
    cite: "Cortex-A510 core TRM (101604): part number 0xD46, physical address size 40 bits, 8- or 16-bit VMID; not modelled by QEMU",
  },
  {
    name: "cortex-a710",
    title: "Cortex-A710",
    compatible: ["arm,cortex-a710"],
    midr: 0x412fd471,
    paRange: 2,
    vmidBits: 16,
    cite: `${QEMU} aarch64_a710_initfn: midr 0x412FD471 (r2p1), id_aa64mmfr0 0x0000022200101122 (PARange 2), id_aa64mmfr1 0x0000000010212122 (VMIDBits 2)`,
  },
  {
    name: "neoverse-n1",
    title: "Neoverse N1",
    compatible: ["arm,neoverse-n1"],
    midr: 0x414fd0c1,
    paRange: 5,
    vmidBits: 16,
    cite: `${QEMU} aarch64_neoverse_n1_initfn: midr 0x414fd0c1 (r4p1), id_aa64mmfr0 0x0000000000101125 (PARange 5), id_aa64mmfr1 0x0000000010212122 (VMIDBits 2)`,
  },
  {
    name: "neoverse-n2",
    title: "Neoverse N2",
    compatible: ["arm,neoverse-n2"],
    midr: 0x410fd493,
    paRange: 5,
    vmidBits: 16,
    cite: `${QEMU} aarch64_neoverse_n2_initfn: midr 0x410FD493 (r0p3), id_aa64mmfr0 0x0000022200101125 (PARange 5), id_aa64mmfr1 0x0000000010212122 (VMIDBits 2)`,
  },
  {
    name: "neoverse-v1",
    title: "Neoverse V1",
    compatible: ["arm,neoverse-v1"],
    midr: 0x411fd402,
    paRange: 5,
    vmidBits: 16,
    cite: `${QEMU} aarch64_neoverse_v1_initfn: midr 0x411FD402 (r1p2), id_aa64mmfr0 0x0000000000101125 (PARange 5), id_aa64mmfr1 0x0000000010212122 (VMIDBits 2)`,
  },
  {
    // QEMU's TCG `max` starts from the A57 (so its DT compatible is "arm,cortex-a57") and raises
    // PARange to 6 and VMIDBits to 2; its MIDR has implementer 0 and part number 'Q'. A DT alone
    // cannot tell it from a real A57: `--cpu max` says which one it is.
    name: "max",
    title: "QEMU max (TCG)",
    compatible: [],
    midr: 0x000f0510,
    paRange: 6,
    vmidBits: 16,
    cite: `${QEMU} aarch64_max_tcg_initfn: MIDR IMPLEMENTER 0, ARCHITECTURE 0xf, PARTNUM 'Q'; ID_AA64MMFR0 PARANGE 6 ("FEAT_LPA: 52 bits"); ID_AA64MMFR1 VMIDBITS 2; started from aarch64_a57_initfn (dtb_compatible "arm,cortex-a57")`,
  },
  {
    // With KVM or HVF, QEMU's `host` (and `max`) copy the machine's own ID registers and write
    // "arm,arm-v8" into the DT: nothing in the DT says what PARange the real CPU has.
    name: "host",
    title: "QEMU host (KVM/HVF)",
    compatible: ["arm,arm-v8"],
    midr: 0,
    paRange: null,
    vmidBits: null,
    cite: 'QEMU target/arm/kvm.c kvm_arm_get_host_cpu_features: dtb_compatible "arm,arm-v8", ID registers read from the host CPU',
  },
]);

/** The core a `/cpus/cpu@N` compatible list names (the first entry sshm knows), if any. */
export function coreByCompatible(compatible: readonly string[]): CoreInfo | undefined {
  for (const c of compatible) {
    const core = CORES.find((k) => k.compatible.includes(c));
    if (core) return core;
  }
  return undefined;
}

/** The core for `--cpu NAME`: sshm's name ("cortex-a57") or a compatible ("arm,cortex-a57"). */
export function coreByName(name: string): CoreInfo | undefined {
  const n = name.toLowerCase();
  return CORES.find((k) => k.name === n || k.compatible.includes(n));
}
