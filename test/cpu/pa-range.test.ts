/**
 * choosePaRange: system_cpuinfo's PARange as Xen builds it from the boot CPU and the secondary
 * CPUs it keeps (start_secondary parks a CPU whose MIDR differs unless hmp-unsafe; the kept ones
 * lower the value through update_system_features), then --cpu / --pa-bits.
 */
import { describe, expect, it } from "vitest";
import { choosePaRange, xenBoolParam } from "../../src/cpu/index.js";
import { parseDts } from "../../src/fdt/index.js";

function host(cpus: string[], bootargs?: string) {
  const nodes = cpus
    .map((c, i) => `cpu@${i} { device_type = "cpu"; compatible = "${c}"; reg = <${i}>; };`)
    .join("\n");
  const chosen = bootargs === undefined ? "" : `chosen { xen,xen-bootargs = "${bootargs}"; };`;
  return parseDts(
    `/dts-v1/; / { cpus { #address-cells = <1>; #size-cells = <0>; ${nodes} }; ${chosen} };`,
    "t.dts",
  );
}

describe("choosePaRange", () => {
  it("the boot CPU's core decides: A57 44 bits, A53 40 bits, N1 48 bits with 16-bit VMIDs", () => {
    expect(choosePaRange(host(["arm,cortex-a57", "arm,cortex-a57"]))).toMatchObject({
      paBits: 44,
      paRange: 4,
      vmid16: false,
      source: "cpu",
      why: 'from /cpus/cpu@0 compatible "arm,cortex-a57" (Cortex-A57, PARange 4)',
      log: [],
      warnings: [],
    });
    expect(choosePaRange(host(["arm,cortex-a53"]))).toMatchObject({ paBits: 40, vmid16: false });
    expect(choosePaRange(host(["arm,neoverse-n1"]))).toMatchObject({ paBits: 48, vmid16: true });
  });

  it("no /cpus: 40 bits by default, no warning (what sshm assumed before)", () => {
    const t = parseDts("/dts-v1/; / { };", "t.dts");
    expect(choosePaRange(t)).toMatchObject({
      paBits: 40,
      source: "default",
      why: "sshm's default: the host DT has no /cpus/cpu node",
      warnings: [],
    });
    expect(choosePaRange(null).why).toBe("sshm's default: an xl host has no host DT");
  });

  it('nodes without device_type = "cpu" or without reg are not CPUs (dt_smp_init_cpus)', () => {
    const t = parseDts(
      `/dts-v1/; / { cpus { #address-cells = <1>; #size-cells = <0>;
         cpu-map { };
         cpu@0 { compatible = "arm,cortex-a57"; reg = <0>; };
         cpu@1 { device_type = "cpu"; compatible = "arm,cortex-a57"; };
         cpu@2 { device_type = "cpu"; compatible = "arm,cortex-a53"; reg = <2>; }; }; };`,
      "t.dts",
    );
    expect(choosePaRange(t)).toMatchObject({ paBits: 40, cpus: [{ path: "/cpus/cpu@2", cpuid: 0 }] });
  });

  it("big.LITTLE: a CPU with another MIDR is parked (Xen's two lines) and does not count", () => {
    const r = choosePaRange(host(["arm,cortex-a57", "arm,cortex-a53"]));
    expect(r.paBits).toBe(44);
    expect(r.cpus.map((c) => c.online)).toEqual([true, false]);
    expect(r.log).toEqual([
      "CPU1 MIDR (0x00000000410fd034) does not match boot CPU MIDR (0x00000000411fd070),",
      "disable cpu (see big.LITTLE.txt under docs/).",
    ]);
  });

  it("hmp-unsafe keeps it on and the smaller PA range wins; no-hmp-unsafe and =0 undo it", () => {
    const r = choosePaRange(host(["arm,cortex-a57", "arm,cortex-a53"], "console=dtuart hmp-unsafe"));
    expect(r.paBits).toBe(40);
    expect(r.log[1]).toBe("hmp-unsafe turned on so tainting Xen and keep core on!!");
    expect(r.why).toContain("lowered by /cpus/cpu@1");
    expect(choosePaRange(host(["arm,cortex-a57", "arm,cortex-a53"], "hmp-unsafe no-hmp-unsafe")).paBits).toBe(
      44,
    );
    expect(choosePaRange(host(["arm,cortex-a57", "arm,cortex-a53"], "hmp-unsafe=0")).paBits).toBe(44);
  });

  it("the boot CPU is the first node: an A53 boot CPU parks the A57s", () => {
    expect(choosePaRange(host(["arm,cortex-a53", "arm,cortex-a57"])).paBits).toBe(40);
  });

  it("an unknown core: 40 bits and a warning naming the compatible and the options", () => {
    const r = choosePaRange(host(["acme,mystery-core"]));
    expect(r).toMatchObject({ paBits: 40, source: "default" });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatchObject({ code: "UNKNOWN_CPU", node: "/cpus/cpu@0" });
    expect(r.warnings[0]!.message).toContain('"acme,mystery-core"');
    expect(r.warnings[0]!.message).toContain("--cpu NAME");
    expect(r.warnings[0]!.message).toContain("--pa-bits N");
    // QEMU's host CPU: known compatible, unknown PA range.
    expect(choosePaRange(host(["arm,arm-v8"])).warnings[0]!.message).toContain("QEMU host");
  });

  it("--cpu replaces the DT's cores, --pa-bits the PA range; bad values are errors", () => {
    const a53 = host(["arm,cortex-a53"]);
    expect(choosePaRange(a53, { cpu: "cortex-a57" })).toMatchObject({ paBits: 44, source: "option" });
    expect(choosePaRange(a53, { cpu: "max" })).toMatchObject({ paBits: 52, vmid16: true });
    expect(choosePaRange(a53, { paBits: 48 })).toMatchObject({ paBits: 48, why: "from --pa-bits 48" });
    expect(choosePaRange(host(["acme,x"]), { paBits: 44 })).toMatchObject({ paBits: 44, source: "option" });
    expect(choosePaRange(null, { cpu: "host" }).warnings[0]!.node).toBe("--cpu");
    expect(() => choosePaRange(a53, { paBits: 41 })).toThrow("invalid PA size 41");
    expect(() => choosePaRange(a53, { cpu: "cortex-a99" })).toThrow('unknown core "cortex-a99"');
  });
});

describe("xenBoolParam (parse_params for a boolean_param)", () => {
  it.each([
    ["hmp-unsafe", true],
    ["hmp-unsafe=1", true],
    ["hmp-unsafe=yes", true],
    ["hmp-unsafe=off", false],
    ["no-hmp-unsafe", false],
    ["no-hmp-unsafe=0", true],
    ["hmp-unsafe=maybe", undefined],
    ["hmp_unsafe", undefined],
    ["hmp-unsafe no-hmp-unsafe hmp-unsafe", true],
    ["", undefined],
  ])("%s", (cmdline, v) => {
    expect(xenBoolParam(cmdline, "hmp-unsafe")).toBe(v);
  });
});
