/**
 * Fixtures where sshm was compared with real Xen: each DTS in test/cli/fixtures has the exact
 * `sshm check` output next to it (<name>.expected, colour-free).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FIX, ROOT, type Run, runAll } from "./run.js";

const CASES = {
  "notram-outside": 1,
  "notram-past-end": 1,
  "notram-straddle": 1,
  "mod2-overlap": 1,
  "role-typo": 1,
  "resmem-overlap": 1,
  "shm-overlap": 1,
  "b5-once": 2,
} as const;
type Case = keyof typeof CASES;

let R: Record<Case, Run>;
beforeAll(async () => {
  const specs = Object.fromEntries(
    Object.keys(CASES).map((c) => [c, ["check", `${FIX}/${c}.dts`]]),
  ) as Record<Case, string[]>;
  R = await runAll(specs);
}, 120_000);

describe("sshm check against the fixtures' expected output", () => {
  for (const [name, code] of Object.entries(CASES) as [Case, number][]) {
    it(`${name}: exit ${code}, exact output`, () => {
      const want = readFileSync(join(ROOT, FIX, `${name}.expected`), "utf8");
      expect(R[name].stderr).toBe("");
      expect(R[name].stdout).toBe(want);
      expect(R[name].status).toBe(code);
    });
  }
});
