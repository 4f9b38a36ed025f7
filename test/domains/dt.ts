/** Compact host-DT fixtures for the domain tests (the conventions of reference §10). */
export interface ShmSpec {
  id: string;
  role?: "owner" | "borrower" | string;
  /** cells of xen,shared-mem (ac = sc = 1 under /chosen and domain nodes). */
  sm: number[];
  name?: string;
}
export interface DomSpec {
  name: string;
  memKiB?: number;
  shm: ShmSpec[];
  extra?: string;
}

const hex = (n: number) => `0x${n.toString(16)}`;

function shmNode(s: ShmSpec, i: number): string {
  return `
      ${s.name ?? `shm${i}`} {
        compatible = "xen,domain-shared-memory-v1";
        ${s.role === undefined ? "" : `role = "${s.role}";`}
        xen,shm-id = "${s.id}";
        xen,shared-mem = <${s.sm.map(hex).join(" ")}>;
      };`;
}

/** Host RAM 0x10000000-0xbfffffff; Dom0 (with a kernel) only when dom0 is given. */
export function hostDts(opts: { dom0?: ShmSpec[]; domUs: DomSpec[]; bootargs?: string }): string {
  const doms = opts.domUs
    .map(
      (d, i) => `
    ${d.name} {
      compatible = "xen,domain";
      #address-cells = <1>;
      #size-cells = <1>;
      memory = <0 ${d.memKiB ?? 131072}>;
      cpus = <1>;
      ${d.extra ?? ""}
      module@${(0x30000000 + i * 0x1000000).toString(16)} {
        compatible = "multiboot,kernel", "multiboot,module";
        reg = <${hex(0x30000000 + i * 0x1000000)} 0x800000>;
      };${d.shm.map(shmNode).join("")}
    };`,
    )
    .join("");
  return `/dts-v1/;
/ {
  #address-cells = <2>;
  #size-cells = <2>;
  memory@10000000 { device_type = "memory"; reg = <0x0 0x10000000 0x0 0xb0000000>; };
  chosen {
    #address-cells = <1>;
    #size-cells = <1>;
    xen,xen-bootargs = "${opts.bootargs ?? "dom0_mem=256M"}";
    ${
      opts.dom0
        ? `dom0-kernel@2f000000 { compatible = "multiboot,kernel", "multiboot,module"; reg = <0x2f000000 0x800000>; };${opts.dom0.map(shmNode).join("")}`
        : ""
    }${doms}
  };
};
`;
}
