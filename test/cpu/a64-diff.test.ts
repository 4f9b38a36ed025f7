/**
 * The A64 interpreter against qemu-aarch64, one test per instruction class (test/cpu/diff):
 * seeded random operands and flags (SSHM_DIFF_SEED, default 1), one program per class.
 */
import { describe, expect, it } from "vitest";
import { CLASSES, Gen } from "./diff/classes.js";
import {
  assembleAndRun,
  buildProgram,
  type Case,
  type CaseInit,
  MEM,
  qemuStates,
  Rng,
  seedOf,
  sshmStates,
  toolchainMissing,
} from "./diff/harness.js";

const missing = toolchainMissing();
if (missing !== undefined && process.env.CI === "true")
  throw new Error(`A64 differential tests need the cross toolchain and qemu-user: ${missing}`);

const NAMES = [
  "x0",
  "x1",
  "x2",
  "x3",
  "x4",
  "x5",
  "x6",
  "x7",
  "x8",
  "x9",
  "x10",
  "x11",
  "x12",
  "x13",
  "x14",
  "x15",
]
  .concat(Array.from({ length: 15 }, (_, i) => `x${16 + i}`))
  .concat(["sp", "nzcv"]);

function cases(cls: (typeof CLASSES)[number]): (Case & CaseInit)[] {
  const rng = new Rng(seedOf(cls.name));
  const out: (Case & CaseInit)[] = [];
  for (let i = 0; i < cls.cases; i++) {
    const x = Array.from({ length: 31 }, () => rng.u64());
    const mem = Uint8Array.from({ length: MEM }, () => rng.int(256));
    const q = Uint8Array.from({ length: 128 }, () => rng.int(256));
    const c = cls.gen(new Gen(rng, i));
    out.push({ ...c, x, nzcv: rng.int(16), mem, q });
  }
  return out;
}

describe.skipIf(missing !== undefined)("A64 vs qemu-aarch64", () => {
  for (const cls of CLASSES) {
    it(cls.name, () => {
      const cs = cases(cls);
      const built = assembleAndRun(buildProgram(cs));
      const ref = qemuStates(built.qemu, cs.length);
      const got = sshmStates(built, cs.length);
      expect(got.errors).toEqual([]);
      const diffs: string[] = [];
      for (let i = 0; i < cs.length && diffs.length < 5; i++) {
        const a = ref.states[i]!;
        const b = got.states[i]!;
        const bad: string[] = [];
        for (let r = 0; r < 33; r++)
          if (a.x[r] !== b.x[r])
            bad.push(`${NAMES[r]}: qemu 0x${a.x[r]!.toString(16)} sshm 0x${b.x[r]!.toString(16)}`);
        for (let k = 0; k < 8; k++)
          if (a.q[k] !== b.q[k])
            bad.push(`q${k}: qemu 0x${a.q[k]!.toString(16)} sshm 0x${b.q[k]!.toString(16)}`);
        if (bad.length > 0) diffs.push(`case ${i} [${cs[i]!.body.join("; ")}]: ${bad.join(", ")}`);
      }
      for (let i = 0; i < cs.length && diffs.length < 5; i++) {
        const a = ref.mem[i]!;
        const b = got.mem[i]!;
        for (let j = 0; j < MEM; j++)
          if (a[j] !== b[j]) {
            diffs.push(`case ${i} [${cs[i]!.body.join("; ")}]: memory byte ${j}: qemu ${a[j]} sshm ${b[j]}`);
            break;
          }
      }
      expect(diffs).toEqual([]);
    });
  }
});
