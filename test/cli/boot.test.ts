import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { BootReport } from "../../src/domains/index.js";
import { DT, FIX, type Run, runAll, XL } from "./run.js";

const TMP = mkdtempSync(join(tmpdir(), "sshm-cli-boot-"));
const GUESTS = join(TMP, "guests");

const SPECS = {
  dt: ["boot", DT, "--guest-dtb", GUESTS],
  dtJson: ["boot", "--json", DT],
  destroy: ["boot", DT, "--destroy", "domU2", "--json"],
  dying: ["boot", DT, "--destroy", "domU1"],
  xl: ["boot", ...XL],
  xlDestroy: ["boot", ...XL, "--destroy", "vm2", "--destroy", "vm3"],
  noSuch: ["boot", DT, "--destroy", "domU9"],
  rejected: ["boot", `${FIX}/build-reject.dts`],
  warned: ["boot", `${FIX}/warn.dts`],
} as const;

let R: Record<keyof typeof SPECS, Run>;
beforeAll(async () => {
  R = await runAll(SPECS);
}, 120_000);

/** The table row of a region in `boot` text output, split on runs of two or more blanks. */
function regionRow(r: Run, id: string): string[] {
  const line = r.lines.find((l) => l.startsWith(`  ${id} `));
  if (!line) throw new Error(`no row for ${id} in\n${r.stdout}`);
  return line.trim().split(/ {2,}/);
}

describe("sshm boot", () => {
  it("prints the summary, each domain's mappings with block sizes, and the regions", () => {
    const r = R.dt;
    expect(r.status).toBe(0);
    expect(r.lines[0]).toBe("accepted: 3 domains, 3 regions, 0 warnings");
    expect(r.stdout).toMatch(
      /^ {4}shm +my-shared-mem-1 +dom_io-borrower +0x60000000-0x7fffffff +→ +0x50000000-0x6fffffff +512 MiB +p2m_map_foreign_rw +256x2M$/m,
    );
    expect(r.stdout).toMatch(
      /^ {4}ram +0x40000000-0x47ffffff +→ +0x[0-9a-f]+-0x[0-9a-f]+ +128 MiB +p2m_ram_rw +64x2M$/m,
    );
    expect(regionRow(r, "my-shared-mem-1")).toEqual([
      "my-shared-mem-1",
      "host",
      "0x50000000-0x6fffffff",
      "512 MiB",
      "dom_io",
      "domU1@0x60000000, domU2@0x70000000",
      "3 (all 131072 pages)",
    ]);
    expect(regionRow(r, "my-shared-mem-2").slice(1, 2)).toEqual(["heap"]);
  });

  it("prints each guest's device tree and --guest-dtb writes DTBs dtc decompiles", () => {
    expect(R.dt.stdout).toContain("Device tree of domU2");
    expect(R.dt.stdout).toContain('xen,id = "my-shared-mem-2";');
    expect(readdirSync(GUESTS).sort()).toEqual(["Dom0.dtb", "domU1.dtb", "domU2.dtb"]);
    const d = spawnSync("dtc", ["-I", "dtb", "-O", "dts", join(GUESTS, "domU1.dtb")], { encoding: "utf8" });
    expect(d.status).toBe(0);
    expect(d.stdout).toContain("xen-shmem@60000000 {");
    expect(d.stdout).toContain('xen,id = "my-shared-mem-1";');
    expect(d.stdout).toContain('compatible = "xen,shared-memory-v1";');
  });

  it("--json prints the boot report", () => {
    const j = JSON.parse(R.dtJson.stdout) as BootReport;
    expect(R.dtJson.status).toBe(0);
    expect(j.verdict).toBe("accepted");
    expect(j.kind).toBe("dom0less");
    expect(j.domains.map((d) => d.name)).toEqual(["Dom0", "domU1", "domU2"]);
    expect(j.regions.map((r) => r.id)).toEqual(["my-shared-mem-0", "my-shared-mem-1", "my-shared-mem-2"]);
    expect(j.guestDts.map((g) => g.domain)).toEqual(["Dom0", "domU1", "domU2"]);
    for (const k of ["phase", "log", "panic", "warnings", "xenstore", "failedNode", "source"])
      expect(j).toHaveProperty(k);
  });

  it("--destroy tears a domain down: its borrower references are dropped", () => {
    const j = JSON.parse(R.destroy.stdout) as BootReport;
    const r1 = j.regions.find((r) => r.id === "my-shared-mem-1")!;
    expect(r1.borrowers.map((b) => b.domain)).toEqual(["domU1"]);
    expect(r1.refcounts.map((x) => x.count)).toEqual([2]);
    expect(j.domains.find((d) => d.name === "domU2")?.state).not.toBe("running");
  });

  it("a destroyed owner whose heap pages a borrower still maps stays a dying zombie", () => {
    expect(R.dying.status).toBe(0);
    expect(R.dying.lines[0]).toBe("accepted: 2 domains (+1 dying), 3 regions, 0 warnings");
    expect(R.dying.stdout).toMatch(/^ {2}domU1 \(domid 1, vmid 2, \d+ of 163840 pages, dying\)/m);
    expect(regionRow(R.dying, "my-shared-mem-2").slice(4)).toEqual([
      "domU1",
      "domU2@0x90000000",
      "1 (all 131072 pages)",
    ]);
  });

  it("xl: the xenstore tree, and destroys that clear the toolstack's records", () => {
    expect(R.xl.status).toBe(0);
    expect(R.xl.lines).toContain('  /libxl/static_shm/ID1/usercnt = "2"');
    expect(R.xl.lines).toContain('  /libxl/static_shm/ID2/borrowers/3/offset = "0x10000"');
    expect(regionRow(R.xl, "ID2").at(-1)).toBe("1 (16 pages), 2 (240 pages)");

    const r = R.xlDestroy;
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("after destroying vm2, vm3");
    expect(r.lines).toContain('  /libxl/static_shm/ID1/usercnt = "1"');
    expect(r.stdout).not.toContain("/local/domain/2");
    expect(regionRow(r, "ID1").at(-1)).toBe("1 (all 256 pages)");
  });

  it("--destroy of a domain that does not exist is a usage error listing the domains", () => {
    expect(R.noSuch.status).toBe(64);
    expect(R.noSuch.stderr).toContain(
      'sshm boot: --destroy: no domain "domU9" (domains: Dom0, domU1, domU2)',
    );
    expect(R.noSuch.stderr).toContain("usage: sshm boot [options] <FILE...>");
  });

  it("a rejected boot prints the rejection (exit 1); warnings give exit 2", () => {
    expect(R.rejected.status).toBe(1);
    expect(R.rejected.lines).toContain("  (XEN) Could not set up domain domU2 (rc = -22)");
    expect(R.warned.status).toBe(2);
    expect(R.warned.stdout).toMatch(/^ {4}shm +shm-big .* 1x1G$/m);
  });
});
