/** Domains and the static-shm hypervisor: dom0less boot, xl create/destroy, reports. */
export * from "./address-size.js";
export * from "./dom0less-boot.js";
export * from "./domain.js";
export type { DomUBoot } from "./domu-boot.js";
export type { DomUKernel, HostImage, XenBuild } from "./domu-load.js";
export { copyToGuestPhys, SCRUB_BYTE_PATTERN } from "./domu-load.js";
export * from "./hypervisor.js";
export * from "./region.js";
export * from "./report.js";
export * from "./sim-adapter.js";
export * from "./static-shm.js";
export * from "./system.js";
export * from "./xl-host.js";
