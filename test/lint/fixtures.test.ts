/**
 * One fixture per lint rule, each with the exact text `sshm check` prints and its exit status
 * (seL4 Microkit style): test/lint/fixtures/<name>.dts -> <name>.expected.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkCommand } from "../../src/cli/commands.js";
import { PLAIN } from "../../src/cli/text.js";

const DIR = "test/lint/fixtures";

/** Fixture name -> exit status of `sshm check` (0 accepted, 1 rejected, 2 accepted with warnings). */
const FIXTURES: Record<string, number> = {
  "ignored-compatible": 2,
  "ignored-depth": 2,
  "ignored-no-compatible": 2,
  "unshared-case": 2,
  "missing-shm-id": 1,
  "missing-shm-id-no-slip": 1,
  "missing-shared-mem": 1,
  "heap-form-error": 1,
  "heap-form-warning": 2,
  "shared-mem-length": 1,
  "prop-name-role": 2,
  "mmio-gicv3": 2,
  "mmio-gicv2-gicd": 2,
  "mmio-gicv2-gicc": 2,
  "mmio-vpl011": 2,
  "mmio-enhanced": 2,
};

function check(file: string): { code: number; text: string } {
  let text = "";
  const add = (s: string): void => {
    text += s;
  };
  const io = { out: add, err: add, style: PLAIN };
  const { code } = checkCommand([file], {}, io);
  return { code, text };
}

describe("lint fixtures: exact `sshm check` output", () => {
  for (const [name, exit] of Object.entries(FIXTURES))
    it(name, () => {
      const r = check(`${DIR}/${name}.dts`);
      expect(r.text).toBe(readFileSync(`${DIR}/${name}.expected`, "utf8"));
      expect(r.code).toBe(exit);
    });
});

describe("notes in --json", () => {
  it("check --json carries the notes beside Xen's log", () => {
    let text = "";
    const add = (s: string): void => {
      text += s;
    };
    checkCommand([`${DIR}/missing-shm-id.dts`], { json: true }, { out: add, err: add, style: PLAIN });
    const j = JSON.parse(text) as { log: string[]; notes: string[] };
    expect(j.log).toContain("fdt: node `shm-ring@60000000': parsing failed");
    expect(j.notes).toEqual([
      "/chosen/domU2/shm-ring@60000000: xen,shm-id is missing (did you mean xen,shm_id?); process_shm_node returns -ENOENT (-2) without a message of its own",
    ]);
  });
});
