import { describe, expect, it } from "vitest";
import { newTree, parseDts } from "../../src/fdt/index.js";
import type { DomUDtInput, GuestPlatform } from "../../src/guestdt/index.js";
import { DOMU_DTB_SIZE, hostPlatform, prepareDtbDomU, vcpuidToVaffinity } from "../../src/guestdt/index.js";
import { dtcCompile, dtcDecompile, header, stringTable, structTokens } from "./fdt-layout.js";

const HYP_WARNING =
  "Warning (unit_address_vs_reg): /hypervisor: node has a reg or ranges property, but no unit name";
const A57: GuestPlatform = hostPlatform(newTree());

function input(over: Partial<DomUDtInput> = {}): DomUDtInput {
  return {
    ramBanks: [{ start: 0x4000_0000, size: 0x100_0000 }],
    shm: [],
    cmdline: undefined,
    initrd: false,
    maxVcpus: 1,
    is64: true,
    directMap: false,
    vpl011: false,
    features: 0,
    ipaBits: 40,
    platform: A57,
    ...over,
  };
}

function build(over: Partial<DomUDtInput> = {}) {
  const r = prepareDtbDomU(input(over), "d1");
  if (!r.ok) throw new Error(`prepare_dtb_domU failed: ${r.log.join(" | ")}`);
  return r;
}

/** The full tree for bootargs, an initrd, 2 vCPUs, two RAM banks, one shm region, vpl011, no-xenstore. */
const FULL_DTS = `/dts-v1/;

/ {
	#address-cells = <0x02>;
	#size-cells = <0x02>;

	chosen {
		bootargs = "console=hvc0 role=producer";
		linux,initrd-start = <0x00 0x00>;
		linux,initrd-end = <0x00 0x00>;
	};

	cpus {
		#address-cells = <0x01>;
		#size-cells = <0x00>;

		cpu@0 {
			compatible = "arm,cortex-a57";
			device_type = "cpu";
			reg = <0x00>;
			enable-method = "psci";
		};

		cpu@1 {
			compatible = "arm,cortex-a57";
			device_type = "cpu";
			reg = <0x01>;
			enable-method = "psci";
		};
	};

	memory@40000000 {
		device_type = "memory";
		reg = <0x00 0x40000000 0x00 0x10000000 0x02 0x00 0x00 0x40000000 0x00 0x50000000 0x00 0x1000000>;
	};

	reserved-memory {
		ranges;
		#address-cells = <0x02>;
		#size-cells = <0x02>;

		xen-shmem@50000000 {
			compatible = "xen,shared-memory-v1";
			reg = <0x00 0x50000000 0x00 0x1000000>;
			xen,id = "ring";
			xen,offset = <0x00 0x00>;
		};
	};

	interrupt-controller@3001000 {
		#address-cells = <0x00>;
		#interrupt-cells = <0x03>;
		interrupt-controller;
		compatible = "arm,gic-v3";
		#redistributor-regions = <0x01>;
		reg = <0x00 0x3001000 0x00 0x10000 0x00 0x3020000 0x00 0x1000000>;
		linux,phandle = <0xfde8>;
		phandle = <0xfde8>;
	};

	timer {
		compatible = "arm,armv8-timer";
		interrupts = <0x01 0x0d 0xf08 0x01 0x0e 0xf08 0x01 0x0b 0xf08>;
		interrupt-parent = <0xfde8>;
	};

	hypervisor {
		compatible = "xen,xen-4.23\\0xen,xen";
		reg = <0x00 0x38000000 0x00 0x1000000 0x00 0x51000000 0x00 0xaf000000 0x02 0x40000000 0xfd 0xc0000000>;
		interrupts = <0x01 0x0f 0xf08>;
		interrupt-parent = <0xfde8>;
	};

	psci {
		compatible = "arm,psci-1.0\\0arm,psci-0.2\\0arm,psci";
		method = "hvc";
		cpu_off = <0x01>;
		cpu_on = <0x02>;
	};

	sbsa-uart@22000000 {
		compatible = "arm,sbsa-uart";
		reg = <0x00 0x22000000 0x00 0x1000>;
		interrupts = <0x00 0x00 0xf04>;
		interrupt-parent = <0xfde8>;
		current-speed = <0x1c200>;
	};
};
`;

const FULL: Partial<DomUDtInput> = {
  ramBanks: [
    { start: 0x4000_0000, size: 0x1000_0000 },
    { start: 0x2_0000_0000, size: 0x4000_0000 },
  ],
  shm: [{ gaddr: 0x5000_0000, size: 0x100_0000, id: "ring", offset: 0 }],
  cmdline: "console=hvc0 role=producer",
  initrd: true,
  maxVcpus: 2,
  vpl011: true,
  features: 1, // xen,enhanced = "no-xenstore"
};

describe("prepare_dtb_domU: the complete domU tree", () => {
  it("every node and property in Xen's order (dtc reads the blob back as exactly this)", () => {
    const r = build(FULL);
    // dtc's one complaint is Xen's: /hypervisor has a reg but no unit address.
    expect(dtcDecompile(r.dtb, [HYP_WARNING])).toBe(FULL_DTS);
    // find_domU_holes: bank 0 above RAM minus the shm region, bank 1 above its RAM to 2^40.
    expect(r.log).toEqual([
      "d1: extended region 0: 0x51000000->0x100000000",
      "d1: extended region 1: 0x240000000->0x10000000000",
    ]);
  });

  it("the struct block equals dtc's for the same tree token for token; only the string table differs", () => {
    const ours = build(FULL).dtb;
    const theirs = dtcCompile(FULL_DTS);
    expect(structTokens(ours)).toEqual(structTokens(theirs));
    expect(header(ours).sizeStruct).toBe(header(theirs).sizeStruct);
    // dtc lists names in first-use order from offset 0; libfdt's sw mode in reverse.
    expect(stringTable(theirs)[0]![0]).toBe("#address-cells");
    expect(stringTable(ours).at(-1)![0]).toBe("#address-cells");
  });

  it("header as fdt_finish leaves it: v17/16, rsvmap at 0x30 with one zero entry, struct at 0x40, no padding", () => {
    const b = build(FULL).dtb;
    const h = header(b);
    expect(h).toMatchObject({ magic: 0xd00dfeed, version: 17, lastComp: 16, bootCpuid: 0, offMemRsv: 0x30 });
    expect(h.offStruct).toBe(0x40);
    expect(h.offStrings).toBe(0x40 + h.sizeStruct);
    expect(h.totalsize).toBe(h.offStrings + h.sizeStrings);
    expect(b.length).toBe(h.totalsize);
    expect([...b.subarray(0x28, 0x40)].every((x) => x === 0)).toBe(true);
  });

  it("the string table of the 0x602-byte blob observed on real Xen (reference §4.1), offset by offset", () => {
    // 16 MiB domU, GICv3, vpl011, two xen-shmem nodes, a 21-character bootargs.
    const r = build({
      shm: [
        { gaddr: 0x5000_0000, size: 0x1000, id: "shm-a", offset: 0 },
        { gaddr: 0x6000_0000, size: 0x1000, id: "shm-b", offset: 0 },
      ],
      cmdline: "console=ttyAMA0 quiet",
      vpl011: true,
    });
    expect(stringTable(r.dtb)).toEqual([
      ["current-speed", 0x00],
      ["cpu_on", 0x0e],
      ["cpu_off", 0x15],
      ["interrupt-parent", 0x1d],
      ["interrupts", 0x2e],
      ["linux,phandle", 0x39],
      ["#redistributor-regions", 0x47],
      ["interrupt-controller", 0x5e],
      ["#interrupt-cells", 0x73],
      ["xen,offset", 0x84],
      ["xen,id", 0x8f],
      ["ranges", 0x96],
      ["enable-method", 0x9d],
      ["reg", 0xab],
      ["device_type", 0xaf],
      ["compatible", 0xbb],
      ["bootargs", 0xc6],
      ["#size-cells", 0xcf],
      ["#address-cells", 0xdb],
    ]);
    const h = header(r.dtb);
    expect([h.totalsize, h.offStrings, h.sizeStrings, h.sizeStruct]).toEqual([0x602, 0x518, 0xea, 0x4d8]);
    // "phandle" and "method" take no space: they point into "linux,phandle" and "enable-method".
    const tokens = structTokens(r.dtb);
    expect(tokens).toContain("prop phandle 0000fde8");
    const dv = new DataView(r.dtb.buffer);
    const nameoffs = new Set<number>();
    for (let p = h.offStruct; p < h.offStruct + h.sizeStruct; p += 4)
      if (dv.getUint32(p) === 3 && dv.getUint32(p + 8) < h.sizeStrings) nameoffs.add(dv.getUint32(p + 8));
    expect(nameoffs.has(0x39 + 6)).toBe(true); // phandle
    expect(nameoffs.has(0x9d + 7)).toBe(true); // method
  });

  it("no shm: no /reserved-memory; no bootargs or initrd: an empty /chosen; no vpl011: no sbsa-uart", () => {
    const dts = dtcDecompile(build().dtb);
    expect([...dts.matchAll(/^\t(\S+) \{$/gm)].map((m) => m[1])).toEqual([
      "chosen",
      "cpus",
      "memory@40000000",
      "interrupt-controller@3001000",
      "timer",
      "psci",
    ]);
    expect(dts).toContain("\tchosen {\n\t};");
  });

  it("cpu@<MPIDR affinity>: AFF0 = id[3:0], AFF1 = id[11:4] (vcpuid_to_vaffinity)", () => {
    expect([0, 1, 15, 16, 17, 127].map(vcpuidToVaffinity)).toEqual([0, 1, 0xf, 0x100, 0x101, 0x70f]);
    const dts = dtcDecompile(build({ maxVcpus: 17 }).dtb);
    const cpus = [...dts.matchAll(/\t\tcpu@([0-9a-f]+) \{\n[^}]*reg = <(0x[0-9a-f]+)>/g)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(cpus.at(14)).toEqual(["e", "0x0e"]);
    expect(cpus.at(15)).toEqual(["f", "0x0f"]);
    expect(cpus.at(16)).toEqual(["100", "0x100"]);
    expect(cpus).toHaveLength(17);
  });

  it("a 32-bit domain: arm,armv7-timer and no enable-method", () => {
    const dts = dtcDecompile(build({ is64: false }).dtb);
    expect(dts).toContain('compatible = "arm,armv7-timer";');
    expect(dts).not.toContain("enable-method");
  });

  it("the host's cpu compatible (raw, every string) and clock-frequencies are copied; GICv2 from a gic-400 host", () => {
    const host = parseDts(
      `/dts-v1/;
/ { #address-cells = <2>; #size-cells = <2>;
  cpus { #address-cells = <1>; #size-cells = <0>;
    cpu-map { };
    cpu@0 { device_type = "cpu"; compatible = "arm,cortex-a53", "arm,armv8"; reg = <0>; clock-frequency = <1200000000>; };
    cpu@1 { device_type = "cpu"; compatible = "arm,cortex-a72"; reg = <1>; };
  };
  gic: interrupt-controller@2c001000 { compatible = "arm,gic-400"; interrupt-controller; #interrupt-cells = <3>;
    reg = <0 0x2c001000 0 0x1000>, <0 0x2c002000 0 0x2000>; };
  timer { compatible = "arm,armv8-timer"; clock-frequency = <100000000>; };
};`,
      "host.dts",
    );
    const p = hostPlatform(host);
    expect(p.notes).toEqual([]);
    const dts = dtcDecompile(build({ platform: p }).dtb);
    expect(dts).toContain(`		cpu@0 {
			compatible = "arm,cortex-a53\\0arm,armv8";
			device_type = "cpu";
			reg = <0x00>;
			clock-frequency = <0x47868c00>;
			enable-method = "psci";
		};`);
    expect(dts).toContain(`	interrupt-controller@3001000 {
		#address-cells = <0x00>;
		#interrupt-cells = <0x03>;
		interrupt-controller;
		compatible = "arm,gic-400";
		reg = <0x00 0x3001000 0x00 0x1000 0x00 0x3002000 0x00 0x2000>;
		linux,phandle = <0xfde8>;
		phandle = <0xfde8>;
	};`);
    expect(dts).toContain(`	timer {
		compatible = "arm,armv8-timer";
		interrupts = <0x01 0x0d 0xf08 0x01 0x0e 0xf08 0x01 0x0b 0xf08>;
		interrupt-parent = <0xfde8>;
		clock-frequency = <0x5f5e100>;
	};`);
    // A direct-mapped domain sees the host GIC's addresses (vgic_v2_domain_init).
    expect(dtcDecompile(build({ platform: p, directMap: true }).dtb)).toContain(
      "reg = <0x00 0x2c001000 0x00 0x1000 0x00 0x2c002000 0x00 0x2000>;",
    );
  });

  it("a direct-mapped domain on a GICv3 host gets the host's redistributor regions it needs", () => {
    const host = parseDts(
      `/dts-v1/;
/ { #address-cells = <2>; #size-cells = <2>;
  cpus { cpu@0 { device_type = "cpu"; compatible = "arm,cortex-a57"; }; };
  intc@8000000 { compatible = "arm,gic-v3"; interrupt-controller; #redistributor-regions = <2>;
    reg = <0 0x8000000 0 0x10000>, <0 0x80a0000 0 0x40000>, <0 0x9000000 0 0x100000>; };
};`,
      "host.dts",
    );
    const p = hostPlatform(host);
    // 0x40000 holds two redistributors: one vCPU needs only the first region, three need both.
    expect(dtcDecompile(build({ platform: p, directMap: true }).dtb)).toContain(
      "#redistributor-regions = <0x01>;\n\t\treg = <0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 0x40000>;",
    );
    expect(dtcDecompile(build({ platform: p, directMap: true, maxVcpus: 3 }).dtb)).toContain(
      "#redistributor-regions = <0x02>;\n\t\treg = <0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 0x40000 0x00 0x9000000 0x00 0x100000>;",
    );
  });

  it("a host tree without /cpus, GIC or timer: QEMU virt's Cortex-A57 and GICv3 are assumed, and said", () => {
    expect(A57.notes).toEqual([
      "the host device tree has no /cpus: the guest's cpu nodes get compatible \"arm,cortex-a57\" (sshm assumes QEMU virt's Cortex-A57)",
      "the host device tree has no interrupt controller: the guest gets a GICv3 (sshm assumes QEMU virt's)",
      "the host device tree has no arm,armv8-timer node: the guest's /timer gets no clock-frequency",
    ]);
  });

  it("/cpus without a cpu child: make_cpus_node fails with -ENOENT and the build with -EINVAL", () => {
    const p = hostPlatform(parseDts("/dts-v1/; / { cpus { cpu-map { }; }; };", "host.dts"));
    const r = prepareDtbDomU(input({ platform: p }), "d1");
    expect(r).toEqual({
      ok: false,
      rc: -22,
      log: [
        "arch/arm/domain_build.c:1218: Can't find cpu in the device tree?",
        "Device tree generation failed (-2).",
      ],
    });
  });

  it("a tree that does not fit DOMU_DTB_SIZE: libfdt's -FDT_ERR_NOSPACE (-3), then -EINVAL", () => {
    expect(DOMU_DTB_SIZE).toBe(18432);
    const r = prepareDtbDomU(input({ cmdline: "x".repeat(DOMU_DTB_SIZE) }), "d1");
    expect(r).toEqual({ ok: false, rc: -22, log: ["Device tree generation failed (-3)."] });
    // Growing bootargs: it fits; then the root's fdt_end_node / fdt_finish do not (-3); then /psci,
    // whose failure make_arch_nodes turns into -EINVAL; then an earlier node (libfdt's -3 again).
    const outcomes: string[] = [];
    for (let k = 17300; k < 17700; k += 2) {
      const t = prepareDtbDomU(input({ cmdline: "x".repeat(k) }), "d1");
      const o = t.ok ? "fits" : t.log.join();
      if (outcomes.at(-1) !== o) outcomes.push(o);
    }
    expect(outcomes).toEqual([
      "fits",
      "Device tree generation failed (-3).",
      "Device tree generation failed (-22).",
      "Device tree generation failed (-3).",
    ]);
  });

  it("xen,enhanced without room for extended regions: the warning, and reg holds the grant table only", () => {
    const r = build({ features: 1, ipaBits: 32, ramBanks: [{ start: 0x4000_0000, size: 0xbe00_0000 }] });
    expect(r.log).toEqual(["d1: failed to allocate extended regions"]);
    expect(dtcDecompile(r.dtb, [HYP_WARNING])).toContain("reg = <0x00 0x38000000 0x00 0x1000000>;");
  });
});
