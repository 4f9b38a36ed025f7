/**
 * The variables of an ImageBuilder config and what sshm does with each. `modelled` ones change the
 * host device tree or the load addresses and are reproduced; `output` ones only shape the U-Boot
 * script or disk image ImageBuilder writes, so they cannot change what Xen sees and are accepted
 * and ignored; `unmodelled` ones are ImageBuilder's but change the boot in ways sshm does not
 * reproduce (or whose effect could not be read from ImageBuilder's sources), so a config using them
 * is refused rather than checked wrongly. Anything else is a typo: bash would silently set a
 * variable nobody reads.
 */

export type VarKind = "modelled" | "output" | "unmodelled";

export interface VarSpec {
  /** `DOMU_*[i]` variables are bash arrays indexed by domU number. */
  array: boolean;
  kind: VarKind;
  /** For `unmodelled`: why sshm refuses it. */
  why?: string;
}

const m = (array = false): VarSpec => ({ array, kind: "modelled" });
const out = (array = false): VarSpec => ({ array, kind: "output" });
const no = (why: string, array = false): VarSpec => ({ array, kind: "unmodelled", why });

export const VARIABLES: Readonly<Record<string, VarSpec>> = {
  MEMORY_START: m(),
  MEMORY_END: m(),
  DEVICE_TREE: m(),
  XEN: m(),
  XEN_CMD: m(),
  DOM0_KERNEL: m(),
  DOM0_RAMDISK: m(),
  DOM0_CMD: m(),
  DOM0_MEM: m(),
  DOM0_VCPUS: m(),
  NUM_DOMUS: m(),
  DOMU_KERNEL: m(true),
  DOMU_RAMDISK: m(true),
  DOMU_PASSTHROUGH_DTB: m(true),
  DOMU_MEM: m(true),
  DOMU_VCPUS: m(true),
  DOMU_CMD: m(true),
  DOMU_STATIC_MEM: m(true),
  DOMU_DIRECT_MAP: m(true),
  DOMU_SHARED_MEM: m(true),
  DOMU_VPL011: m(true),
  DOMU_NOBOOT: m(true),
  DOMU_ROOTFS: m(true),
  DOMU_ENHANCED: m(true),
  // Only the generated script, FIT-less: where it is written and how U-Boot loads files.
  UBOOT_SOURCE: out(),
  UBOOT_SCRIPT: out(),
  LOAD_CMD: out(),
  BOOT_CMD: out(),
  EFI: out(),
  FDTEDIT: out(),
  // ImageBuilder's, but not reproduced here.
  LINUX: no("a Linux-only boot (no Xen): sshm models Xen"),
  LINUX_RAMDISK: no("a Linux-only boot (no Xen): sshm models Xen"),
  LINUX_CMD: no("a Linux-only boot (no Xen): sshm models Xen"),
  FIT: no("FIT images load files with imxtract and change ImageBuilder's memory check"),
  FIT_ENC_KEY_DIR: no("FIT images are not modelled"),
  FIT_ENC_UB_DTB: no("FIT images are not modelled"),
  DOM0_ROOTFS: no("DOM0_CMD's root= would be derived from LOAD_CMD (find_root_dev); give root= in DOM0_CMD"),
  NUM_DT_OVERLAY: no("device-tree overlays are applied by U-Boot's fdt apply, which sshm does not model"),
  DT_OVERLAY: no("device-tree overlays are not modelled", true),
  BITSTREAM: no("FPGA bitstreams are not modelled"),
  XEN_POLICY: no("an XSM policy module is not modelled"),
  XEN_STATIC_HEAP: no("xen,static-heap is not modelled"),
  XEN_COLORS: no("cache colouring is not modelled"),
  DOM0_COLORS: no("cache colouring is not modelled"),
  DOMU_COLORS: no("cache colouring is not modelled", true),
  NUM_CPUPOOLS: no("cpupools are not modelled"),
  CPUPOOL: no("cpupools are not modelled", true),
  DOMU_CPUPOOL: no("cpupools are not modelled", true),
  DOMU_PASSTHROUGH_PATHS: no("device passthrough paths are not modelled", true),
  DOMU_CAPS: no("domain capabilities are not modelled", true),
  DOMU_TRAP_UNMAP: no("trap-unmapped-accesses is not modelled", true),
  DOMU_MAPTRACK_FRAMES: no("grant frame limits are not modelled", true),
  DOMU_GRANT_FRAMES: no("grant frame limits are not modelled", true),
  DOMU_VCPU_HARD_AFFINITY: no("vCPU affinity nodes are not modelled", true),
  DOMU_NAME: no(
    "what uboot-script-gen does with it could not be determined from the ImageBuilder sources sshm was built from (see src/imagebuilder/README.md)",
    true,
  ),
};

/** Levenshtein distance, for "did you mean" on a misspelt variable. */
function distance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length]!;
}

/** The known variable closest to `name`, when it is close enough to be a typo. */
export function nearestVariable(name: string): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of Object.keys(VARIABLES)) {
    const dd = distance(name.toUpperCase(), k);
    if (dd < bestD) {
      bestD = dd;
      best = k;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}
