/**
 * Interop with the reference tool, dtc (Debian package device-tree-compiler). These tests fail,
 * rather than skip, when dtc is missing: they are the evidence that sshm reads device trees as
 * Xen's users build them.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  decodeDtb,
  encodeDtb,
  findNode,
  getProp,
  parseDts,
  printDts,
  propCells,
} from "../../src/fdt/index.js";
import { requireDtc, runDtc, shape } from "./helpers.js";

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const SAMPLES = ["xen-dom0less.dts", "features.dts", "with-include.dts"];

/** dtc 1.6 prints a string list from a DTB as "a\0b"; we print "a", "b". Align dtc's text to ours. */
function splitDtcStringLists(dts: string): string {
  return dts.replace(/(?<!\\)((?:\\\\)*)\\0/g, '$1", "');
}

describe("dtc interop", () => {
  beforeAll(() => {
    requireDtc();
  });

  it("has dtc installed (device-tree-compiler)", () => {
    expect(runDtc(["--version"]).stdout.toString()).toMatch(/^Version: DTC \d/);
  });

  for (const name of SAMPLES) {
    describe(name, () => {
      const file = fixture(name);
      const compile = () => runDtc(["-I", "dts", "-O", "dtb", file]);

      it("is a clean sample: dtc compiles it without a warning", () => {
        expect(compile().stderr).toBe("");
      });

      it("dtc's DTB decodes to the tree parseDts builds (names, values, order, phandles)", () => {
        const ours = parseDts(readFileSync(file, "utf8"), file);
        expect(shape(decodeDtb(compile().stdout, name))).toEqual(shape(ours));
      });

      it("encodeDtb of the parsed tree is byte-identical to dtc's DTB", () => {
        const ours = encodeDtb(parseDts(readFileSync(file, "utf8"), file));
        expect(Buffer.from(ours).equals(compile().stdout)).toBe(true);
      });

      it("dtc decompiles our DTB without warnings", () => {
        const ours = encodeDtb(parseDts(readFileSync(file, "utf8"), file));
        const r = runDtc(["-I", "dtb", "-O", "dts"], ours);
        expect(r.stderr).toBe("");
        expect(r.stdout.toString()).toMatch(/^\/dts-v1\/;/);
      });

      it("dtc compiles printDts output to the same DTB, warning no more than on its own -O dts output", () => {
        const printed = printDts(parseDts(readFileSync(file, "utf8"), file));
        const r = runDtc(["-I", "dts", "-O", "dtb"], printed);
        expect(r.stdout.equals(compile().stdout)).toBe(true);
        // Printed source has numbers where the original had &refs, so dtc may warn that e.g. a
        // "clocks" cell "is not a phandle reference" -- exactly as it does for its own output.
        const own = runDtc(["-I", "dtb", "-O", "dts"], compile().stdout).stdout;
        expect(r.stderr).toBe(runDtc(["-I", "dts", "-O", "dtb"], own).stderr);
      });

      it("printDts of dtc's DTB reads like dtc -O dts of it", () => {
        const dtb = compile().stdout;
        const theirs = runDtc(["-I", "dtb", "-O", "dts"], dtb).stdout.toString();
        expect(printDts(decodeDtb(dtb))).toBe(splitDtcStringLists(theirs));
      });
    });
  }

  it("assigns the phandles dtc assigns in the dom0less sample", () => {
    const file = fixture("xen-dom0less.dts");
    const dtb = decodeDtb(runDtc(["-I", "dts", "-O", "dtb", file]).stdout);
    const ours = parseDts(readFileSync(file, "utf8"), file);
    const phandle = (t: typeof ours, path: string) => {
      const n = findNode(t, path);
      const p = n && getProp(n, "phandle");
      return p && propCells(p);
    };
    // gic is referenced first (interrupt-parent at the root), then the clock, then the domains.
    for (const [path, want] of [
      ["/interrupt-controller@8000000", [1]],
      ["/clock-24mhz", [2]],
      ["/chosen/domU1", [3]],
      ["/chosen/domU2", [4]],
      ["/cpus/cpu@0", [5]],
      ["/cpus/cpu@1", [6]],
    ] as const) {
      expect(phandle(dtb, path), path).toEqual(want);
      expect(phandle(ours, path), path).toEqual(want);
    }
  });
});
