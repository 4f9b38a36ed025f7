/**
 * Public face of the CPU floor: the A64 vCPU (interpreter, traps, core models), the cores sshm
 * knows and the PA range / VMID width Xen derives from the host's CPUs.
 */
export * from "./a64/index.js";
export { CORES, type CoreInfo, coreByCompatible, coreByName } from "./cores.js";
export {
  choosePaRange,
  DEFAULT_PA_BITS,
  type HostCpu,
  type PaRangeChoice,
  type PaRangeNote,
  type PaRangeOptions,
  type PaRangeSource,
  paRangeOfBits,
  VALID_PA_BITS,
  xenBoolParam,
} from "./pa-range.js";
