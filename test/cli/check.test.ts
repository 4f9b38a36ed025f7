import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DT, FIX, noStack, ROOT, type Run, runAll, sshm, XL } from "./run.js";

const SPECS = {
  dt: ["check", DT],
  xl: ["check", ...XL],
  parse: ["check", `${FIX}/parse-reject.dts`],
  build: ["check", `${FIX}/build-reject.dts`],
  crash: ["check", `${FIX}/crash.dts`],
  warn: ["check", `${FIX}/warn.dts`],
  jsonParse: ["check", "--json", `${FIX}/parse-reject.dts`],
  jsonWarn: ["check", "--json", `${FIX}/warn.dts`],
  jsonCrash: ["check", "--json", `${FIX}/crash.dts`],
  syntax: ["check", `${FIX}/syntax.dts`],
  missing: ["check", "nope.dts"],
  xlLex: ["check", `${FIX}/xl-syntax.cfg`],
  xlExceeds: ["check", XL[0]!, `${FIX}/xl-exceeds.cfg`],
  xlOrder: ["check", XL[1]!, XL[0]!],
} as const;

let R: Record<keyof typeof SPECS, Run>;
beforeAll(async () => {
  R = await runAll(SPECS);
}, 120_000);

describe("sshm check", () => {
  it("accepts the dom0less example: exit 0, summary first", () => {
    const r = R.dt;
    expect(r.status).toBe(0);
    expect(r.lines[0]).toBe("accepted: 3 domains, 3 regions, 0 warnings");
    expect(r.stdout).not.toContain("\x1b[");
  });

  it("accepts the three xl configs created in order on one host", () => {
    const r = R.xl;
    expect(r.status).toBe(0);
    expect(r.lines[0]).toBe("accepted: 4 domains, 2 regions, 0 warnings");
  });

  it("reads a DTB as well as DTS", () => {
    const dtb = join(mkdtempSync(join(tmpdir(), "sshm-cli-")), "booting.dtb");
    const c = spawnSync("dtc", ["-I", "dts", "-O", "dtb", "-o", dtb, DT], { cwd: ROOT, encoding: "utf8" });
    expect(c.status).toBe(0);
    const r = sshm("check", dtb);
    expect(r.status).toBe(0);
    expect(r.lines[0]).toBe("accepted: 3 domains, 3 regions, 0 warnings");
  });

  it("a DT rejected at Xen's early parse: exit 1, the panic line and the node with its position", () => {
    const r = R.parse;
    expect(r.status).toBe(1);
    expect(r.lines[0]).toBe("rejected at early FDT parsing: Early FDT parsing failed (-22)");
    expect(r.stdout).toContain(
      `Xen stops at /chosen/domU1/shm0 property role (${FIX}/parse-reject.dts:32:17)`,
    );
    expect(r.stdout).toContain(
      '  sshm note: role = "master": Xen accepts only "owner" or "borrower" (leave role out for a region owned by dom_io)',
    );
    expect(r.lines).toContain("  (XEN) Early FDT parsing failed (-22)");
    expect(r.lines).toContain("  (XEN) fdt: invalid `role` property for static shared memory node.");
  });

  it("a DT rejected at domain construction: exit 1, Xen's log up to the panic", () => {
    const r = R.build;
    expect(r.status).toBe(1);
    expect(r.lines[0]).toBe("rejected at domain construction: Could not set up domain domU2 (rc = -22)");
    const log = r.lines.map((l) => l.trim());
    const acquire = log.indexOf("(XEN) d[IO]: failed to acquire static memory: -2.");
    const panic = log.indexOf("(XEN) Could not set up domain domU2 (rc = -22)");
    expect(acquire).toBeGreaterThan(0);
    expect(panic).toBeGreaterThan(acquire);
  });

  it("a DT that crashes Xen itself: exit 1, says crash and which BUG_ON", () => {
    const r = R.crash;
    expect(r.status).toBe(1);
    expect(r.lines[0]).toMatch(
      /^crash: Xen itself would crash at domain construction: .*BUG_ON\(strlen\(shm_id\) <= 0\)/,
    );
  });

  it("accepted with warnings: exit 2, each warning with code and node", () => {
    const r = R.warn;
    expect(r.status).toBe(2);
    expect(r.lines[0]).toBe("accepted: 2 domains, 1 region, 3 warnings");
    expect(r.stdout).toMatch(/^ {2}B4 +\/chosen\/domU1\/shm0 +.*1 GiB block entries/m);
    expect(r.stdout).toMatch(/^ {2}B9 +\/chosen\/domU2\/shm0 +.*overlaps domU2's RAM/m);
  });

  it("--json prints one object with the verdict fields and the exit code", () => {
    for (const [r, code, verdict] of [
      [R.jsonParse, 1, "rejected"],
      [R.jsonWarn, 2, "accepted"],
      [R.jsonCrash, 1, "crash"],
    ] as const) {
      expect(r.status).toBe(code);
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(Object.keys(j).sort()).toEqual(
        [
          "exitCode",
          "failedNode",
          "files",
          "kind",
          "log",
          "notes",
          "paRange",
          "panic",
          "phase",
          "source",
          "verdict",
          "warnings",
        ].sort(),
      );
      expect(j.verdict).toBe(verdict);
      expect(j.exitCode).toBe(code);
    }
    const j = JSON.parse(R.jsonParse.stdout) as { panic: string; phase: string };
    expect(j).toMatchObject({ panic: "Early FDT parsing failed (-22)", phase: "parse" });
  });

  it("a DTS syntax error: exit 1, sshm: file:line:column, no stack trace", () => {
    const r = R.syntax;
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^sshm: ${FIX}/syntax\\.dts:6:5: syntax error`));
    expect(noStack(r)).toBe(true);
  });

  it("an unreadable file: exit 1 with a plain message", () => {
    const r = R.missing;
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("sshm: cannot read nope.dts: no such file\n");
  });

  it("xl configs with errors: lexical error, libxl's refusal, a borrower without owner", () => {
    const lex = R.xlLex;
    expect(lex.status).toBe(1);
    expect(lex.lines[0]).toBe(`rejected: xl create ${FIX}/xl-syntax.cfg fails reading the config`);
    expect(lex.stdout).toContain(`${FIX}/xl-syntax.cfg:6:16: config parsing error`);

    const exceeds = R.xlExceeds;
    expect(exceeds.status).toBe(1);
    expect(exceeds.lines[0]).toBe(`rejected: xl create ${FIX}/xl-exceeds.cfg fails creating the domain`);
    expect(exceeds.stdout).toContain("exceeds owner's address space.");

    // The order matters: vm2 before its owner vm1 has nobody to borrow from.
    const order = R.xlOrder;
    expect(order.status).toBe(1);
    expect(order.stdout).toContain("no owner found.");
  });
});

describe("usage errors exit 64 and show the usage line", () => {
  it.each([
    ["an unknown option", ["check", "--frobnicate", DT], "sshm check: unknown option '--frobnicate'"],
    ["no file", ["check"], "sshm check: missing required argument 'FILE'"],
    [
      "an ImageBuilder config and xl configs",
      ["check", "examples/imagebuilder/booting.cfg", XL[0]!],
      `sshm check: examples/imagebuilder/booting.cfg is an ImageBuilder config, ${XL[0]} is an xl config: these describe different systems`,
    ],
    ["two DTs", ["check", DT, `${FIX}/warn.dts`], "sshm check: one host has one device tree, got 2"],
    ["an unknown command", ["frobnicate"], "unknown command 'frobnicate'"],
  ])("%s", (_what, args, message) => {
    const r = sshm(...args);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain(message);
    if (args[0] === "check") expect(r.stderr).toContain("usage: sshm check [options] <FILE...>");
    expect(r.stdout).toBe("");
  });
});
