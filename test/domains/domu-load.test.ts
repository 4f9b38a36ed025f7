/** A dom0less domU booted with its modules' bytes in host RAM: probe, placement, copies, vCPU state. */
import { describe, expect, it } from "vitest";
import { type BootOptions, bootDom0less, type HostImage } from "../../src/domains/index.js";
import { ZIMAGE64_MAGIC_V1 } from "../../src/kernel/index.js";
import { throwsExactly } from "../helpers/errors.js";

function host(
  opts: { mem?: string; ramdisk?: boolean; xenArgs?: string; dom0?: boolean; kernelSize?: number } = {},
) {
  return `/dts-v1/;
/ {
  #address-cells = <2>;
  #size-cells = <2>;
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x80000000>; };
  chosen {
    #address-cells = <1>;
    #size-cells = <1>;
    xen,xen-bootargs = "${opts.xenArgs ?? "console=dtuart"}";
    ${opts.dom0 ? 'dom0 { compatible = "multiboot,kernel", "multiboot,module"; reg = <0xa0000000 0x1000>; };' : ""}
    domU1 {
      compatible = "xen,domain";
      #address-cells = <1>;
      #size-cells = <1>;
      memory = <0 ${opts.mem ?? "0x4000"}>;
      cpus = <2>;
      kernel@80000000 {
        compatible = "multiboot,kernel", "multiboot,module";
        reg = <0x80000000 ${opts.kernelSize ?? 0x3800}>;
        bootargs = "console=hvc0";
      };
      ${opts.ramdisk ? 'ramdisk@81000000 { compatible = "multiboot,ramdisk", "multiboot,module"; reg = <0x81000000 0x5000>; };' : ""}
    };
  };
};
`;
}

/** An arm64 Image of `size` bytes: the v1 magic, text_offset, and a recognisable body. */
function image(size: number, textOffset = 0): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 64; i < size; i++) b[i] = (i * 7) & 0xff;
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x14000010, true); // b #0x40 (not the v0 magic)
  dv.setBigUint64(8, BigInt(textOffset), true);
  dv.setUint32(0x38, ZIMAGE64_MAGIC_V1, true);
  return b;
}

const KERNEL = (b: Uint8Array): HostImage => ({ addr: 0x8000_0000, bytes: b, file: "guest.bin" });

function boot(dts: string, hostImages: HostImage[], opts: BootOptions = {}) {
  return bootDom0less(dts, { file: "host.dts", hostImages, ...opts });
}

describe("a loaded domU: Xen's construct_domU and construct_domain", () => {
  it("logs what Xen logs, copies the kernel and the DTB where place_dtb_initrd says, starts vCPU 0 there", () => {
    const k = image(0x3800);
    const { report, system } = boot(host(), [KERNEL(k)]);
    expect(report.verdict).toBe("accepted");
    const d = system!.domain("domU1");
    const dtb = d.domUBoot!.dtb;
    const i = report.log.indexOf("*** LOADING DOMU cpus=2 memory=0x4000KB ***");
    expect(report.log.slice(i)).toEqual([
      "*** LOADING DOMU cpus=2 memory=0x4000KB ***",
      "Loading d1 kernel from boot module @ 0000000080000000",
      "Loading zImage from 0000000080000000 to 0000000040000000-0000000040003800",
      `Loading d1 DTB to 0x0000000040e00000-0x${(0x40e0_0000 + dtb.length).toString(16).padStart(16, "0")}`,
    ]);
    const v = d.vcpu();
    const got = new Uint8Array(k.length);
    v.readBytes(0x4000_0000, got);
    expect(Buffer.from(got).equals(Buffer.from(k))).toBe(true);
    const gotDtb = new Uint8Array(dtb.length);
    v.readBytes(0x40e0_0000, gotDtb);
    expect(Buffer.from(gotDtb).equals(Buffer.from(dtb))).toBe(true);
    // RAM Xen never wrote holds the debug build's scrub pattern.
    expect(v.read32(0x4000_3800)).toBe(0xc2c2c2c2);
    expect(v.read8(0x40e0_0000 + dtb.length)).toBe(0xc2);
    const [v0, v1] = d.domUBoot!.kernel!.vcpus;
    expect(v0).toMatchObject({ pc: 0x4000_0000n, pstate: 0x3c5, online: true });
    expect(v0!.x[0]).toBe(0x40e0_0000n);
    expect(v0!.sysregs).toMatchObject({ SCTLR_EL1: 0xc50078n, MPIDR_EL1: 0x8000_0000n });
    expect(v1).toMatchObject({ online: false, pc: 0n });
    expect(v1!.sysregs.MPIDR_EL1).toBe(0x8000_0001n);
    // No "kernels not probed" note any more.
    expect(report.guestDts.find((g) => g.domain === "domU1")!.notes).toHaveLength(3);
  });

  it("a release build leaves zeroes; bootscrub=0 (or 1: scrubbed only after the domains are built) leaves RAM as it was", () => {
    const k = image(0x3800);
    const rel = boot(host(), [KERNEL(k)], { xenBuild: "release" });
    expect(rel.system!.domain("domU1").vcpu().read32(0x4000_3800)).toBe(0);
    for (const arg of ["bootscrub=0", "bootscrub=1"]) {
      const r = boot(host({ xenArgs: arg }), [KERNEL(k)]);
      expect(r.system!.domain("domU1").vcpu().read32(0x4000_3800)).toBe(0);
    }
  });

  it("an initrd goes right after the DTB's 2 MiB slot (S = 4 MiB: DTB at 0x40c00000) and /chosen's placeholders get its range", () => {
    const rd = Uint8Array.from({ length: 0x5000 }, (_, i) => i & 0xff);
    const { report, system } = boot(host({ ramdisk: true }), [
      KERNEL(image(0x3800)),
      { addr: 0x8100_0000, bytes: rd, file: "initrd" },
    ]);
    expect(report.verdict).toBe("accepted");
    expect(report.log).toContain("Loading ramdisk from boot module @ 0000000081000000");
    expect(report.log).toContain(
      "Loading d1 initrd from 0000000081000000 to 0x0000000040e00000-0x0000000040e05000",
    );
    const dts = report.guestDts.find((g) => g.domain === "domU1")!.dts;
    expect(dts).toContain("linux,initrd-start = <0x00 0x40e00000>;");
    expect(dts).toContain("linux,initrd-end = <0x00 0x40e05000>;");
    const d = system!.domain("domU1");
    const got = new Uint8Array(rd.length);
    d.vcpu().readBytes(0x40e0_0000, got);
    expect(Buffer.from(got).equals(Buffer.from(rd))).toBe(true);
    // The copied DTB is the patched one.
    const dtb = d.domUBoot!.dtb;
    const copied = new Uint8Array(dtb.length);
    d.vcpu().readBytes(0x40c0_0000, copied);
    expect(Buffer.from(copied).equals(Buffer.from(dtb))).toBe(true);
  });

  it("nothing loaded at the kernel module: the probe fails as on real Xen (-EINVAL, no message)", () => {
    const { report } = boot(host(), []);
    expect(report).toMatchObject({
      verdict: "rejected",
      phase: "build",
      panic: "Could not set up domain domU1 (rc = -22)",
      failedNode: "/chosen/domU1/kernel@80000000",
    });
    expect(report.log.slice(-3)).toEqual([
      "*** LOADING DOMU cpus=2 memory=0x4000KB ***",
      "Loading d1 kernel from boot module @ 0000000080000000",
      "Could not set up domain domU1 (rc = -22)",
    ]);
  });

  it("Dom0's kernel is probed first: with nothing loaded there, Dom0 is not set up", () => {
    const { report } = boot(host({ dom0: true }), [KERNEL(image(0x3800))]);
    expect(report.panic).toBe("Could not set up d0 guest OS (rc = -22)");
    expect(report.log.slice(-3)).toEqual([
      "*** LOADING DOMAIN 0 ***",
      "Loading d0 kernel from boot module @ 00000000a0000000",
      "Could not set up d0 guest OS (rc = -22)",
    ]);
  });

  it("a kernel that lands past the end of RAM: Unable to copy the kernel in the d1 memory", () => {
    const { report } = boot(host(), [KERNEL(image(0x3800, 0x100_0000))]);
    expect(report.panic).toBe("Unable to copy the kernel in the d1 memory");
    expect(report.log.at(-2)).toBe(
      "Loading zImage from 0000000080000000 to 0000000041000000-0000000041003800",
    );
  });

  it("4 MiB of RAM: Unable to find suitable location for dtb+initrd (before the zImage line)", () => {
    const { report } = boot(host({ mem: "0x1000" }), [KERNEL(image(0x3800))]);
    expect(report.panic).toBe("Unable to find suitable location for dtb+initrd");
    expect(report.log.at(-2)).toBe("Loading d1 kernel from boot module @ 0000000080000000");
  });

  it("a gzip kernel is refused as something sshm does not model", () => {
    const gz = new Uint8Array(0x3800);
    gz.set([0x1f, 0x8b, 8]);
    throwsExactly(
      () => boot(host(), [KERNEL(gz)]),
      "EUNMODELLED",
      "node /chosen/domU1/kernel@80000000: the kernel module is gzip-compressed: Xen would inflate it into heap pages (kernel_decompress) before the domain's memory is allocated, which sshm does not model; load the uncompressed Image",
    );
  });

  it("loads outside host RAM or over each other are clear errors", () => {
    throwsExactly(
      () => boot(host(), [{ addr: 0x3000_0000, bytes: new Uint8Array(16), file: "a.bin" }]),
      "ELOAD_NOT_RAM",
      "a.bin: [0x0000000030000000, 0x0000000030000010) is not inside host RAM ([0x0000000040000000, 0x00000000c0000000)): a loaded file must lie in one RAM bank",
    );
    throwsExactly(
      () =>
        boot(host(), [
          { addr: 0x8000_0000, bytes: new Uint8Array(0x100), file: "a.bin" },
          { addr: 0x8000_00f0, bytes: new Uint8Array(16), file: "b.bin" },
        ]),
      "ELOAD_OVERLAP",
      "b.bin at 0x00000000800000f0 overlaps a.bin at [0x0000000080000000, 0x0000000080000100): two loads cannot share host memory",
    );
  });
});

describe("which modules kernel_probe finds", () => {
  const hostWith = (modules: string, extra = "") => `/dts-v1/;
/ {
  #address-cells = <2>;
  #size-cells = <2>;
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x80000000>; };
  chosen {
    #address-cells = <1>;
    #size-cells = <1>;
    domU1 {
      compatible = "xen,domain";
      #address-cells = <1>;
      #size-cells = <1>;
      memory = <0 0x4000>;
      cpus = <1>;
      ${extra}
      ${modules}
    };
  };
};
`;

  it('a module that only says "multiboot,module" is not a kernel to kernel_probe: Missing kernel boot module?', () => {
    const { report } = boot(
      hostWith('m@80000000 { compatible = "multiboot,module"; reg = <0x80000000 0x3800>; };'),
      [KERNEL(image(0x3800))],
    );
    expect(report.panic).toBe("Could not set up domain domU1 (rc = -2)");
    expect(report.log.slice(-3)).toEqual([
      "*** LOADING DOMU cpus=1 memory=0x4000KB ***",
      "Missing kernel boot module?",
      "Could not set up domain domU1 (rc = -2)",
    ]);
  });

  it("with two multiboot,kernel children the last one is the kernel", () => {
    const two = [
      'a@80000000 { compatible = "multiboot,kernel", "multiboot,module"; reg = <0x80000000 0x3800>; };',
      'b@90000000 { compatible = "multiboot,kernel", "multiboot,module"; reg = <0x90000000 0x3800>; };',
    ].join("\n");
    const { report } = boot(hostWith(two), [{ addr: 0x9000_0000, bytes: image(0x3800), file: "b.bin" }]);
    expect(report.verdict).toBe("accepted");
    expect(report.log).toContain("Loading d1 kernel from boot module @ 0000000090000000");
  });

  it("an owner's heap-form region is scrubbed like the rest of the boot heap", () => {
    const shm = `shm { compatible = "xen,domain-shared-memory-v1"; role = "owner"; xen,shm-id = "h"; xen,shared-mem = <0x60000000 0x200000>; };`;
    const k =
      'k@80000000 { compatible = "multiboot,kernel", "multiboot,module"; reg = <0x80000000 0x3800>; };';
    const { report, system } = boot(hostWith(k + shm), [KERNEL(image(0x3800))]);
    expect(report.verdict).toBe("accepted");
    expect(system!.domain("domU1").vcpu().read32(0x6000_0000)).toBe(0xc2c2c2c2);
  });
});
