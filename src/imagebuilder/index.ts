/**
 * ImageBuilder configs as a front-end: the `uboot-script-gen` input that dom0less integrators
 * write, turned into the host device tree ImageBuilder's U-Boot script would give Xen, with the
 * files it loads and where (for a later `sshm run`). What was reproduced from ImageBuilder and
 * what differs: README.md in this folder.
 */
export type { BootImage, BootImageRole, ImageBuilderDomU, ImageBuilderSystem } from "./build.js";
export { buildImageBuilderSystem } from "./build.js";
export type { Assignment } from "./config.js";
export { parseConfig } from "./config.js";
export { headerImageSize, IMAGEBUILDER_OFFSET, LoadCursor } from "./loading.js";
export { VARIABLES } from "./variables.js";

/**
 * True when a config's text reads as an ImageBuilder config: it assigns one of the variables
 * uboot-script-gen cannot do without, in bash's `NAME=` form (xl configs write `name = value`).
 */
export function looksLikeImageBuilder(text: string): boolean {
  return /^[ \t]*(MEMORY_START|MEMORY_END|DEVICE_TREE|XEN|NUM_DOMUS|DOM0_KERNEL|DOMU_KERNEL\[[0-9]+\])=/m.test(
    text,
  );
}
