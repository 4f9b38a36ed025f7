/**
 * `sshm simulate` option values and exit status (issue 12 §9): every bad option value is a usage
 * error (exit 64) with its exact message, a duration needs a unit, verified traffic on a
 * configuration with warnings exits 2 as `check` does, and the page counts of a region no running
 * domain owns (dom_io, nobody) are read from its host frames.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { DT, FIX, type Run, runAll } from "./run.js";

const USAGE = 'usage: sshm simulate [options] <FILE...>\n(run "sshm simulate --help" for details)\n';
const TINY = `${FIX}/sim-tiny.dts`;

const SPECS = {
  bareDuration: ["simulate", DT, "--duration", "2"],
  bareFraction: ["simulate", DT, "--duration", "1.5"],
  bigSize: ["simulate", DT, "--size", "128KiB"],
  smallSize: ["simulate", DT, "--size", "4"],
  noRegion: ["simulate", DT, "--region", "nosuch", "--count", "10"],
  noFit: ["simulate", TINY, "--size", "4k", "--count", "10"],
  domIo: ["simulate", DT, "--region", "my-shared-mem-1", "--count", "10"],
  owned: ["simulate", TINY, "--count", "10"],
  noOwner: ["simulate", `${FIX}/sim-noowner.dts`, "--count", "10"],
  warn: ["simulate", `${FIX}/warn.dts`, "--count", "10"],
  checkWarn: ["check", `${FIX}/warn.dts`],
  help: ["simulate", "--help"],
} as const;

let R: Record<keyof typeof SPECS, Run>;
beforeAll(async () => {
  R = await runAll(SPECS);
}, 120_000);

/** The lines after the last blank line before `heading`, up to the next blank line. */
function section(r: Run, heading: string): string[] {
  const i = r.lines.findIndex((l) => l.startsWith(heading));
  if (i < 0) throw new Error(`no "${heading}" in:\n${r.stdout}`);
  const end = r.lines.indexOf("", i);
  return r.lines.slice(i, end < 0 ? undefined : end);
}

describe("sshm simulate: option values are usage errors (exit 64)", () => {
  it("a duration without a unit is refused, naming the units", () => {
    expect(R.bareDuration.status).toBe(64);
    expect(R.bareDuration.stdout).toBe("");
    expect(R.bareDuration.stderr).toBe(
      `sshm simulate: option '--duration <time>' argument '2' is invalid. "2" has no unit: write 2s or 2ms (units: ms, s, m)\n${USAGE}`,
    );
    expect(R.bareFraction.status).toBe(64);
    expect(R.bareFraction.stderr).toBe(
      `sshm simulate: option '--duration <time>' argument '1.5' is invalid. "1.5" has no unit: write 1.5s or 1.5ms (units: ms, s, m)\n${USAGE}`,
    );
  });

  it("a message size outside 8 B … 64 KiB", () => {
    expect(R.bigSize.status).toBe(64);
    expect(R.bigSize.stderr).toBe(
      `sshm simulate: option '--size <bytes>' argument '128KiB' is invalid. 131072 bytes is outside the message sizes the simulator carries, 8 B … 64 KiB\n${USAGE}`,
    );
    expect(R.smallSize.status).toBe(64);
    expect(R.smallSize.stderr).toBe(
      `sshm simulate: option '--size <bytes>' argument '4' is invalid. 4 bytes is outside the message sizes the simulator carries, 8 B … 64 KiB\n${USAGE}`,
    );
  });

  it("a region that is not there, or that cannot carry the scenario asked for", () => {
    expect(R.noRegion.status).toBe(64);
    expect(R.noRegion.stderr).toBe(
      `sshm simulate: --region: no region "nosuch" with live participants (have: my-shared-mem-0, my-shared-mem-1, my-shared-mem-2)\n${USAGE}`,
    );
    expect(R.noFit.status).toBe(64);
    expect(R.noFit.stdout).toBe("");
    expect(R.noFit.stderr).toBe(
      `sshm simulate: region 'shm-tiny': the range every guest sees (8192 bytes at offset 0x0) holds 0 slots of 4160 bytes per ring for 1 ring(s); need 2\n${USAGE}`,
    );
  });

  it("--help states the duration rule and the exit status", () => {
    const h = R.help.stdout;
    // Commander wraps option descriptions to the terminal: compare them with whitespace folded.
    expect(h.replace(/\s+/g, " ")).toContain(
      "--duration <time> run this long, with a unit: 500ms, 2s, 1m (a bare number is refused; default 2s unless --count)",
    );
    expect(h).toContain(
      "Exit status: 0 traffic verified, 1 faults, integrity errors or a refused boot, 2 traffic verified on a\nconfiguration with sshm warnings (printed after the result; check exits 2 on it too), 64 usage error\n(any bad option value, also a --size or --region the region's participants cannot carry).",
    );
  });
});

describe("sshm simulate: exit status agrees with check", () => {
  it("verified traffic on a configuration with warnings exits 2 and prints check's warnings", () => {
    expect(R.checkWarn.status).toBe(2);
    expect(R.warn.status).toBe(2);
    expect(R.warn.lines[0]).toBe(R.checkWarn.lines[0]);
    expect(R.warn.stdout).toMatch(/^PASSED: stream over region 'shm-big'/m);
    const heading = "sshm warnings (3) — Xen accepts these silently:";
    expect(section(R.warn, heading)).toEqual(section(R.checkWarn, heading));
  });

  it("no warnings, verified: exit 0", () => {
    expect(R.owned.status).toBe(0);
    expect(R.domIo.status).toBe(0);
    expect(R.owned.stdout).not.toContain("sshm warnings");
  });
});

describe("sshm simulate: page reference counts after the run", () => {
  it("a domain owner's pages through its stage-2", () => {
    expect(section(R.owned, "page reference counts")).toEqual([
      "page reference counts (owner domU1, through its stage-2):",
      "  offset 0x0 +2 pages: mfn 0x70000…, count 2",
    ]);
  });

  it("a dom_io-owned region: dom_io's view, its host frames (1 allocation + 2 borrowers)", () => {
    expect(section(R.domIo, "page reference counts")).toEqual([
      "page reference counts (owner dom_io, which has no stage-2: the region's host frames):",
      "  offset 0x0 +131072 pages: mfn 0x50000…, count 3",
    ]);
  });

  it("a region with no owner (B5): its host frames, holding no references", () => {
    expect(R.noOwner.status).toBe(2);
    expect(section(R.noOwner, "page reference counts")).toEqual([
      "page reference counts (no owner: the region's host frames):",
      "  offset 0x0 +2 pages: mfn 0x70000…, count 0",
    ]);
  });
});
