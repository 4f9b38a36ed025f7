/**
 * Guest device trees: the complete tree Xen's prepare_dtb_domU builds for a dom0less domU (as
 * libfdt's sequential writer lays it out), and the memory and static-shm nodes of the hardware
 * domain's and of an xl guest's tree, as an FdtTree, DTS text or DTB bytes.
 */

export type { DomUDtInput, DomUDtResult } from "./domu.js";
export {
  DOM0LESS_ENHANCED_NO_XS,
  DOM0LESS_XENSTORE,
  DOM0LESS_XS_LEGACY,
  DOMU_DTB_SIZE,
  findDomUHoles,
  GUEST_GICC_BASE,
  GUEST_GICC_SIZE,
  GUEST_GICD_BASE,
  GUEST_GICV3_GICD_BASE,
  GUEST_GICV3_GICD_SIZE,
  GUEST_GICV3_GICR0_BASE,
  GUEST_GICV3_GICR0_SIZE,
  GUEST_GNTTAB_BASE,
  GUEST_GNTTAB_SIZE,
  GUEST_PHANDLE_GIC,
  GUEST_PL011_BASE,
  GUEST_PL011_SIZE,
  MAX_VIRT_CPUS,
  prepareDtbDomU,
  vcpuidToVaffinity,
  XEN_VERSION_STRING,
} from "./domu.js";
export type { GuestDtInput, GuestRamBank, GuestShmRegion } from "./guestdt.js";
export {
  GUEST_ROOT_ADDRESS_CELLS,
  GUEST_ROOT_SIZE_CELLS,
  guestDtToDtb,
  guestDtToDts,
  makeDomUDt,
  makeHwdomDt,
  unitName,
  XEN_SHMEM_COMPATIBLE,
} from "./guestdt.js";
export type { GuestPlatform, HostGic } from "./platform.js";
export { DEFAULT_CPU_COMPATIBLE, hostPlatform } from "./platform.js";
