export * from "./addr.js";
export * from "./errors.js";
export * from "./format.js";
