import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { SimResult } from "../../src/sim/types.js";
import { DT, FIX, type Run, runAll, XL } from "./run.js";

const TMP = mkdtempSync(join(tmpdir(), "sshm-cli-map-"));
const COMMANDS = ["check", "boot", "map", "simulate", "bench"] as const;

const SPECS = {
  html: ["map", DT, "-o", join(TMP, "map.html")],
  svg: ["map", ...XL, "-o", join(TMP, "xl.svg")],
  rejectedMap: ["map", `${FIX}/build-reject.dts`, "-o", join(TMP, "rejected.svg")],
  parseRejectedMap: ["map", "test/map/fixtures/overlap-shm.dts", "-o", join(TMP, "parse-rejected.svg")],
  crashMap: ["map", `${FIX}/crash.dts`, "-o", join(TMP, "crash.svg")],
  warnMap: ["map", `${FIX}/warn.dts`, "-o", join(TMP, "warn.html")],
  xlRejectedMap: ["map", "examples/xl/vm2.cfg", "examples/xl/vm1.cfg", "-o", join(TMP, "xl-rejected.svg")],
  unreadableMap: ["map", `${FIX}/no-such-file.dts`, "-o", join(TMP, "none.svg")],
  badExt: ["map", DT, "-o", join(TMP, "map.png")],
  noOutput: ["map", DT],
  stream: [
    "simulate",
    DT,
    "--scenario",
    "stream",
    "--size",
    "4k",
    "--duration",
    "300ms",
    "--region",
    "my-shared-mem-1",
  ],
  pingJson: ["simulate", ...XL, "--scenario", "pingpong", "--size", "64", "--count", "200", "--json"],
  badScenario: ["simulate", DT, "--scenario", "broadcast"],
  badDuration: ["simulate", DT, "--duration", "2 fortnights"],
  badRegion: ["simulate", DT, "--region", "nope", "--duration", "100ms"],
  simRejected: ["simulate", `${FIX}/parse-reject.dts`, "--duration", "100ms"],
  benchUnknown: ["bench", "nosuchsuite"],
  help: ["--help"],
  ...Object.fromEntries(COMMANDS.map((c) => [`help-${c}`, [c, "--help"]])),
} as Record<string, readonly string[]>;

let R: Record<string, Run>;
beforeAll(async () => {
  R = await runAll(SPECS);
}, 120_000);

const run = (k: string): Run =>
  R[k] ??
  (() => {
    throw new Error(`no run ${k}`);
  })();

describe("sshm map", () => {
  it("writes an HTML page naming every region, and an SVG of the xl host", () => {
    expect(run("html").status).toBe(0);
    expect(run("html").stdout).toBe(
      `wrote ${join(TMP, "map.html")}: accepted: 3 domains, 3 regions, 0 warnings\n`,
    );
    const html = readFileSync(join(TMP, "map.html"), "utf8");
    expect(html).toMatch(/^<!DOCTYPE html>/i);
    for (const id of ["my-shared-mem-0", "my-shared-mem-1", "my-shared-mem-2"]) expect(html).toContain(id);
    expect(run("svg").status).toBe(0);
    const svg = readFileSync(join(TMP, "xl.svg"), "utf8");
    expect(svg).toContain("<svg");
    for (const id of ["ID1", "ID2", "vm1", "vm2", "vm3"]) expect(svg).toContain(id);
    // The xl owner's region lies inside its RAM by design: no overlap is reported for it.
    expect(svg).not.toMatch(/overlap:/);
  });

  it("draws a refused boot too (how far Xen got) and exits as check does, and refuses unknown picture formats", () => {
    expect(run("rejectedMap").status).toBe(1);
    expect(run("rejectedMap").stdout).toBe(
      `wrote ${join(TMP, "rejected.svg")}: rejected at domain construction: Could not set up domain domU2 (rc = -22)\n`,
    );
    expect(readFileSync(join(TMP, "rejected.svg"), "utf8")).toContain(
      "Could not set up domain domU2 (rc = -22)",
    );
    expect(run("parseRejectedMap").status).toBe(1);
    expect(run("parseRejectedMap").stdout).toBe(
      `wrote ${join(TMP, "parse-rejected.svg")}: rejected at early FDT parsing: Early FDT parsing failed (-22)\n`,
    );
    // Refused at parse, yet the picture has the bank registered first and the one refused.
    const parsed = readFileSync(join(TMP, "parse-rejected.svg"), "utf8");
    expect(parsed).toMatch(/<g class="region shm shm parsed"/);
    expect(parsed).toMatch(/<g class="region shm shm refused"/);
    expect(parsed).toMatch(/<rect class="warn-area overlap" data-n="1"/);
    expect(run("crashMap").status).toBe(1);
    expect(run("crashMap").stdout).toMatch(/^wrote .*crash\.svg: crash: Xen itself would crash/);
    expect(run("xlRejectedMap").status).toBe(1);
    expect(run("warnMap").status).toBe(2);
    expect(run("warnMap").stdout).toBe(
      `wrote ${join(TMP, "warn.html")}: accepted: 2 domains, 1 region, 3 warnings\n`,
    );
    expect(run("unreadableMap").status).toBe(1);
    expect(run("unreadableMap").stderr).toContain("no-such-file.dts");
    expect(run("badExt").status).toBe(64);
    expect(run("badExt").stderr).toContain("the picture is written as .svg or .html");
    expect(run("noOutput").status).toBe(64);
    expect(run("noOutput").stderr).toContain("required option '-o, --output <file>' not specified");
  });
});

describe("sshm simulate", () => {
  it("streams 4 KiB messages between domU1 and domU2 and prints the table", () => {
    const r = run("stream");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.lines[0]).toBe("accepted: 3 domains, 3 regions, 0 warnings");
    expect(r.stdout).toContain("my-shared-mem-1");
    expect(r.stdout).toMatch(/domU1 +producer/);
    expect(r.stdout).toMatch(/domU2 +consumer/);
  });

  it("--json prints the simulation result", () => {
    const r = run("pingJson");
    expect(r.status).toBe(0);
    const { result: j, exitCode } = JSON.parse(r.stdout) as { result: SimResult; exitCode: number };
    expect(exitCode).toBe(0);
    expect(j.ok).toBe(true);
    expect(j.region).toBe("ID1");
    expect(j.scenario).toMatchObject({ kind: "pingpong", size: 64, count: 200 });
    expect(j.guests.map((g) => g.name).sort()).toEqual(["vm1", "vm2"]);
  });

  it("bad values name the option; a refused boot runs nothing", () => {
    expect(run("badScenario").status).toBe(64);
    expect(run("badScenario").stderr).toContain(
      "'broadcast' is invalid. Allowed choices are stream, pingpong, fanout, many",
    );
    expect(run("badDuration").status).toBe(64);
    expect(run("badDuration").stderr).toContain(
      "option '--duration <time>' argument '2 fortnights' is invalid",
    );
    expect(run("badRegion").status).toBe(64);
    expect(run("badRegion").stderr).toContain('--region: no region "nope"');
    expect(run("simRejected").status).toBe(1);
    expect(run("simRejected").lines[0]).toBe("rejected at early FDT parsing: Early FDT parsing failed (-22)");
  });
});

describe("sshm bench and --help", () => {
  it("an unknown bench suite is a usage error naming the suites there are", () => {
    expect(run("benchUnknown").status).toBe(64);
    expect(run("benchUnknown").stderr).toMatch(/unknown bench suite nosuchsuite \(have: .*translate/);
  });

  it.each(COMMANDS)("sshm %s --help: usage, options and an example", (c) => {
    const r = run(`help-${c}`);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: sshm ${c} \\[options\\]`));
    expect(r.stdout).toContain(`Examples:\n  $ sshm ${c}`);
  });

  it.each(["check", "boot", "map"])("sshm %s --help documents the exit status", (c) => {
    expect(run(`help-${c}`).stdout).toContain(
      "Exit status: 0 accepted, 1 rejected, crash or unreadable input, 2 accepted with warnings, 64 usage error.",
    );
  });

  it("sshm --help lists every command", () => {
    expect(run("help").status).toBe(0);
    for (const c of COMMANDS) expect(run("help").stdout).toMatch(new RegExp(`^  ${c} `, "m"));
  });
});
