/** Public face of the CPU floor: the A64 vCPU (interpreter, traps, core models). */
export * from "./a64/index.js";
