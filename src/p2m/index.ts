/**
 * Public face of the p2m module: Xen's p2m types, stage-2 descriptor encoding, the VTCR/VTTBR
 * registers, the architectural walker and fault reporting.
 */

export * from "./descriptor.js";
export * from "./fault.js";
export * from "./p2m.js";
export * from "./types.js";
export * from "./vcpu.js";
export * from "./vtcr.js";
export * from "./walker.js";
