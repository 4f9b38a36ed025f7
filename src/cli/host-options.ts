/**
 * `--pa-bits N` and `--cpu NAME` (check, boot, map, simulate): what the host CPU is when the host
 * DT does not say it (xl hosts have no DT) or says it wrongly (QEMU's `-cpu max` calls itself an
 * A57 in its DT). Bad values are usage errors.
 */
import { CORES, coreByName, VALID_PA_BITS } from "../cpu/index.js";

export interface HostCpuOptions {
  paBits?: number;
  cpu?: string;
}

export const PA_BITS_HELP = `the host CPU's physical address size (ID_AA64MMFR0_EL1.PARange): ${VALID_PA_BITS.join(", ")}; Xen's IPA size is then min(48, N) (default: from the /cpus compatible, else 40)`;

export const CPU_HELP = `the host CPU's core, for every CPU: ${CORES.map((c) => c.name).join(", ")} (or a compatible such as arm,cortex-a57)`;

export function parsePaBits(s: string): number {
  const n = /^\d+$/.test(s) ? Number(s) : Number.NaN;
  if (!VALID_PA_BITS.includes(n))
    throw new Error(`a physical address size in bits is one of ${VALID_PA_BITS.join(", ")}, got "${s}"`);
  return n;
}

export function parseCpu(s: string): string {
  const core = coreByName(s);
  if (!core) throw new Error(`unknown core "${s}": sshm knows ${CORES.map((c) => c.name).join(", ")}`);
  return core.name;
}

/** The options as loadSystem takes them (absent ones left out). */
export function hostCpuOptions(o: HostCpuOptions): HostCpuOptions {
  return {
    ...(o.paBits === undefined ? {} : { paBits: o.paBits }),
    ...(o.cpu === undefined ? {} : { cpu: o.cpu }),
  };
}
