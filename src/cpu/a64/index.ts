/** Public face of the A64 vCPU: the interpreter, its trap interface, core models and decode table. */
export * from "./arch.js";
export * from "./core-model.js";
export * from "./cpu.js";
export { classOf, ENCODINGS, type Encoding, encodingOf, type InsnClass } from "./decode.js";
export * from "./sysregs.js";
export * from "./traps.js";
