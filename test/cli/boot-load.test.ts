import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { beforeAll, describe, expect, it } from "vitest";
import type { BootReport } from "../../src/domains/index.js";
import { FIX, ROOT, type Run, runAll } from "./run.js";

const TMP = mkdtempSync(join(tmpdir(), "sshm-cli-load-"));
const IMAGE = join(TMP, "guest.bin");
{
  // A 0x3800-byte arm64 Image: a branch at 0, the "ARM\x64" magic at 0x38, text_offset 0.
  const b = Buffer.alloc(0x3800);
  b.writeUInt32LE(0x14000010, 0);
  b.writeUInt32LE(0x644d5241, 0x38);
  writeFileSync(IMAGE, b);
}
const HOST = `${FIX}/load-host.dts`;

const SPECS = {
  loaded: ["boot", HOST, "--load", `${IMAGE}@0x80000000`],
  json: ["boot", "--json", HOST, "--load", `${IMAGE}@0x80000000`, "--xen-build", "release"],
  unloaded: ["boot", HOST, "--load", `${IMAGE}@0x90000000`],
  badSpec: ["boot", HOST, "--load", `${IMAGE}`],
  xl: ["boot", "examples/xl/vm1.cfg", "--load", `${IMAGE}@0x80000000`],
  plain: ["boot", HOST],
} as const;

let R: Record<keyof typeof SPECS, Run>;
beforeAll(async () => {
  R = await runAll(SPECS);
}, 120_000);

describe("sshm boot --load FILE@ADDR", () => {
  it("probes, places and copies the kernel as Xen does, with Xen's lines and vCPU 0's first registers", () => {
    const r = R.loaded;
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      "Kernels (Xen debug build)\n  domU1: Image at 0x40000000 (0x3800 bytes), entry 0x40000000; DTB at 0x40e00000 (0x475 bytes); vCPU0 x0=0x40e00000 PSTATE=0x3c5 SCTLR_EL1=0xc50078 MPIDR_EL1=0x80000000\n",
    );
    expect(r.stdout).toContain(
      [
        "  (XEN) *** LOADING DOMU cpus=1 memory=0x4000KB ***",
        "  (XEN) Loading d1 kernel from boot module @ 0000000080000000",
        "  (XEN) Loading zImage from 0000000080000000 to 0000000040000000-0000000040003800",
        "  (XEN) Loading d1 DTB to 0x0000000040e00000-0x0000000040e00475",
      ].join("\n"),
    );
    expect(r.stdout).not.toContain("kernels not probed");
  });

  it("--json carries the placement and the build, and validates against docs/schema/boot.json", () => {
    const j = JSON.parse(R.json.stdout) as BootReport;
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
    const dir = join(ROOT, "docs/schema");
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".json")))
      ajv.addSchema(JSON.parse(readFileSync(join(dir, f), "utf8")) as object);
    const validate = ajv.getSchema("https://sshm.invalid/schema/boot.json")!;
    expect(validate(j), JSON.stringify(validate.errors)).toBe(true);
    expect(j.xenBuild).toBe("release");
    expect(j.kernels).toEqual([
      {
        domain: "domU1",
        format: "Image",
        aarch64: true,
        load: "0x40000000",
        entry: "0x40000000",
        size: "0x3800",
        dtb: "0x40e00000",
        dtbSize: "0x475",
        initrd: null,
        x0: "0x40e00000",
        pstate: "0x3c5",
        sctlr: "0xc50078",
        mpidr: "0x80000000",
      },
    ]);
  });

  it("the kernel module's host RAM left empty: Xen's probe fails and the domain is not set up", () => {
    expect(R.unloaded.status).toBe(1);
    expect(R.unloaded.lines[0]).toBe(
      "rejected at domain construction: Could not set up domain domU1 (rc = -22)",
    );
  });

  it("without --load nothing is probed, as before, and the notes say so", () => {
    expect(R.plain.status).toBe(0);
    expect(R.plain.stdout).toContain("kernels not probed (no bytes loaded at the modules' addresses)");
    expect(R.plain.stdout).not.toContain("LOADING DOMU");
  });

  it("usage errors: a spec without @ADDR, --load with xl configs", () => {
    expect(R.badSpec.status).toBe(64);
    expect(R.badSpec.stderr).toContain(`--load: "${IMAGE}" is not FILE@ADDR (e.g. guest.bin@0x80000000)`);
    expect(R.xl.status).toBe(64);
    expect(R.xl.stderr).toContain(
      "--load puts files in a dom0less host's RAM: it needs a host device tree (.dts/.dtb)",
    );
  });
});
