import { beforeAll, describe, expect, it } from "vitest";
import { FIX, type Run, runAll } from "./run.js";

// What a file is comes from its bytes, not its name; every unusable input exits 1 with a plain
// message (and one JSON object with --json); no raw byte reaches the terminal.
const SPECS = {
  random: ["check", `${FIX}/random.dtb`],
  empty: ["check", `${FIX}/empty.dtb`],
  dtbAsDts: ["check", `${FIX}/real-dtb.dts`],
  txt: ["check", `${FIX}/notes.txt`],
  dir: ["check", `${FIX}/adir`],
  control: ["check", `${FIX}/control-byte.dts`],
  jsonRandom: ["check", "--json", `${FIX}/random.dtb`],
  jsonDir: ["boot", "--json", `${FIX}/adir`],
  jsonUsage: ["check", "--json", `${FIX}/warn.dts`, `${FIX}/crash.dts`],
  jsonOption: ["check", "--json", "--frobnicate", `${FIX}/warn.dts`],
} as const;

let R: Record<keyof typeof SPECS, Run>;
beforeAll(async () => {
  R = await runAll(SPECS);
}, 120_000);

const only = (r: Run, status: number, stderr: string) => {
  expect(r.status).toBe(status);
  expect(r.stderr).toBe(stderr);
};

describe("file type by content", () => {
  it("random bytes named .dtb: not a DTB (magic), exit 1, no raw byte printed", () => {
    only(
      R.random,
      1,
      `sshm: ${FIX}/random.dtb is not a device tree blob: a DTB starts with the magic d0 0d fe ed, this file with 0b 30 55 1b 9f c4 e9 0e\n`,
    );
    expect(R.random.stdout).toBe("");
  });

  it("an empty .dtb", () => {
    only(R.empty, 1, `sshm: ${FIX}/empty.dtb is empty: not a device tree or a config\n`);
  });

  it("a real DTB named .dts is read as a DTB", () => {
    expect(R.dtbAsDts.status).toBe(0);
    expect(R.dtbAsDts.stdout).toBe(
      "accepted: 3 domains, 3 regions, 0 warnings\n  PA range 40 bits, sshm's default: the host DT has no /cpus/cpu node: 40-bit IPA for every domain, 3 levels from L1, 2 root pages, VTCR 0x80023558\n",
    );
  });

  it("a .txt that is none of the formats: exit 1 (unreadable input), not 64", () => {
    only(
      R.txt,
      1,
      `sshm: cannot tell what ${FIX}/notes.txt is: not a device tree blob (magic d0 0d fe ed), not DTS (/dts-v1/;), not an xl config (key = value) and not an ImageBuilder config (MEMORY_START=, DEVICE_TREE=, XEN=, ...)\n`,
    );
  });

  it("a directory: exit 1", () => {
    only(R.dir, 1, `sshm: cannot read ${FIX}/adir: is a directory\n`);
  });

  it("a control byte in a DTS is shown escaped", () => {
    only(R.control, 1, `sshm: ${FIX}/control-byte.dts:4:5: unexpected "\\u0001"\n`);
    expect(/[\x00-\x08\x0b-\x1f\x7f]/.test(R.control.stderr)).toBe(false);
  });
});

describe("--json: every failure is one JSON object with an error field", () => {
  it.each([
    [
      "jsonRandom",
      1,
      "EINPUT",
      `${FIX}/random.dtb is not a device tree blob: a DTB starts with the magic d0 0d fe ed, this file with 0b 30 55 1b 9f c4 e9 0e`,
    ],
    ["jsonDir", 1, "EREAD", `cannot read ${FIX}/adir: is a directory`],
    ["jsonUsage", 64, "EUSAGE", `one host has one device tree, got 2: ${FIX}/warn.dts, ${FIX}/crash.dts`],
    ["jsonOption", 64, "EUSAGE", "unknown option '--frobnicate'"],
  ] as const)("%s", (name, exitCode, code, message) => {
    const r = R[name];
    expect(r.status).toBe(exitCode);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code, message }, exitCode });
  });
});
