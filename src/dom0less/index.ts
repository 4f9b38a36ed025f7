/**
 * The dom0less binding: the host description Xen reads from the host device tree and Xen's
 * boot-time static shared memory parse (phase 1), plus warnings for what that parse accepts but
 * later breaks. Domain construction (phase 2) consumes these results.
 */
export { DOMAIN_CAPS_HARDWARE, describeHost } from "./host.js";
export {
  GUEST_RAM0_BASE,
  GUEST_RAM0_SIZE,
  GUEST_RAM1_BASE,
  GUEST_RAM1_SIZE,
  lintStaticShm,
} from "./lint.js";
export { shmNotes } from "./notes.js";
export { INVALID_PADDR } from "./raw.js";
export {
  MAX_MODULES,
  MAX_SHM_ID_LENGTH,
  NR_MEM_BANKS,
  NR_SHMEM_BANKS,
  parseStaticShm,
} from "./shm-parse.js";
export type * from "./types.js";
export { fmtPaddrAlt, fmtPaddrBare } from "./xenfmt.js";
