/** The guest device tree of a dom0less domU as construct_domU builds it during boot. */
import { describe, expect, it } from "vitest";
import { bootDom0less } from "../../src/domains/index.js";

function host(domU: string, extraRoot = ""): string {
  return `/dts-v1/;
/ {
  #address-cells = <2>;
  #size-cells = <2>;
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x80000000>; };
  ${extraRoot}
  chosen {
    #address-cells = <1>;
    #size-cells = <1>;
    ${domU}
  };
};
`;
}

const DOMU = (extra: string, modules: string) => `
    domU1 {
      compatible = "xen,domain";
      #address-cells = <1>;
      #size-cells = <1>;
      memory = <0 0x4000>;
      cpus = <1>;
      ${extra}
      ${modules}
    };`;

const KERNEL = `kernel@80000000 { compatible = "multiboot,kernel", "multiboot,module"; reg = <0x80000000 0x10000>; bootargs = "console=hvc0 role=owner"; };`;

describe("construct_domU's device tree", () => {
  it("bootargs come from the kernel module; a ramdisk module adds the initrd placeholders", () => {
    const ramdisk = `ramdisk@81000000 { compatible = "multiboot,ramdisk", "multiboot,module"; reg = <0x81000000 0x5000>; };`;
    const { report, system } = bootDom0less(host(DOMU("", KERNEL + ramdisk)), { file: "host.dts" });
    expect(report.verdict).toBe("accepted");
    const dts = report.guestDts.find((g) => g.domain === "domU1")!.dts;
    expect(dts).toContain(
      '\tchosen {\n\t\tbootargs = "console=hvc0 role=owner";\n\t\tlinux,initrd-start = <0x00 0x00>;\n\t\tlinux,initrd-end = <0x00 0x00>;\n\t};',
    );
    // The blob is libfdt's (rsvmap at 0x30), not a re-encoding of the DTS.
    const dtb = system!.guestDtbs().find((g) => g.domain === "domU1")!.dtb;
    expect(new DataView(dtb.buffer).getUint32(16)).toBe(0x30);
  });

  it("the first module whose parent has the domain's name gives the bootargs (boot_cmdline_find_by_name)", () => {
    const ramdisk = `ramdisk@81000000 { compatible = "multiboot,ramdisk", "multiboot,module"; reg = <0x81000000 0x5000>; bootargs = "from-ramdisk"; };`;
    const { report } = bootDom0less(host(DOMU("", ramdisk + KERNEL)), { file: "host.dts" });
    expect(report.guestDts.find((g) => g.domain === "domU1")!.dts).toContain('bootargs = "from-ramdisk";');
  });

  it('xen,enhanced = "no-xenstore" adds /hypervisor with the grant table and the extended regions', () => {
    const { report } = bootDom0less(host(DOMU('xen,enhanced = "no-xenstore";', KERNEL)), {
      file: "host.dts",
    });
    expect(report.log).toEqual(
      expect.arrayContaining([
        "d1: extended region 0: 0x41000000->0x100000000",
        "d1: extended region 1: 0x200000000->0x10000000000",
      ]),
    );
    expect(report.guestDts[0]!.dts).toContain(
      '\thypervisor {\n\t\tcompatible = "xen,xen-4.23", "xen,xen";\n\t\treg = <0x00 0x38000000 0x00 0x1000000 0x00 0x41000000 0x00 0xbf000000 0x02 0x00 0xfe 0x00>;',
    );
    const other = bootDom0less(host(DOMU('xen,enhanced = "something-else";', KERNEL)), { file: "host.dts" });
    expect(other.report.guestDts[0]!.dts).not.toContain("hypervisor");
  });

  it("a host /cpus without a cpu node: Xen's DT generation fails and the domain is not set up", () => {
    const { report } = bootDom0less(
      host(DOMU("", KERNEL), "cpus { #address-cells = <1>; #size-cells = <0>; };"),
      {
        file: "host.dts",
      },
    );
    expect(report).toMatchObject({
      verdict: "rejected",
      phase: "build",
      panic: "Could not set up domain domU1 (rc = -22)",
      failedNode: "/chosen/domU1",
    });
    expect(report.log.slice(-3)).toEqual([
      "arch/arm/domain_build.c:1218: Can't find cpu in the device tree?",
      "Device tree generation failed (-2).",
      "Could not set up domain domU1 (rc = -22)",
    ]);
  });

  it("the report says what sshm assumed for a partial host tree and that no kernel was probed", () => {
    const { report } = bootDom0less(host(DOMU("", KERNEL)), { file: "host.dts" });
    expect(report.guestDts[0]!.notes).toEqual([
      "the host device tree has no /cpus: the guest's cpu nodes get compatible \"arm,cortex-a57\" (sshm assumes QEMU virt's Cortex-A57)",
      "the host device tree has no interrupt controller: the guest gets a GICv3 (sshm assumes QEMU virt's)",
      "the host device tree has no arm,armv8-timer node: the guest's /timer gets no clock-frequency",
      "kernels not probed (no bytes loaded at the modules' addresses): the domain is taken to be 64-bit; where Xen would place the kernel and this DTB, and the vCPU's first registers, are not computed",
    ]);
  });
});

describe("xen,enhanced and the xenstore domain (create_domUs, set_xs_domain)", () => {
  const two = (enhanced: string, caps2 = "") =>
    host(
      DOMU(enhanced, KERNEL) +
        `
    domU2 {
      compatible = "xen,domain";
      #address-cells = <1>;
      #size-cells = <1>;
      memory = <0 0x4000>;
      ${caps2}
      kernel@90000000 { compatible = "multiboot,kernel", "multiboot,module"; reg = <0x90000000 0x10000>; };
    };`,
    );

  it('"enabled" (or an empty value) asks for xenstore: without a xenstore domain Xen panics after building every domU', () => {
    for (const v of ['xen,enhanced = "enabled";', "xen,enhanced;", 'xen,enhanced = "legacy";']) {
      const { report } = bootDom0less(two(v), { file: "host.dts" });
      expect(report).toMatchObject({
        verdict: "rejected",
        phase: "build",
        panic: "xenstore requested, but xenstore domain not present",
        failedNode: "/chosen/domU1",
      });
      expect(report.domains.map((d) => d.name)).toEqual(["domU1", "domU2"]);
    }
  });

  it("a domU with DOMAIN_CAPS_XENSTORE provides it; two xenstore domains panic at the second", () => {
    expect(
      bootDom0less(two('xen,enhanced = "enabled";', "capabilities = <4>;"), { file: "host.dts" }).report
        .verdict,
    ).toBe("accepted");
    const { report } = bootDom0less(two("capabilities = <4>;", "capabilities = <4>;"), { file: "host.dts" });
    expect(report).toMatchObject({
      panic: "Only 1 xenstore domain can be specified! (1)",
      failedNode: "/chosen/domU2",
    });
  });

  it('"no-xenstore" needs none', () => {
    expect(bootDom0less(two('xen,enhanced = "no-xenstore";'), { file: "host.dts" }).report.verdict).toBe(
      "accepted",
    );
  });
});
