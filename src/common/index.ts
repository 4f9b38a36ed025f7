export * from "./addr.js";
export * from "./errors.js";
export * from "./format.js";
export * from "./xen-version.js";
