/**
 * A domU's kernel as Xen boots it: the image probe (kernel_probe and the Arm probes), where the
 * kernel, DTB and initrd go (kernel_zimage_place, place_dtb_initrd), and vCPU 0's first registers
 * (construct_domain). Pure functions over the module's bytes and the domain's first RAM bank.
 */
export type { Bank, Placement, PlaceResult } from "./place.js";
export {
  findDtbInitrdPlacement,
  firstBankCanFitModules,
  kernelZimagePlaceInBank,
  placeKernel,
} from "./place.js";
export type { KernelImage, ModuleRange, ProbeResult, ReadHost } from "./probe.js";
export {
  fmtPaddr16,
  kernelProbe,
  U64,
  UIMAGE_MAGIC,
  ZIMAGE32_MAGIC,
  ZIMAGE64_MAGIC_V0,
  ZIMAGE64_MAGIC_V1,
} from "./probe.js";
export type { VcpuBootState } from "./vcpu-state.js";
export {
  MPIDR_SMP,
  PSR_GUEST32_INIT,
  PSR_GUEST64_INIT,
  SCTLR_GUEST_INIT,
  vcpuBootState,
  vmpidr,
} from "./vcpu-state.js";
