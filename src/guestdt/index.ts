/**
 * Guest device trees: the memory and static-shm nodes Xen writes into a domU's and the hardware
 * domain's device tree, as an FdtTree, DTS text or DTB bytes.
 */

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
