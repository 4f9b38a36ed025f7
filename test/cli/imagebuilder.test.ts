import { beforeAll, describe, expect, it } from "vitest";
import { DT, noStack, type Run, runAll } from "./run.js";

const IB = "examples/imagebuilder/booting.cfg";
const FIX = "test/imagebuilder/fixtures";

const SPECS = {
  ibCheck: ["check", IB],
  dtCheck: ["check", DT],
  ibBoot: ["boot", IB],
  dtBoot: ["boot", DT],
  ibJson: ["boot", "--json", IB],
  dtJson: ["boot", "--json", DT],
  overlap: ["check", `${FIX}/module-overlap.cfg`],
  unknown: ["check", "--json", `${FIX}/unknown-variable.cfg`],
} as const;

let R: Record<keyof typeof SPECS, Run>;
beforeAll(async () => {
  R = await runAll(SPECS);
}, 120_000);

/** VTTBR_EL2 with BADDR masked: its VMID (bits 63:48) only. */
function vmidOf(vttbr: string): string {
  return `VMID ${BigInt(vttbr) >> 48n}`;
}

/** A boot report line with each VTTBR reduced to its VMID (see comparable). */
const vmidLine = (l: string) => l.replace(/VTTBR (0x[0-9a-f]+)/, (_m, v: string) => `VTTBR ${vmidOf(v)}`);

/** The report with the fields that necessarily differ between the two descriptions taken out. */
function comparable(stdout: string): Record<string, unknown> {
  const j = JSON.parse(stdout) as {
    source?: string;
    files?: string[];
    guestDts: { domain: string; dts: string }[];
    domains: { mappings: { source?: string }[]; vttbr?: string }[];
  };
  delete j.source;
  delete j.files;
  for (const d of j.domains) for (const m of d.mappings) delete m.source;
  // The p2m root pages come from the heap, which is host RAM less the boot modules, and
  // ImageBuilder loads the modules at its own addresses: VTTBR's BADDR differs, its VMID not.
  for (const d of j.domains) if (d.vttbr) d.vttbr = vmidOf(d.vttbr);
  // ImageBuilder always gives a domU kernel a command line (DOMU_CMD, default console=ttyAMA0).
  j.guestDts = j.guestDts
    .filter((g) => g.domain !== "Dom0")
    .map((g) => ({ ...g, dts: g.dts.replace('\t\tbootargs = "console=ttyAMA0";\n', "") }));
  return j;
}

describe("the ImageBuilder example describes the system of examples/dom0less/booting.dts", () => {
  it("sshm check prints the same verdict, byte for byte", () => {
    expect(R.ibCheck.status).toBe(0);
    expect(R.ibCheck.stdout).toBe(
      "accepted: 3 domains, 3 regions, 0 warnings\n  PA range 40 bits, sshm's default: the host DT has no /cpus/cpu node: 40-bit IPA for every domain, 3 levels from L1, 2 root pages, VTCR 0x80023558\n",
    );
    expect(R.ibCheck.stdout).toBe(R.dtCheck.stdout);
  });

  it("boot gives the same domains, mappings, regions, refcounts, domU device trees and console", () => {
    expect(comparable(R.ibJson.stdout)).toEqual(comparable(R.dtJson.stdout));
  });

  it("and differs only where ImageBuilder necessarily writes otherwise", () => {
    // ImageBuilder names its shm node shared-mem@<HPA>, gives Dom0 its bootargs and a 2-cell
    // /chosen, and domU1's kernel the default command line.
    const section = (lines: string[]) => {
      const from = lines.indexOf("Device tree of Dom0");
      const to = lines.indexOf("Device tree of domU1");
      return { dom0: lines.slice(from, to), rest: [...lines.slice(0, from), ...lines.slice(to)] };
    };
    const ib = section(R.ibBoot.lines.map(vmidLine));
    const dt = section(R.dtBoot.lines.map(vmidLine));
    const bootargs = '  \t\tbootargs = "console=ttyAMA0";';
    expect(ib.rest.filter((l) => l === bootargs)).toHaveLength(1);
    expect(dt.rest).not.toContain(bootargs);
    expect(ib.rest.filter((l) => l !== bootargs)).toEqual(dt.rest);
    const chosen = (l: string[]) => l.slice(l.indexOf("  \tchosen {"), l.indexOf("  \t};") + 1);
    expect(chosen(dt.dom0)).toEqual([
      "  \tchosen {",
      "  \t\t#address-cells = <0x01>;",
      "  \t\t#size-cells = <0x01>;",
      '  \t\txen,xen-bootargs = "console=dtuart dtuart=serial0 bootscrub=0";',
      "  \t};",
    ]);
    // libfdt adds each new property first, so ImageBuilder's come out in reverse order.
    expect(chosen(ib.dom0)).toEqual([
      "  \tchosen {",
      '  \t\txen,dom0-bootargs = "console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused root=/dev/ram0";',
      '  \t\txen,xen-bootargs = "console=dtuart dtuart=serial0 bootscrub=0";',
      "  \t\t#size-cells = <0x02>;",
      "  \t\t#address-cells = <0x02>;",
      "  \t};",
    ]);
    const outside = (l: string[]) => [
      ...l.slice(0, l.indexOf("  \tchosen {")),
      ...l.slice(l.indexOf("  \t};") + 1),
    ];
    expect(outside(ib.dom0)).toEqual(outside(dt.dom0));
  });
});

describe("sshm on ImageBuilder configs", () => {
  it("Xen's refusal of a generated node points at the config line", () => {
    const r = R.overlap;
    expect(r.status).toBe(1);
    expect(r.lines[0]).toBe("rejected at early FDT parsing: Early FDT parsing failed (-22)");
    expect(r.lines[1]).toBe(
      `  Xen stops at /chosen/domU0/shared-mem@0x40000000 property xen,shared-mem (${FIX}/module-overlap.cfg:8:1)`,
    );
    expect(r.stdout).toMatch(
      /^ {2}\(XEN\) Region: \[0x00000040000000, 0x00000041000000\) overlapping with mod\[\d\]: \[0x00000040400000, 0x00000040c00000\)$/m,
    );
    expect(r.lines).toContain("  (XEN) fdt: node `shared-mem@0x40000000': parsing failed");
  });

  it("a broken config: exit 1, file:line and key, JSON error object with --json", () => {
    const r = R.unknown;
    expect(r.status).toBe(1);
    const message = `${FIX}/unknown-variable.cfg:6, key DOMU_KERNELS[0]: unknown ImageBuilder variable DOMU_KERNELS (did you mean DOMU_KERNEL?): uboot-script-gen never reads it, so bash would set it and ImageBuilder ignore it`;
    expect(r.stderr).toBe(`sshm: ${message}\n`);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: "EIMAGEBUILDER_UNKNOWN", message }, exitCode: 1 });
    expect(noStack(r)).toBe(true);
  });
});
