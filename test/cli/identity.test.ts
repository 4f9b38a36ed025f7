/**
 * Identity and limits (issue 12 §11): `sshm --version` names sshm's version and the Xen tree it
 * models, as the README does; `bench --help` lists the suites there are; xl's host RAM is an option
 * (`--host-ram BASE+SIZE`) with every bad value a usage error.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SUITES } from "../../bench/run.js";
import { BENCH_SUITES } from "../../src/cli/main.js";
import { XEN_COMMIT, XEN_COMMIT_DATE, XEN_FULLVERSION } from "../../src/common/index.js";
import { ROOT, sshmInProcess, XL } from "./run.js";

const sshm = sshmInProcess;

const VERSION = [
  "sshm 0.1.0",
  "models Xen 4.23-unstable: upstream master at c447b7308b1330ec6dcfef37220736c28f41daa0 (2026-08-20)",
  "xl static_shm: the unmerged libxl series (2019), its man page's rules without its known bugs",
];

describe("sshm --version", () => {
  it("prints sshm's version and the Xen version and commit it models", async () => {
    for (const flag of ["--version", "-V"]) {
      const r = await sshm(flag);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${VERSION.join("\n")}\n`);
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(VERSION[0]).toBe(`sshm ${pkg.version}`);
    expect(XEN_FULLVERSION).toBe("4.23-unstable");
  });

  it("the README says the same", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme).toContain(`$ sshm --version\n${VERSION.join("\n")}\n`);
  });
});

describe("sshm bench --help", () => {
  it("lists every suite bench/run.ts has, in its order", async () => {
    expect(BENCH_SUITES.map(([n]) => n)).toEqual(SUITES.map((s) => s.name));
    const r = await sshm("bench", "--help");
    expect(r.status).toBe(0);
    const block = r.stdout.slice(r.stdout.indexOf("Suites:\n") + "Suites:\n".length);
    const listed = block
      .slice(0, block.indexOf("\n\n"))
      .split("\n")
      .map((l) => l.trim().split(/\s+/)[0]);
    expect(listed).toEqual(SUITES.map((s) => s.name));
  });
});

const USAGE = (c: string) => `usage: sshm ${c} [options] <FILE...>\n(run "sshm ${c} --help" for details)\n`;

describe("--host-ram for xl hosts", () => {
  it("bad values are usage errors with their reason", async () => {
    const cases: [string[], string][] = [
      [
        ["--host-ram", "junk"],
        `option '--host-ram <base+size>' argument 'junk' is invalid. "junk" is not BASE+SIZE (e.g. 0x40000000+4G)`,
      ],
      [
        ["--host-ram", "0x40000800+1G"],
        `option '--host-ram <base+size>' argument '0x40000800+1G' is invalid. "0x40000800+1G": base and size must be multiples of 4 KiB (whole pages)`,
      ],
      [
        ["--host-ram", "0x80000000+1G", "--host-ram", "0xa0000000+1G"],
        "--host-ram: banks 0x80000000+0x40000000 and 0xa0000000+0x40000000 overlap",
      ],
    ];
    for (const [opts, msg] of cases) {
      const r = await sshm("check", XL[0]!, ...opts);
      expect(r.status).toBe(64);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(`sshm check: ${msg}\n${USAGE("check")}`);
    }
    const dt = await sshm("boot", "examples/dom0less/booting.dts", "--host-ram", "0x40000000+1G");
    expect(dt.status).toBe(64);
    expect(dt.stderr).toBe(
      `sshm boot: --host-ram is for xl configs on sshm's own host: a host device tree describes its RAM in its /memory nodes\n${USAGE("boot")}`,
    );
  });

  it("the domains are built in the banks given, two of them above 4 GiB", async () => {
    const banks = [
      { base: 0x8_8000_0000, size: 2 ** 30 },
      { base: 0x10_0000_0000, size: 2 ** 31 },
    ];
    const r = await sshm(
      "boot",
      "--json",
      ...XL,
      "--host-ram",
      "0x880000000+1G",
      "--host-ram",
      "0x1000000000+2G",
    );
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as {
      domains: { name: string; mappings: { hstart: string; size: string }[] }[];
    };
    expect(j.domains.map((d) => d.name)).toEqual(["Domain-0", "vm1", "vm2", "vm3"]);
    for (const d of j.domains)
      for (const m of d.mappings) {
        const s = Number(m.hstart);
        const e = s + Number(m.size);
        expect(
          banks.some((b) => s >= b.base && e <= b.base + b.size),
          `${d.name} ${m.hstart}`,
        ).toBe(true);
      }
    // Too little RAM for Dom0 and vm1: xl's create fails, naming the domain.
    const small = await sshm("check", XL[0]!, "--host-ram", "0x40000000+384M");
    expect(small.status).toBe(1);
    expect(small.stdout).toMatch(/^rejected: xl create examples\/xl\/vm1\.cfg fails creating the domain\n/);
    expect(small.stdout).toContain("cannot allocate 256 MiB for vm1");
  });
});

describe("the Xen tree sshm models", () => {
  it("agrees with the guest device tree's hypervisor compatible", async () => {
    const { XEN_VERSION_STRING } = await import("../../src/guestdt/index.js");
    expect(XEN_FULLVERSION.startsWith(`${XEN_VERSION_STRING}-`)).toBe(true);
    expect(XEN_COMMIT).toMatch(/^[0-9a-f]{40}$/);
    expect(XEN_COMMIT_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
